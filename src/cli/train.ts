import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { loadDataset } from '../data';
import { selectBackend } from '../backend/select';
import { loadFrozenPolicy } from '../policy/frozen';
import { writeTextAtomic } from '../util/files';
import { claimRunFolder } from '../util/run-folder';
import { TRAIN_DEFAULTS, trainWithPolicy } from '../train/train';
import { MAX_SEED } from '../util/rng';
import { parseIntArg, parseNumberArg } from './search';

interface TrainFlags {
  data: string;
  model: string;
  policy: string;
  epochs: number;
  seed: number;
  trainCount?: number;
  testCount?: number;
  out: string;
  batchSize: number;
  lr: number;
  cutout: number;
  cropFlip?: boolean;
  force?: boolean;
}

export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description('train a model with a frozen policy and evaluate it on the held-out split')
    .option('--data <spec>', 'dataset spec', 'synthetic:colour')
    .option('--model <name>', 'model name', 'tiny-cnn')
    .option('--policy <policy>', 'policy.json, a run folder, rand-m9-n2[-mstd0.5], trivial, none, or official:<name> (a policy published with the official DRA code: wrn-28-10-cifar10, pyramidnet-shakedrop-cifar10, wrn-28-10-cifar100, pyramidnet-shakedrop-cifar100, resnet-50-imagenet, resnet-200-imagenet, deit-tiny-imagenet)', 'none')
    .option('--epochs <n>', 'training epochs', parseIntArg('--epochs'), 10)
    .option('--seed <s>', `random seed, an integer in [0, ${MAX_SEED}]`, parseIntArg('--seed', 0, MAX_SEED), 0)
    .option('--train-count <n>', 'use only the first n training images (synthetic: generate n)', parseIntArg('--train-count'))
    .option('--test-count <n>', 'use only the first n test images (synthetic: generate n)', parseIntArg('--test-count'))
    .option('--out <dir>', 'folder for result.json', 'runs/train')
    .option('--batch-size <n>', 'batch size', parseIntArg('--batch-size'), TRAIN_DEFAULTS.batchSize)
    .option('--lr <lr>', 'initial learning rate (cosine schedule)', parseNumberArg('--lr', Number.MIN_VALUE, Infinity, '(0, inf)'), TRAIN_DEFAULTS.learningRate)
    .option('--cutout <px>', 'Cutout side after the policy (0 = off; the official final training uses 16)', parseIntArg('--cutout', 0), TRAIN_DEFAULTS.cutout)
    .option('--force', 'write into --out even if it already holds files (an earlier result.json is replaced)')
    .option('--crop-flip', 'random crop (pad 1/8) and horizontal flip before the policy, as the official final training does')
    .action(async (flags: TrainFlags) => {
      // A config string or an official policy name as given; otherwise a policy file or a run folder holding one.
      const named = /^(rand-|trivial|none$|ta$|official:)/.test(flags.policy);
      const policySpec = named || flags.policy.endsWith('.json') ? flags.policy : join(flags.policy, 'policy.json');
      const policy = loadFrozenPolicy(policySpec);
      // Claimed before any work: writable, not in use, and holding no earlier result unless --force.
      const out = resolve(flags.out);
      const folder = claimRunFolder(out, { label: `--out ${out}`, ...(flags.force ? { force: true } : {}), hint: 'choose another folder' });
      let loaded: { backend: Awaited<ReturnType<typeof selectBackend>>; dataset: Awaited<ReturnType<typeof loadDataset>> };
      try {
        const backend = await selectBackend({ backend: program.opts<{ backend?: string }>().backend });
        const dataset = await loadDataset(flags.data, {
          seed: flags.seed,
          ...(flags.trainCount !== undefined ? { trainCount: flags.trainCount } : {}),
          ...(flags.testCount !== undefined ? { testCount: flags.testCount } : {}),
        });
        loaded = { backend, dataset };
      } catch (err) {
        folder.abandon(); // nothing written yet: leave no folder behind
        throw err;
      }
      const { backend, dataset } = loaded;
      process.stderr.write(`backend: ${backend.backend}; data: ${dataset.description}; policy: ${policy.describe()}\n`);
      const result = await trainWithPolicy(dataset, policy, flags.policy, {
        model: flags.model,
        epochs: flags.epochs,
        seed: flags.seed,
        batchSize: flags.batchSize,
        learningRate: flags.lr,
        cutout: flags.cutout,
        randomCropFlip: flags.cropFlip === true,
        onEpoch: (e) => {
          process.stderr.write(`epoch ${e.epoch}/${flags.epochs} train loss ${e.trainLoss.toFixed(3)} acc ${e.trainAccuracy.toFixed(3)} | test loss ${e.testLoss.toFixed(3)} acc ${e.testAccuracy.toFixed(3)} (${e.seconds.toFixed(1)} s)\n`);
        },
      });
      result.backend = backend.backend;
      const file = join(out, 'result.json');
      writeTextAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`test accuracy ${result.testAccuracy.toFixed(4)} after ${flags.epochs} epochs (${result.seconds.toFixed(1)} s) -> ${file}\n`);
      folder.release();
    });
}
