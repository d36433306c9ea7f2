/**
 * A WebGPU device in Node through Dawn (npm `webgpu`). Used by the GPU test tier and the headless CLI, never by the
 * page. On machines without a GPU, Dawn's OpenGL ES backend over Mesa llvmpipe is the path that works
 * (../shared/platform.md); on a machine with a GPU driver the default backend finds it.
 */
import { create, globals } from 'webgpu';
import { deviceWgslFeatures } from './gpuContext';

let cached: Promise<GPUDevice> | undefined;
// Dawn tears down every device of an instance that is garbage-collected, so the instance must outlive its devices.
const liveInstances: GPU[] = [];

export function nodeDevice(): Promise<GPUDevice> {
  cached ??= createNodeDevice();
  return cached;
}

async function createNodeDevice(): Promise<GPUDevice> {
  Object.assign(globalThis, globals);
  process.env['EGL_PLATFORM'] ??= 'surfaceless';
  const attempts: { flags: string[]; options: GPURequestAdapterOptions }[] = [
    { flags: [], options: {} },
    { flags: ['backend=opengles'], options: { featureLevel: 'compatibility' } },
  ];
  const tried: string[] = [];
  for (const { flags, options } of attempts) {
    const instance = create(flags);
    const adapter = await instance.requestAdapter(options);
    if (!adapter) {
      tried.push(flags.join(' ') || 'default backend');
      continue;
    }
    liveInstances.push(instance);
    const device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage,
        maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX,
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    });
    deviceWgslFeatures.set(device, instance.wgslLanguageFeatures);
    return device;
  }
  throw new Error(
    `No WebGPU adapter in Node (tried: ${tried.join('; ')}). Install Mesa (apt-get install libegl1 libgles2 ` +
      'libegl-mesa0 libgl1-mesa-dri) or a GPU driver.',
  );
}
