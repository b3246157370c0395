/**
 * Claiming an output folder before any work: it must be writable (checked by writing a
 * probe file, so a read-only or special path such as /proc fails at start, not after
 * the first steps), it must not hold anything this run did not write unless the caller
 * consents (`--force` / `overwrite`), and only one process may write to it at a time (a
 * lock file naming the owner's PID; a lock whose process is gone is taken over). Once
 * claimed, temporary files of interrupted saves are removed.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const LOCK_FILE = '.dralab.lock';

export interface ClaimOptions {
  /** How the folder is named in messages, e.g. `--out runs/s0`. */
  label: string;
  /** Entries the caller expects and may replace (e.g. a run being resumed). */
  allowed?: (entry: string) => boolean;
  /** The user consented to replacing what is there. */
  force?: boolean;
  /** What to tell the user to do instead of --force, appended to the refusal. */
  hint?: string;
}

export interface ClaimedFolder {
  readonly path: string;
  /** Removes the lock (also done when the process exits). */
  release(): void;
  /** For a run that failed before writing anything: releases, and removes the folder if this claim created it and it is empty. */
  abandon(): void;
}

/**
 * Creates `dir` and its missing parents one level at a time. (Node 20's recursive
 * mkdir never returns for a path under /proc; a plain mkdir fails at once.) Returns the
 * topmost folder it created, if any.
 */
function makeFolders(dir: string): string | undefined {
  if (existsSync(dir)) return undefined;
  const parent = dirname(dir);
  const created = parent !== dir ? makeFolders(parent) : undefined;
  mkdirSync(dir);
  return created ?? dir;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock, or throws naming the live process that holds it. */
function takeLock(dir: string, label: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot write to ${label}: ${(err as Error).message}`);
      const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      if (Number.isInteger(owner) && owner !== process.pid && processAlive(owner)) {
        throw new Error(`${label} is in use by process ${owner} (${path}); wait for it to finish or choose another folder`);
      }
      // A lock left by a process that is gone: take it over.
      unlinkSync(path);
    }
  }
  throw new Error(`${label}: could not take the lock ${path}`);
}

/**
 * Removes what an interrupted save left behind: `<file>.tmp-<PID>` of processes that are
 * gone, and a half-written `checkpoint.tmp`. Safe because the caller holds the lock, so
 * no other process is writing here.
 */
function removeLeftovers(dir: string): void {
  for (const entry of readdirSync(dir)) {
    const pid = /\.tmp-(\d+)$/.exec(entry)?.[1];
    if ((pid !== undefined && Number(pid) !== process.pid && !processAlive(Number(pid))) || entry === 'checkpoint.tmp') {
      rmSync(join(dir, entry), { recursive: true, force: true });
    }
  }
}

/** Checks that files can be created and renamed in `dir` (what every atomic save does). */
function probeWritable(dir: string, label: string): void {
  const probe = join(dir, `.dralab-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    writeSync(fd, 'probe\n');
    closeSync(fd);
    renameSync(probe, `${probe}-renamed`);
    unlinkSync(`${probe}-renamed`);
  } catch (err) {
    throw new Error(`cannot write to ${label}: ${(err as Error).message}`);
  }
}

/**
 * Claims `dir` for a run before any work: creates it, checks it is writable, refuses
 * (unless `force`) when it holds entries the caller does not expect, and takes its lock.
 */
export function claimRunFolder(dir: string, options: ClaimOptions): ClaimedFolder {
  const { label } = options;
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new Error(`${label} is a file, not a folder`);
  let created: string | undefined;
  try {
    created = makeFolders(dir);
  } catch (err) {
    throw new Error(`cannot create ${label}: ${(err as Error).message}`);
  }
  probeWritable(dir, label);
  const release = takeLock(dir, label);
  try {
    if (!options.force) {
      const foreign = readdirSync(dir).filter((entry) => entry !== LOCK_FILE && !(options.allowed?.(entry) ?? false));
      if (foreign.length > 0) {
        const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, and ${foreign.length - 5} more` : '');
        throw new Error(`${label} already holds ${shown}; nothing was changed. ${options.hint ? `${options.hint}, or ` : ''}use --force to write there anyway`);
      }
    }
    removeLeftovers(dir);
  } catch (err) {
    release();
    throw err;
  }
  const abandon = () => {
    release();
    if (created === undefined) return;
    try {
      // Only empty folders go (rmdir refuses others), innermost first up to the one created.
      for (let d = dir; ; d = dirname(d)) {
        rmdirSync(d);
        if (d === created) break;
      }
    } catch {
      // not empty: keep it
    }
  };
  return { path: dir, release, abandon };
}
