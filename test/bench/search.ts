/**
 * `npm run bench -- search`: the cost of one DRA search step over one plain training
 * step of the same network (the search's: BatchNorm without affine parameters, its
 * dropout), batch and backend (forward, backward, SGD update, no augmentation), measured
 * alternately in one run. The floor is about 2 (two
 * forward/backward passes) plus one forward for the KL term; the target is at most 2.5.
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
    // Where a search step's time goes: the augmentation alone (forward and backward).
    const augmentMs = await timeIt(steps, async () => {
      const w = search.policy.values().weights;
      const draw = search.policy.sample(batch, new Rng(1));
      const g = tf.variableGrads(() => tf.mean(search.policy.augmentWith(images, draw, w)), search.policy.trainableVariables);
      tf.dispose([g.value, ...Object.values(g.grads)]);
    });
    rows.push({ model: name, batch, 'plain step ms': +plainMs.toFixed(1), 'search step ms': +searchMs.toFixed(1), ratio: +(searchMs / plainMs).toFixed(2), 'augment fwd+bwd ms': +augmentMs.toFixed(1), '2nd-order step ms': +unrolledMs.toFixed(1), '2nd-order ratio': +(unrolledMs / plainMs).toFixed(2) });
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
    `wasm, ${backend.threads} thread${backend.threads > 1 ? 's' : ''}, batch ${batch}, synthetic:colour; ${rounds} alternating rounds of ${steps} steps, medians. A search step is a model step on augmented images plus the policy step (a forward and backward through the model for the augmented loss and the KL to the clean prediction, and the backward through the augmentation); the floor is about 2 plain steps.\n\n${table}\n\nLargest kernels (self time, one step):\n\n${profiles.join('\n')}`,
  );
  return { suite: 'search', rows, meta };
}
