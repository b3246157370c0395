import type { Command } from 'commander';
import { Option } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkpointExists } from '../search/checkpoint';
import { claimRunFolder, type ClaimedFolder } from '../util/run-folder';
import { selectBackend } from '../backend/select';
import { loadDataset } from '../data';
import { datasetOptions, resolveSearchConfig, SEARCH_DEFAULTS, SEARCH_PRESETS, searchConfigSchema, type SearchConfig } from '../search/config';
import { stepsForEpochs } from '../search/state';
import { addSettingsFlags, givenFlags, givenSettings, parseIntArg, type SettingsFlagsSpec } from './flags';
import { DraSearch } from '../search/search';
import { searchSummary } from '../search/summary';
import { createProgress } from './progress';

/** The flags that are not settings: where the run goes and how it is saved. */
interface RunFlags {
  epochs?: number;
  out?: string;
  resume?: string;
  checkpointEvery: number;
  report: boolean;
  force?: boolean;
}

/**
 * The search settings as flags, generated from the schema; the short names the command
 * line had before the settings had one name each stay as aliases.
 */
export const SEARCH_FLAGS: SettingsFlagsSpec = {
  schema: searchConfigSchema,
  defaults: SEARCH_DEFAULTS,
  presets: SEARCH_PRESETS as Record<string, Record<string, unknown>>,
  aliases: [
    { flags: '--tau <t>', setting: 'temperature' },
    { flags: '--lambda <l>', setting: 'klWeight' },
    { flags: '--no-kl', setting: 'useKl' },
    { flags: '--no-op-gradients', setting: 'operatorGradients' },
    { flags: '--second-order', setting: 'policyGradient', value: 'second' },
    { flags: '--model-lr <lr>', setting: 'modelLearningRate' },
    { flags: '--policy-lr <lr>', setting: 'policyLearningRate' },
    { flags: '--crop-flip', setting: 'randomCropFlip' },
    { flags: '--no-crop-flip', setting: 'randomCropFlip' },
  ],
};

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
  const command = program
    .command('search')
    .description('run a DRA policy search and write policy.json, history.jsonl, report.html and a checkpoint');
  addSettingsFlags(command, SEARCH_FLAGS);
  command.options.find((o) => o.long === '--steps')?.conflicts('epochs');
  command
    .addOption(new Option('--epochs <n>', 'search epochs over the model half of the proxy set (sets --steps)').argParser(parseIntArg('--epochs')))
    .option('--out <dir>', 'run folder to write (default runs/search-<seed>)')
    .option('--resume <dir>', 'continue the search saved in this run folder')
    .option('--checkpoint-every <n>', 'save the run folder every n steps', parseIntArg('--checkpoint-every'), 50)
    .option('--no-report', 'do not write report.html')
    .option('--force', 'start afresh even if --out already holds a search (it is replaced at the first save)')
    .action(async (flags: RunFlags, command: Command) => {
      const backend = program.opts<{ backend?: string }>().backend;
      let search: DraSearch;
      let out: string;
      let folder: ClaimedFolder;
      if (flags.resume) {
        out = resolve(flags.out ?? flags.resume);
        if (!checkpointExists(join(resolve(flags.resume), 'checkpoint'))) throw new Error(`--resume ${flags.resume}: no checkpoint in that folder`);
        // A resume is the saved run: settings come from its checkpoint. --steps may extend
        // it; the output flags apply; any other setting given on the command line is refused.
        const refused = givenFlags(command, ['resume', 'out', 'force', 'steps', 'checkpointEvery', 'report']);
        if (refused.length > 0) {
          throw new Error(`--resume continues the saved run with its own settings; ${refused.join(', ')} cannot change on resume (only --steps, --out, --checkpoint-every, --no-report and --force can); start a new run to change them`);
        }
        const steps = givenSettings(command, SEARCH_FLAGS).steps as number | undefined;
        // The run's own files may be there (and are replaced as it goes on); nothing else.
        folder = claimRunFolder(out, { label: `--out ${out}`, allowed: isRunFile, ...(flags.force ? { force: true } : {}) });
        search = await abandonOnError(folder, () => DraSearch.load(resolve(flags.resume!), { ...(backend ? { backend } : {}), ...(steps !== undefined ? { steps } : {}) }));
        process.stderr.write(`resumed ${flags.resume} at step ${search.stepCount}/${search.config.steps}\n`);
      } else {
        const given = givenSettings(command, SEARCH_FLAGS) as Partial<SearchConfig>;
        let config = resolveSearchConfig(given); // bad flags fail before the folder is touched
        out = resolve(flags.out ?? `runs/search-${config.seed}`);
        if (!flags.force && existsSync(join(out, 'checkpoint', 'manifest.json'))) throw new Error(`--out ${out} already holds a search; use --resume ${out} to continue it or choose another folder`);
        // A fresh run starts in an empty folder: whatever is there (a killed run's files,
        // the user's own) is kept unless --force says otherwise.
        folder = claimRunFolder(out, { label: `--out ${out}`, ...(flags.force ? { force: true } : {}), hint: `choose another folder, use --resume ${out} if it holds a search` });
        // Until the search exists nothing is written: a failure here (bad data, model or
        // sizes) leaves no folder behind.
        search = await abandonOnError(folder, async () => {
          const report = await selectBackend(backend ? { backend } : {});
          const dataset = await loadDataset(config.data, datasetOptions(config));
          // Steps per epoch depend on the proxy size, known once the data is loaded.
          if (flags.epochs !== undefined) config = resolveSearchConfig({ ...given, steps: stepsForEpochs(config, dataset, flags.epochs) });
          return new DraSearch({ config, dataset, backend: report });
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
