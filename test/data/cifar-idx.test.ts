import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadDataset, parseDatasetSpec, DEBIAN_FASHION_MNIST_DIR, CIFAR10_CLASS_NAMES, resizeImageSet } from '../../src/data';
import type { ImageSet } from '../../src/data';
import { fakePixel, tempDir, writeFakeCifar10, writeFakeCifar100, writeFakeIdx } from './fake-files';

/** Asserts every pixel of image `i` of `set` equals fakePixel(n, c, y, x) (greyscale: channel 0 everywhere). */
function assertFakeImage(set: ImageSet, i: number, n: number, greyChannelsFrom0 = false): void {
  for (let y = 0; y < set.height; y++) {
    for (let x = 0; x < set.width; x++) {
      for (let c = 0; c < set.channels; c++) {
        const got = set.images[((i * set.height + y) * set.width + x) * set.channels + c];
        assert.equal(got, fakePixel(n, greyChannelsFrom0 ? 0 : c, y, x), `image ${i} pixel (${y}, ${x}, ${c})`);
      }
    }
  }
}

test('cifar10 binary batches load to exactly the written pixels (NHWC) and labels', async () => {
  const tmp = tempDir('cifar10');
  try {
    writeFakeCifar10(tmp.dir, 2, 3);
    const data = await loadDataset(`cifar10:${tmp.dir}`);
    assert.equal(data.numClasses, 10);
    assert.deepEqual(data.classNames, [...CIFAR10_CLASS_NAMES]);
    assert.equal(data.train.count, 10);
    assert.equal(data.test.count, 3);
    assert.deepEqual([data.train.height, data.train.width, data.train.channels], [32, 32, 3]);
    assert.deepEqual(Array.from(data.train.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(Array.from(data.test.labels), [3, 0, 7]);
    for (let i = 0; i < 10; i++) assertFakeImage(data.train, i, i);
    for (let i = 0; i < 3; i++) assertFakeImage(data.test, i, 1000 + i);
  } finally {
    tmp.remove();
  }
});

test('cifar10 also found inside the archive folder cifar-10-batches-bin; trainCount keeps the first images', async () => {
  const tmp = tempDir('cifar10sub');
  try {
    writeFakeCifar10(join(tmp.dir, 'cifar-10-batches-bin'), 1, 2, false);
    const data = await loadDataset(`cifar10:${tmp.dir}`, { trainCount: 3 });
    assert.equal(data.train.count, 3);
    assertFakeImage(data.train, 2, 2);
    assert.equal(data.classNames[9], 'truck');
  } finally {
    tmp.remove();
  }
});

test('cifar100 reads fine labels by default and coarse on request', async () => {
  const tmp = tempDir('cifar100');
  try {
    writeFakeCifar100(tmp.dir, [[3, 42], [19, 99], [0, 0]], [[7, 55]]);
    const fine = await loadDataset(`cifar100:${tmp.dir}`);
    assert.equal(fine.numClasses, 100);
    assert.deepEqual(Array.from(fine.train.labels), [42, 99, 0]);
    assert.deepEqual(Array.from(fine.test.labels), [55]);
    assert.equal(fine.classNames[42], 'fine42');
    assertFakeImage(fine.train, 1, 1);
    assertFakeImage(fine.test, 0, 500);
    const coarse = await loadDataset(`cifar100:${tmp.dir}`, { cifar100Labels: 'coarse' });
    assert.equal(coarse.numClasses, 20);
    assert.deepEqual(Array.from(coarse.train.labels), [3, 19, 0]);
    assert.equal(coarse.classNames[19], 'coarse19');
  } finally {
    tmp.remove();
  }
});

for (const gzip of [false, true]) {
  test(`IDX files (${gzip ? 'gzipped' : 'plain'}) load as 1-channel images with their labels`, async () => {
    const tmp = tempDir('idx');
    try {
      writeFakeIdx(tmp.dir, { gzip, train: 4, test: 3 });
      const data = await loadDataset(`fashion-mnist:${tmp.dir}`);
      assert.equal(data.classNames[9], 'Ankle boot');
      assert.deepEqual([data.train.count, data.train.height, data.train.width, data.train.channels], [4, 28, 28, 1]);
      assert.deepEqual(Array.from(data.train.labels), [1, 4, 7, 0]);
      assert.deepEqual(Array.from(data.test.labels), [2, 7, 2]);
      for (let i = 0; i < 4; i++) assertFakeImage(data.train, i, i);
      for (let i = 0; i < 3; i++) assertFakeImage(data.test, i, 100 + i);
    } finally {
      tmp.remove();
    }
  });
}

test('IDX 28x28 padded to 32x32 (2-pixel zero border) and expanded to 3 channels', async () => {
  const tmp = tempDir('idxpad');
  try {
    writeFakeIdx(tmp.dir, { train: 2, test: 1 });
    const data = await loadDataset(`mnist:${tmp.dir}`, { imageSize: [32, 32], channels: 3 });
    const set = data.train;
    assert.deepEqual([set.height, set.width, set.channels], [32, 32, 3]);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
        for (let c = 0; c < 3; c++) {
          const want = inside ? fakePixel(1, 0, y - 2, x - 2) : 0;
          assert.equal(set.images[((32 + y) * 32 + x) * 3 + c], want, `(${y}, ${x}, ${c})`);
        }
      }
    }
  } finally {
    tmp.remove();
  }
});

test('bilinear resize matches tf.image.resizeBilinear (half-pixel centres) on the cpu backend within rounding', async () => {
  await tf.setBackend('cpu');
  const tmp = tempDir('idxresize');
  try {
    writeFakeIdx(tmp.dir, { train: 2, test: 1 });
    const data = await loadDataset(`mnist:${tmp.dir}`, { imageSize: [32, 32], resizeMode: 'bilinear' });
    const ours = data.train.images;
    const source = (await loadDataset(`mnist:${tmp.dir}`)).train;
    const reference = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(Float32Array.from(source.images), [2, 28, 28, 1]), [32, 32], false, true).dataSync(),
    );
    let worst = 0;
    for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - reference[i]!));
    assert.ok(worst <= 0.5 + 1e-3, `largest difference ${worst} is more than rounding`);
    // Downscaling too (no antialiasing on either side).
    const small = resizeImageSet(source, 13, 17);
    const smallRef = tf.tidy(() =>
      tf.image.resizeBilinear(tf.tensor4d(Float32Array.from(source.images), [2, 28, 28, 1]), [13, 17], false, true).dataSync(),
    );
    for (let i = 0; i < small.images.length; i++) assert.ok(Math.abs(small.images[i]! - smallRef[i]!) <= 0.5 + 1e-3);
  } finally {
    tmp.remove();
  }
});

test('fashion-mnist with no directory means the Debian package path', () => {
  assert.equal(parseDatasetSpec('fashion-mnist').argument, DEBIAN_FASHION_MNIST_DIR);
  assert.equal(parseDatasetSpec('fashion-mnist:').argument, DEBIAN_FASHION_MNIST_DIR);
  assert.equal(DEBIAN_FASHION_MNIST_DIR, '/usr/share/datasets/fashion-mnist');
});

// The published Fashion-MNIST has 60,000 train / 10,000 test images, 6,000 / 1,000 per class.
test('the real Fashion-MNIST from Debian loads with its published counts', { skip: !existsSync(join(DEBIAN_FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) && 'dataset-fashion-mnist not installed' }, async () => {
  const data = await loadDataset('fashion-mnist');
  assert.deepEqual([data.train.count, data.test.count, data.train.height, data.train.width], [60000, 10000, 28, 28]);
  const perClass = new Array(10).fill(0);
  for (const label of data.train.labels) perClass[label]++;
  assert.deepEqual(perClass, new Array(10).fill(6000));
  const testPerClass = new Array(10).fill(0);
  for (const label of data.test.labels) testPerClass[label]++;
  assert.deepEqual(testPerClass, new Array(10).fill(1000));
});
