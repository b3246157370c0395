import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from '../../src/backend/select';

/** Largest |a - b| over all elements, and the largest |b| (the reference's scale). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { diff, scale };
}

export interface BackendResult {
  shape: number[];
  values: Float32Array | Int32Array | Uint8Array;
}

/**
 * Initialises both the cpu backend (reference) and wasm (with training kernels); leaves wasm
 * active. `convolutions` picks wasm's convolution engine (default: automatic).
 */
export async function initCpuAndWasm(convolutions?: 'onednn' | 'xnnpack'): Promise<void> {
  await tf.setBackend('cpu');
  await selectBackend({ backend: 'wasm', reselect: true, ...(convolutions ? { convolutions } : {}) });
}

/** Runs fn on the named backend (already initialised) and returns its result as plain data. */
export async function onBackend(backend: string, fn: () => tf.Tensor): Promise<BackendResult> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    const out = fn();
    const values = out.dataSync() as Float32Array | Int32Array | Uint8Array;
    const shape = out.shape.slice();
    out.dispose();
    return { shape, values };
  } finally {
    await tf.setBackend(previous);
  }
}
