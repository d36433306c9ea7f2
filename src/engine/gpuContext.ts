import { BufferPool } from './bufferPool';
import type { GpuFeatures } from './plan';

export type PipelineConstants = Record<string, number>;

/**
 * What every kernel dispatch needs from a device: compiled pipelines (cached by source and override constants),
 * pooled storage and uniform buffers, and readback.
 */
export class GpuContext {
  readonly device: GPUDevice;
  readonly pool: BufferPool;
  readonly features: GpuFeatures;
  readonly #pipelines = new Map<string, GPUComputePipeline>();
  readonly #modules = new Map<string, GPUShaderModule>();

  constructor(device: GPUDevice) {
    this.device = device;
    this.pool = new BufferPool(device);
    this.features = { wgslLanguageFeatures: deviceWgslFeatures.get(device) ?? pageWgslFeatures() };
  }

  get hasTimestampQuery(): boolean {
    return this.device.features.has('timestamp-query');
  }

  pipeline(source: string, entryPoint: string, constants: PipelineConstants, label: string): GPUComputePipeline {
    const key = `${entryPoint}|${JSON.stringify(constants)}|${source}`;
    const cached = this.#pipelines.get(key);
    if (cached) return cached;
    let module = this.#modules.get(source);
    if (!module) {
      module = this.device.createShaderModule({ code: source, label });
      this.#modules.set(source, module);
    }
    const pipeline = this.device.createComputePipeline({
      label,
      layout: 'auto',
      compute: { module, entryPoint, constants },
    });
    this.#pipelines.set(key, pipeline);
    return pipeline;
  }

  /** Compiles a pipeline and reports WGSL or validation errors as an exception (tests and kernel development). */
  async checkedPipeline(source: string, entryPoint: string, constants: PipelineConstants, label: string): Promise<GPUComputePipeline> {
    this.device.pushErrorScope('validation');
    const pipeline = this.pipeline(source, entryPoint, constants, label);
    const error = await this.device.popErrorScope();
    if (error) throw new Error(`${label}: ${error.message}`);
    return pipeline;
  }

  upload(data: ArrayBufferView, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({ size: Math.max(16, alignTo4(data.byteLength)), usage: usage | GPUBufferUsage.COPY_DST, label });
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }
}

/**
 * WGSL language features of devices not made from the page's navigator.gpu (Node's Dawn instances), recorded by
 * whoever made them.
 */
export const deviceWgslFeatures = new WeakMap<GPUDevice, ReadonlySet<string>>();

function pageWgslFeatures(): ReadonlySet<string> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  return gpu?.wgslLanguageFeatures ?? new Set();
}

/** Buffers borrowed from the pool for one piece of work and all returned together when it is done. */
export class Frame {
  readonly #context: GpuContext;
  readonly #borrowed: GPUBuffer[] = [];

  constructor(context: GpuContext) {
    this.#context = context;
  }

  storage(bytes: number, label: string): GPUBuffer {
    return this.#borrow(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label);
  }

  storageWith(data: ArrayBufferView, label: string): GPUBuffer {
    const buffer = this.storage(data.byteLength, label);
    this.#context.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** A uniform buffer holding `data`, as a layout of src/engine/uniforms.ts packs it. */
  uniform(data: ArrayBuffer, label: string): GPUBuffer {
    const buffer = this.#borrow(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label);
    this.#context.device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  }

  /** Destination of resolveQuerySet (GPU timestamps). */
  queryResolve(bytes: number, label: string): GPUBuffer {
    return this.#borrow(bytes, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label);
  }

  readback(bytes: number, label: string): GPUBuffer {
    return this.#borrow(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label);
  }

  release(): void {
    for (const buffer of this.#borrowed.splice(0)) this.#context.pool.release(buffer);
  }

  #borrow(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const buffer = this.#context.pool.acquire(Math.max(16, alignTo4(bytes)), usage, label);
    this.#borrowed.push(buffer);
    return buffer;
  }
}

export async function readFloat32(buffer: GPUBuffer, length: number): Promise<Float32Array> {
  await buffer.mapAsync(GPUMapMode.READ, 0, alignTo4(length * 4));
  const copy = new Float32Array(buffer.getMappedRange(0, alignTo4(length * 4)).slice(0));
  buffer.unmap();
  return copy;
}

export async function readInt32(buffer: GPUBuffer, length: number): Promise<Int32Array> {
  await buffer.mapAsync(GPUMapMode.READ, 0, alignTo4(length * 4));
  const copy = new Int32Array(buffer.getMappedRange(0, alignTo4(length * 4)).slice(0));
  buffer.unmap();
  return copy;
}

function alignTo4(bytes: number): number {
  return Math.ceil(bytes / 4) * 4;
}
