/**
 * GPU-path coverage without a GPU: every kernel that a full training step (forward,
 * backward, SGD update, BatchNorm commit) dispatches must be registered by tfjs-node
 * (list in test/fixtures/tfjs-node-kernels.json, with its provenance) and on wasm. The
 * step runs with the host kernels off, as it does on tfjs-node.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createModel } from '../../src/models';
import { hasHostKernel, setHostKernelsEnabled } from '../../src/engine/host-kernels';
import { ALL_OP_NAMES } from '../../src/ops';
import { LAYER_PASS } from '../../src/ops/kernels/layer-pass';
import { applyLayers } from '../../src/ops/layers';
import { Rng } from '../../src/util/rng';
import { SGD_UPDATE } from '../../src/train/sgd-kernel';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { initCpuAndWasm } from '../helpers/compare';
import { recordKernels } from '../helpers/kernels';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../../test/fixtures/tfjs-node-kernels.json'), 'utf8')) as { provenance: string; kernels: string[] };
const NODE_KERNELS = new Set(fixture.kernels);

describe('kernel coverage of a training step', () => {
  before(async () => {
    await initCpuAndWasm();
  });

  for (const name of ['resnet-20', 'tiny-cnn']) {
    it(`${name}: every dispatched kernel exists in tfjs-node and on wasm`, async () => {
      const model = createModel(name, { numClasses: 10, inputShape: [16, 16, 3], seed: 1, affineBatchNorm: name === 'tiny-cnn' });
      const optimizer = new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const images = tf.randomUniform([4, 16, 16, 3], 0, 255) as tf.Tensor4D;
      const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
      // The cpu/wasm host kernels are off: the step dispatches the composites tfjs-node runs.
      setHostKernelsEnabled(false);
      const record = await recordKernels(() => trainStep(model, optimizer, images, labels, { clipNorm: 5 })).finally(() => setHostKernelsEnabled(true));
      assert.ok(!record.topLevel.has(SGD_UPDATE) && hasHostKernel(SGD_UPDATE), 'the composite SGD update ran, and the host kernel is back on');
      for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Relu']) assert.ok(record.topLevel.has(k), `${k} was not recorded`);
      const all = [...record.topLevel, ...record.nested];
      const missingOnNode = all.filter((k) => !NODE_KERNELS.has(k));
      assert.deepEqual(missingOnNode, [], `not registered by tfjs-node (${fixture.provenance})`);
      const missingOnWasm = all.filter((k) => tf.getKernel(k, 'wasm') === undefined);
      assert.deepEqual(missingOnWasm, [], 'not registered on wasm');
      tf.dispose([images, labels]);
      model.dispose();
      optimizer.dispose();
    });
  }

  it("a frozen policy's 8-bit layer pass, every operator: every dispatched kernel exists in tfjs-node and on wasm", async () => {
    const rng = new Rng(5);
    const n = ALL_OP_NAMES.length;
    const images = tf.randomUniform([n, 12, 10, 3], 0, 255) as tf.Tensor4D;
    const layers = [0, 1].map((l) => ({
      opIndex: Int32Array.from({ length: n }, (_, i) => (l === 0 ? i : n - 1 - i)),
      magnitude: rng.uniform(n),
      sign: rng.signs(n),
      cutoutCentre: rng.uniform(2 * n),
    }));
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      setHostKernelsEnabled(false);
      const record = await recordKernels(() => applyLayers(images, ALL_OP_NAMES, layers, { interpolation })).finally(() => setHostKernelsEnabled(true));
      assert.ok(!record.topLevel.has(LAYER_PASS), 'the composite ran, not the host kernel');
      const all = [...record.topLevel, ...record.nested];
      assert.deepEqual(all.filter((k) => !NODE_KERNELS.has(k)), [], `not registered by tfjs-node (${fixture.provenance})`);
      assert.deepEqual(all.filter((k) => tf.getKernel(k, 'wasm') === undefined), [], 'not registered on wasm');
    }
    images.dispose();
  });

  it('the fixture is a real kernel list (sanity check of what is compared against)', () => {
    assert.ok(NODE_KERNELS.size > 150);
    assert.ok(NODE_KERNELS.has('Conv2DBackpropFilter') && !NODE_KERNELS.has('NotAKernel'));
  });
});
