/**
 * Training kernels the wasm backend lacks, registered as compositions of kernels it has.
 * Filled in by the backend work; see test/backend/wasm-kernels.test.ts.
 */
export function registerWasmTrainingKernels(): void {
  // Registered kernels are listed in WASM_TRAINING_KERNELS once implemented.
}
