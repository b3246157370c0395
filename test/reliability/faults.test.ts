/**
 * Faults a real session throws at a search: a process killed while writing a
 * checkpoint, an output folder that cannot be written or a full disk, an interrupt in
 * either half of a step, and a run SIGKILLed at a random step and resumed. Each leaves
 * the last good state usable.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { loadDataset } from '../../src/data';
import type { Dataset } from '../../src/data/types';
import { readCheckpoint, writeCheckpoint } from '../../src/search/checkpoint';
import { resolveSearchConfig } from '../../src/search/config';
import { DraSearch, SearchAbortedError } from '../../src/search/search';
import { Rng } from '../../src/util/rng';

const root = join(__dirname, '../../..');
const bin = join(root, 'bin/dralab.js');
let dataset: Dataset;

async function makeSearch(): Promise<DraSearch> {
  const config = resolveSearchConfig({ model: 'tiny-cnn', batchSize: 16, steps: 50, seed: 9, trainCount: 192, testCount: 32 });
  return new DraSearch({ config, dataset, backend: await selectBackend() });
}

function stateValues(search: DraSearch): number[][] {
  return [...search.policy.variables, ...search.model.trainableVariables, ...search.model.stateVariables].map((v) => Array.from(v.dataSync()));
}

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
  dataset = await loadDataset('synthetic:colour', { seed: 9, trainCount: 192, testCount: 32 });
});

describe('checkpoint writes', () => {
  it('a process killed while writing a checkpoint leaves the previous one loadable', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'dralab-kill-'));
    const target = join(dir, 'checkpoint');
    // A good checkpoint first.
    writeCheckpoint(target, { generation: 0 }, [{ name: 'x', shape: [4], dtype: 'float32', values: new Float32Array([1, 2, 3, 4]) }]);
    // A child rewrites it in a loop with large payloads; kill it at random moments.
    const script = `
      const { writeCheckpoint } = require(${JSON.stringify(join(root, 'dist/src/search/checkpoint.js'))});
      const big = new Float32Array(4_000_000);
      for (let g = 1; ; g++) { big.fill(g); writeCheckpoint(${JSON.stringify(target)}, { generation: g }, [{ name: 'x', shape: [big.length], dtype: 'float32', values: big }]); process.stdout.write('.'); }
    `;
    const rng = new Rng(17);
    for (let trial = 0; trial < 5; trial++) {
      const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, 20 + rng.int(200)));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const loaded = readCheckpoint(target);
      const generation = (loaded.state as { generation: number }).generation;
      const x = loaded.arrays.get('x')!.values;
      assert.ok(x.length === 4 || x.every((v) => v === generation), `trial ${trial}: a consistent checkpoint (generation ${generation}) loads from ${loaded.path}`);
    }
  });

  it('an unwritable output folder is a clear error and the search in memory is intact', async () => {
    const s = await makeSearch();
    await s.step();
    const before = stateValues(s);
    const file = join(fs.mkdtempSync(join(tmpdir(), 'dralab-ro-')), 'not-a-folder');
    fs.writeFileSync(file, 'a file where the run folder should go');
    await assert.rejects(s.save(join(file, 'run')), /cannot create run folder .*not-a-folder\/run/);
    assert.deepEqual(stateValues(s), before);
    await s.step(); // still usable
    s.dispose();
  });

  it('a full disk while saving is a clear error; the previous save still loads and the search goes on', async () => {
    const s = await makeSearch();
    const dir = fs.mkdtempSync(join(tmpdir(), 'dralab-full-'));
    await s.step();
    await s.save(dir);
    await s.step();
    const before = stateValues(s);
    // The real module object (not the import namespace): checkpoint.ts reads
    // writeFileSync from it at call time, so replacing the property reaches it.
    const nodeFs = require('node:fs') as { writeFileSync: typeof fs.writeFileSync };
    const original = nodeFs.writeFileSync;
    nodeFs.writeFileSync = ((path: fs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions) => {
      if (String(path).includes('tensors.bin')) {
        const err = new Error(`ENOSPC: no space left on device, write '${String(path)}'`) as NodeJS.ErrnoException;
        err.code = 'ENOSPC';
        throw err;
      }
      return original(path, data, options);
    }) as typeof fs.writeFileSync;
    try {
      await assert.rejects(s.save(dir), /could not write checkpoint .*ENOSPC: no space left on device/);
    } finally {
      nodeFs.writeFileSync = original;
    }
    assert.deepEqual(stateValues(s), before, 'the search in memory is unchanged');
    assert.equal(fs.existsSync(join(dir, 'checkpoint.tmp')), false, 'no half-written checkpoint left behind');
    const previous = await DraSearch.load(dir);
    assert.equal(previous.stepCount, 1, 'the previous checkpoint still loads');
    previous.dispose();
    await s.save(dir); // space is back: saving works again
    const now = await DraSearch.load(dir);
    assert.equal(now.stepCount, 2);
    now.dispose();
    s.dispose();
  });
});

describe('interrupts inside a step', () => {
  for (const [where, callToAbortOn] of [['policy step', 1], ['model step', 3]] as const) {
    it(`an interrupt during the ${where} leaves the search as before the step, and it continues`, async () => {
      const s = await makeSearch();
      const twin = await makeSearch();
      await s.step();
      await twin.step();
      const before = stateValues(s);
      const controller = new AbortController();
      const apply = s.model.apply.bind(s.model);
      let calls = 0;
      (s.model as { apply: typeof apply }).apply = (x, o) => {
        if (++calls === callToAbortOn) controller.abort();
        return apply(x, o);
      };
      await assert.rejects(s.step(controller.signal), (err: Error) => err instanceof SearchAbortedError && err.message.includes(where));
      (s.model as { apply: typeof apply }).apply = apply;
      assert.deepEqual(stateValues(s), before);
      await s.step();
      await twin.step();
      assert.deepEqual(stateValues(s), stateValues(twin), 'the interrupted search continues exactly like one never interrupted');
      assert.equal(tf.memory().numTensors > 0, true);
      s.dispose();
      twin.dispose();
    });
  }
});

describe('resume equivalence under SIGKILL', () => {
  it('a run killed at a random step and resumed from its last checkpoint reaches the same policy', async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), 'dralab-sigkill-'));
    const args = ['search', '--data', 'synthetic:colour', '--model', 'tiny-cnn', '--train-count', '192', '--test-count', '32', '--batch-size', '16', '--seed', '21', '--steps', '16', '--no-report'];
    const env = { ...process.env, DRALAB_BACKEND: 'wasm' };
    const straight = spawnSync(process.execPath, [bin, ...args, '--out', join(dir, 'straight')], { env, encoding: 'utf8' });
    assert.equal(straight.status, 0, straight.stderr);
    const out = join(dir, 'killed');
    const killAt = 5 + new Rng(Date.now() % 1000).int(8); // a random step in 5..12
    const child = spawn(process.execPath, [bin, ...args, '--out', out, '--checkpoint-every', '2'], { env });
    let seen = 0;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          const lines = fs.readFileSync(join(out, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"step"')).length;
          seen = lines;
        } catch {
          // not written yet
        }
        if (seen >= killAt - 1) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((r) => child.on('exit', r));
    const resumed = spawnSync(process.execPath, [bin, 'search', '--resume', out, '--no-report'], { env, encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed .* at step \d+\/16/);
    const a = JSON.parse(fs.readFileSync(join(dir, 'straight', 'policy.json'), 'utf8'));
    const b = JSON.parse(fs.readFileSync(join(out, 'policy.json'), 'utf8'));
    assert.deepEqual(b.layers, a.layers, `killed near step ${killAt}, resumed: same policy`);
  });
});
