/**
 * `dralab augment`: applies one operator (or, with --grid, every operator) to PNG/JPEG
 * images and writes 8-bit PNGs rounded as Pillow would store them. Images are decoded and
 * encoded with sharp (prebuilt libvips; its decoding matches Pillow's). Every input is
 * read and every output computed before anything is written; each file is written to a
 * temporary name and renamed, so an error leaves no partial output.
 */
import { existsSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { checkAllocation } from '../util/memory';
import sharp from 'sharp';
import { selectBackend } from '../backend/select';
import { ALL_OP_NAMES, type OpName, DRA_OP_NAMES, applyOp, assertOpName, quantizeLikePil } from '../ops';
import { loadFrozenPolicy } from '../policy/frozen';
import { writeTextAtomic } from '../util/files';
import { Rng } from '../util/rng';

export interface AugmentOptions {
  op?: string;
  magnitude?: string;
  /** Apply a policy instead of one operator: policy.json, a run folder, a policy string or official:<name>. */
  policy?: string;
  /** With --policy: where to write what was drawn for each image (JSON). */
  draws?: string;
  sign: string;
  interpolation: string;
  fill: string;
  input: string;
  output: string;
  grid?: boolean;
  seed: string;
}

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);

interface Decoded {
  path: string;
  pixels: Uint8Array;
  height: number;
  width: number;
  channels: 1 | 3;
}

function parseNumber(value: string, name: string, low: number, high: number): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < low || v > high) {
    throw new Error(`--${name} must be a number in [${low}, ${high}], got '${value}'`);
  }
  return v;
}

/** Width, height and channels from the file's header, without decoding its pixels. */
async function readHeader(path: string): Promise<{ width: number; height: number; channels: number }> {
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) throw new Error('the header gives no size');
    const channels = (meta.channels ?? 3) - (meta.hasAlpha ? 1 : 0);
    return { width: meta.width, height: meta.height, channels: channels === 1 ? 1 : 3 };
  } catch (err) {
    throw new Error(`cannot read image '${path}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Float32 copies of an image one augment call holds at its peak: the input, each op's
 * intermediates (warps, blends, histograms) and one tile per op until they are joined.
 * Generous on purpose: a 12000x12000 header was OOM-killed on the cpu backend at 24 GiB.
 */
const WORKING_COPIES = 16;
/** wasm32 addresses 4 GiB; tfjs-backend-wasm keeps the input and about three copies live. */
const WASM_ADDRESS_SPACE = 4 * 1024 ** 3;
const WASM_LIVE_COPIES = 4;

function checkImageFits(path: string, header: { width: number; height: number; channels: number }, ops: number, backend: string): void {
  const floatBytes = header.width * header.height * header.channels * 4;
  const what = `augmenting '${path}' (${header.width}x${header.height}x${header.channels}, ${ops} operator${ops === 1 ? '' : 's'})`;
  checkAllocation(what, floatBytes * (WORKING_COPIES + ops), floatBytes);
  if (backend === 'wasm') checkAllocation(`${what} on the wasm backend`, floatBytes * WASM_LIVE_COPIES, floatBytes, WASM_ADDRESS_SPACE);
}

async function decode(path: string): Promise<Decoded> {
  try {
    const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.channels === 1 || info.channels === 3) {
      return { path, pixels: new Uint8Array(data), height: info.height, width: info.width, channels: info.channels };
    }
    const rgb = await sharp(path).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { path, pixels: new Uint8Array(rgb.data), height: rgb.info.height, width: rgb.info.width, channels: 3 };
  } catch (err) {
    throw new Error(`cannot read image '${path}': ${err instanceof Error ? err.message : String(err)}`);
  }
}

function listInputs(input: string): string[] {
  if (!existsSync(input)) throw new Error(`--input '${input}' does not exist`);
  if (!statSync(input).isDirectory()) return [input];
  const files = readdirSync(input)
    .filter((f) => IMAGE_EXTENSIONS.has(extname(f).toLowerCase()))
    .sort()
    .map((f) => join(input, f));
  if (files.length === 0) throw new Error(`--input directory '${input}' holds no .png, .jpg or .jpeg files`);
  return files;
}

/** Runs the command; returns the files written. */
export async function runAugment(options: AugmentOptions, beforeCompute: () => Promise<unknown> = async () => undefined): Promise<string[]> {
  if (options.policy) return runPolicy(options, beforeCompute);
  if (options.draws) throw new Error('--draws records a policy\'s draws: give --policy too');
  if (options.magnitude === undefined) throw new Error('--magnitude is required with --op or --grid');
  const magnitude = parseNumber(options.magnitude, 'magnitude', 0, 1);
  const sign = Number(options.sign);
  if (sign !== 1 && sign !== -1) throw new Error(`--sign must be 1 or -1, got '${options.sign}'`);
  const fill = parseNumber(options.fill, 'fill', 0, 255);
  const interpolation = options.interpolation;
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw new Error(`--interpolation must be nearest or bilinear, got '${interpolation}'`);
  const seed = parseNumber(options.seed, 'seed', 0, 2 ** 32 - 1);
  let ops: OpName[];
  if (options.grid) {
    ops = ['Identity', ...DRA_OP_NAMES];
  } else {
    if (!options.op) throw new Error(`--op is required (one of ${ALL_OP_NAMES.join(', ')}) unless --grid is given`);
    ops = [assertOpName(options.op, '--op')];
  }
  const inputs = listInputs(options.input);
  const outputIsDir = inputs.length > 1 || statSync(options.input).isDirectory();
  if (outputIsDir) {
    if (existsSync(options.output) && !statSync(options.output).isDirectory()) throw new Error(`--output '${options.output}' must be a directory when --input is a directory`);
  } else if (extname(options.output).toLowerCase() !== '.png') {
    throw new Error(`--output '${options.output}' must be a .png file`);
  }
  const outDir = outputIsDir ? options.output : dirname(options.output);
  if (!existsSync(outDir)) throw new Error(`output directory '${outDir}' does not exist`);
  const headers: Array<{ width: number; height: number; channels: number }> = [];
  for (const path of inputs) headers.push(await readHeader(path));
  // The backend is started only once the arguments and image headers are known to be good;
  // sizes are checked against it before any pixels are decoded.
  await beforeCompute();
  inputs.forEach((path, i) => checkImageFits(path, headers[i]!, ops.length, tf.getBackend()));
  const decoded = [];
  for (const path of inputs) decoded.push(await decode(path));

  const rng = new Rng(seed);
  const encoded: Array<{ target: string; png: Buffer }> = [];
  for (const image of decoded) {
    const { height, width, channels } = image;
    const pixels = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(image.pixels), [1, height, width, channels]);
      const m = tf.tensor1d([magnitude]);
      const s = tf.tensor1d([sign]);
      const tiles = ops.map((op) => quantizeLikePil(applyOp(op, x, m, { sign: s, interpolation, fill, rng })));
      return Uint8Array.from(tf.concat(tiles, 2).dataSync());
    });
    const png = await sharp(Buffer.from(pixels), { raw: { width: width * ops.length, height, channels } }).png().toBuffer();
    const target = outputIsDir ? join(options.output, `${basename(image.path, extname(image.path))}.png`) : options.output;
    encoded.push({ target, png });
  }
  await writeAll(encoded);
  return encoded.map((e) => e.target);
}

/** What `--draws` writes: per image and layer, what the policy drew (replayable, e.g. by python/dralab_torch). */
export interface DrawsFile {
  format: 'dralab.draws';
  version: 1;
  /** The policy file applied (ops in index order). */
  policy: unknown;
  interpolation: 'nearest' | 'bilinear';
  fill: number;
  seed: number;
  /** The backend that computed the outputs (the rotation's trig is the backend's). */
  backend: string;
  images: Array<{
    input: string;
    output: string;
    layers: Array<{ op: string | null; opIndex: number; applied: boolean; magnitude: number; sign: number; centre: [number, number] }>;
  }>;
}

/** `--policy`: each image gets its own draws, in input order, from one Rng(seed); outputs are the 8-bit pass's. */
async function runPolicy(options: AugmentOptions, beforeCompute: () => Promise<unknown>): Promise<string[]> {
  if (options.op || options.grid) throw new Error('--policy applies a whole policy: leave out --op and --grid');
  const fill = parseNumber(options.fill, 'fill', 0, 255);
  const interpolation = options.interpolation;
  if (interpolation !== 'nearest' && interpolation !== 'bilinear') throw new Error(`--interpolation must be nearest or bilinear, got '${interpolation}'`);
  const seed = parseNumber(options.seed, 'seed', 0, 2 ** 32 - 1);
  const spec = options.policy!;
  const named = /^(rand-|trivial|none$|ta$|official:)/.test(spec);
  const policy = loadFrozenPolicy(named || spec.endsWith('.json') ? spec : join(spec, 'policy.json'));
  const inputs = listInputs(options.input);
  const outputIsDir = inputs.length > 1 || statSync(options.input).isDirectory();
  if (!outputIsDir && extname(options.output).toLowerCase() !== '.png') throw new Error(`--output '${options.output}' must be a .png file`);
  const outDir = outputIsDir ? options.output : dirname(options.output);
  if (!existsSync(outDir)) throw new Error(`output directory '${outDir}' does not exist`);
  const headers: Array<{ width: number; height: number; channels: number }> = [];
  for (const path of inputs) headers.push(await readHeader(path));
  await beforeCompute();
  inputs.forEach((path, i) => checkImageFits(path, headers[i]!, 1, tf.getBackend()));
  const rng = new Rng(seed);
  const record: DrawsFile = { format: 'dralab.draws', version: 1, policy: policy.file, interpolation, fill, seed, backend: tf.getBackend(), images: [] };
  const encoded: Array<{ target: string; png: Buffer }> = [];
  for (const path of inputs) {
    const image = await decode(path);
    const { height, width, channels } = image;
    const draws = policy.sample(1, rng);
    const x = tf.tensor4d(Float32Array.from(image.pixels), [1, height, width, channels]);
    const out = policy.applyDraws(x, draws, { interpolation, fill });
    const pixels = Uint8Array.from(await out.data());
    tf.dispose([x, out]);
    const target = outputIsDir ? join(options.output, `${basename(path, extname(path))}.png`) : options.output;
    encoded.push({ target, png: await sharp(Buffer.from(pixels), { raw: { width, height, channels } }).png().toBuffer() });
    record.images.push({
      input: path,
      output: target,
      layers: draws.map((d) => {
        const opIndex = d.opIndex[0]!;
        return { op: opIndex >= 0 ? policy.ops[opIndex]! : null, opIndex, applied: opIndex >= 0, magnitude: d.magnitude[0]!, sign: d.sign[0]!, centre: [d.cutoutCentre[0]!, d.cutoutCentre[1]!] };
      }),
    });
  }
  await writeAll(encoded);
  if (options.draws) writeTextAtomic(options.draws, `${JSON.stringify(record, null, 1)}\n`);
  return [...encoded.map((e) => e.target), ...(options.draws ? [options.draws] : [])];
}

/** Writes every PNG to a temporary name, then renames them all: an error leaves no partial output. */
async function writeAll(encoded: Array<{ target: string; png: Buffer }>): Promise<void> {
  const temps: string[] = [];
  try {
    for (const { target, png } of encoded) {
      const temp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
      temps.push(temp);
      await sharp(png).toFile(temp);
    }
    encoded.forEach(({ target }, i) => renameSync(temps[i]!, target));
  } catch (err) {
    for (const t of temps) if (existsSync(t)) unlinkSync(t);
    throw err;
  }
}

export function registerAugmentCommand(program: Command): void {
  program
    .command('augment')
    .description('apply one operator (or --grid: every operator, or --policy: a policy) to an image or a directory of images; writes 8-bit PNG')
    .option('--op <name>', `operator: ${ALL_OP_NAMES.join(', ')}`)
    .option('--magnitude <m>', 'magnitude in [0, 1] (with --op or --grid)')
    .option('--policy <policy>', 'apply a policy instead: policy.json, a run folder, rand-m9-n2[-mstd0.5], trivial, none or official:<name>; each image gets its own draws')
    .option('--draws <file>', 'with --policy: write what was drawn for each image and layer (JSON; python/dralab_torch replays it)')
    .option('--sign <s>', 'sign of the magnitude for signed operators: 1 or -1', '1')
    .option('--interpolation <mode>', 'nearest or bilinear (affine operators)', 'bilinear')
    .option('--fill <v>', 'fill level 0..255 for pixels from outside the image and Cutout', '0')
    .option('--seed <n>', 'seed for Cutout positions', '0')
    .requiredOption('--input <path>', 'a .png/.jpg file or a directory of them')
    .requiredOption('--output <path>', 'a .png file, or a directory when --input is one')
    .option('--grid', 'write one image per input with every operator side by side (Identity first, then paper order)')
    .action(async (options: AugmentOptions) => {
      const written = await runAugment(options, () => selectBackend({ backend: program.opts<{ backend?: string }>().backend }));
      for (const file of written) process.stdout.write(`${file}\n`);
    });
}
