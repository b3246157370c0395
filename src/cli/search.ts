import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkpointExists } from '../search/checkpoint';
import { claimRunFolder, type ClaimedFolder } from '../util/run-folder';
import { MAX_SEED, PRESET_NAMES, resolveSearchConfig, SEARCH_DEFAULTS, type SearchConfig } from '../search/config';
import { DraSearch } from '../search/search';
import { searchSummary } from '../search/summary';
import { createProgress } from './progress';

export function parseIntArg(name: string, min = 1, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}, got '${value}'`);
    return n;
  };
}

export function parseNumberArg(name: string, min = -Infinity, max = Infinity, rangeText = `[${min}, ${max}]`): (v: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number in ${rangeText}, got '${value}'`);
    return n;
  };
}

interface SearchFlags {
  preset?: string;
  data?: string;
  model?: string;
  steps?: number;
  epochs?: number;
  seed: number;
  trainCount?: number;
  testCount?: number;
  out?: string;
  resume?: string;
  batchSize?: number;
  depth?: number;
  tau?: number;
  lambda?: number;
  kl: boolean;
  learnWeights: boolean;
  learnMu: boolean;
  learnSigma: boolean;
  opGradients: boolean;
  secondOrder?: boolean;
  proxyFraction?: number;
  stratified?: boolean;
  modelLr?: number;
  policyLr?: number;
  cutout?: number;
  cropFlip?: boolean;
  magnitudeScale?: number;
  magnitudeGradient?: 'straight-through' | 'exact';
  dropout?: number;
  checkpointEvery: number;
  report: boolean;
  force?: boolean;
}

/** Runs `work`; if it throws, gives the folder up (removing it if the claim created it) and rethrows. */
async function abandonOnError<T>(folder: ClaimedFolder, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    folder.abandon();
    throw err;
  }
}

/** Whether a folder entry is one a search writes (outputs, checkpoint and their temporary forms). */
function isRunFile(entry: string): boolean {
  return /^(policy\.json|history\.jsonl|report\.html|checkpoint(\.old|\.tmp.*)?)$/.test(entry) || /\.tmp-\d+$/.test(entry);
}

/** The settings the flags give; unset flags are left to the preset, then the defaults. */
function settingsFromFlags(flags: SearchFlags): Partial<SearchConfig> {
  const given: Partial<SearchConfig> = {
    ...(flags.preset !== undefined ? { preset: flags.preset as SearchConfig['preset'] } : {}),
    ...(flags.data !== undefined ? { data: flags.data } : {}),
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    seed: flags.seed,
    ...(flags.trainCount !== undefined ? { trainCount: flags.trainCount } : {}),
    ...(flags.testCount !== undefined ? { testCount: flags.testCount } : {}),
    ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
    ...(flags.depth !== undefined ? { depth: flags.depth } : {}),
    ...(flags.tau !== undefined ? { temperature: flags.tau } : {}),
    ...(flags.lambda !== undefined ? { klWeight: flags.lambda } : {}),
    ...(flags.proxyFraction !== undefined ? { proxyFraction: flags.proxyFraction } : {}),
    ...(flags.stratified ? { stratified: true } : {}),
    ...(flags.modelLr !== undefined ? { modelLearningRate: flags.modelLr } : {}),
    ...(flags.policyLr !== undefined ? { policyLearningRate: flags.policyLr } : {}),
    ...(flags.cutout !== undefined ? { cutout: flags.cutout } : {}),
    ...(flags.cropFlip !== undefined ? { randomCropFlip: flags.cropFlip } : {}),
    ...(flags.magnitudeScale !== undefined ? { magnitudeScale: flags.magnitudeScale } : {}),
    ...(flags.magnitudeGradient !== undefined ? { magnitudeGradient: flags.magnitudeGradient } : {}),
    ...(flags.dropout !== undefined ? { dropout: flags.dropout } : {}),
    ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
  };
  // Switches that only turn things off are written only when used.
  if (!flags.kl) given.useKl = false;
  if (!flags.learnWeights) given.learnWeights = false;
  if (!flags.learnMu) given.learnMu = false;
  if (!flags.learnSigma) given.learnSigma = false;
  if (!flags.opGradients) given.operatorGradients = false;
  if (flags.secondOrder) given.policyGradient = 'second';
  return given;
}

async function writeOutputs(search: DraSearch, out: string): Promise<string | undefined> {
  await search.save(out);
  try {
    const { writeSearchReport } = require('../report') as typeof import('../report');
    return writeSearchReport(search, join(out, 'report.html'));
  } catch (err) {
    process.stderr.write(`warning: report.html not written: ${(err as Error).message}\n`);
    return undefined;
  }
}

export function registerSearchCommand(program: Command): void {
  program
    .command('search')
    .description('run a DRA policy search and write policy.json, history.jsonl, report.html and a checkpoint')
    .addOption(new Option('--preset <name>', `settings to start from: fast-cpu (CPU-sized model and budget, official semantics) or official-cifar (the official CIFAR search: WRN-28-10, batch 128, 8% proxy, 300 steps); flags override it`).choices([...PRESET_NAMES]))
    .option('--data <spec>', `dataset spec: synthetic:colour, cifar10:<dir>, fashion-mnist[:<dir>], folder:<dir> (default ${SEARCH_DEFAULTS.data})`)
    .option('--model <name>', `model: tiny-cnn, resnet-20, wrn-16-2, wrn-40-2, wrn-28-10, resnet-18, resnet-50 (default: the preset's, ${SEARCH_DEFAULTS.model} for fast-cpu)`)
    .addOption(new Option('--steps <n>', 'search steps').argParser(parseIntArg('--steps')).conflicts('epochs'))
    .addOption(new Option('--epochs <n>', 'search epochs over the model half of the proxy set').argParser(parseIntArg('--epochs')))
    .option('--seed <s>', `random seed, an integer in [0, ${MAX_SEED}]`, parseIntArg('--seed', 0, MAX_SEED), 0)
    .option('--train-count <n>', 'use only the first n training images (synthetic: generate n)', parseIntArg('--train-count'))
    .option('--test-count <n>', 'use only the first n test images (synthetic: generate n)', parseIntArg('--test-count'))
    .option('--out <dir>', 'run folder to write (default runs/search-<seed>)')
    .option('--resume <dir>', 'continue the search saved in this run folder')
    .option('--batch-size <n>', `batch size of both steps (default ${SEARCH_DEFAULTS.batchSize})`, parseIntArg('--batch-size'))
    .option('--depth <d>', `augmentation layers D (default ${SEARCH_DEFAULTS.depth})`, parseIntArg('--depth'))
    .option('--tau <t>', `Gumbel-softmax temperature (default ${SEARCH_DEFAULTS.temperature})`, parseNumberArg('--tau', Number.MIN_VALUE, Infinity, '(0, inf)'))
    .option('--lambda <l>', `weight of the KL term (default ${SEARCH_DEFAULTS.klWeight})`, parseNumberArg('--lambda', 0, Infinity, '[0, inf)'))
    .option('--no-kl', 'drop the KL term from the policy loss')
    .option('--no-learn-weights', 'keep the selecting weights uniform')
    .option('--no-learn-mu', 'keep magnitude means fixed')
    .option('--no-learn-sigma', 'keep magnitude standard deviations fixed')
    .option('--no-op-gradients', 'straight-through gradients for every operator')
    .option('--second-order', 'one-step unrolled (DARTS-style) policy gradient')
    .option('--proxy-fraction <f>', `fraction of the training set used as proxy, split in halves (default ${SEARCH_DEFAULTS.proxyFraction})`, parseNumberArg('--proxy-fraction', Number.MIN_VALUE, 1, '(0, 1]'))
    .option('--stratified', 'draw the proxy set stratified by class (officially it is a plain random subsample)')
    .option('--model-lr <lr>', `model learning rate, cosine schedule (default ${SEARCH_DEFAULTS.modelLearningRate})`, parseNumberArg('--model-lr', Number.MIN_VALUE, Infinity, '(0, inf)'))
    .option('--policy-lr <lr>', `policy learning rate, AdamW (default ${SEARCH_DEFAULTS.policyLearningRate})`, parseNumberArg('--policy-lr', Number.MIN_VALUE, Infinity, '(0, inf)'))
    .option('--cutout <px>', `Cutout side after DRA in both steps, 0 = off (default ${SEARCH_DEFAULTS.cutout})`, parseIntArg('--cutout', 0))
    .option('--crop-flip', 'random crop (pad 1/8) and horizontal flip of the model half (default: on unless the dataset\'s labels depend on a flip)')
    .option('--no-crop-flip', 'no random crop and flip')
    .option('--magnitude-scale <s>', `upper clip of mu and sampled magnitudes, the official scale (default ${SEARCH_DEFAULTS.magnitudeScale})`, parseNumberArg('--magnitude-scale', Number.MIN_VALUE, 1000, '(0, 1000]'))
    .addOption(new Option('--magnitude-gradient <kind>', 'straight-through (official) or exact (affine ops also pass their warp\'s magnitude gradient)').choices(['straight-through', 'exact']))
    .option('--dropout <rate>', `dropout inside wide-ResNet blocks (default ${SEARCH_DEFAULTS.dropout}, as officially)`, parseNumberArg('--dropout', 0, 0.99, '[0, 0.99]'))
    .option('--checkpoint-every <n>', 'save the run folder every n steps', parseIntArg('--checkpoint-every'), 50)
    .option('--no-report', 'do not write report.html')
    .option('--force', 'start afresh even if --out already holds a search (it is replaced at the first save)')
    .action(async (flags: SearchFlags, command: Command) => {
      const backend = program.opts<{ backend?: string }>().backend;
      let search: DraSearch;
      let out: string;
      let folder: ClaimedFolder;
      if (flags.resume) {
        out = resolve(flags.out ?? flags.resume);
        if (!checkpointExists(join(resolve(flags.resume), 'checkpoint'))) throw new Error(`--resume ${flags.resume}: no checkpoint in that folder`);
        // A resume is the saved run: settings come from its checkpoint. --steps may extend
        // it; the output flags apply; any other setting given on the command line is refused.
        const mayChange = new Set(['resume', 'out', 'force', 'steps', 'checkpointEvery', 'report']);
        const refused = command.options
          .filter((o) => command.getOptionValueSource(o.attributeName()) === 'cli' && !mayChange.has(o.attributeName()))
          .map((o) => o.long ?? o.flags);
        if (refused.length > 0) {
          throw new Error(`--resume continues the saved run with its own settings; ${[...new Set(refused)].join(', ')} cannot change on resume (only --steps, --out, --checkpoint-every, --no-report and --force can); start a new run to change them`);
        }
        // The run's own files may be there (and are replaced as it goes on); nothing else.
        folder = claimRunFolder(out, { label: `--out ${out}`, allowed: isRunFile, ...(flags.force ? { force: true } : {}) });
        search = await abandonOnError(folder, () => DraSearch.load(resolve(flags.resume!), { ...(backend ? { backend } : {}), ...(flags.steps !== undefined ? { steps: flags.steps } : {}) }));
        process.stderr.write(`resumed ${flags.resume} at step ${search.stepCount}/${search.config.steps}\n`);
      } else {
        out = resolve(flags.out ?? `runs/search-${flags.seed}`);
        if (!flags.force && existsSync(join(out, 'checkpoint', 'manifest.json'))) throw new Error(`--out ${out} already holds a search; use --resume ${out} to continue it or choose another folder`);
        const partial = settingsFromFlags(flags);
        resolveSearchConfig(partial); // fail on bad flags before touching the folder
        // A fresh run starts in an empty folder: whatever is there (a killed run's files,
        // the user's own) is kept unless --force says otherwise.
        folder = claimRunFolder(out, { label: `--out ${out}`, ...(flags.force ? { force: true } : {}), hint: `choose another folder, use --resume ${out} if it holds a search` });
        // Until the search exists nothing is written: a failure here (bad data, model or
        // sizes) leaves no folder behind.
        search = await abandonOnError(folder, async () => {
          if (flags.epochs !== undefined) {
            // Steps per epoch depend on the proxy size, known once the data is loaded.
            const probe = await DraSearch.create({ ...partial, steps: 1, ...(backend ? { backend } : {}) });
            partial.steps = flags.epochs * probe.stepsPerEpoch;
            probe.dispose();
          } else {
            partial.steps = flags.steps ?? resolveSearchConfig(partial).steps;
          }
          return DraSearch.create({ ...partial, ...(backend ? { backend } : {}) });
        });
      }
      process.stderr.write(`backend: ${search.backend.backend}; preset: ${search.config.preset}; data: ${search.dataset.description}; model: ${search.config.model} (${search.model.parameterCount()} parameters); proxy halves: ${search.proxy.model.count} + ${search.proxy.policy.count}\n`);
      for (const note of search.notes) process.stderr.write(`note: ${note}\n`);
      // SIGINT (Ctrl-C) and SIGTERM (what a scheduler sends before it kills) both stop at
      // the next step boundary and save; the process then exits 130 or 143, as a shell
      // reports a process killed by that signal, so a script can tell it from a finished run.
      const controller = new AbortController();
      let stoppedBy: 'SIGINT' | 'SIGTERM' | undefined;
      const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
        if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
        stoppedBy = signal;
        process.stderr.write(`\n${signal}: stopping at the next step boundary and saving (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again to quit without saving)\n`);
        controller.abort();
      };
      const onSigint = () => onSignal('SIGINT');
      const onSigterm = () => onSignal('SIGTERM');
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigterm);
      const progress = createProgress(search.config.steps, 'search', process.stderr, search.stepCount);
      try {
        const result = await search.run({
          signal: controller.signal,
          onStep: async (rec) => {
            progress.update(rec.step, { train: rec.trainLoss.toFixed(3), val: rec.valLoss.toFixed(3), kl: rec.kl.toFixed(3) });
            if (rec.step % flags.checkpointEvery === 0) await search.save(out);
          },
        });
        progress.stop();
        const report = flags.report ? await writeOutputs(search, out) : (await search.save(out), undefined);
        const status = result.reason === 'completed' ? 'finished' : `stopped (${result.reason}${result.error ? `: ${result.error.message}` : ''})`;
        process.stdout.write(`search ${status} at step ${search.stepCount}/${search.config.steps}\n`);
        const first = search.history.snapshots[0];
        if (first) process.stdout.write(`${searchSummary(search.config.data, first.policy, search.policy.snapshot(), search.stepCount)}\n`);
        process.stdout.write(`policy:  ${join(out, 'policy.json')}\nhistory: ${join(out, 'history.jsonl')}\n${report ? `report:  ${report}\n` : ''}resume:  dralab search --resume ${out}\n`);
        if (result.reason === 'non-finite' || result.reason === 'callback-error') process.exitCode = 1;
        else if (result.reason === 'aborted' && stoppedBy) process.exitCode = stoppedBy === 'SIGINT' ? 130 : 143;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigterm);
        search.dispose();
        folder.release();
      }
    });
}
