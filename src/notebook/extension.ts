/**
 * dralab as a tslab kernel extension: comms (./comm), the widget protocol
 * (./jupyter-widgets, whose widgets show as a cell's value), and kernel interrupts that stop a
 * running search at a step boundary (./stop). Installed when dralab is imported in a
 * tslab kernel, or at kernel start by the preload the kernelspec names (./preload).
 */
import { stopActiveRuns } from '../search/run';
import { attachToRunningKernel } from './comm';
import './jupyter-widgets';
import { tslabJupyter } from './kernel';

const INSTALLED = Symbol.for('dralab.kernel-extension');

/** Installs the extension in a running tslab kernel; does nothing elsewhere, or twice. */
export function installKernelExtension(): boolean {
  const holder = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (holder[INSTALLED]) return true;
  const jupyter = tslabJupyter();
  if (!jupyter) return false;
  holder[INSTALLED] = true;
  attachToRunningKernel(jupyter.module as never, jupyter.file);
  // Not now: a SIGINT listener added while tslab runs a cell's synchronous part (under
  // vm's breakOnSigint) leaves SIGINT at its default action afterwards, which kills the kernel.
  setImmediate(routeInterruptsToRuns);
  return true;
}

/**
 * A kernel interrupt (SIGINT) makes tslab abandon the cell's promise: the cell ends with a
 * stack trace while an awaited `search.run()` goes on in the background, and the next
 * cell finds "another step is still running". While a search runs, the interrupt goes to
 * it instead: it stops at the next step boundary, whole, its `run()` returns (reason
 * 'aborted') and the cell ends normally with a one-line note. With no search running,
 * tslab's own handling applies.
 */
function routeInterruptsToRuns(): void {
  const previous = process.listeners('SIGINT');
  for (const listener of previous) process.removeListener('SIGINT', listener);
  process.on('SIGINT', (signal) => {
    const stopped = stopActiveRuns();
    if (stopped > 0) {
      process.stderr.write(`interrupted: stopping ${stopped === 1 ? 'the running search' : `${stopped} running searches`} at the next step boundary (intact; run() again to continue)\n`);
      return;
    }
    for (const listener of previous) (listener as (s: NodeJS.Signals) => void)(signal);
  });
}
