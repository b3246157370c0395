/**
 * MNIST-style IDX files (http://yann.lecun.com/exdb/mnist/), as shipped by MNIST and
 * Fashion-MNIST, gzipped or not. Header: two zero bytes, a type byte (0x08 = unsigned
 * byte, the only type these datasets use), the number of dimensions, then each
 * dimension as a big-endian uint32; the data follows.
 */
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { Dataset, ImageSet } from './types';
import { datasetError } from './errors';
import { findFile, readBytes, requireDirectory } from './files';
import { checkImageSet } from './imageset';

export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;
export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

const UNSIGNED_BYTE = 0x08;

export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Reads an IDX file of unsigned bytes with `expectedDims` dimensions; gunzips if needed. */
export function readIdx(path: string, expectedDims: number): IdxArray {
  let bytes = readBytes(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      const buffer = gunzipSync(bytes);
      bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (err) {
      throw datasetError(path, `is not a valid gzip file (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const want = `an IDX file of unsigned bytes with ${expectedDims} dimension${expectedDims === 1 ? '' : 's'} (magic 0x0000080${expectedDims})`;
  if (bytes.length < 4) throw datasetError(path, `is ${bytes.length} bytes long, too short for an IDX header; expected ${want}`);
  const magic = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== UNSIGNED_BYTE || bytes[3] !== expectedDims) {
    throw datasetError(path, `has magic number 0x${magic.toString(16).padStart(8, '0')}; expected ${want}`);
  }
  const headerSize = 4 + 4 * expectedDims;
  if (bytes.length < headerSize) {
    throw datasetError(path, `is ${bytes.length} bytes long, too short for its ${headerSize}-byte IDX header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < expectedDims; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const expectedSize = headerSize + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expectedSize) {
    throw datasetError(
      path,
      `header gives dimensions ${dims.join('x')}, which need ${expectedSize} bytes, but the file holds ${bytes.length}; the file is truncated or its header is wrong`,
    );
  }
  return { dims, data: bytes.subarray(headerSize) };
}

function idxPath(dir: string, stem: string, expected: string): string {
  // The original archives use `-idx3-ubyte`; some mirrors spell it `.idx3-ubyte`.
  const dotted = stem.replace(/-(idx\d-ubyte)$/, '.$1');
  const path = findFile(dir, [stem, `${stem}.gz`, dotted, `${dotted}.gz`]);
  if (path === undefined) throw datasetError(join(dir, stem), `missing (nor ${stem}.gz); expected ${expected}`);
  return path;
}

/** Reads one split (images + labels) and checks that they agree. */
export function readIdxSplit(imagesPath: string, labelsPath: string, numClasses: number): ImageSet {
  const images = readIdx(imagesPath, 3);
  const labels = readIdx(labelsPath, 1);
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) {
    throw datasetError(labelsPath, `holds ${labels.dims[0]} labels but ${imagesPath} holds ${count} images; expected one label per image`);
  }
  const labelArray = Int32Array.from(labels.data);
  for (let i = 0; i < count; i++) {
    if (labelArray[i]! >= numClasses) {
      throw datasetError(labelsPath, `label ${labelArray[i]} at index ${i} is out of range; expected [0, ${numClasses - 1}]`);
    }
  }
  return checkImageSet({ images: images.data, labels: labelArray, count, height, width, channels: 1 }, numClasses, imagesPath);
}

export function loadIdxDataset(
  dir: string,
  spec: string,
  format: 'MNIST' | 'Fashion-MNIST',
): Dataset {
  requireDirectory(dir, `${format} dataset`);
  const expected = `train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally .gz) in ${dir}`;
  const paths = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map(
    (stem) => idxPath(dir, stem, expected),
  ) as [string, string, string, string];
  const classNames = format === 'MNIST' ? [...MNIST_CLASS_NAMES] : [...FASHION_MNIST_CLASS_NAMES];
  const train = readIdxSplit(paths[0], paths[1], classNames.length);
  const test = readIdxSplit(paths[2], paths[3], classNames.length);
  if (train.height !== test.height || train.width !== test.width) {
    throw datasetError(paths[2], `images are ${test.height}x${test.width} but the training images are ${train.height}x${train.width}; expected one size`);
  }
  return {
    spec,
    numClasses: classNames.length,
    classNames,
    train,
    test,
    description: `${format} from ${dir}: ${train.count} train / ${test.count} test, ${train.height}x${train.width} greyscale, 10 classes`,
  };
}
