/**
 * Convolution geometries the models and augmentation ops use, and a comparison of one
 * kernel on wasm against the cpu backend's own kernel (the reference), shared by the
 * tests of dralab's wasm training kernels and of the oneDNN convolutions.
 * Tolerance: max |wasm - cpu| <= 2e-5 * max(1, max |cpu|). Both sides sum the same
 * float32 products in different orders; measured errors are about 1e-6 relative.
 */
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/util/rng';
import { maxAbsDiff, onBackend } from './compare';

export const TOLERANCE = 2e-5;
export type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export async function compareKernel(kernel: string, inputs: Record<string, { shape: number[]; values: Float32Array | Int32Array; dtype?: tf.DataType }>, attrs: Record<string, unknown>): Promise<void> {
  const run = () => {
    const tensors: tf.NamedTensorMap = {};
    for (const [name, spec] of Object.entries(inputs)) tensors[name] = tf.tensor(spec.values, spec.shape, spec.dtype ?? 'float32');
    const out = tf.engine().runKernel(kernel, tensors, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    tf.dispose(Object.values(tensors));
    return out;
  };
  const numTensorsBefore = tf.memory().numTensors;
  const wasm = await onBackend('wasm', run);
  assert.equal(tf.memory().numTensors, numTensorsBefore, `${kernel} leaked tensors on wasm`);
  const cpu = await onBackend('cpu', run);
  assert.deepEqual(wasm.shape, cpu.shape, `${kernel} output shape`);
  const { diff, scale } = maxAbsDiff(wasm.values, cpu.values);
  assert.ok(diff <= TOLERANCE * Math.max(1, scale), `${kernel} ${JSON.stringify(attrs)}: max diff ${diff} (scale ${scale})`);
}

const rng = new Rng(20230101);
export const randn = (shape: number[]) => ({ shape, values: rng.normal(shape.reduce((a, b) => a * b, 1)) });

export interface ConvCase {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dilations?: number;
}

export const CONV_CASES: ConvCase[] = [
  { name: '3x3 s1 same', x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: '3x3 s2 same, even size', x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { name: '3x3 s2 same, odd size', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { name: '3x3 s2 valid, odd size', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { name: '3x3 s2 explicit 1 (torch padding=1)', x: [2, 8, 8, 3], filter: [3, 3, 3, 5], strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { name: '3x3 s1 numeric pad 1', x: [1, 7, 7, 2], filter: [3, 3, 2, 3], strides: 1, pad: 1 },
  { name: '1x1 s2 valid (shortcut)', x: [2, 8, 8, 4], filter: [1, 1, 4, 6], strides: 2, pad: 'valid' },
  { name: '7x7 s2 explicit 3 (ImageNet stem)', x: [1, 16, 16, 3], filter: [7, 7, 3, 4], strides: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] },
  { name: '5x5 s3 same, size not a multiple of the stride', x: [2, 11, 10, 2], filter: [5, 5, 2, 3], strides: 3, pad: 'same' },
  { name: '2x2 s2 valid, odd size', x: [1, 7, 7, 3], filter: [2, 2, 3, 2], strides: 2, pad: 'valid' },
  { name: 'rectangular, strides [1,2], same', x: [2, 6, 10, 3], filter: [3, 3, 3, 2], strides: [1, 2], pad: 'same' },
  { name: '5x5 s1 same (two-pixel shifts)', x: [2, 7, 6, 3], filter: [5, 5, 3, 2], strides: 1, pad: 'same' },
  { name: '5x5 s1 same on a 2x2 image (shifts past the image)', x: [2, 2, 2, 2], filter: [5, 5, 2, 3], strides: 1, pad: 'same' },
  { name: '1x1 s1 valid', x: [2, 5, 4, 3], filter: [1, 1, 3, 4], strides: 1, pad: 'valid' },
  { name: 'rectangular filter s1 same', x: [2, 5, 9, 3], filter: [3, 5, 3, 2], strides: 1, pad: 'same' },
  { name: 'asymmetric explicit pad', x: [1, 7, 6, 2], filter: [3, 2, 2, 3], strides: [2, 1], pad: [[0, 0], [2, 0], [0, 1], [0, 0]] },
];

export function outShape(c: ConvCase, depthwise: boolean): [number, number, number, number] {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, c.dilations ?? 1, c.pad, undefined, depthwise);
  return info.outShape;
}

