import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadDataset } from '../../src/data';
import { fakePixel, tempDir } from './fake-files';

/** Writes a lossless PNG of fake pixels (image n) with the given size and channels. */
async function writePng(path: string, n: number, height: number, width: number, channels: 1 | 3 | 4): Promise<void> {
  const raw = new Uint8Array(height * width * channels);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = c === 3 ? 255 : fakePixel(n, c, y, x);
  const image = sharp(raw, { raw: { width, height, channels } });
  // sharp writes raw single-channel data as RGB unless told the colour space.
  await (channels === 1 ? image.toColourspace('b-w') : image).png().toFile(path);
}

test('folder: PNGs at the target size load to exactly their pixels, classes and files in sorted order', async () => {
  const tmp = tempDir('folder');
  try {
    // Class folders created out of order; files named so code-point order differs from numeric.
    for (const [cls, n0] of [['zebra', 10], ['apple', 20]] as const) {
      mkdirSync(join(tmp.dir, cls));
      for (let i = 0; i < 5; i++) await writePng(join(tmp.dir, cls, `img${i === 4 ? 10 : i}.png`), n0 + i, 32, 32, i === 2 ? 4 : 3);
    }
    const data = await loadDataset(`folder:${tmp.dir}`, { testFraction: 0 });
    assert.deepEqual(data.classNames, ['apple', 'zebra']);
    assert.deepEqual([data.train.count, data.test.count, data.train.channels], [10, 0, 3]);
    assert.deepEqual(Array.from(data.train.labels), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
    // Sorted names: img0, img1, img10 (written as image 4), img2 (RGBA: alpha dropped), img3.
    const expected = [20, 21, 24, 22, 23, 10, 11, 14, 12, 13];
    expected.forEach((n, i) => {
      for (let p = 0; p < 32 * 32; p++) {
        const y = Math.floor(p / 32);
        const x = p % 32;
        for (let c = 0; c < 3; c++) assert.equal(data.train.images[(i * 1024 + p) * 3 + c], fakePixel(n, c, y, x));
      }
    });
  } finally {
    tmp.remove();
  }
});

test('folder: a JPEG decodes exactly as PIL decodes it, then resizes to the requested size', async () => {
  const tmp = tempDir('folderjpeg');
  try {
    // Two classes (a dataset needs two); the reference image is the first of the first class.
    mkdirSync(join(tmp.dir, 'only'));
    mkdirSync(join(tmp.dir, 'other'));
    const fixture = join(__dirname, '../../../test/fixtures/data/gradient.jpg');
    copyFileSync(fixture, join(tmp.dir, 'only', 'a.jpg'));
    copyFileSync(fixture, join(tmp.dir, 'other', 'a.jpg'));
    // Made by test/fixtures/data/make-jpeg-reference.py with PIL 9.4.
    const referencePath = join(__dirname, '../../../test/fixtures/data/gradient.pil.json');
    const reference = JSON.parse(readFileSync(referencePath, 'utf8')) as { height: number; width: number; pixels: number[] };
    const native = await loadDataset(`folder:${tmp.dir}`, { imageSize: [reference.height, reference.width], testFraction: 0 });
    assert.deepEqual(Array.from(native.train.images.subarray(0, reference.pixels.length)), reference.pixels);
    const resized = await loadDataset(`folder:${tmp.dir}`, { testFraction: 0 });
    assert.deepEqual([resized.train.height, resized.train.width, resized.train.channels], [32, 32, 3]);
  } finally {
    tmp.remove();
  }
});

test('folder: seeded stratified split (same seed, same split; every class in both halves); train/ and test/ used as given', async () => {
  const tmp = tempDir('foldersplit');
  try {
    for (const cls of ['a', 'b', 'c']) {
      mkdirSync(join(tmp.dir, cls));
      for (let i = 0; i < 10; i++) await writePng(join(tmp.dir, cls, `${i}.png`), i + cls.charCodeAt(0), 8, 8, 1);
    }
    const one = await loadDataset(`folder:${tmp.dir}`, { seed: 4, imageSize: [8, 8] });
    const two = await loadDataset(`folder:${tmp.dir}`, { seed: 4, imageSize: [8, 8] });
    const other = await loadDataset(`folder:${tmp.dir}`, { seed: 5, imageSize: [8, 8] });
    assert.equal(one.train.channels, 1);
    assert.deepEqual(one.test.images, two.test.images);
    assert.notDeepEqual(one.test.images, other.test.images);
    assert.deepEqual(Array.from(one.test.labels), [0, 0, 1, 1, 2, 2]);
    assert.equal(one.train.count, 24);
    const rgb = await loadDataset(`folder:${tmp.dir}`, { seed: 4, imageSize: [8, 8], channels: 3 });
    assert.equal(rgb.train.channels, 3);
    assert.equal(rgb.train.images[0], rgb.train.images[1]);

    const split = tempDir('foldertt');
    try {
      for (const [part, count] of [['train', 3], ['test', 2]] as const) {
        for (const cls of ['x', 'y']) {
          mkdirSync(join(split.dir, part, cls), { recursive: true });
          for (let i = 0; i < count; i++) await writePng(join(split.dir, part, cls, `${i}.png`), i, 16, 16, 3);
        }
      }
      const data = await loadDataset(`folder:${split.dir}`);
      assert.deepEqual(data.classNames, ['x', 'y']);
      assert.deepEqual(Array.from(data.train.labels), [0, 0, 0, 1, 1, 1]);
      assert.deepEqual(Array.from(data.test.labels), [0, 0, 1, 1]);
      assert.deepEqual([data.train.height, data.train.width], [32, 32]);
    } finally {
      split.remove();
    }
  } finally {
    tmp.remove();
  }
});
