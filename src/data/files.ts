import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { datasetError } from './errors';

/** Throws a DatasetError unless `dir` is an existing directory. */
export function requireDirectory(dir: string, what: string): void {
  if (!existsSync(dir)) throw datasetError(dir, `${what} directory does not exist`);
  if (!statSync(dir).isDirectory()) throw datasetError(dir, `is not a directory; expected the ${what} directory`);
}

/** The first of `names` present in `dir`, or undefined. */
export function findFile(dir: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    const path = join(dir, name);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  return undefined;
}

export function readBytes(path: string): Uint8Array {
  try {
    const buffer = readFileSync(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (err) {
    throw datasetError(path, `cannot be read (${err instanceof Error ? err.message : String(err)})`);
  }
}

/** Non-empty trimmed lines of a text file (CIFAR's *.meta.txt / *_label_names.txt). */
export function readLines(path: string): string[] {
  return Buffer.from(readBytes(path))
    .toString('utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
