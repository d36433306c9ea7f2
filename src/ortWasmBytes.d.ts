/** Size of onnxruntime-web's wasm-provider binary in the build, in bytes (vite.config.ts `define`). */
declare const __ORT_WASM_BYTES__: number;
