import { ModelConfigError, parseGpt2Config, type Gpt2Config } from './config';
import { gpt2WeightsFromSafetensors, type Gpt2Weights } from './gpt2Weights';
import { parseSafetensors } from './safetensors';

export interface LoadedModel {
  /** The folder's name, e.g. "tiny-random-gpt2". */
  name: string;
  config: Gpt2Config;
  weights: Gpt2Weights;
  /** Where the same model's ONNX export lives, for the onnxruntime-web reference. Not fetched here. */
  onnxUrl: string;
}

/** Any failure to load a model; `cause` holds the underlying config, safetensors or weights error, if any. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';

  constructor(
    message: string,
    readonly url: string,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Loads a model folder laid out as public/models/<name>/: config.json, model.safetensors and onnx/model.onnx.
 * `baseUrl` may be relative to the page (the build uses a relative base, so "./models/x" is the usual form).
 */
export async function loadBundledModel(baseUrl: string, fetchImpl: typeof fetch = fetch): Promise<LoadedModel> {
  const folder = baseUrl.replace(/\/+$/, '');
  const name = folder.slice(folder.lastIndexOf('/') + 1);
  const configUrl = `${folder}/config.json`;
  const weightsUrl = `${folder}/model.safetensors`;
  const loadError = (url: string, problem: string, cause?: unknown) =>
    new ModelLoadError(`could not load model "${name}": ${problem}`, url, cause === undefined ? undefined : { cause });

  const fetchOk = async (url: string): Promise<Response> => {
    const response = await fetchImpl(url).catch((error: unknown) => {
      throw loadError(url, `fetching ${url} failed (${describe(error)})`, error);
    });
    if (!response.ok) throw loadError(url, `${url} answered HTTP ${response.status} ${response.statusText}`.trim());
    return response;
  };
  const [configResponse, weightsResponse] = await Promise.all([fetchOk(configUrl), fetchOk(weightsUrl)]);

  const configJson: unknown = await configResponse.json().catch((error: unknown) => {
    throw loadError(configUrl, `${configUrl} is not valid JSON`, error);
  });
  const weightsBytes = await weightsResponse.arrayBuffer();
  try {
    const config = parseGpt2Config(configJson);
    // Named by URL so safetensors and weight errors say which file they are about.
    const weights = gpt2WeightsFromSafetensors(parseSafetensors(weightsBytes, weightsUrl), config);
    return { name, config, weights, onnxUrl: `${folder}/onnx/model.onnx` };
  } catch (error) {
    const url = error instanceof ModelConfigError ? configUrl : weightsUrl;
    throw loadError(url, describe(error), error);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
