/**
 * What the wasm backend's convolution kernels (dralab's own in ./wasm-kernels, oneDNN's in
 * ./onednn) read from a kernel's attributes, and the one layout they accept.
 */
import type * as tf from '@tensorflow/tfjs-core';

export type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
export type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;

export function checkNhwc(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC') {
    throw new Error(`${kernel} on wasm supports dataFormat 'NHWC' only, got '${dataFormat}'`);
  }
}
