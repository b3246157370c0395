/**
 * Image folders: `<dir>/<class>/*.png|jpg|jpeg`, or `<dir>/train/<class>/...` plus
 * `<dir>/test/<class>/...`. Decoded with sharp (prebuilt libvips, maintained, decodes
 * JPEG like PIL/libjpeg), resized to a fixed size with fit 'fill' (aspect not kept, as
 * torchvision's Resize((h, w))).
 */
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import sharp from 'sharp';
import type { Dataset, ImageSet } from './types';
import { datasetError } from './errors';
import { requireDirectory } from './files';
import { checkAllocation } from '../util/memory';
import { Rng } from '../util/rng';

const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg']);
/** Images decoded at once; sharp runs each on libvips' own thread pool. */
const DECODE_CONCURRENCY = 8;

export interface FolderOptions {
  imageSize?: [number, number];
  channels?: 1 | 3;
  seed?: number;
  testFraction?: number;
}

interface LabelledFile {
  path: string;
  label: number;
}

/** Code-point order: the same on every machine and locale. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function subdirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byCodePoint);
}

function imageFiles(classDir: string): string[] {
  return readdirSync(classDir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase()))
    .map((e) => join(classDir, e.name))
    .sort(byCodePoint);
}

/** Files of every class folder under `root`, labelled by `classNames` order. */
function listClassFiles(root: string, classNames: readonly string[]): LabelledFile[][] {
  return classNames.map((name, label) => {
    const classDir = join(root, name);
    const nested = subdirectories(classDir);
    if (nested.length > 0) {
      // Refused rather than skipped: their images would silently be left out of the data.
      const shown = nested.slice(0, 3).map((n) => `'${n}'`).join(', ');
      throw datasetError(classDir, `class folder '${name}' holds sub-folder${nested.length === 1 ? '' : 's'} ${shown}${nested.length > 3 ? ` and ${nested.length - 3} more` : ''}, whose images would be left out; expected the images directly in each class folder (move them up, or make each sub-folder a class)`);
    }
    const files = imageFiles(classDir);
    if (files.length === 0) {
      throw datasetError(classDir, `class folder '${name}' has no PNG/JPEG images; expected at least one *.png, *.jpg or *.jpeg file`);
    }
    return files.map((path) => ({ path, label }));
  });
}

function stratifiedSplit(perClass: LabelledFile[][], testFraction: number, seed: number): [LabelledFile[], LabelledFile[]] {
  const rng = new Rng(seed);
  const train: LabelledFile[] = [];
  const test: LabelledFile[] = [];
  for (const files of perClass) {
    const order = rng.permutation(files.length);
    const testCount = Math.round(files.length * testFraction);
    const held = new Set(Array.from(order.subarray(0, testCount)));
    // Kept in sorted file order within each split so the result reads predictably.
    files.forEach((file, i) => (held.has(i) ? test : train).push(file));
  }
  return [train, test];
}

interface Decoded {
  pixels: Uint8Array;
  channels: number;
}

async function decodeImage(path: string, height: number, width: number, wanted: 1 | 3 | undefined): Promise<Decoded> {
  try {
    const meta = await sharp(path).metadata();
    const natural = (meta.channels ?? 0) - (meta.hasAlpha ? 1 : 0);
    // sharp's raw output is sRGB unless told otherwise, so the colour space is set explicitly.
    let image = sharp(path, { failOn: 'error' }).removeAlpha();
    const channels = wanted ?? natural;
    if (channels !== 1 && channels !== 3) return { pixels: new Uint8Array(0), channels: natural };
    image = image.toColourspace(channels === 1 ? 'b-w' : 'srgb');
    if (meta.height !== height || meta.width !== width) {
      image = image.resize(width, height, { fit: 'fill', kernel: 'linear', fastShrinkOnLoad: false });
    }
    const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
    return { pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), channels: info.channels };
  } catch (err) {
    throw datasetError(path, `cannot be decoded as a PNG/JPEG image (${err instanceof Error ? err.message : String(err)})`);
  }
}

async function decodeFiles(
  files: readonly LabelledFile[],
  height: number,
  width: number,
  wanted: 1 | 3 | undefined,
  inferred: { channels?: number; from?: string },
): Promise<ImageSet> {
  // The decoded images and the packed set exist together for a moment: two copies.
  checkAllocation(`a folder dataset of ${files.length} images at ${height}x${width}x${wanted ?? 3}`, 2 * files.length * height * width * (wanted ?? 3), files.length * height * width * (wanted ?? 3));
  const decoded: Decoded[] = new Array(files.length);
  for (let start = 0; start < files.length; start += DECODE_CONCURRENCY) {
    const chunk = files.slice(start, start + DECODE_CONCURRENCY);
    const results = await Promise.all(chunk.map((f) => decodeImage(f.path, height, width, wanted)));
    results.forEach((r, i) => (decoded[start + i] = r));
  }
  for (let i = 0; i < files.length; i++) {
    const { channels } = decoded[i]!;
    const path = files[i]!.path;
    if (inferred.channels === undefined) {
      if (channels !== 1 && channels !== 3) {
        throw datasetError(path, `has ${channels} colour channels; expected greyscale (1) or RGB (3)`);
      }
      inferred.channels = channels;
      inferred.from = path;
    } else if (channels !== inferred.channels) {
      throw datasetError(
        path,
        `has ${channels} colour channel${channels === 1 ? '' : 's'} but ${inferred.from} has ${inferred.channels}; expected every image to have the same channel count (pass channels: 1 or 3 to convert)`,
      );
    }
  }
  const c = inferred.channels ?? wanted ?? 3;
  const per = height * width * c;
  const images = new Uint8Array(files.length * per);
  decoded.forEach((d, i) => images.set(d.pixels, i * per));
  const labels = Int32Array.from(files, (f) => f.label);
  return { images, labels, count: files.length, height, width, channels: c };
}

export async function loadImageFolder(dir: string, spec: string, options: FolderOptions = {}): Promise<Dataset> {
  requireDirectory(dir, 'image folder');
  const [height, width] = options.imageSize ?? [32, 32];
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new RangeError(`imageSize must be two positive integers, got ${height}x${width}`);
  }
  const testFraction = options.testFraction ?? 0.2;
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`testFraction must be in [0, 1), got ${testFraction}`);
  const top = subdirectories(dir);
  let classNames: string[];
  let trainFiles: LabelledFile[];
  let testFiles: LabelledFile[];
  let how: string;
  if (top.includes('train') && top.includes('test')) {
    classNames = subdirectories(join(dir, 'train'));
    if (classNames.length === 0) throw datasetError(join(dir, 'train'), 'has no class sub-folders; expected one folder of images per class');
    for (const name of subdirectories(join(dir, 'test'))) {
      if (!classNames.includes(name)) {
        throw datasetError(join(dir, 'test', name), `class '${name}' does not exist in ${join(dir, 'train')}; expected the same class folders in train/ and test/`);
      }
    }
    trainFiles = listClassFiles(join(dir, 'train'), classNames).flat();
    const testClasses = subdirectories(join(dir, 'test'));
    testFiles = listClassFiles(join(dir, 'test'), testClasses)
      .flat()
      .map((f) => ({ path: f.path, label: classNames.indexOf(testClasses[f.label]!) }));
    how = 'train/ and test/ folders';
  } else {
    classNames = top;
    if (classNames.length === 0) throw datasetError(dir, 'has no class sub-folders; expected one folder of PNG/JPEG images per class');
    [trainFiles, testFiles] = stratifiedSplit(listClassFiles(dir, classNames), testFraction, options.seed ?? 0);
    how = `stratified ${Math.round(testFraction * 100)}% test split, seed ${options.seed ?? 0}`;
  }
  if (classNames.length < 2) {
    const root = how === 'train/ and test/ folders' ? join(dir, 'train') : dir;
    throw datasetError(root, `has one class folder ('${classNames[0]}'); a classifier needs at least two, one folder of images per class`);
  }
  const inferred: { channels?: number; from?: string } = {};
  const train = await decodeFiles(trainFiles, height, width, options.channels, inferred);
  const test = await decodeFiles(testFiles, height, width, options.channels, inferred);
  return {
    spec,
    numClasses: classNames.length,
    classNames,
    train,
    test,
    description: `image folder ${dir} (${how}): ${train.count} train / ${test.count} test, ${height}x${width}x${train.channels}, ${classNames.length} classes`,
  };
}
