/**
 * The steppable search: records, flat tensor counts, bit-identical reproducibility,
 * save/resume equivalence, atomic steps under errors, aborts and non-finite losses,
 * ablation switches and the second-order option.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { loadDataset } from '../../src/data';
import type { Dataset } from '../../src/data/types';
import { resolveSearchConfig, type SearchConfig } from '../../src/search/config';
import { DraSearch, SearchAbortedError } from '../../src/search/search';
import { History } from '../../src/search/history';

let dataset: Dataset;
const base: Partial<SearchConfig> = { data: 'synthetic:colour', model: 'tiny-cnn', seed: 3, batchSize: 16, steps: 40, trainCount: 256, testCount: 64, snapshotEvery: 2 };

async function makeSearch(overrides: Partial<SearchConfig> = {}): Promise<DraSearch> {
  const config = resolveSearchConfig({ ...base, ...overrides });
  return new DraSearch({ config, dataset, backend: await selectBackend() });
}

/** Every variable of the search as plain arrays (policy, model, BN statistics). */
function stateValues(search: DraSearch): number[][] {
  return [...search.policy.variables, ...search.model.trainableVariables, ...search.model.stateVariables].map((v) => Array.from(v.dataSync()));
}

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
  dataset = await loadDataset('synthetic:colour', { seed: 3, trainCount: 256, testCount: 64 });
});

describe('DraSearch stepping', () => {
  it('step() advances exactly one step and returns its record', async () => {
    const s = await makeSearch();
    const before = stateValues(s);
    const rec = await s.step();
    assert.equal(rec.step, 1);
    assert.equal(s.stepCount, 1);
    for (const key of ['trainLoss', 'valLoss', 'valCrossEntropy', 'kl', 'trainAccuracy', 'valAccuracy', 'modelLearningRate', 'milliseconds'] as const) {
      assert.ok(Number.isFinite(rec[key]), `${key} = ${rec[key]}`);
    }
    assert.ok(rec.kl >= 0, 'KL is non-negative');
    assert.ok(Math.abs(rec.valLoss - (rec.valCrossEntropy + rec.kl)) < 1e-4, 'policy loss = CE + lambda KL with lambda 1');
    assert.equal(s.history.steps.length, 1);
    const after = stateValues(s);
    assert.notDeepEqual(after[0], before[0], 'w moved');
    assert.notDeepEqual(after[1], before[1], 'mu moved');
    assert.notDeepEqual(after[3], before[3], 'model weights moved');
    s.dispose();
  });

  it('keeps tf.memory().numTensors flat across steps', async () => {
    const s = await makeSearch();
    await s.step();
    await s.step();
    const count = tf.memory().numTensors;
    for (let i = 0; i < 6; i++) await s.step();
    assert.equal(tf.memory().numTensors, count);
    s.dispose();
  });

  it('same seed, same backend: bit-identical policy and model after N steps', async () => {
    const a = await makeSearch();
    const b = await makeSearch();
    for (let i = 0; i < 4; i++) {
      await a.step();
      await b.step();
    }
    assert.deepEqual(stateValues(a), stateValues(b));
    const c = await makeSearch({ seed: 4 });
    for (let i = 0; i < 4; i++) await c.step();
    assert.notDeepEqual(stateValues(c)[0], stateValues(a)[0], 'another seed gives another policy');
    a.dispose();
    b.dispose();
    c.dispose();
  });

  it('history keeps per-step records and a policy snapshot every k steps', async () => {
    const s = await makeSearch();
    await s.run({ steps: 5 });
    assert.deepEqual(s.history.steps.map((r) => r.step), [1, 2, 3, 4, 5]);
    assert.deepEqual(s.history.snapshots.map((r) => r.step), [0, 2, 4]);
    const round = History.fromJsonLines(s.history.toJsonLines());
    assert.deepEqual(round.steps, s.history.steps);
    assert.deepEqual(round.snapshots, s.history.snapshots);
    s.dispose();
  });
});

describe('DraSearch persistence', () => {
  it('saved at step k and resumed, reaches the same state at step n as a straight run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-search-'));
    const straight = await makeSearch();
    await straight.run({ steps: 6 });
    const first = await makeSearch();
    await first.run({ steps: 3 });
    await first.save(dir);
    first.dispose();
    for (const f of ['policy.json', 'history.jsonl', 'checkpoint/manifest.json', 'checkpoint/tensors.bin']) assert.ok(existsSync(join(dir, f)), `${f} written`);
    const resumed = await DraSearch.load(dir);
    assert.equal(resumed.stepCount, 3);
    await resumed.run({ steps: 3 });
    assert.deepEqual(stateValues(resumed), stateValues(straight));
    assert.deepEqual(resumed.history.steps.map((r) => r.trainLoss), straight.history.steps.map((r) => r.trainLoss));
    const policy = JSON.parse(readFileSync(join(dir, 'policy.json'), 'utf8'));
    assert.equal(policy.format, 'dralab.policy');
    straight.dispose();
    resumed.dispose();
  });
});

describe('DraSearch atomic steps', () => {
  it('an error inside the model step leaves model, policy, optimisers and RNG as before', async () => {
    const s = await makeSearch();
    await s.step();
    const before = stateValues(s);
    const beforeState = JSON.stringify(s.state.counters());
    const originalApply = s.model.apply.bind(s.model);
    let calls = 0;
    (s.model as { apply: typeof originalApply }).apply = (x, o) => {
      calls++;
      // The policy step calls the model twice (original and augmented); the third call is the model step.
      if (calls === 3) throw new Error('injected failure in the model step');
      return originalApply(x, o);
    };
    await assert.rejects(s.step(), /injected failure/);
    (s.model as { apply: typeof originalApply }).apply = originalApply;
    assert.deepEqual(stateValues(s), before);
    assert.equal(JSON.stringify(s.state.counters()), beforeState);
    assert.equal(s.stepCount, 1);
    // ...and the search goes on exactly as one that never failed.
    const twin = await makeSearch();
    await twin.step();
    await twin.step();
    await s.step();
    assert.deepEqual(stateValues(s), stateValues(twin));
    s.dispose();
    twin.dispose();
  });

  it('an abort between the policy and the model step rolls the step back', async () => {
    const s = await makeSearch();
    await s.step();
    const before = stateValues(s);
    const controller = new AbortController();
    const originalApply = s.model.apply.bind(s.model);
    let calls = 0;
    (s.model as { apply: typeof originalApply }).apply = (x, o) => {
      if (++calls === 2) controller.abort(); // during the policy step
      return originalApply(x, o);
    };
    await assert.rejects(s.step(controller.signal), SearchAbortedError);
    (s.model as { apply: typeof originalApply }).apply = originalApply;
    assert.deepEqual(stateValues(s), before);
    assert.equal(s.stepCount, 1);
    s.dispose();
  });

  it('a non-finite loss rejects the step, changes nothing, and the run goes on', async () => {
    const s = await makeSearch();
    await s.step();
    const originalApply = s.model.apply.bind(s.model);
    let calls = 0;
    (s.model as { apply: typeof originalApply }).apply = (x, o) => {
      calls++;
      const logits = originalApply(x, o);
      return calls <= 2 ? (tf.tidy(() => tf.mul(logits, NaN)) as tf.Tensor2D) : logits; // the first policy step
    };
    const before = stateValues(s);
    const result = await s.run({ steps: 2 });
    assert.equal(s.stepCount, 2, 'one step rejected, one done');
    (s.model as { apply: typeof originalApply }).apply = originalApply;
    assert.equal(result.reason, 'completed');
    assert.ok(result.records[0]!.rejected?.includes('non-finite'), 'first step rejected and reported');
    assert.equal(result.records[1]!.rejected, undefined);
    assert.notDeepEqual(stateValues(s), before, 'the second step changed the state');
    assert.ok(stateValues(s).every((arr) => arr.every(Number.isFinite)), 'no NaN reached the parameters');

    const stopping = await makeSearch({ onNonFinite: 'stop' });
    const apply2 = stopping.model.apply.bind(stopping.model);
    (stopping.model as { apply: typeof apply2 }).apply = (x, o) => tf.tidy(() => tf.mul(apply2(x, o), NaN)) as tf.Tensor2D;
    const before2 = stateValues(stopping);
    const r2 = await stopping.run({ steps: 3 });
    assert.equal(r2.reason, 'non-finite');
    assert.deepEqual(stateValues(stopping), before2);
    s.dispose();
    stopping.dispose();
  });

  it('run() stops at a step boundary on abort, and on an onStep exception', async () => {
    const s = await makeSearch();
    const controller = new AbortController();
    const result = await s.run({ steps: 10, signal: controller.signal, onStep: (rec) => { if (rec.step === 2) controller.abort(); } });
    assert.equal(result.reason, 'aborted');
    assert.equal(s.stepCount, 2);
    const r2 = await s.run({ steps: 10, onStep: () => { throw new Error('user callback failed'); } });
    assert.equal(r2.reason, 'callback-error');
    assert.match(r2.error!.message, /user callback failed/);
    assert.equal(s.stepCount, 3, 'the step before the callback is kept');
    s.stop(); // no run in progress: harmless
    s.dispose();
  });
});

describe('DraSearch concurrency', () => {
  it('refuses a second step or run while one is in progress, with a clear message', async () => {
    const s = await makeSearch();
    const running = s.run({ steps: 2 });
    await assert.rejects(s.step(), /another step is still running/);
    await assert.rejects(s.run({ steps: 1 }), /already running/);
    const result = await running;
    assert.equal(result.reason, 'completed');
    assert.equal(s.stepCount, 2);
    await s.step(); // free again
    s.dispose();
  });
});

describe('DraSearch options', () => {
  it('ablations: fixed weights, mu and sigma stay at their initial values', async () => {
    const s = await makeSearch({ learnWeights: false, learnMu: false });
    await s.run({ steps: 3 });
    const snap = s.policy.snapshot();
    assert.ok(snap.layers.every((l) => l.weights.every((w) => Math.abs(w - 1e-3) < 1e-9)));
    assert.ok(snap.layers.every((l) => l.mu.every((m) => Math.abs(m - 0.5) < 1e-7)));
    assert.ok(snap.layers.some((l) => l.sigma.some((v) => Math.abs(v - 0.1) > 1e-6)), 'sigma still learns');
    s.dispose();
  });

  it('KL off makes the policy loss the augmented cross-entropy', async () => {
    const s = await makeSearch({ useKl: false });
    const rec = await s.step();
    assert.ok(Math.abs(rec.valLoss - rec.valCrossEntropy) < 1e-6);
    s.dispose();
  });

  it('the second-order policy gradient runs, updates the policy and leaks nothing', async () => {
    const s = await makeSearch({ policyGradient: 'second' });
    await s.step();
    const count = tf.memory().numTensors;
    const before = stateValues(s)[0];
    await s.step();
    assert.equal(tf.memory().numTensors, count);
    assert.notDeepEqual(stateValues(s)[0], before);
    s.dispose();
  });

  it('rejects bad configuration with the field named', () => {
    assert.throws(() => resolveSearchConfig({ batchSize: 0 }), /batchSize/);
    assert.throws(() => resolveSearchConfig({ ops: ['Rotate', 'Blur'] }), /unknown operator 'Blur'/);
    assert.throws(() => resolveSearchConfig({ applyProbability: [0.9, 0.1] }), /applyProbability/);
    assert.throws(() => resolveSearchConfig({ proxyFraction: 1.5 }), /proxyFraction/);
  });
});

describe('DraSearch settings changed while it runs', () => {
  it('setSettings takes effect at the next step boundary, is recorded per step, and refuses what cannot change', async () => {
    const s = await makeSearch();
    await s.step();
    s.setSettings({ temperature: 0.2, klWeight: 0.5 });
    assert.equal(s.policy.config.temperature, 0.2);
    const second = await s.step();
    assert.deepEqual([second.temperature, second.klWeight, s.history.steps[0]!.temperature], [0.2, 0.5, 0.5]);
    assert.throws(() => s.setSettings({ seed: 3 } as never), /'seed' cannot change while a search runs/);
    assert.throws(() => s.setSettings({ temperature: 0 }), /temperature: 0 is not a valid value/);
    // During a step: kept for after it.
    const running = s.step();
    s.setSettings({ policyLearningRate: 0.02 });
    const third = await running;
    assert.equal(third.policyLearningRate, s.history.steps[1]!.policyLearningRate, 'the step in flight kept its rate');
    assert.equal(s.config.policyLearningRate, 0.02);
    assert.equal((await s.step()).policyLearningRate, 0.02);
    s.dispose();
  });

  it('a run with changes is replayed exactly from its records, and resumes exactly from a save made after a change', async () => {
    const { settingsOfStep } = await import('../../src/search/live-settings');
    const a = await makeSearch();
    for (let i = 0; i < 6; i++) {
      if (i === 2) a.setSettings({ temperature: 0.25, klWeight: 2, modelLearningRate: 0.05 });
      if (i === 4) a.setSettings({ policyLearningRate: 0.02 });
      await a.step();
    }
    const replay = await makeSearch();
    for (const record of a.history.steps) {
      replay.setSettings(settingsOfStep(record));
      await replay.step();
    }
    assert.deepEqual(stateValues(replay), stateValues(a));

    const dir = mkdtempSync(join(tmpdir(), 'dralab-live-'));
    const b = await makeSearch();
    for (let i = 0; i < 4; i++) {
      if (i === 2) b.setSettings({ temperature: 0.25, klWeight: 2, modelLearningRate: 0.05 });
      await b.step();
    }
    await b.save(dir);
    const resumed = await DraSearch.load(dir);
    assert.equal(resumed.config.temperature, 0.25);
    assert.equal(resumed.policy.config.temperature, 0.25);
    for (let i = 4; i < 6; i++) {
      if (i === 4) resumed.setSettings({ policyLearningRate: 0.02 });
      await resumed.step();
    }
    assert.deepEqual(stateValues(resumed), stateValues(a));
    for (const x of [a, replay, b, resumed]) x.dispose();
  });
});
