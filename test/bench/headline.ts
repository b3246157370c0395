/**
 * `npm run bench -- headline`: the headline result in small. For each task, on three
 * seeds: search a DRA policy, then train the same model for the same budget with no
 * augmentation, RandAugment (N=2, M=9) and the searched policy, and report held-out
 * accuracy (mean and spread) beside the search and training costs. Writes the table to
 * BENCHMARKS.md (between its headline markers) and the raw results to
 * bench-results/headline.json.
 *
 * Environment: DRALAB_HEADLINE_SEEDS (default 0,1,2), DRALAB_HEADLINE_EPOCHS (default 6),
 * DRALAB_HEADLINE_SEARCH_STEPS (default 200), DRALAB_HEADLINE_TASKS (default
 * colour,fashion), DRALAB_HEADLINE_TRAIN (training images, default 2000).
 */
import { selectBackend } from '../../src/backend/select';
import { loadDataset } from '../../src/data';
import type { Dataset } from '../../src/data/types';
import { parsePolicyString, type FrozenPolicy } from '../../src/policy/frozen';
import { resolveSearchConfig } from '../../src/search/config';
import { DraSearch } from '../../src/search/search';
import { trainWithPolicy } from '../../src/train/train';
import type { BenchResult, BenchRow } from './main';
import { envInt, envList, writeBenchmarksSection } from './util';

interface Task {
  key: string;
  title: string;
  spec: string;
  load: (seed: number, trainCount: number) => Promise<Dataset>;
}

const TASKS: Task[] = [
  {
    key: 'colour',
    title: 'synthetic:colour (class = hue; Invert, Solarize, AutoContrast... destroy it)',
    spec: 'synthetic:colour',
    load: (seed, trainCount) => loadDataset('synthetic:colour', { seed, trainCount, testCount: 2000 }),
  },
  {
    key: 'fashion',
    title: 'Fashion-MNIST subset (Debian dataset-fashion-mnist; first N train, 2000 test, padded to 32x32)',
    spec: 'fashion-mnist',
    load: (_seed, trainCount) => loadDataset('fashion-mnist', { trainCount, testCount: 2000, imageSize: [32, 32] }),
  },
];

function meanStd(xs: number[]): { mean: number; std: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, std };
}

export async function run(): Promise<BenchResult> {
  const backend = await selectBackend();
  const seeds = envList('DRALAB_HEADLINE_SEEDS', '0,1,2').map(Number);
  const epochs = envInt('DRALAB_HEADLINE_EPOCHS', 6);
  const searchSteps = envInt('DRALAB_HEADLINE_SEARCH_STEPS', 200);
  const trainCount = envInt('DRALAB_HEADLINE_TRAIN', 2000);
  const taskKeys = envList('DRALAB_HEADLINE_TASKS', 'colour,fashion');
  const model = 'tiny-cnn';
  const raw: Array<Record<string, unknown>> = [];
  const rows: BenchRow[] = [];
  const markdown: string[] = [];
  for (const task of TASKS.filter((t) => taskKeys.includes(t.key))) {
    const results: Record<string, number[]> = { none: [], 'rand-m9-n2': [], dra: [] };
    const trainSeconds: number[] = [];
    const searchSeconds: number[] = [];
    for (const seed of seeds) {
      const dataset = await task.load(seed, trainCount);
      const started = performance.now();
      const search = new DraSearch({ config: resolveSearchConfig({ data: task.spec, model, seed, steps: searchSteps, batchSize: 32, policyLearningRate: 0.05 }), dataset, backend });
      await search.run();
      searchSeconds.push((performance.now() - started) / 1000);
      const dra = search.policy.freeze({ step: search.stepCount, seed });
      search.dispose();
      const policies: Array<[string, FrozenPolicy]> = [['none', parsePolicyString('none')], ['rand-m9-n2', parsePolicyString('rand-m9-n2')], ['dra', dra]];
      for (const [name, policy] of policies) {
        const r = await trainWithPolicy(dataset, policy, name, { model, epochs, seed, batchSize: 64, learningRate: 0.05 });
        results[name]!.push(r.testAccuracy);
        trainSeconds.push(r.seconds);
        raw.push({ task: task.key, seed, policy: name, testAccuracy: r.testAccuracy, seconds: r.seconds, epochs: r.epochs });
        console.error(`${task.key} seed ${seed} ${name}: test accuracy ${r.testAccuracy.toFixed(4)} (${r.seconds.toFixed(0)} s)`);
      }
    }
    const train = meanStd(trainSeconds);
    const searchCost = meanStd(searchSeconds);
    markdown.push(`### ${task.title}`, '', `${model}, ${trainCount} training images, ${epochs} epochs, seeds ${seeds.join(', ')}; DRA searched for ${searchSteps} steps (batch 32, policy lr 0.05).`, '', '| policy | test accuracy (mean ± std) | per seed |', '|---|---|---|');
    for (const [name, accs] of Object.entries(results)) {
      const { mean, std } = meanStd(accs);
      markdown.push(`| ${name === 'dra' ? 'DRA (searched)' : name === 'none' ? 'no augmentation' : 'RandAugment N=2, M=9'} | ${(100 * mean).toFixed(2)} ± ${(100 * std).toFixed(2)} % | ${accs.map((a) => (100 * a).toFixed(2)).join(', ')} |`);
      rows.push({ task: task.key, policy: name, 'accuracy %': 100 * mean, 'std %': 100 * std });
    }
    markdown.push('', `Cost per seed: search ${searchCost.mean.toFixed(0)} s; one training run ${train.mean.toFixed(0)} s (backend ${backend.backend}).`, '');
  }
  writeBenchmarksSection('headline', 'Headline: no augmentation vs RandAugment vs DRA', markdown.join('\n'));
  return { suite: 'headline', rows, meta: { backend: backend.backend, seeds, epochs, searchSteps, trainCount, results: raw } };
}
