/**
 * dralab as a tslab kernel extension: comms (./comm), the widget protocol
 * (./jupyter-widgets, whose widgets show as a cell's value), and kernel interrupts that stop a
 * running search at a step boundary (./stop). Installed when dralab is imported in a
 * tslab kernel, or at kernel start by the preload the kernelspec names (./preload).
 */
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
  return true;
}
