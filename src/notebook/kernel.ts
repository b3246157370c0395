/**
 * Sending rich outputs through the tslab kernel.
 *
 * tslab's public API (`display.html(...)`, `newDisplay()`) puts exactly one MIME type in
 * each display_data message. Underneath, every such call goes through one function,
 * `lastWriteDisplayData(content, update)` exported by tslab's `dist/jupyter.js`: tslab sets
 * it at the start of each execute request, and it signs and publishes a display_data
 * (update=false) or update_display_data (update=true) message whose content is exactly
 * the `{data, metadata, transient}` object given. That is the lowest-level hook tslab
 * offers, and passing a full MIME bundle through it sends one output carrying several
 * MIME types, the way IPython's display() does.
 *
 * The kernel's own tslab module instance is the one to use (a second copy of tslab in
 * node_modules would have no writer set). A cell's `require('tslab')` is redirected by
 * tslab to that instance, and tslab exposes the wrapped require as
 * `globalThis.__tslab__.require`; we locate its jupyter module beside it through Node's
 * module cache. Outside a kernel (scripts, tests, the CLI) no output channel exists and
 * outputs fall back to their text/plain part on stdout, unless a sink is set.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

/** MIME type -> content, as in a Jupyter display_data message. */
export type MimeBundle = Record<string, string | object>;

export interface DisplayContent {
  data: MimeBundle;
  metadata: Record<string, unknown>;
  transient: { display_id?: string };
}

/** Where outputs go: the kernel's iopub channel, or a test's recorder. */
export interface DisplaySink {
  /** Sends display_data (update=false) or update_display_data (update=true). */
  send(content: DisplayContent, update: boolean): void;
}

type WriteDisplayData = (content: DisplayContent, update: boolean) => void;

interface TslabJupyterModule {
  lastWriteDisplayData: WriteDisplayData | null;
}

/** The kernel's tslab jupyter module and its file, or null outside tslab. */
export function tslabJupyter(): { module: TslabJupyterModule & Record<string, unknown>; file: string } | null {
  const jupyter = findTslabJupyter();
  return jupyter && jupyterFile ? { module: jupyter as TslabJupyterModule & Record<string, unknown>, file: jupyterFile } : null;
}

let jupyterFile: string | undefined;

let overrideSink: DisplaySink | undefined;
let jupyterModule: TslabJupyterModule | undefined;

/** Routes every output to `sink` (tests, embedding); undefined restores the default. */
export function setDisplaySink(sink: DisplaySink | undefined): void {
  overrideSink = sink;
}

/**
 * The kernel's tslab `jupyter` module, or null when not running inside tslab. Only a find
 * is remembered: dralab may be loaded before tslab's hook exists (a preload, a test).
 */
function findTslabJupyter(): TslabJupyterModule | null {
  if (jupyterModule) return jupyterModule;
  const hook = (globalThis as { __tslab__?: { require?: (id: string) => unknown } }).__tslab__;
  if (!hook?.require) return null;
  const publicApi = hook.require('tslab');
  const cached = Object.values(require.cache).find((m) => m?.exports === publicApi);
  if (!cached) return null;
  const requireFromTslab = createRequire(cached.filename);
  const candidate = requireFromTslab('./jupyter') as Partial<TslabJupyterModule>;
  if (!('lastWriteDisplayData' in candidate)) return null;
  jupyterModule = candidate as TslabJupyterModule;
  jupyterFile = requireFromTslab.resolve('./jupyter');
  return jupyterModule;
}

/** True inside a tslab kernel that is executing (or has executed) a cell. */
export function inKernel(): boolean {
  return overrideSink !== undefined || typeof findTslabJupyter()?.lastWriteDisplayData === 'function';
}

const stdoutSink: DisplaySink = {
  send(content) {
    const text = content.data['text/plain'];
    if (typeof text === 'string' && text !== '') process.stdout.write(`${text}\n`);
  },
};

function currentSink(): DisplaySink {
  if (overrideSink) return overrideSink;
  const writer = findTslabJupyter()?.lastWriteDisplayData;
  if (typeof writer === 'function') return { send: (content, update) => writer(content, update) };
  return stdoutSink;
}

/** Sends one output (several MIME types) now; returns nothing. */
export function sendDisplay(content: DisplayContent, update = false): void {
  currentSink().send(content, update);
}

/**
 * An id for display_id and element ids. Not drawn from the seeded Rng on purpose: it
 * must differ across kernel sessions (outputs of old sessions stay in a saved notebook)
 * and must not consume the search's randomness.
 */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}
