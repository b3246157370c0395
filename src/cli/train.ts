import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { loadDataset } from '../data';
import { selectBackend } from '../backend/select';
import { loadFrozenPolicy } from '../policy/frozen';
import { writeTextAtomic } from '../util/files';
import { claimRunFolder } from '../util/run-folder';
import { TRAIN_DEFAULTS, trainSettingsSchema } from '../train/config';
import { trainWithPolicy } from '../train/train';
import { resolveSettings } from '../util/settings';
import { addSettingsFlags, givenSettings, parseIntArg, type SettingsFlagsSpec } from './flags';

/** The flags that are not training settings: the data, the policy and where the result goes. */
interface DataFlags {
  data: string;
  policy: string;
  trainCount?: number;
  testCount?: number;
  out: string;
  force?: boolean;
}

/** Final training's settings as flags, generated from the schema; --lr and --crop-flip stay as aliases. */
export const TRAIN_FLAGS: SettingsFlagsSpec = {
  schema: trainSettingsSchema,
  defaults: TRAIN_DEFAULTS,
  aliases: [
    { flags: '--lr <lr>', setting: 'learningRate' },
    { flags: '--crop-flip', setting: 'randomCropFlip' },
  ],
};

export function registerTrainCommand(program: Command): void {
  const command = program.command('train').description('train a model with a frozen policy and evaluate it on the held-out split');
  addSettingsFlags(command, TRAIN_FLAGS);
  command
    .option('--data <spec>', 'dataset spec', 'synthetic:colour')
    .option('--policy <policy>', 'policy.json, a run folder, rand-m9-n2[-mstd0.5], trivial, none, or official:<name> (a policy published with the official DRA code: wrn-28-10-cifar10, pyramidnet-shakedrop-cifar10, wrn-28-10-cifar100, pyramidnet-shakedrop-cifar100, resnet-50-imagenet, resnet-200-imagenet, deit-tiny-imagenet)', 'none')
    .option('--train-count <n>', 'use only the first n training images (synthetic: generate n)', parseIntArg('--train-count'))
    .option('--test-count <n>', 'use only the first n test images (synthetic: generate n)', parseIntArg('--test-count'))
    .option('--out <dir>', 'folder for result.json', 'runs/train')
    .option('--force', 'write into --out even if it already holds files (an earlier result.json is replaced)')
    .action(async (flags: DataFlags, command: Command) => {
      const settings = resolveSettings('training settings', trainSettingsSchema, givenSettings(command, TRAIN_FLAGS));
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
          seed: settings.seed,
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
        ...settings,
        onEpoch: (e) => {
          process.stderr.write(`epoch ${e.epoch}/${settings.epochs} train loss ${e.trainLoss.toFixed(3)} acc ${e.trainAccuracy.toFixed(3)} | test loss ${e.testLoss.toFixed(3)} acc ${e.testAccuracy.toFixed(3)} (${e.seconds.toFixed(1)} s)\n`);
        },
      });
      result.backend = backend.backend;
      const file = join(out, 'result.json');
      writeTextAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`test accuracy ${result.testAccuracy.toFixed(4)} after ${settings.epochs} epochs (${result.seconds.toFixed(1)} s) -> ${file}\n`);
      folder.release();
    });
}
