/**
 * loadRun: what the policy-inspection notebook opens. A saved run folder gives back its
 * history and policy; a hand-made policy.json without weights loads; an invalid one
 * fails with the schema's message naming the file.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '../../src/backend/select';
import { loadDataset } from '../../src/data';
import { loadRun } from '../../src/notebook/shape';
import { resolveSearchConfig } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
});

describe('loadRun', () => {
  it('reads a saved run folder: history and final policy', async () => {
    const dataset = await loadDataset('synthetic:colour', { seed: 1, trainCount: 96, testCount: 16 });
    const search = new DraSearch({ config: resolveSearchConfig({ batchSize: 16, steps: 3, seed: 1, snapshotEvery: 1 }), dataset, backend: await selectBackend() });
    await search.run();
    const dir = mkdtempSync(join(tmpdir(), 'dralab-run-'));
    await search.save(dir);
    const run = loadRun(dir);
    assert.equal(run.history.steps.length, 3);
    assert.deepEqual(run.history.snapshots.map((s) => s.step), [0, 1, 2, 3]);
    assert.deepEqual(run.policy.layers, search.policy.snapshot().layers);
    search.dispose();
  });

  it('loads a hand-made policy.json without weights, and rejects an invalid one by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-run-'));
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify({ format: 'dralab.policy', version: 1, ops: ['Rotate', 'Invert'], layers: [{ probabilities: [0.75, 0.25], mu: [0.5, 0], sigma: [0.1, 0] }], applyProbability: [0.2, 0.8] }));
    const run = loadRun(good);
    assert.ok(Math.abs(run.policy.layers[0]!.weights[0]! - Math.log(0.75)) < 1e-12);
    assert.equal(run.history.steps.length, 0);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'dralab.policy', version: 1, ops: ['Rotate'], layers: [{ probabilities: [0.5], mu: [0.5], sigma: [0.1] }], applyProbability: [0.2, 0.8] }));
    assert.throws(() => loadRun(bad), /invalid policy .*bad\.json[\s\S]*must sum to 1/);
    assert.throws(() => loadRun(join(dir, 'missing')), /does not exist/);
  });
});
