/**
 * The `dralab` command line. Commander (well kept, CommonJS-compatible in v14) parses
 * arguments; every command lives in its own module and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { setCommandLineConvolutions } from '../backend/onednn';
import { MAX_WASM_THREADS, setCommandLineThreads } from '../backend/wasm-threads';
import { registerAugmentCommand } from './augment';
import { registerGpuCheckCommand } from './gpu-check';
import { registerInfoCommand } from './info';
import { registerKernelCommand } from './kernel';
import { registerSearchCommand } from './search';
import { registerTrainCommand } from './train';

export function buildProgram(): Command {
  const program = new Command('dralab')
    .description('Differentiable RandAugment on TensorFlow.js')
    .option('--backend <name>', 'force a backend: node-gpu, node, webgpu, wasm, cpu (default: DRALAB_BACKEND or automatic)')
    .option('--threads <n>', `threads for the wasm backend (at most ${MAX_WASM_THREADS} with XNNPACK convolutions; default: DRALAB_THREADS, else every core)`)
    .option('--conv <engine>', "convolutions on the wasm backend: onednn (the native addon), xnnpack (wasm's own) or auto (default: DRALAB_CONV, else oneDNN where the addon is built)")
    .showHelpAfterError('(dralab <command> --help shows the options)')
    .exitOverride()
    .hook('preAction', (root) => {
      // Commands select the backend in several places (a search selects its own), so the
      // choice is recorded once, checked here before any command runs.
      const threads = root.opts<{ threads?: string }>().threads;
      if (threads !== undefined) setCommandLineThreads(threads);
      const conv = root.opts<{ conv?: string }>().conv;
      if (conv !== undefined) setCommandLineConvolutions(conv);
    });
  registerInfoCommand(program);
  registerKernelCommand(program);
  registerAugmentCommand(program);
  registerSearchCommand(program);
  registerTrainCommand(program);
  registerGpuCheckCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
