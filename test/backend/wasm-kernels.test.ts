/**
 * The wasm training kernels against the cpu backend's own kernels, on random inputs over
 * the strides, padding modes and dilations the models and augmentation ops use.
 * Tolerance (test/helpers/conv-cases.ts): max |wasm - cpu| <= 2e-5 * max(1, max |cpu|).
 * Convolutions are on XNNPACK here; test/backend/onednn.test.ts covers oneDNN's.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { WASM_KERNEL_LIMITS, WASM_TRAINING_KERNELS } from '../../src/backend/wasm-kernels';
import { initCpuAndWasm, maxAbsDiff, onBackend } from '../helpers/compare';
import { compareKernel, CONV_CASES, outShape, randn, TOLERANCE, type ConvCase } from '../helpers/conv-cases';

describe('wasm training kernels', () => {
  before(async () => {
    // dralab's own backprops, which oneDNN's replace where the native addon is built.
    await initCpuAndWasm('xnnpack');
  });

  it('are all registered on wasm', () => {
    for (const name of WASM_TRAINING_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), `${name} not registered on wasm`);
  });

  for (const c of CONV_CASES) {
    it(`Conv2DBackpropFilter matches cpu: ${c.name}`, async () => {
      await compareKernel('Conv2DBackpropFilter', { x: randn(c.x), dy: randn(outShape(c, false)) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter });
    });
    it(`Conv2DBackpropInput matches cpu: ${c.name}`, async () => {
      await compareKernel('Conv2DBackpropInput', { dy: randn(outShape(c, false)), filter: randn(c.filter) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
    });
  }

  const DEPTHWISE_CASES: ConvCase[] = [
    { name: '3x3 s1 same, multiplier 1', x: [2, 8, 8, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'same' },
    { name: '3x3 s2 same, multiplier 2', x: [2, 9, 9, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
    { name: '3x3 s1 valid, multiplier 1', x: [2, 8, 8, 3], filter: [3, 3, 3, 1], strides: 1, pad: 'valid' },
    { name: '3x3 s2 explicit 1, multiplier 1', x: [1, 8, 8, 2], filter: [3, 3, 2, 1], strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
    { name: '5x5 s1 valid, multiplier 1', x: [2, 7, 7, 3], filter: [5, 5, 3, 1], strides: 1, pad: 'valid' },
  ];
  for (const c of DEPTHWISE_CASES) {
    const dilations = c.dilations ?? 1;
    it(`DepthwiseConv2dNativeBackpropFilter matches cpu: ${c.name}`, async () => {
      await compareKernel('DepthwiseConv2dNativeBackpropFilter', { x: randn(c.x), dy: randn(outShape(c, true)) }, { strides: c.strides, pad: c.pad, dilations, filterShape: c.filter });
    });
    it(`DepthwiseConv2dNativeBackpropInput matches cpu: ${c.name}`, async () => {
      await compareKernel('DepthwiseConv2dNativeBackpropInput', { dy: randn(outShape(c, true)), filter: randn(c.filter) }, { strides: c.strides, pad: c.pad, dilations, inputShape: c.x });
    });
  }

  for (const c of [CONV_CASES[0]!, CONV_CASES[1]!]) {
    it(`Conv2DBackpropFilter matches cpu when the batch is split into image groups: ${c.name}`, async () => {
      const saved = WASM_KERNEL_LIMITS.patchElements;
      // Room for the patches of two images at a time: groups of 2 and a last group of 1.
      const [, fh, fw, fc] = c.filter;
      const [oh, ow] = outShape(c, false).slice(1, 3) as [number, number];
      WASM_KERNEL_LIMITS.patchElements = 2 * fh * fw * fc * oh * ow;
      try {
        await compareKernel('Conv2DBackpropFilter', { x: randn([5, ...c.x.slice(1)]), dy: randn([5, oh, ow, c.filter[3]]) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter });
      } finally {
        WASM_KERNEL_LIMITS.patchElements = saved;
      }
    });
  }

  for (const c of CONV_CASES.filter((k) => k.strides !== 1)) {
    it(`Conv2DBackpropInput matches cpu through the zero-upsampled convolution (patch limit exceeded): ${c.name}`, async () => {
      const saved = WASM_KERNEL_LIMITS.patchElements;
      WASM_KERNEL_LIMITS.patchElements = 1;
      try {
        await compareKernel('Conv2DBackpropInput', { dy: randn(outShape(c, false)), filter: randn(c.filter) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
      } finally {
        WASM_KERNEL_LIMITS.patchElements = saved;
      }
    });
  }

  it('UnsortedSegmentSum matches cpu, with duplicate and out-of-range ids', async () => {
    const ids = Int32Array.from([0, 3, 3, 1, -1, 5, 4, 0, 2, 3]);
    await compareKernel('UnsortedSegmentSum', { x: randn([10, 4, 2]), segmentIds: { shape: [10], values: ids, dtype: 'int32' } }, { numSegments: 5 });
  });

  it('UnsortedSegmentSum matches cpu: int32 data', async () => {
    const ids = Int32Array.from([1, 0, 1, 2, 2, 2]);
    const data = Int32Array.from({ length: 6 * 3 }, (_, i) => (i * 7) % 11 - 5);
    await compareKernel('UnsortedSegmentSum', { x: { shape: [6, 3], values: data, dtype: 'int32' }, segmentIds: { shape: [6], values: ids, dtype: 'int32' } }, { numSegments: 4 });
  });

  it('depthwise backprops refuse dilations other than 1, naming the kernel', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 9, 9, 2]);
    const dy = tf.zeros([1, 9, 9, 2]);
    assert.throws(
      () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 2, 1] } as unknown as tf.NamedAttrMap),
      /DepthwiseConv2dNativeBackpropFilter on wasm supports dilations of 1 only/,
    );
    tf.dispose([x, dy]);
  });

  it('gradients of gather, concat and pad run on wasm and match cpu', async () => {
    const x = randn([4, 5, 5, 3]);
    const index = Int32Array.from([2, 0, 2, 3, 1]);
    const run = () => tf.tidy(() => {
      const xt = tf.tensor4d(x.values, x.shape as [number, number, number, number]);
      const f = (v: tf.Tensor) => {
        const gathered = tf.gather(v, tf.tensor1d(index, 'int32'), 0);
        const joined = tf.concat([gathered, tf.pad(v, [[0, 1], [0, 0], [0, 0], [0, 0]])], 0);
        return tf.sum(tf.mul(joined, joined));
      };
      return tf.grad(f)(xt);
    });
    const wasm = await onBackend('wasm', run);
    const cpu = await onBackend('cpu', run);
    const { diff, scale } = maxAbsDiff(wasm.values, cpu.values);
    assert.ok(diff <= TOLERANCE * Math.max(1, scale), `max diff ${diff}`);
  });

  it('Identity shares storage: a clone keeps its values after the source is disposed, and disposing both frees it', async () => {
    const before = tf.memory().numBytes;
    const buffersBefore = (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const source = tf.tensor([1.5, -2, 3], [3]);
    const copy = tf.clone(source);
    assert.equal((tf.memory() as { numDataBuffers: number }).numDataBuffers, buffersBefore + 1, 'the clone allocated a second buffer');
    source.dispose();
    assert.deepEqual(Array.from(await copy.data()), [1.5, -2, 3]);
    const strings = tf.clone(tf.tensor(['a', 'bc']));
    assert.deepEqual(await strings.data(), ['a', 'bc']);
    tf.dispose([copy, strings]);
    assert.equal(tf.memory().numBytes, before);
  });

  it('Cast to the same dtype shares storage; other casts match cpu', async () => {
    const buffersBefore = (tf.memory() as { numDataBuffers: number }).numDataBuffers;
    const x = tf.tensor([1.7, -2.5, 3, 0], [4]);
    const same = tf.cast(x, 'float32');
    assert.equal((tf.memory() as { numDataBuffers: number }).numDataBuffers, buffersBefore + 1, 'the same-dtype cast allocated a second buffer');
    x.dispose();
    assert.deepEqual(Array.from(await same.data()), [1.7, -2.5, 3, 0].map(Math.fround));
    same.dispose();
    for (const [from, to] of [['float32', 'int32'], ['float32', 'bool'], ['int32', 'float32'], ['int32', 'bool'], ['bool', 'float32']] as const) {
      const values = [1.7, -2.5, 3, 0, Number.NaN, -256].slice(0, from === 'float32' ? 6 : 4);
      const run = () => tf.cast(tf.tensor(values, [values.length], from), to);
      const wasm = await onBackend('wasm', run);
      const cpu = await onBackend('cpu', run);
      assert.deepEqual(Array.from(wasm.values), Array.from(cpu.values), `${from} -> ${to}`);
    }
  });

  it('registration is idempotent', async () => {
    const { registerWasmTrainingKernels } = await import('../../src/backend/wasm-kernels');
    registerWasmTrainingKernels();
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'));
  });
});
