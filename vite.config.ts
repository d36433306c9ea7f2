import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// The page fetches this binary itself and counts it in its download progress (src/reference/ortReference.ts).
const ortWasmBytes = statSync(createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm')).size;

export default defineConfig({
  plugins: [react()],
  // Relative base so the built page works from any sub-path (a lecture site, a GitHub Pages folder).
  base: './',
  define: { __ORT_WASM_BYTES__: String(ortWasmBytes) },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  // Two test tiers: `unit` needs no GPU; `gpu` runs WGSL kernels on a real WebGPU adapter (Dawn over Mesa in Node).
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
          exclude: ['src/**/*.gpu.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'gpu',
          include: ['src/**/*.gpu.test.ts'],
          environment: 'node',
          // One Dawn device per worker; two workers would only contend for the same two cores.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
