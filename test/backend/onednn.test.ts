/**
 * oneDNN convolutions on the wasm backend (src/backend/onednn.ts, native/onednn-kernels.cc):
 * the three kernels against the cpu backend's own (the reference) over the geometries the
 * models and augmentation ops use; a ResNet-20 training run that is identical for the same
 * seed and thread count, agrees across thread counts and with XNNPACK to a stated
 * tolerance, and leaks no tensor; the addon's own argument checks; and the selection
 * (`--conv`, DRALAB_CONV, automatic, what `dralab info` says).
 *
 * Where the addon is not built these tests skip, unless DRALAB_REQUIRE_ONEDNN=1 (CI sets
 * it after installing oneDNN's headers), which makes a missing addon a failure.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadOneDnn, oneDnnActive, oneDnnUnavailableReason, ONEDNN_KERNELS, parseConvolutionEngine } from '../../src/backend/onednn';
import { selectBackend } from '../../src/backend/select';
import { wasmThreads } from '../../src/backend/wasm-threads';
import { createModel } from '../../src/models';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';
import { initCpuAndWasm } from '../helpers/compare';
import { compareKernel, CONV_CASES, outShape, randn, type ConvCase } from '../helpers/conv-cases';

const BIN = join(__dirname, '../../../bin/dralab.js');
const addon = loadOneDnn();
const required = process.env.DRALAB_REQUIRE_ONEDNN === '1';
const skip = addon === undefined && !required ? `oneDNN addon not built: ${oneDnnUnavailableReason()}` : false;

/** SGD steps of a ResNet-20 from one seed; the losses and every weight afterwards. */
async function trainOn(threads: number, convolutions: 'onednn' | 'xnnpack', steps: number): Promise<{ losses: number[]; weights: Float32Array; leaked: number }> {
  const report = await selectBackend({ backend: 'wasm', threads, convolutions, reselect: true });
  assert.equal(report.threads, threads);
  const model = createModel('resnet-20', { numClasses: 10, inputShape: [32, 32, 3], seed: 3 });
  const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const rng = new Rng(7);
  const losses: number[] = [];
  let tensorsBefore = 0;
  for (let step = 0; step < steps; step++) {
    if (step === 1) tensorsBefore = tf.memory().numTensors;
    const images = tf.tensor4d(rng.uniform(16 * 32 * 32 * 3, 0, 1), [16, 32, 32, 3]);
    const labels = tf.tensor1d(Array.from({ length: 16 }, () => rng.int(10)), 'int32');
    losses.push((await trainStep(model, optimizer, images, labels, { clipNorm: 5 })).loss);
    tf.dispose([images, labels]);
  }
  const leaked = steps > 1 ? tf.memory().numTensors - tensorsBefore : 0;
  const weights = Float32Array.from(model.trainableVariables.flatMap((v) => Array.from(v.dataSync())));
  model.dispose();
  optimizer.dispose();
  return { losses, weights, leaked };
}

function largestDifference(a: Float32Array, b: Float32Array): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i]! - b[i]!));
  return largest;
}

describe('oneDNN convolutions', { skip, timeout: 600_000 }, () => {
  before(async () => {
    assert.ok(addon, `DRALAB_REQUIRE_ONEDNN=1 but the addon is unavailable: ${oneDnnUnavailableReason()}`);
    await initCpuAndWasm('onednn');
  });
  after(async () => {
    await selectBackend({ backend: 'wasm', reselect: true });
  });

  it('take over the three convolution kernels on wasm, and leave the pool single-threaded', () => {
    assert.ok(oneDnnActive());
    assert.equal(wasmThreads(), 1);
    for (const name of ONEDNN_KERNELS) assert.ok(tf.getKernel(name, 'wasm'), name);
  });

  const DILATED: ConvCase[] = [
    { name: '3x3 s1 same, dilation 2', x: [2, 9, 9, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dilations: 2 },
    { name: '3x3 s1 valid, dilation 3', x: [1, 11, 10, 2], filter: [3, 3, 2, 3], strides: 1, pad: 'valid', dilations: 3 },
  ];
  for (const c of [...CONV_CASES, ...DILATED]) {
    it(`Conv2D matches cpu: ${c.name}`, async () => {
      await compareKernel('Conv2D', { x: randn(c.x), filter: randn(c.filter) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: c.dilations ?? 1 });
    });
  }
  for (const c of CONV_CASES) {
    it(`Conv2DBackpropInput matches cpu: ${c.name}`, async () => {
      await compareKernel('Conv2DBackpropInput', { dy: randn(outShape(c, false)), filter: randn(c.filter) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', inputShape: c.x });
    });
    it(`Conv2DBackpropFilter matches cpu: ${c.name}`, async () => {
      await compareKernel('Conv2DBackpropFilter', { x: randn(c.x), dy: randn(outShape(c, false)) }, { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter });
    });
  }

  it('a batch of zero images gives empty outputs and zero filter gradients', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([0, 8, 8, 3]);
    const filter = tf.ones([3, 3, 3, 4]);
    const y = tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, 1, 'same');
    assert.deepEqual(y.shape, [0, 8, 8, 4]);
    const dFilter = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: y }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 3, 4] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    assert.deepEqual(Array.from(await dFilter.data()), new Array(3 * 3 * 3 * 4).fill(0));
    tf.dispose([x, filter, y, dFilter]);
  });

  it('the addon checks its arguments and names what is wrong', () => {
    const geometry = Int32Array.of(1, 3, 3, 1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0);
    const nine = new Float32Array(9);
    assert.throws(() => addon!.conv2d(0, geometry, nine, new Float32Array(1), new Float32Array(3)), /output holds 3 elements, expected 9/);
    assert.throws(() => addon!.conv2d(0, geometry, new Float32Array(8), new Float32Array(1), nine), /first input holds 8 elements, expected 9/);
    assert.throws(() => addon!.conv2d(0, Int32Array.of(1, 2), nine, new Float32Array(1), nine), /geometry holds 2 elements, expected 17/);
    assert.throws(() => addon!.conv2d(0, geometry, new Int32Array(9) as unknown as Float32Array, new Float32Array(1), nine), /first input has the wrong element type/);
    assert.throws(() => addon!.conv2d(7 as 0, geometry, nine, new Float32Array(1), nine), /unknown convolution kind/);
    const out = new Float32Array(9);
    addon!.conv2d(0, geometry, Float32Array.from({ length: 9 }, (_, i) => i), Float32Array.of(2), out);
    assert.deepEqual(Array.from(out), [0, 2, 4, 6, 8, 10, 12, 14, 16]);
  });

  it('ResNet-20 training: the same seed and thread count give the same bytes over six steps, with no tensor leak', async () => {
    const two = await trainOn(2, 'onednn', 6);
    const twoAgain = await trainOn(2, 'onednn', 6);
    assert.deepEqual(twoAgain.losses, two.losses);
    assert.deepEqual(Buffer.from(twoAgain.weights.buffer), Buffer.from(two.weights.buffer), 'same seed, same threads: the same bytes');
    for (const run of [two, twoAgain]) assert.equal(run.leaked, 0, 'tensor count flat over the steps');
  });

  it('ResNet-20 training step: 1 and 2 threads, and oneDNN and XNNPACK, agree to the stated tolerance', async () => {
    // One step: this training (batch 16 of noise, random labels, lr 0.05) is chaotic, and
    // over six steps a last-bit difference grows to a few hundredths (measured), whichever
    // kernels differ. oneDNN's filter gradients sum per-thread partial results, so the
    // thread count changes last bits (measured 1e-6 on the weights after a step); against
    // XNNPACK, whose sums run in another order, 2e-4 (every gradient agrees with the cpu
    // backend's to 5e-5 of its scale on either engine: test/models/wasm-gradients).
    const two = await trainOn(2, 'onednn', 1);
    const one = await trainOn(1, 'onednn', 1);
    const xnnpack = await trainOn(1, 'xnnpack', 1);
    const acrossThreads = largestDifference(one.weights, two.weights);
    const againstXnnpack = largestDifference(one.weights, xnnpack.weights);
    assert.ok(acrossThreads <= 1e-5, `1 vs 2 threads: largest weight difference ${acrossThreads} (tolerance 1e-5)`);
    assert.ok(againstXnnpack <= 1e-3, `oneDNN vs XNNPACK: largest weight difference ${againstXnnpack} (tolerance 1e-3)`);
    for (const run of [two, xnnpack]) assert.ok(Math.abs(one.losses[0]! - run.losses[0]!) <= 1e-5, `first loss ${one.losses[0]} vs ${run.losses[0]}`);
    console.log(`largest weight difference after a step: 1 vs 2 threads ${acrossThreads}; oneDNN vs XNNPACK ${againstXnnpack}`);
  });

  it('--conv and DRALAB_CONV choose the engine, automatic picks oneDNN, and dralab info says which and why', () => {
    const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, '--backend', 'wasm', ...args], { encoding: 'utf8', env: { ...process.env, DRALAB_CONV: '', ...env }, timeout: 120_000 });
    type Info = { threads: number; details: { threads: string; convolutions: string } };
    const auto = JSON.parse(run(['--threads', '2', 'info', '--json']).stdout) as Info;
    assert.equal(auto.threads, 2);
    assert.match(auto.details.convolutions, /^oneDNN \d+\.\d+\.\d+, 2 OpenMP threads \(native addon/);
    assert.match(auto.details.threads, /^2 \(--threads; \d+ cores\): oneDNN's convolutions on 2 OpenMP threads; the other kernels on tfjs's single-threaded SIMD wasm build/);
    const xnn = JSON.parse(run(['--conv', 'xnnpack', '--threads', '2', 'info', '--json']).stdout) as Info;
    assert.match(xnn.details.convolutions, /^XNNPACK in wasm \(asked for\)/);
    assert.match(xnn.details.threads, /XNNPACK's pool on 2 Node worker threads/);
    const fromEnv = JSON.parse(run(['info', '--json'], { DRALAB_CONV: 'xnnpack' }).stdout) as Info;
    assert.match(fromEnv.details.convolutions, /^XNNPACK/);
    const missing = run(['info', '--json'], { DRALAB_ONEDNN_ADDON: '/nonexistent/dralab_onednn.node' });
    assert.equal(missing.status, 0, missing.stderr);
    assert.match((JSON.parse(missing.stdout) as Info).details.convolutions, /^XNNPACK in wasm \(the native addon is not built \(\/nonexistent\/dralab_onednn\.node is missing: install oneDNN's headers/);
    const askedMissing = run(['--conv', 'onednn', 'info'], { DRALAB_ONEDNN_ADDON: '/nonexistent/dralab_onednn.node' });
    assert.equal(askedMissing.status, 1);
    assert.match(askedMissing.stderr, /backend 'wasm' was requested but cannot be used: oneDNN convolutions are unavailable: the native addon is not built/);
    const bad = run(['--conv', 'mkl', 'info']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--conv='mkl' is not a convolution engine; expected auto, onednn or xnnpack/);
  });

  it('parses engine names from the option, then DRALAB_CONV', () => {
    const saved = process.env.DRALAB_CONV;
    try {
      delete process.env.DRALAB_CONV;
      assert.equal(parseConvolutionEngine(), undefined);
      assert.equal(parseConvolutionEngine('auto'), undefined);
      assert.equal(parseConvolutionEngine(' oneDNN '), 'onednn');
      process.env.DRALAB_CONV = 'xnnpack';
      assert.equal(parseConvolutionEngine(), 'xnnpack');
      assert.equal(parseConvolutionEngine('onednn'), 'onednn');
      process.env.DRALAB_CONV = 'cudnn';
      assert.throws(() => parseConvolutionEngine(), /DRALAB_CONV='cudnn' is not a convolution engine/);
    } finally {
      if (saved === undefined) delete process.env.DRALAB_CONV;
      else process.env.DRALAB_CONV = saved;
    }
  });
});
