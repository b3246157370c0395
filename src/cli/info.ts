import type { Command } from 'commander';
import { formatBackendReport, selectBackend } from '../backend/select';

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('print the TensorFlow.js backend in use, why faster ones were not used, versions and threads')
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      const report = await selectBackend({ backend: program.opts<{ backend?: string }>().backend });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatBackendReport(report)}\n`);
    });
}
