/**
 * The project's models and training step on WebGPU (software Vulkan): every kernel a
 * training step of tiny-cnn and resnet-20 dispatches is registered on webgpu, and two
 * tiny-cnn training steps (SGD, Nesterov momentum, weight decay, BatchNorm commit) agree
 * with wasm. Tolerance: relative 1e-4 on losses and on every variable afterwards
 * (measured about 1e-7). Skipped, with the reason, when no software Vulkan is set up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend } from '../../src/backend/select';
import { releaseWebgpu, softwareVulkanEnvFile } from '../../src/backend/webgpu';
import { createModel } from '../../src/models';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { setHostKernelsEnabled } from '../../src/engine/host-kernels';
import { Rng } from '../../src/util/rng';
import { maxAbsDiff } from '../helpers/compare';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'the software-Vulkan set-up is Linux-only';
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || softwareVulkanEnvFile()) return false;
  return 'no software Vulkan: run scripts/setup-vulkan.sh (or name a driver with VK_ICD_FILENAMES)';
}

interface StepRun {
  losses: number[];
  variables: Float32Array[];
}

async function runSteps(modelName: string, batch: number, side: number, steps: number): Promise<StepRun> {
  const rng = new Rng(5);
  const model = createModel(modelName, { numClasses: 10, inputShape: [side, side, 3], seed: 3 });
  const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const images = tf.tensor4d(rng.uniform(batch * side * side * 3, 0, 255), [batch, side, side, 3]);
  const labels = tf.tensor1d(Int32Array.from({ length: batch }, () => rng.int(10)), 'int32');
  try {
    const losses: number[] = [];
    for (let s = 0; s < steps; s++) losses.push((await trainStep(model, optimizer, images, labels)).loss);
    const variables: Float32Array[] = [];
    for (const v of [...model.trainableVariables, ...model.stateVariables]) variables.push((await v.data()) as Float32Array);
    return { losses, variables };
  } finally {
    tf.dispose([images, labels]);
    optimizer.dispose();
    model.dispose();
  }
}

describe('models on webgpu (software Vulkan)', { skip: skipReason() }, () => {
  before(async () => {
    await tf.setBackend('cpu');
    await selectBackend({ backend: 'wasm', reselect: true });
    await selectBackend({ backend: 'webgpu', reselect: true });
  });

  after(async () => {
    await tf.setBackend('cpu');
    releaseWebgpu();
  });

  for (const modelName of ['tiny-cnn', 'resnet-20']) {
    it(`registers on webgpu every kernel a ${modelName} training step dispatches`, async () => {
      await tf.setBackend('cpu');
      // The cpu/wasm host kernels are off: the step dispatches the composites webgpu runs.
      setHostKernelsEnabled(false);
      const profile = await tf
        .profile(async () => {
          await runSteps(modelName, 2, 16, 1);
        })
        .finally(() => setHostKernelsEnabled(true));
      // Custom-gradient wrappers are recorded too but are not kernels.
      const dispatched = [...new Set(profile.kernelNames)].filter((k) => tf.getKernel(k, 'cpu') !== undefined).sort();
      assert.ok(dispatched.includes('Conv2DBackpropFilter'), `no backward conv recorded: ${dispatched.join(', ')}`);
      const missing = dispatched.filter((k) => tf.getKernel(k, 'webgpu') === undefined);
      assert.deepEqual(missing, [], `kernels not registered on webgpu: ${missing.join(', ')}`);
    });
  }

  it('two tiny-cnn training steps agree with wasm (tol 1e-4)', async (t) => {
    await tf.setBackend('wasm');
    const wasm = await runSteps('tiny-cnn', 8, 16, 2);
    await tf.setBackend('webgpu');
    const before = tf.memory().numTensors;
    const gpu = await runSteps('tiny-cnn', 8, 16, 2);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked on webgpu');
    for (let s = 0; s < 2; s++) {
      const rel = Math.abs(gpu.losses[s]! - wasm.losses[s]!) / Math.abs(wasm.losses[s]!);
      assert.ok(rel <= 1e-4, `step ${s} loss: webgpu ${gpu.losses[s]} vs wasm ${wasm.losses[s]}`);
    }
    let worst = 0;
    gpu.variables.forEach((values, i) => {
      const { diff, scale } = maxAbsDiff(values, wasm.variables[i]!);
      const rel = diff / Math.max(1, scale);
      assert.ok(rel <= 1e-4, `variable ${i}: relative difference ${rel}`);
      worst = Math.max(worst, rel);
    });
    t.diagnostic(`losses ${gpu.losses.map((l) => l.toFixed(6)).join(' ')}; worst variable difference ${worst.toExponential(1)}`);
  });
});
