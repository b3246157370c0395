import type { Command } from 'commander';
import { formatBackendReport, selectBackend } from '../backend/select';
import { PRESET_NAMES, SEARCH_DEFAULTS, SEARCH_PRESETS } from '../search/config';

/** One line per search preset: its name and what it sets over the defaults. */
function presetLines(): string[] {
  return PRESET_NAMES.map((name) => {
    const settings = Object.entries(SEARCH_PRESETS[name]).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    return `  ${name}${name === SEARCH_DEFAULTS.preset ? ' (default)' : ''}: ${settings.length ? settings.join(' ') : 'the defaults (official semantics, CPU-sized model and budget)'}`;
  });
}

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('print the TensorFlow.js backend in use, why faster ones were not used, versions and threads')
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      const report = await selectBackend({ backend: program.opts<{ backend?: string }>().backend });
      process.stdout.write(
        options.json
          ? `${JSON.stringify({ ...report, searchPresets: SEARCH_PRESETS, defaultPreset: SEARCH_DEFAULTS.preset }, null, 2)}\n`
          : `${formatBackendReport(report)}\nsearch presets (--preset):\n${presetLines().join('\n')}\n`,
      );
    });
}
