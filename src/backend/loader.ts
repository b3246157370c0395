/**
 * What a backend loader is given and returns: shared by the selection (./select) and the
 * loaders it imports lazily (./webgpu), so neither imports the other's module for types.
 */

/** What a loader is told about the selection it runs in. */
export interface LoaderContext {
  /** True in automatic selection (nothing forced). */
  automatic: boolean;
  /** Whether a software adapter may be chosen (forced, or allowSoftwareWebgpu). */
  allowSoftware: boolean;
  /** Threads asked for (the wasm loader's; else DRALAB_THREADS or every core). */
  threads?: number | string;
  /** Convolution engine asked for on wasm ('auto', 'onednn', 'xnnpack'; else --conv or DRALAB_CONV). */
  convolutions?: string;
}

export type Loader = (context: LoaderContext) => Promise<{ tfjsBackend: string; details?: Record<string, unknown> }>;
