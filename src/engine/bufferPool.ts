/**
 * Recycles GPU buffers across forward passes: a buffer is keyed by its usage and its size rounded up to a size class,
 * so toggling a technique a hundred times reuses the same few buffers instead of allocating new ones.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #free = new Map<string, GPUBuffer[]>();
  readonly #all = new Set<GPUBuffer>();

  constructor(device: GPUDevice) {
    this.#device = device;
  }

  /** Buffers the pool owns, free or in use: tests assert this stops growing. */
  get allocatedCount(): number {
    return this.#all.size;
  }

  acquire(bytes: number, usage: GPUBufferUsageFlags, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    const free = this.#free.get(key(size, usage));
    const reused = free?.pop();
    if (reused) return reused;
    const buffer = this.#device.createBuffer({ size, usage, label });
    this.#all.add(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.#all.has(buffer)) throw new Error(`buffer ${buffer.label} does not belong to this pool`);
    const k = key(buffer.size, buffer.usage);
    const free = this.#free.get(k) ?? [];
    free.push(buffer);
    this.#free.set(k, free);
  }

  destroy(): void {
    for (const buffer of this.#all) buffer.destroy();
    this.#all.clear();
    this.#free.clear();
  }
}

function key(size: number, usage: GPUBufferUsageFlags): string {
  return `${usage}:${size}`;
}

/** Sizes grow in steps of 1/8 of the next power of two: under 25% waste, and few distinct classes. */
export function sizeClass(bytes: number): number {
  const minimum = 256;
  if (bytes <= minimum) return minimum;
  const step = 2 ** Math.max(8, Math.ceil(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}
