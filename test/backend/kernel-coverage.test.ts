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
import { hasHostKernel, setHostKernelsEnabled } from '../../src/ops/kernels/host';
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

  it('the fixture is a real kernel list (sanity check of what is compared against)', () => {
    assert.ok(NODE_KERNELS.size > 150);
    assert.ok(NODE_KERNELS.has('Conv2DBackpropFilter') && !NODE_KERNELS.has('NotAKernel'));
  });
});
