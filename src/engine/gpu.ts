/** Getting a WebGPU device in the page, with errors that say what was tried and what to do about it. */

export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';

  constructor(
    message: string,
    /** Each step that was tried and what it gave, in order, for the capability gate to show. */
    readonly tried: string[],
  ) {
    super(message);
  }
}

export interface BrowserGpu {
  device: GPUDevice;
  adapterDescription: string;
  /** True for a CPU implementation (SwiftShader, llvmpipe): ~1 GFLOP/s, so a WebGPU reference would crawl there. */
  isCpuAdapter: boolean;
}

export async function requestBrowserDevice(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<BrowserGpu> {
  const tried: string[] = [];
  if (!gpu) {
    tried.push(globalThis.isSecureContext === false ? 'navigator.gpu: missing (the page is not a secure context: serve it over https or from localhost)' : 'navigator.gpu: missing (this browser has no WebGPU, or it is switched off)');
    throw new WebGpuUnavailableError('This browser does not offer WebGPU.', tried);
  }
  tried.push('navigator.gpu: present');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    tried.push('requestAdapter(): returned null (no usable GPU, or WebGPU is blocked for this GPU/driver)');
    throw new WebGpuUnavailableError('WebGPU is present but no adapter is available.', tried);
  }
  tried.push(`requestAdapter(): ${describeAdapter(adapter.info)}`);
  try {
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBuffersPerShaderStage: Math.min(10, adapter.limits.maxStorageBuffersPerShaderStage),
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    });
    return { device, adapterDescription: describeAdapter(adapter.info), isCpuAdapter: isCpuAdapter(adapter.info) };
  } catch (error) {
    tried.push(`requestDevice(): failed (${error instanceof Error ? error.message : String(error)})`);
    throw new WebGpuUnavailableError('The WebGPU adapter refused to create a device.', tried);
  }
}

export function describeAdapter(info: GPUAdapterInfo): string {
  const parts = [info.vendor, info.architecture, info.device, info.description].filter((p) => p && p.length > 0);
  return parts.length > 0 ? [...new Set(parts)].join(' · ') : 'unnamed adapter';
}

function isCpuAdapter(info: GPUAdapterInfo): boolean {
  const text = `${info.vendor} ${info.architecture} ${info.description}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|software|cpu/.test(text) || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
}
