/**
 * Checkpoint files: a JSON manifest plus one binary blob of float32/int32 tensors.
 * Written into a temporary sibling folder and swapped in by rename, so a crash while
 * writing never replaces a good checkpoint with a half-written one. Every tensor and every
 * extra file carries a SHA-256 in the manifest, checked on read, so bytes changed on disk
 * (same size, so the length check cannot see them) are refused with the tensor's name.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface TensorEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** Byte offset in tensors.bin. */
  offset: number;
  /** SHA-256 of the tensor's bytes (version 2 on). */
  sha256?: string;
}

export interface NamedArray {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

export const CHECKPOINT_FORMAT = 'dralab.checkpoint';
/** 2: per-tensor and per-file SHA-256. Version 1 checkpoints (no checksums) still load. */
export const CHECKPOINT_VERSION = 2;

interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  tensors: TensorEntry[];
  /** Byte length of tensors.bin, to detect truncation. */
  bytes: number;
  /** SHA-256 of each extra file beside tensors.bin (version 2 on). */
  files?: Record<string, string>;
  state: unknown;
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function writeFileDurable(path: string, data: string | Uint8Array): void {
  writeFileSync(path, data);
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `state` (any JSON) and `arrays` as the checkpoint folder `dir`, atomically:
 * everything goes to `dir.tmp`, the old folder moves to `dir.old`, the new one takes its
 * place, and `dir.old` is removed. Readers fall back to `dir.old` if a crash left no `dir`.
 */
export function writeCheckpoint(dir: string, state: unknown, arrays: readonly NamedArray[], extraFiles: Record<string, string> = {}): void {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  mkdirSync(dirname(dir), { recursive: true });
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    let offset = 0;
    const entries: TensorEntry[] = [];
    for (const a of arrays) {
      const bytes = new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength);
      entries.push({ name: a.name, shape: a.shape, dtype: a.dtype, offset, sha256: sha256(bytes) });
      offset += a.values.byteLength;
    }
    const blob = new Uint8Array(offset);
    arrays.forEach((a, i) => blob.set(new Uint8Array(a.values.buffer, a.values.byteOffset, a.values.byteLength), entries[i]!.offset));
    writeFileDurable(join(tmp, 'tensors.bin'), blob);
    const files: Record<string, string> = {};
    for (const [name, text] of Object.entries(extraFiles)) {
      writeFileDurable(join(tmp, name), text);
      files[name] = sha256(text);
    }
    const manifest: Manifest = { format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, tensors: entries, bytes: offset, files, state };
    // The manifest goes last: a folder without it is never mistaken for a checkpoint.
    writeFileDurable(join(tmp, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`could not write checkpoint ${dir}: ${(err as Error).message}`);
  }
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

export interface LoadedCheckpoint {
  state: unknown;
  arrays: Map<string, NamedArray>;
  /** The folder actually read (the `.old` fallback after an interrupted swap). */
  path: string;
}

function readFrom(dir: string): LoadedCheckpoint {
  const manifestPath = join(dir, 'manifest.json');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (err) {
    throw new Error(`checkpoint ${dir}: cannot read manifest.json: ${(err as Error).message}`);
  }
  if (manifest === null || typeof manifest !== 'object' || Array.isArray(manifest)) {
    throw new Error(`checkpoint ${dir}: manifest.json is corrupt: it holds ${manifest === null ? 'null' : Array.isArray(manifest) ? 'an array' : `a ${typeof manifest}`}, not a checkpoint manifest`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new Error(`checkpoint ${dir}: manifest.json is not a dralab checkpoint (format '${String(manifest.format)}')`);
  if (manifest.version > CHECKPOINT_VERSION) throw new Error(`checkpoint ${dir}: version ${manifest.version} was written by a newer dralab (this one reads ${CHECKPOINT_VERSION})`);
  if (!Array.isArray(manifest.tensors) || typeof manifest.bytes !== 'number') {
    throw new Error(`checkpoint ${dir}: manifest.json is corrupt: it lacks its tensor list or byte count`);
  }
  if (!('state' in manifest) || manifest.state === null || typeof manifest.state !== 'object') {
    throw new Error(`checkpoint ${dir}: manifest.json is corrupt: it lacks the run's state`);
  }
  const blob = readFileSync(join(dir, 'tensors.bin'));
  if (blob.byteLength !== manifest.bytes) {
    throw new Error(`checkpoint ${dir}: tensors.bin has ${blob.byteLength} bytes, manifest expects ${manifest.bytes} (truncated or corrupt)`);
  }
  const arrays = new Map<string, NamedArray>();
  for (const e of manifest.tensors) {
    const count = e.shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset + count * 4 > blob.byteLength) {
      throw new Error(`checkpoint ${dir}: tensor '${e.name}' lies outside tensors.bin (corrupt manifest)`);
    }
    const bytes = blob.subarray(e.offset, e.offset + count * 4);
    if (manifest.version >= 2 && sha256(bytes) !== e.sha256) {
      throw new Error(`checkpoint ${dir}: tensor '${e.name}' does not match its checksum: tensors.bin was changed or damaged after it was written`);
    }
    const copy = new Uint8Array(bytes); // aligned copy
    const values = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    arrays.set(e.name, { name: e.name, shape: e.shape, dtype: e.dtype, values });
  }
  if (manifest.version >= 2) {
    for (const [name, expected] of Object.entries(manifest.files ?? {})) {
      let text: Buffer;
      try {
        text = readFileSync(join(dir, name));
      } catch (err) {
        throw new Error(`checkpoint ${dir}: ${name} is missing: ${(err as Error).message}`);
      }
      if (sha256(text) !== expected) throw new Error(`checkpoint ${dir}: ${name} does not match its checksum: it was changed or damaged after it was written`);
    }
  }
  return { state: manifest.state, arrays, path: dir };
}

/** Reads a checkpoint folder, falling back to `dir.old` when a swap was interrupted. */
export function readCheckpoint(dir: string): LoadedCheckpoint {
  if (existsSync(join(dir, 'manifest.json'))) return readFrom(dir);
  if (existsSync(join(`${dir}.old`, 'manifest.json'))) return readFrom(`${dir}.old`);
  throw new Error(`no checkpoint at ${dir} (expected ${join(dir, 'manifest.json')})`);
}

export function checkpointExists(dir: string): boolean {
  return existsSync(join(dir, 'manifest.json')) || existsSync(join(`${dir}.old`, 'manifest.json'));
}
