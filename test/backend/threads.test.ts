/**
 * The wasm backend on several threads (src/backend/wasm-threads.ts), with its convolutions on
 * XNNPACK (oneDNN's threads are tested in onednn.test.ts): the thread count's
 * sources and checks, a training run that is identical for the same seed and thread count
 * and agrees across thread counts, no tensor leaks, `dralab info` saying how threads are
 * provided, and a process that ends by itself after using the worker threads.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { MAX_WASM_THREADS, resolveThreads, wasmThreads } from '../../src/backend/wasm-threads';
import { createModel } from '../../src/models';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';

const BIN = join(__dirname, '../../../bin/dralab.js');

/** Six SGD steps of a ResNet-20 from one seed; the losses and every weight afterwards. */
async function trainOn(threads: number): Promise<{ losses: number[]; weights: Float32Array; tensorsBefore: number; tensorsAfter: number }> {
  const report = await selectBackend({ backend: 'wasm', threads, convolutions: 'xnnpack', reselect: true });
  assert.equal(report.threads, threads);
  const model = createModel('resnet-20', { numClasses: 10, inputShape: [32, 32, 3], seed: 3 });
  const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const rng = new Rng(7);
  const losses: number[] = [];
  let tensorsBefore = 0;
  for (let step = 0; step < 6; step++) {
    if (step === 1) tensorsBefore = tf.memory().numTensors;
    const images = tf.tensor4d(rng.uniform(16 * 32 * 32 * 3, 0, 1), [16, 32, 32, 3]);
    const labels = tf.tensor1d(Array.from({ length: 16 }, () => rng.int(10)), 'int32');
    losses.push((await trainStep(model, optimizer, images, labels, { clipNorm: 5 })).loss);
    tf.dispose([images, labels]);
  }
  const tensorsAfter = tf.memory().numTensors;
  const weights = Float32Array.from(model.trainableVariables.flatMap((v) => Array.from(v.dataSync())));
  model.dispose();
  optimizer.dispose();
  return { losses, weights, tensorsBefore, tensorsAfter };
}

describe('wasm threads', { timeout: 600_000 }, () => {
  after(async () => {
    await selectBackend({ backend: 'wasm', threads: 1, reselect: true });
  });

  it('the count comes from the option, else DRALAB_THREADS, else every core (at most 8), and is checked', () => {
    const saved = process.env.DRALAB_THREADS;
    try {
      delete process.env.DRALAB_THREADS;
      const all = resolveThreads();
      assert.equal(all.source, 'all cores');
      assert.equal(all.threads, Math.min(all.cores, MAX_WASM_THREADS));
      process.env.DRALAB_THREADS = '3';
      assert.deepEqual([resolveThreads().threads, resolveThreads().source], [3, 'DRALAB_THREADS']);
      assert.deepEqual([resolveThreads(2).threads, resolveThreads('2').source], [2, 'option']);
      assert.throws(() => resolveThreads('0'), /--threads must be a whole number of threads >= 1, got '0'/);
      assert.throws(() => resolveThreads('1.5'), /got '1.5'/);
      assert.throws(() => resolveThreads(9), /at most 8 threads/);
      process.env.DRALAB_THREADS = 'many';
      assert.throws(() => resolveThreads(), /DRALAB_THREADS must be a whole number/);
    } finally {
      if (saved === undefined) delete process.env.DRALAB_THREADS;
      else process.env.DRALAB_THREADS = saved;
    }
  });

  it('ResNet-20 training: the same seed and thread count give the same weights; 1 and 2 threads agree; no tensor leaks', async () => {
    const two = await trainOn(2);
    assert.equal(wasmThreads(), 2);
    const twoAgain = await trainOn(2);
    const one = await trainOn(1);
    assert.equal(wasmThreads(), 1);
    assert.deepEqual(twoAgain.losses, two.losses);
    assert.deepEqual(Buffer.from(twoAgain.weights.buffer), Buffer.from(two.weights.buffer), 'same seed, same threads: the same bytes');
    for (const run of [two, twoAgain, one]) assert.equal(run.tensorsAfter, run.tensorsBefore, 'tensor count flat over the steps');
    // XNNPACK splits products by output tiles, never a sum, so the thread count should not
    // change a value; the stated tolerance allows for a kernel that ever does.
    let largest = 0;
    for (let i = 0; i < one.weights.length; i++) largest = Math.max(largest, Math.abs(one.weights[i]! - two.weights[i]!));
    assert.ok(largest <= 1e-5, `1 vs 2 threads: largest weight difference ${largest} (tolerance 1e-5)`);
    one.losses.forEach((loss, i) => assert.ok(Math.abs(loss - two.losses[i]!) <= 1e-5 * Math.max(1, Math.abs(loss)), `loss ${i}: ${loss} vs ${two.losses[i]}`));
    console.log(`1 vs 2 threads: largest weight difference ${largest}`);
  });

  it('dralab info says how many threads and how they are provided; --threads and DRALAB_THREADS choose', () => {
    const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, '--backend', 'wasm', '--conv', 'xnnpack', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
    const auto = JSON.parse(run(['info', '--json'], { DRALAB_THREADS: '' }).stdout) as { threads: number; details: { threads: string } };
    assert.equal(auto.threads, Math.min(resolveThreads().cores, MAX_WASM_THREADS));
    assert.match(auto.details.threads, /all cores/);
    const two = JSON.parse(run(['--threads', '2', 'info', '--json']).stdout) as { threads: number; details: { threads: string } };
    assert.equal(two.threads, 2);
    assert.match(two.details.threads, /^2 \(--threads; \d+ cores\): tfjs's threaded-SIMD wasm build: XNNPACK's pool on 2 Node worker threads/);
    const one = JSON.parse(run(['info', '--json'], { DRALAB_THREADS: '1' }).stdout) as { threads: number; details: { threads: string } };
    assert.equal(one.threads, 1);
    assert.match(one.details.threads, /single-threaded SIMD wasm build/);
    const bad = run(['--threads', '0', 'info']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--threads must be a whole number of threads >= 1, got '0'/);
  });

  it('a process that used the worker threads ends by itself', () => {
    const script = `
      const tf = require('@tensorflow/tfjs-core');
      const { selectBackend } = require(${JSON.stringify(join(__dirname, '../../src/backend/select'))});
      selectBackend({ backend: 'wasm', threads: 2, convolutions: 'xnnpack' }).then((r) => {
        const x = tf.randomNormal([8, 16, 16, 8]);
        tf.conv2d(x, tf.randomNormal([3, 3, 8, 8]), 1, 'same').dataSync();
        console.log('threads', r.threads);
      });`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000, cwd: join(__dirname, '../../..') });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /threads 2/);
    assert.ok(Date.now() - started < 30_000, 'exited without being killed');
  });
});
