/**
 * CIFAR-10 / CIFAR-100 in the official binary format
 * (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-size records of label byte(s)
 * followed by 3072 pixel bytes stored channel-planar (1024 R, 1024 G, 1024 B, rows
 * top to bottom). Converted here to NHWC.
 */
import { join } from 'node:path';
import type { Dataset, ImageSet } from './types';
import { datasetError } from './errors';
import { findFile, readBytes, readLines, requireDirectory } from './files';
import { checkImageSet } from './imageset';

const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;

export const CIFAR10_CLASS_NAMES = [
  'airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck',
] as const;

interface RecordLayout {
  /** Human name for messages, e.g. "CIFAR-10". */
  format: string;
  /** Label bytes before the pixels (1 for CIFAR-10; 2 for CIFAR-100: coarse, fine). */
  labelBytes: number;
  /** Which of the label bytes is the label used. */
  labelOffset: number;
  numClasses: number;
}

/** Decodes one binary batch file into an ImageSet, checking size and label range. */
export function readCifarBatch(path: string, layout: RecordLayout): ImageSet {
  const bytes = readBytes(path);
  const recordSize = layout.labelBytes + PIXELS;
  const labelText = layout.labelBytes === 1 ? '1 label byte' : `${layout.labelBytes} label bytes`;
  if (bytes.length === 0 || bytes.length % recordSize !== 0) {
    throw datasetError(
      path,
      `size ${bytes.length} bytes is not a positive multiple of the ${recordSize}-byte ${layout.format} record (${labelText} + ${PIXELS} pixel bytes); the file is truncated or not a ${layout.format} binary batch`,
    );
  }
  const count = bytes.length / recordSize;
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  const plane = SIDE * SIDE;
  for (let n = 0; n < count; n++) {
    const record = n * recordSize;
    const label = bytes[record + layout.labelOffset]!;
    if (label >= layout.numClasses) {
      throw datasetError(path, `record ${n} has label ${label}; expected a ${layout.format} label in [0, ${layout.numClasses - 1}]`);
    }
    labels[n] = label;
    const src = record + layout.labelBytes;
    const dst = n * PIXELS;
    for (let p = 0; p < plane; p++) {
      images[dst + 3 * p] = bytes[src + p]!;
      images[dst + 3 * p + 1] = bytes[src + plane + p]!;
      images[dst + 3 * p + 2] = bytes[src + 2 * plane + p]!;
    }
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

function concatSets(sets: readonly ImageSet[]): ImageSet {
  const count = sets.reduce((sum, s) => sum + s.count, 0);
  const images = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let at = 0;
  for (const s of sets) {
    images.set(s.images, at * PIXELS);
    labels.set(s.labels, at);
    at += s.count;
  }
  return { images, labels, count, height: SIDE, width: SIDE, channels: 3 };
}

/** The official archives unpack into a sub-folder; accept either it or its parent. */
function resolveCifarDir(dir: string, subfolder: string, marker: string): string {
  requireDirectory(dir, 'dataset');
  if (findFile(dir, [marker]) === undefined && findFile(join(dir, subfolder), [marker]) !== undefined) {
    return join(dir, subfolder);
  }
  return dir;
}

function requireFile(dir: string, name: string, expected: string): string {
  const path = findFile(dir, [name]);
  if (path === undefined) throw datasetError(join(dir, name), `missing; expected ${expected}`);
  return path;
}

function classNamesFrom(path: string | undefined, numClasses: number, fallback: readonly string[]): string[] {
  if (path === undefined) return [...fallback];
  const names = readLines(path);
  if (names.length !== numClasses) {
    throw datasetError(path, `lists ${names.length} class names; expected ${numClasses}, one per line`);
  }
  return names;
}

export function loadCifar10(dir: string, spec: string): Dataset {
  const root = resolveCifarDir(dir, 'cifar-10-batches-bin', 'test_batch.bin');
  const expected = 'data_batch_1.bin .. data_batch_5.bin and test_batch.bin (the CIFAR-10 binary version)';
  const layout: RecordLayout = { format: 'CIFAR-10', labelBytes: 1, labelOffset: 0, numClasses: 10 };
  const trainPaths = [1, 2, 3, 4, 5].map((i) => requireFile(root, `data_batch_${i}.bin`, expected));
  const testPath = requireFile(root, 'test_batch.bin', expected);
  const train = concatSets(trainPaths.map((p) => readCifarBatch(p, layout)));
  const test = readCifarBatch(testPath, layout);
  const classNames = classNamesFrom(findFile(root, ['batches.meta.txt']), 10, CIFAR10_CLASS_NAMES);
  return {
    spec,
    numClasses: 10,
    classNames,
    train: checkImageSet(train, 10, root),
    test: checkImageSet(test, 10, testPath),
    description: `CIFAR-10 from ${root}: ${train.count} train / ${test.count} test, 32x32x3, 10 classes`,
  };
}

export function loadCifar100(dir: string, spec: string, labels: 'fine' | 'coarse' = 'fine'): Dataset {
  if (labels !== 'fine' && labels !== 'coarse') {
    throw new RangeError(`cifar100Labels must be 'fine' or 'coarse', got '${String(labels)}'`);
  }
  const root = resolveCifarDir(dir, 'cifar-100-binary', 'test.bin');
  const expected = 'train.bin and test.bin (the CIFAR-100 binary version)';
  const numClasses = labels === 'fine' ? 100 : 20;
  const layout: RecordLayout = {
    format: 'CIFAR-100',
    labelBytes: 2,
    labelOffset: labels === 'fine' ? 1 : 0,
    numClasses,
  };
  const trainPath = requireFile(root, 'train.bin', expected);
  const testPath = requireFile(root, 'test.bin', expected);
  // Both label bytes are range-checked, whichever one is used: a bad byte means a bad file.
  const otherLayout: RecordLayout = {
    ...layout,
    labelOffset: 1 - layout.labelOffset,
    numClasses: labels === 'fine' ? 20 : 100,
  };
  const train = readCifarBatch(trainPath, layout);
  const test = readCifarBatch(testPath, layout);
  checkOtherLabel(trainPath, otherLayout);
  checkOtherLabel(testPath, otherLayout);
  const namesFile = findFile(root, [labels === 'fine' ? 'fine_label_names.txt' : 'coarse_label_names.txt']);
  const fallback = Array.from({ length: numClasses }, (_, i) => `${labels} ${i}`);
  return {
    spec,
    numClasses,
    classNames: classNamesFrom(namesFile, numClasses, fallback),
    train: checkImageSet(train, numClasses, trainPath),
    test: checkImageSet(test, numClasses, testPath),
    description: `CIFAR-100 (${labels} labels) from ${root}: ${train.count} train / ${test.count} test, 32x32x3, ${numClasses} classes`,
  };
}

function checkOtherLabel(path: string, layout: RecordLayout): void {
  const bytes = readBytes(path);
  const recordSize = layout.labelBytes + PIXELS;
  const which = layout.labelOffset === 0 ? 'coarse' : 'fine';
  for (let n = 0; n * recordSize < bytes.length; n++) {
    const label = bytes[n * recordSize + layout.labelOffset]!;
    if (label >= layout.numClasses) {
      throw datasetError(path, `record ${n} has ${which} label ${label}; expected a CIFAR-100 ${which} label in [0, ${layout.numClasses - 1}]`);
    }
  }
}
