/**
 * GPU-path coverage of the search step without a GPU: every kernel a DRA search step
 * dispatches (policy step through all 16 operators, first and second order, model step)
 * must be registered by tfjs-node (test/fixtures/tfjs-node-kernels.json, with its
 * provenance) and on wasm.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { setHostKernelsEnabled } from '../../src/engine/host-kernels';
import { loadDataset } from '../../src/data';
import { resolveSearchConfig } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';
import { recordKernels } from '../helpers/kernels';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/tfjs-node-kernels.json'), 'utf8')) as { provenance: string; kernels: string[] };
const NODE_KERNELS = new Set(fixture.kernels);

describe('kernel coverage of a search step', () => {
  before(async () => {
    await selectBackend({ backend: 'wasm', reselect: true });
  });

  for (const order of ['first', 'second'] as const) {
    it(`${order}-order search step: every dispatched kernel exists in tfjs-node and on wasm`, async () => {
      const dataset = await loadDataset('synthetic:colour', { seed: 0, trainCount: 128, testCount: 16 });
      // Every sample applies an op (gate 1) and the batch is large enough that all 16 ops occur.
      const config = resolveSearchConfig({ model: 'tiny-cnn', batchSize: 64, steps: 10, seed: 0, applyProbability: [1, 1], policyGradient: order });
      const search = new DraSearch({ config, dataset, backend: await selectBackend() });
      // The operators' cpu/wasm host kernels are off: the step dispatches the composites tfjs-node runs.
      setHostKernelsEnabled(false);
      const record = await recordKernels(() => search.step()).finally(() => setHostKernelsEnabled(true));
      const all = [...record.topLevel, ...record.nested];
      for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'Softmax']) assert.ok(all.includes(k) || all.includes(`${k}`), `${k} was not recorded`);
      const missingOnNode = all.filter((k) => !NODE_KERNELS.has(k));
      assert.deepEqual(missingOnNode, [], `not registered by tfjs-node (${fixture.provenance})`);
      const missingOnWasm = all.filter((k) => tf.getKernel(k, 'wasm') === undefined);
      assert.deepEqual(missingOnWasm, [], 'not registered on wasm');
      search.dispose();
    });
  }
});
