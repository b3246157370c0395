/**
 * The DRA search on WebGPU (software Vulkan): every kernel a first- and a second-order
 * search step dispatches is registered on webgpu, and the steps agree with the same
 * steps on wasm. Both backends run the operators' composites (host kernels off), so they
 * compute the same float32 math in a different summation order.
 *
 * Tolerances, with what was measured on lavapipe (tiny-cnn, batch 64, all 16 ops):
 * - losses (train, policy, CE, KL): relative 1e-4; measured at most 5e-7.
 * - accuracies: at most one sample of the 64 apart; measured equal.
 * - policy w, mu, sigma: absolute 2.5e-4, a twentieth of one AdamW step (lr 5e-3). Adam's
 *   first update is lr * sign(g), so one gradient component of the wrong sign would be
 *   1e-2 off. Measured 7e-8 after two first-order steps, 4e-7 after one second-order step.
 * - model weights and BatchNorm statistics: absolute 1e-3; measured 2e-7 after two
 *   first-order steps, 7e-5 after one second-order step (wasm against cpu: 7e-5 too).
 * The second-order comparison stops after one step: there the policy update already
 * differs at 4e-7 (components with gradients near AdamW's epsilon), the model step then
 * augments with slightly different magnitudes, and a second step's policy gradient (a
 * difference of large sums: the hard Gumbel-softmax passes sum(dL/dx * op(x)) to w)
 * turns that into policy differences of 4e-3.
 *
 * The hard Gumbel argmax could flip where w + g ties within the backends' w difference:
 * the test reports the smallest argmax margin of the draws beside that difference.
 * Skipped, with the reason, when no software Vulkan is set up.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { selectBackend, type BackendReport } from '../../src/backend/select';
import { releaseWebgpu, softwareVulkanEnvFile } from '../../src/backend/webgpu';
import { loadDataset } from '../../src/data';
import type { Dataset } from '../../src/data/types';
import { setHostKernelsEnabled } from '../../src/engine/host-kernels';
import { DRA_OP_NAMES } from '../../src/ops/names';
import type { AugmentTrace } from '../../src/policy/dra';
import { resolveSearchConfig } from '../../src/search/config';
import type { StepRecord } from '../../src/search/record';
import { DraSearch } from '../../src/search/search';
import { Rng } from '../../src/util/rng';
import { maxAbsDiff } from '../helpers/compare';
import { recordKernels } from '../helpers/kernels';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'the software-Vulkan set-up is Linux-only';
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || softwareVulkanEnvFile()) return false;
  return 'no software Vulkan: run scripts/setup-vulkan.sh (or name a driver with VK_ICD_FILENAMES)';
}

const BATCH = 64;
const LOSS_TOLERANCE = 1e-4;
const POLICY_TOLERANCE = 2.5e-4;
const MODEL_TOLERANCE = 1e-3;

type Order = 'first' | 'second';

interface Pair {
  wasm: DraSearch;
  gpu: DraSearch;
}

async function makePair(order: Order, dataset: Dataset, reports: { wasm: BackendReport; gpu: BackendReport }): Promise<Pair> {
  // Every sample applies an op (gate 1) and the batch is large enough that all 16 ops occur.
  const config = resolveSearchConfig({ data: 'synthetic:colour', model: 'tiny-cnn', batchSize: BATCH, steps: 10, seed: 0, trainCount: 128, testCount: 16, applyProbability: [1, 1], policyGradient: order });
  // Variables live on the backend that is active when they are created.
  await tf.setBackend('wasm');
  const wasm = new DraSearch({ config, dataset, backend: reports.wasm });
  await tf.setBackend('webgpu');
  const gpu = new DraSearch({ config, dataset, backend: reports.gpu });
  return { wasm, gpu };
}

/**
 * One step of `search` on `backend`: its record and the kernels it dispatched at the top
 * level (those a backend must provide; the nested ones are how a backend composes its own
 * kernels, e.g. wasm's UnsortedSegmentSum dispatches Less).
 */
async function stepOn(backend: 'wasm' | 'webgpu', search: DraSearch): Promise<{ record: StepRecord; kernels: Set<string> }> {
  await tf.setBackend(backend);
  let record: StepRecord | undefined;
  const dispatched = await recordKernels(async () => {
    record = await search.step();
  });
  return { record: record!, kernels: dispatched.topLevel };
}

/**
 * The operators the next policy step applies, per layer. The policy step draws first
 * from the search's Rng, so replaying its state reproduces that draw. `backend` is the
 * one the search's variables live on.
 */
async function nextPolicyStepOps(search: DraSearch, backend: 'wasm' | 'webgpu'): Promise<Set<string>> {
  await tf.setBackend(backend);
  const trace: AugmentTrace = { opIndex: [], applied: [], magnitude: [] };
  tf.tidy(() => search.policy.augment(tf.zeros([BATCH, 32, 32, 3]), new Rng(search.state.counters().rng), trace));
  const ops = new Set<string>();
  trace.opIndex.forEach((layer, d) => layer.forEach((k, i) => {
    if (trace.applied[d]![i]) ops.add(search.policy.ops[k]!);
  }));
  return ops;
}

/**
 * Smallest gap between the best and second-best w + Gumbel over the next policy draw:
 * the two backends choose the same ops when it exceeds their difference in w.
 */
function smallestArgmaxMargin(search: DraSearch): number {
  const { depth, ops } = search.policy;
  const k = ops.length;
  const draw = search.policy.sample(BATCH, new Rng(search.state.counters().rng));
  const w = search.policy.values().weights;
  let margin = Infinity;
  for (let d = 0; d < depth; d++) {
    for (let i = 0; i < BATCH; i++) {
      const scores = Array.from({ length: k }, (_, j) => w[d * k + j]! + draw.gumbel[d]![i * k + j]!).sort((a, b) => b - a);
      margin = Math.min(margin, scores[0]! - scores[1]!);
    }
  }
  return margin;
}

function compareRecords(gpu: StepRecord, wasm: StepRecord): number {
  let worst = 0;
  for (const key of ['trainLoss', 'valLoss', 'valCrossEntropy', 'kl'] as const) {
    const rel = Math.abs(gpu[key] - wasm[key]) / Math.abs(wasm[key]);
    assert.ok(rel <= LOSS_TOLERANCE, `step ${wasm.step} ${key}: webgpu ${gpu[key]} vs wasm ${wasm[key]} (relative ${rel.toExponential(1)})`);
    worst = Math.max(worst, rel);
  }
  for (const key of ['trainAccuracy', 'valAccuracy'] as const) {
    assert.ok(Math.abs(gpu[key] - wasm[key]) <= 1 / BATCH + 1e-6, `step ${wasm.step} ${key}: webgpu ${gpu[key]} vs wasm ${wasm[key]}`);
  }
  return worst;
}

/** Largest absolute difference of the policy and of the model variables (weights and BN statistics). */
async function compareVariables(pair: Pair): Promise<{ policy: number; model: number }> {
  const groups = (s: DraSearch) => ({ policy: s.policy.variables, model: [...s.model.trainableVariables, ...s.model.stateVariables] });
  const gpu = groups(pair.gpu);
  const wasm = groups(pair.wasm);
  const worst = { policy: 0, model: 0 };
  for (const group of ['policy', 'model'] as const) {
    const tolerance = group === 'policy' ? POLICY_TOLERANCE : MODEL_TOLERANCE;
    for (let i = 0; i < wasm[group].length; i++) {
      const variable = wasm[group][i]!;
      const { diff } = maxAbsDiff(await gpu[group][i]!.data(), await variable.data());
      assert.ok(diff <= tolerance, `${group} variable ${variable.name} [${variable.shape.join(', ')}]: max |webgpu - wasm| = ${diff.toExponential(2)} > ${tolerance}`);
      worst[group] = Math.max(worst[group], diff);
    }
  }
  return worst;
}

describe('the DRA search on webgpu (software Vulkan)', { skip: skipReason() }, () => {
  let dataset: Dataset;
  let reports: { wasm: BackendReport; gpu: BackendReport };

  before(async () => {
    await tf.setBackend('cpu');
    const wasm = await selectBackend({ backend: 'wasm', reselect: true });
    const gpu = await selectBackend({ backend: 'webgpu', reselect: true });
    reports = { wasm, gpu };
    dataset = await loadDataset('synthetic:colour', { seed: 0, trainCount: 128, testCount: 16 });
    // Both backends run the composites: the cpu/wasm host kernels would be other math.
    setHostKernelsEnabled(false);
  });

  after(async () => {
    setHostKernelsEnabled(true);
    await tf.setBackend('cpu');
    releaseWebgpu();
  });

  const stepsFor: Record<Order, number> = { first: 2, second: 1 };

  for (const order of ['first', 'second'] as const) {
    it(`${order}-order: every dispatched kernel is on webgpu, and ${stepsFor[order]} step(s) agree with wasm`, { timeout: 150_000 }, async (t) => {
      const pair = await makePair(order, dataset, reports);
      try {
        const opsInStep = await nextPolicyStepOps(pair.wasm, 'wasm');
        assert.deepEqual([...opsInStep].sort(), [...DRA_OP_NAMES].sort(), 'the policy step does not apply all 16 operators');

        let worstLoss = 0;
        let smallestMargin = Infinity;
        let largestWeightDifference = 0;
        for (let s = 0; s < stepsFor[order]; s++) {
          smallestMargin = Math.min(smallestMargin, smallestArgmaxMargin(pair.wasm), smallestArgmaxMargin(pair.gpu));
          largestWeightDifference = Math.max(largestWeightDifference, maxAbsDiff(pair.gpu.policy.values().weights, pair.wasm.policy.values().weights).diff);
          const tensorsBeforeWasm = tf.memory().numTensors;
          const onWasm = await stepOn('wasm', pair.wasm);
          const wasmGrowth = tf.memory().numTensors - tensorsBeforeWasm;
          if (s === 0) {
            for (const k of ['Conv2D', 'Conv2DBackpropFilter', 'Softmax', 'GatherV2']) assert.ok(onWasm.kernels.has(k), `${k} was not recorded`);
            const missing = [...onWasm.kernels].filter((k) => tf.getKernel(k, 'webgpu') === undefined).sort();
            assert.deepEqual(missing, [], `kernels of the ${order}-order search step not registered on webgpu`);
          }
          const tensorsBeforeGpu = tf.memory().numTensors;
          const onGpu = await stepOn('webgpu', pair.gpu);
          // The first step creates the optimisers' slots; beyond those, a step keeps nothing.
          assert.equal(tf.memory().numTensors - tensorsBeforeGpu, wasmGrowth, `step ${s + 1} kept other tensors on webgpu than on wasm`);
          if (s > 0) assert.equal(wasmGrowth, 0, `step ${s + 1} leaked tensors`);
          // The ops have no backend-specific path with host kernels off: the same kernels run.
          assert.deepEqual([...onGpu.kernels].sort(), [...onWasm.kernels].sort(), 'webgpu dispatched other kernels than wasm');
          worstLoss = Math.max(worstLoss, compareRecords(onGpu.record, onWasm.record));
        }
        const worst = await compareVariables(pair);
        t.diagnostic(
          `${order} order, ${stepsFor[order]} step(s): losses ${pair.gpu.history.steps.map((r) => r.trainLoss.toFixed(6)).join(' ')}; ` +
            `worst relative loss difference ${worstLoss.toExponential(1)}; max |diff| policy ${worst.policy.toExponential(1)}, model ${worst.model.toExponential(1)}; ` +
            `smallest Gumbel argmax margin ${smallestMargin.toExponential(1)} vs w difference before a step ${largestWeightDifference.toExponential(1)}`,
        );
      } finally {
        pair.wasm.dispose();
        pair.gpu.dispose();
      }
    });
  }
});
