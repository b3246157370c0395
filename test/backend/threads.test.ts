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
import { selectBackend } from '../../src/backend/select';
import { largestDifference, trainResNet20 } from '../helpers/train-run';
import { MAX_WASM_THREADS, resolveThreads, wasmThreads } from '../../src/backend/wasm-threads';

const BIN = join(__dirname, '../../../bin/dralab.js');

const trainOn = (threads: number) => trainResNet20(threads, 'xnnpack', 6);

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
    for (const run of [two, twoAgain, one]) assert.equal(run.leaked, 0, 'tensor count flat over the steps');
    // XNNPACK splits products by output tiles, never a sum, so the thread count should not
    // change a value; the stated tolerance allows for a kernel that ever does.
    const largest = largestDifference(one.weights, two.weights);
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
