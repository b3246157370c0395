/**
 * Kernel-level instrumentation for tests and benchmarks: which kernels a piece of code
 * dispatches, and how long each takes by itself.
 *
 * Both wrap the engine's kernel dispatch (`runKernel`, used by every op and gradient,
 * and `runKernelFunc`, used by custom gradients) for the duration of the call. Kernels
 * dispatched from inside another kernel (our composed wasm kernels) are recorded too,
 * tagged as nested.
 */
import * as tf from '@tensorflow/tfjs-core';

interface EngineInternals {
  runKernel: (name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) => tf.Tensor | tf.Tensor[];
}

export interface KernelRecord {
  /** Kernels dispatched at the top level (what a backend must provide). */
  topLevel: Set<string>;
  /** Kernels dispatched only from inside other kernels. */
  nested: Set<string>;
}

function wrapEngine(onEnter: (name: string) => void, onExit: (name: string) => void): () => void {
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.runKernel;
  engine.runKernel = function (this: unknown, name: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) {
    onEnter(name);
    try {
      return original.call(this, name, inputs, attrs);
    } finally {
      onExit(name);
    }
  };
  return () => {
    engine.runKernel = original;
  };
}

/** Runs fn and returns the kernels it dispatched. */
export async function recordKernels(fn: () => unknown | Promise<unknown>): Promise<KernelRecord> {
  const topLevel = new Set<string>();
  const nested = new Set<string>();
  let depth = 0;
  const restore = wrapEngine(
    (name) => {
      (depth === 0 ? topLevel : nested).add(name);
      depth += 1;
    },
    () => {
      depth -= 1;
    },
  );
  try {
    await fn();
  } finally {
    restore();
  }
  for (const name of topLevel) nested.delete(name);
  return { topLevel, nested };
}

export interface KernelTiming {
  /** Kernel name; `Parent>Kernel` for a kernel dispatched from inside another. */
  kernel: string;
  /** Milliseconds spent in the kernel itself, excluding kernels it dispatched. */
  selfMs: number;
  calls: number;
}

/**
 * Runs fn and returns per-kernel self time, largest first. Kernels run synchronously on
 * wasm and cpu, so wall time between dispatch and return is the kernel's time.
 */
export async function profileKernels(fn: () => unknown | Promise<unknown>): Promise<{ totalMs: number; kernels: KernelTiming[] }> {
  const stats = new Map<string, KernelTiming>();
  const stack: { name: string; start: number; child: number }[] = [];
  const restore = wrapEngine(
    (name) => {
      stack.push({ name, start: performance.now(), child: 0 });
    },
    (name) => {
      const frame = stack.pop()!;
      const elapsed = performance.now() - frame.start;
      const parent = stack[stack.length - 1];
      const key = parent ? `${stack[0]!.name}>${name}` : name;
      const entry = stats.get(key) ?? { kernel: key, selfMs: 0, calls: 0 };
      entry.selfMs += elapsed - frame.child;
      entry.calls += 1;
      stats.set(key, entry);
      if (parent) parent.child += elapsed;
    },
  );
  const start = performance.now();
  try {
    await fn();
  } finally {
    restore();
  }
  const totalMs = performance.now() - start;
  return { totalMs, kernels: [...stats.values()].sort((a, b) => b.selfMs - a.selfMs) };
}
