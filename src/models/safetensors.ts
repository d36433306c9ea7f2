/**
 * Reader for the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
 * length, a JSON header mapping tensor names to { dtype, shape, data_offsets }, then the raw tensor bytes.
 * Files come from the network and from users, so every malformed input must end in a SafetensorsError.
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsTensor {
  /** The dtype stored in the file; `data` is always converted to float32. */
  dtype: SafetensorsDtype;
  shape: number[];
  /** Row-major values. May be a view into the file's buffer, so keep that buffer unchanged. */
  data: Float32Array;
}

export interface SafetensorsFile {
  fileName: string;
  /** The header's optional `__metadata__` string map (e.g. { format: 'pt' }). */
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

export class SafetensorsError extends Error {
  override name = 'SafetensorsError';

  constructor(
    readonly fileName: string,
    readonly problem: string,
  ) {
    super(`${fileName}: ${problem}`);
  }
}

const HEADER_LENGTH_BYTES = 8;
/** Real headers are kilobytes; a larger length means a corrupt or non-safetensors file, not one worth decoding. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const bytesPerElement: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

type Fail = (problem: string) => never;

export function parseSafetensors(bytes: ArrayBuffer, fileName = 'model.safetensors'): SafetensorsFile {
  const fail: Fail = (problem) => {
    throw new SafetensorsError(fileName, problem);
  };
  if (bytes.byteLength < HEADER_LENGTH_BYTES) {
    fail(`the file is ${bytes.byteLength} bytes, shorter than the 8-byte header length`);
  }
  const headerLength = new DataView(bytes).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`the header length ${headerLength} is over the ${MAX_HEADER_BYTES}-byte limit: not a safetensors file`);
  }
  const dataStart = HEADER_LENGTH_BYTES + Number(headerLength);
  if (dataStart > bytes.byteLength) {
    const available = bytes.byteLength - HEADER_LENGTH_BYTES;
    fail(`the header claims ${headerLength} bytes but the file has only ${available} after the length`);
  }
  const header = decodeHeader(new Uint8Array(bytes, HEADER_LENGTH_BYTES, Number(headerLength)), fail);

  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  const dataLength = bytes.byteLength - dataStart;
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') metadata = parseMetadata(value, fail);
    else entries.push(parseEntry(name, value, dataLength, fail));
  }
  checkDataLayout(entries, dataLength, fail);

  const tensors = new Map<string, SafetensorsTensor>();
  for (const entry of entries) {
    const data = toFloat32(bytes, dataStart + entry.begin, dataStart + entry.end, entry.dtype);
    tensors.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data });
  }
  return { fileName, metadata, tensors };
}

function decodeHeader(headerBytes: Uint8Array, fail: Fail): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    return fail('the header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(`the header is not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(json)) return fail('the header is not a JSON object');
  return json;
}

function parseMetadata(value: unknown, fail: Fail): Record<string, string> {
  if (!isPlainObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    fail('"__metadata__" must be an object of strings');
  }
  return value as Record<string, string>;
}

function parseEntry(name: string, value: unknown, dataLength: number, fail: Fail): TensorEntry {
  const where = `tensor "${name}"`;
  if (!isPlainObject(value)) return fail(`${where}: the entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') return fail(`${where}: "dtype" is missing or not a string`);
  if (!isSupportedDtype(dtype)) {
    return fail(`${where}: dtype ${dtype} is not supported (F32, F16 and BF16 are)`);
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    return fail(`${where}: "shape" must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    return fail(`${where}: "data_offsets" must be two non-negative integers, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLength) {
    return fail(`${where}: data_offsets [${begin}, ${end}] lie outside the ${dataLength}-byte data section`);
  }
  // The product can exceed 2^53 for a hostile shape; it is only compared with a length that is known to fit.
  const expectedBytes = shape.reduce((product: number, size: number) => product * size, bytesPerElement[dtype]);
  if (expectedBytes !== end - begin) {
    const shapeText = `[${shape.join(', ')}]`;
    return fail(`${where}: shape ${shapeText} of ${dtype} needs ${expectedBytes} bytes, data_offsets hold ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/**
 * The format requires the tensors to tile the data section exactly: overlaps would alias tensors, and unindexed
 * bytes are how polyglot files hide a second payload (and what a wrong header length looks like).
 */
function checkDataLayout(entries: TensorEntry[], dataLength: number, fail: Fail): void {
  // Ties broken by end, so an empty tensor sharing its offset with a full one is not mistaken for an overlap.
  const byStart = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let coveredBy = '';
  for (const entry of byStart) {
    if (entry.begin < covered) fail(`tensors "${coveredBy}" and "${entry.name}" overlap in the data section`);
    if (entry.begin > covered) fail(`bytes ${covered}..${entry.begin} of the data section belong to no tensor`);
    covered = entry.end;
    coveredBy = entry.name;
  }
  if (covered !== dataLength) fail(`bytes ${covered}..${dataLength} of the data section belong to no tensor`);
}

function toFloat32(bytes: ArrayBuffer, begin: number, end: number, dtype: SafetensorsDtype): Float32Array {
  const count = (end - begin) / bytesPerElement[dtype];
  if (dtype === 'F32') {
    // A typed-array view needs 4-byte alignment; headers are usually padded so the data is aligned, but the
    // format does not promise it. Views use the platform's byte order, which is little-endian on every browser.
    return begin % 4 === 0 ? new Float32Array(bytes, begin, count) : new Float32Array(bytes.slice(begin, end));
  }
  const halves = begin % 2 === 0 ? new Uint16Array(bytes, begin, count) : new Uint16Array(bytes.slice(begin, end));
  const out = new Float32Array(count);
  if (dtype === 'BF16') {
    // bfloat16 is the top half of a float32.
    const outBits = new Uint32Array(out.buffer);
    for (let i = 0; i < count; i++) outBits[i] = halves[i]! << 16;
  } else {
    for (let i = 0; i < count; i++) out[i] = float16ToFloat32(halves[i]!);
  }
  return out;
}

function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // zero and subnormals
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function isSupportedDtype(dtype: string): dtype is SafetensorsDtype {
  return Object.hasOwn(bytesPerElement, dtype);
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
