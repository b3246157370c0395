/**
 * `npm run bench -- search`: the cost of one DRA search step over one plain training
 * step of the same network (the search's: BatchNorm without affine parameters, its
 * dropout), batch and backend (forward, backward, SGD update, no augmentation), measured
 * alternately in one run. A first-order search step runs the network three times
 * forward (the clean forward of the KL term, the policy half's and the model half's
 * augmented forwards), twice backward to its input and once to its weights, where a
 * plain step runs it once each way: about 2 plain steps when a forward and each backward
 * cost alike, plus the augmentation (two forwards, one backward).
 * The one-step unrolled (second-order) policy gradient is timed beside them. Also
 * records tf.memory().numTensors after step 10 and after the last step, which must be
 * identical.
 *
 * The table (and the largest kernels of a search step, from a profile) goes into
 * BENCHMARKS.md. Runs on the wasm backend with every core (DRALAB_THREADS chooses).
 *
 * Environment: DRALAB_BENCH_MODELS (default resnet-20,wrn-16-2,tiny-cnn), DRALAB_BENCH_BATCH
 * (default 32), DRALAB_BENCH_ROUNDS (default 3), DRALAB_BENCH_STEPS per round
 * (default 3), DRALAB_BENCH_MEMORY_STEPS (default 500; 0 skips the memory check).
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { loadDataset, toTensors } from '../../src/data';
import { createModel } from '../../src/models';
import { resolveSearchConfig } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';
import { SGD } from '../../src/train/optim';
import { trainStep } from '../../src/train/step';
import { Rng } from '../../src/util/rng';
import type { BenchResult, BenchRow } from './main';
import { envInt, envList, median, writeBenchmarksSection } from './util';
import { profileKernels } from '../helpers/kernels';

async function timeIt(steps: number, fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < steps; i++) await fn();
  return (performance.now() - start) / steps;
}

export async function run(): Promise<BenchResult> {
  const backend = await selectBackend({ backend: 'wasm', reselect: true });
  const models = envList('DRALAB_BENCH_MODELS', 'resnet-20,wrn-16-2,tiny-cnn');
  const batch = envInt('DRALAB_BENCH_BATCH', 32);
  const rounds = envInt('DRALAB_BENCH_ROUNDS', 3);
  const steps = envInt('DRALAB_BENCH_STEPS', 3);
  const memorySteps = envInt('DRALAB_BENCH_MEMORY_STEPS', 500);
  const dataset = await loadDataset('synthetic:colour', { seed: 0, trainCount: 1024, testCount: 64 });
  const rows: BenchRow[] = [];
  const meta: Record<string, unknown> = { backend: backend.backend, threads: backend.threads, batch, rounds, stepsPerRound: steps };
  const profiles: string[] = [];
  for (const name of models) {
    const config = resolveSearchConfig({ model: name, batchSize: batch, steps: 100000, seed: 0 });
    const search = new DraSearch({ config, dataset, backend });
    const unrolled = new DraSearch({ config: resolveSearchConfig({ model: name, batchSize: batch, steps: 100000, seed: 0, policyGradient: 'second' }), dataset, backend });
    // The search's own network: BatchNorm without affine parameters, and the search's
    // dropout (0.3 in wide ResNets, as officially; none in the others).
    const model = createModel(name, { numClasses: dataset.numClasses, inputShape: [32, 32, 3], seed: 0, affineBatchNorm: false, dropout: config.dropout });
    const optimizer = new SGD({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const { images, labels } = toTensors(dataset.train, Int32Array.from({ length: batch }, (_, i) => i));
    const dropoutSeeds = new Rng(1);
    const plain = () => trainStep(model, optimizer, images, labels, { clipNorm: 5, dropoutSeeds });
    const searchStep = () => search.step();
    const unrolledStep = () => unrolled.step();
    await plain();
    await searchStep(); // warm-up: kernels and wasm memory growth
    await unrolledStep();
    const plainTimes: number[] = [];
    const searchTimes: number[] = [];
    const unrolledTimes: number[] = [];
    for (let r = 0; r < rounds; r++) {
      plainTimes.push(await timeIt(steps, plain));
      searchTimes.push(await timeIt(steps, searchStep));
      unrolledTimes.push(await timeIt(steps, unrolledStep));
    }
    const plainMs = median(plainTimes);
    const searchMs = median(searchTimes);
    const unrolledMs = median(unrolledTimes);
    // Where a search step's time goes, part by part: the search's own network once
    // forward (training mode, as the KL term's clean forward), once forward and backward
    // to its input only (as the policy half), the augmentation forward alone and forward
    // with its backward. The sum with a plain step (the model half) is the step's floor;
    // the rest is the policy's own arithmetic, its AdamW update, the finiteness checks
    // and per-kernel dispatch.
    const applyOptions = { training: true, stateUpdates: undefined, dropoutSeeds };
    const forwardMs = await timeIt(steps, async () => tf.tidy(() => void model.apply(images, applyOptions)));
    const inputGradMs = await timeIt(steps, async () => tf.tidy(() => void tf.grad((x: tf.Tensor) => tf.sum(model.apply(x as tf.Tensor4D, applyOptions)))(images)));
    const draw = () => ({ w: search.policy.values().weights, draw: search.policy.sample(batch, new Rng(1)) });
    const augmentForwardMs = await timeIt(steps, async () => {
      const { w, draw: d } = draw();
      tf.tidy(() => void search.policy.augmentWith(images, d, w));
    });
    const augmentMs = await timeIt(steps, async () => {
      const { w, draw: d } = draw();
      const g = tf.variableGrads(() => tf.mean(search.policy.augmentWith(images, d, w)), search.policy.trainableVariables);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    });
    const floorMs = plainMs + forwardMs + inputGradMs + augmentForwardMs + augmentMs;
    // The unrolled gradient adds, per step: a forward and full backward on the model
    // half's batch (w'), the policy half's at w' with both gradients (about a plain step
    // plus the augmentation's backward), and two forwards with input backward at w+ and
    // w- (each with the augmentation forward and backward).
    const secondOrderFloorMs = 3 * plainMs + forwardMs + 2 * inputGradMs + 2 * augmentForwardMs + 3 * augmentMs;
    rows.push({
      model: name,
      batch,
      'plain step ms': +plainMs.toFixed(1),
      'search step ms': +searchMs.toFixed(1),
      ratio: +(searchMs / plainMs).toFixed(2),
      'forward ms': +forwardMs.toFixed(1),
      'fwd + input bwd ms': +inputGradMs.toFixed(1),
      'augment fwd ms': +augmentForwardMs.toFixed(1),
      'augment fwd+bwd ms': +augmentMs.toFixed(1),
      'floor ms': +floorMs.toFixed(1),
      'floor / plain': +(floorMs / plainMs).toFixed(2),
      '2nd-order step ms': +unrolledMs.toFixed(1),
      '2nd-order ratio': +(unrolledMs / plainMs).toFixed(2),
      '2nd-order floor / plain': +(secondOrderFloorMs / plainMs).toFixed(2),
    });
    const profile = await profileKernels(searchStep);
    const plainProfile = await profileKernels(plain);
    const top = (p: typeof profile) => p.kernels.slice(0, 6).map((k) => `${k.kernel} ${k.selfMs.toFixed(0)} ms`).join(', ');
    profiles.push(`- ${name}: search step ${profile.totalMs.toFixed(0)} ms: ${top(profile)}; plain step ${plainProfile.totalMs.toFixed(0)} ms: ${top(plainProfile)}`);
    meta[`profile ${name}`] = { search: profile.kernels.slice(0, 15).map((k) => ({ kernel: k.kernel, ms: +k.selfMs.toFixed(1), calls: k.calls })), plain: plainProfile.kernels.slice(0, 15).map((k) => ({ kernel: k.kernel, ms: +k.selfMs.toFixed(1), calls: k.calls })) };
    tf.dispose([images, labels]);
    model.dispose();
    optimizer.dispose();
    search.dispose();
    unrolled.dispose();
  }
  if (memorySteps > 0) {
    const search = new DraSearch({ config: resolveSearchConfig({ model: 'tiny-cnn', batchSize: batch, steps: memorySteps, seed: 0 }), dataset, backend });
    let at10 = -1;
    const result = await search.run({ onStep: (rec) => { if (rec.step === 10) at10 = tf.memory().numTensors; } });
    meta.memory = { steps: search.stepCount, numTensorsAtStep10: at10, numTensorsAtEnd: tf.memory().numTensors, reason: result.reason };
    rows.push({ model: 'tiny-cnn (memory)', batch, 'numTensors @10': at10, [`numTensors @${search.stepCount}`]: tf.memory().numTensors });
    search.dispose();
  }
  const timed = rows.filter((r) => r.ratio !== undefined);
  const header = Object.keys(timed[0] ?? {});
  const table = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...timed.map((r) => `| ${header.map((h) => String(r[h])).join(' | ')} |`)].join('\n');
  writeBenchmarksSection(
    'search',
    'Search step vs plain training step',
    `wasm, ${backend.threads} thread${backend.threads > 1 ? 's' : ''}, convolutions: ${String(backend.details.convolutions ?? 'XNNPACK')}; batch ${batch}, synthetic:colour; the plain step trains the search's own network (BatchNorm without affine parameters, dropout 0.3 in WRN-16-2); ${rounds} alternating rounds of ${steps} steps, medians. A search step is a model step on augmented images (a plain step plus the augmentation's forward) plus the policy step (the clean forward of the KL term, the augmented forward, the backward to the input and through the augmentation). Its floor is the sum of those parts, each timed alone: plain + forward + (forward + input backward) + augmentation forward + augmentation forward and backward; the unrolled (second-order) step's floor adds two plain steps, one more forward with input backward and two augmentation passes (test/bench/search.ts).\n\n${table}\n\nLargest kernels (self time, one step):\n\n${profiles.join('\n')}`,
  );
  return { suite: 'search', rows, meta };
}
