/**
 * Malformed dataset input, one row per case: each must fail with a specific message
 * that names the file (or spec) and says what was expected.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { BatchSampler, DatasetError, loadDataset, sampleProxy, type ImageSet } from '../../src/data';
import { cifarBytes, idxBytes, idxImages, tempDir, writeFakeCifar10, writeFakeCifar100, writeFakeIdx } from './fake-files';

interface Case {
  name: string;
  /** Builds the bad input under `dir` and runs the call that must fail. */
  run: (dir: string) => Promise<unknown> | unknown;
  /** What the message must say; `{dir}` stands for the temp folder. */
  message: RegExp | ((dir: string) => RegExp);
  /** Loader errors are DatasetErrors; argument errors are RangeErrors. */
  kind?: 'dataset' | 'range';
}

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function png(path: string, height: number, width: number, channels: 1 | 3): Promise<void> {
  const image = sharp(new Uint8Array(height * width * channels).fill(90), { raw: { width, height, channels } });
  await (channels === 1 ? image.toColourspace('b-w') : image).png().toFile(path);
}

async function classFolders(dir: string, spec: Record<string, number>): Promise<void> {
  for (const [cls, count] of Object.entries(spec)) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < count; i++) await png(join(dir, cls, `${i}.png`), 4, 4, 3);
  }
}

const tiny: ImageSet = {
  images: new Uint8Array(12 * 3),
  labels: Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2]),
  count: 12,
  height: 1,
  width: 1,
  channels: 3,
};

const CASES: Case[] = [
  // CIFAR
  {
    name: 'truncated CIFAR-10 batch',
    run: (dir) => {
      writeFakeCifar10(dir);
      const path = join(dir, 'data_batch_3.bin');
      writeFileSync(path, readFileSync(path).subarray(0, 3073 + 1000));
      return loadDataset(`cifar10:${dir}`);
    },
    message: (dir) => new RegExp(`${esc(join(dir, 'data_batch_3.bin'))}: size 4073 bytes is not a positive multiple of the 3073-byte CIFAR-10 record \\(1 label byte \\+ 3072 pixel bytes\\); the file is truncated`),
  },
  {
    name: 'empty CIFAR-10 test batch',
    run: (dir) => {
      writeFakeCifar10(dir);
      writeFileSync(join(dir, 'test_batch.bin'), new Uint8Array(0));
      return loadDataset(`cifar10:${dir}`);
    },
    message: /test_batch\.bin: size 0 bytes is not a positive multiple of the 3073-byte CIFAR-10 record/,
  },
  {
    name: 'CIFAR-10 records in a CIFAR-100 file (wrong record size)',
    run: (dir) => {
      writeFakeCifar100(dir, [[1, 2]], [[1, 2]]);
      writeFileSync(join(dir, 'train.bin'), cifarBytes([[1], [2]], 0));
      return loadDataset(`cifar100:${dir}`);
    },
    message: /train\.bin: size 6146 bytes is not a positive multiple of the 3074-byte CIFAR-100 record \(2 label bytes \+ 3072 pixel bytes\)/,
  },
  {
    name: 'CIFAR-10 label out of range',
    run: (dir) => {
      writeFakeCifar10(dir);
      writeFileSync(join(dir, 'data_batch_2.bin'), cifarBytes([[4], [12]], 0));
      return loadDataset(`cifar10:${dir}`);
    },
    message: /data_batch_2\.bin: record 1 has label 12; expected a CIFAR-10 label in \[0, 9\]/,
  },
  {
    name: 'CIFAR-100 coarse label out of range while reading fine labels',
    run: (dir) => {
      writeFakeCifar100(dir, [[3, 40], [20, 41]], [[0, 0]]);
      return loadDataset(`cifar100:${dir}`);
    },
    message: /train\.bin: record 1 has coarse label 20; expected a CIFAR-100 coarse label in \[0, 19\]/,
  },
  {
    name: 'CIFAR-10 batch file missing',
    run: (dir) => {
      writeFakeCifar10(dir);
      rmSync(join(dir, 'data_batch_4.bin'));
      return loadDataset(`cifar10:${dir}`);
    },
    message: (dir) => new RegExp(`${esc(join(dir, 'data_batch_4.bin'))}: missing; expected data_batch_1\\.bin \\.\\. data_batch_5\\.bin and test_batch\\.bin`),
  },
  {
    name: 'CIFAR-10 names file with the wrong number of names',
    run: (dir) => {
      writeFakeCifar10(dir);
      writeFileSync(join(dir, 'batches.meta.txt'), 'cat\ndog\nbird\n');
      return loadDataset(`cifar10:${dir}`);
    },
    message: /batches\.meta\.txt: lists 3 class names; expected 10, one per line/,
  },
  // IDX
  {
    name: 'IDX labels file with an images magic number',
    run: (dir) => {
      writeFakeIdx(dir);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([4, 1, 1], new Uint8Array(4)));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /train-labels-idx1-ubyte: has magic number 0x00000803; expected an IDX file of unsigned bytes with 1 dimension \(magic 0x00000801\)/,
  },
  {
    name: 'IDX of floats (type byte 0x0D) instead of unsigned bytes',
    run: (dir) => {
      writeFakeIdx(dir, { gzip: true });
      writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(idxBytes([3, 28, 28], idxImages(3, 28, 28), 0x00000d03)));
      return loadDataset(`mnist:${dir}`);
    },
    message: /t10k-images-idx3-ubyte\.gz: has magic number 0x00000d03; expected an IDX file of unsigned bytes with 3 dimensions \(magic 0x00000803\)/,
  },
  {
    name: 'IDX dimensions disagreeing with the file size',
    run: (dir) => {
      writeFakeIdx(dir);
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([5, 28, 28], idxImages(4, 28, 28)));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /train-images-idx3-ubyte: header gives dimensions 5x28x28, which need 3936 bytes, but the file holds 3152; the file is truncated or its header is wrong/,
  },
  {
    name: 'IDX file shorter than its header',
    run: (dir) => {
      writeFakeIdx(dir);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), new Uint8Array([0, 0, 8]));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /train-labels-idx1-ubyte: is 3 bytes long, too short for an IDX header/,
  },
  {
    name: 'corrupt gzip',
    run: (dir) => {
      writeFakeIdx(dir, { gzip: true });
      const path = join(dir, 'train-images-idx3-ubyte.gz');
      writeFileSync(path, readFileSync(path).subarray(0, 40));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /train-images-idx3-ubyte\.gz: is not a valid gzip file/,
  },
  {
    name: 'IDX label out of range',
    run: (dir) => {
      writeFakeIdx(dir);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([4], Uint8Array.from([1, 2, 10, 3])));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /train-labels-idx1-ubyte: label 10 at index 2 is out of range; expected \[0, 9\]/,
  },
  {
    name: 'IDX image and label counts disagree',
    run: (dir) => {
      writeFakeIdx(dir);
      writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([2], Uint8Array.from([1, 2])));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /t10k-labels-idx1-ubyte: holds 2 labels but .*t10k-images-idx3-ubyte holds 3 images; expected one label per image/,
  },
  {
    name: 'IDX file missing',
    run: (dir) => {
      writeFakeIdx(dir);
      rmSync(join(dir, 't10k-labels-idx1-ubyte'));
      return loadDataset(`fashion-mnist:${dir}`);
    },
    message: /t10k-labels-idx1-ubyte: missing \(nor t10k-labels-idx1-ubyte\.gz\); expected train-images-idx3-ubyte/,
  },
  // Image folders
  {
    name: 'empty class folder',
    run: async (dir) => {
      await classFolders(dir, { a: 2, b: 0 });
      writeFileSync(join(dir, 'b', 'notes.txt'), 'not an image');
      return loadDataset(`folder:${dir}`);
    },
    message: (dir) => new RegExp(`${esc(join(dir, 'b'))}: class folder 'b' has no PNG/JPEG images`),
  },
  {
    name: 'corrupt image file',
    run: async (dir) => {
      await classFolders(dir, { a: 2, b: 2 });
      writeFileSync(join(dir, 'b', '1.png'), 'this is not a PNG');
      return loadDataset(`folder:${dir}`);
    },
    message: (dir) => new RegExp(`${esc(join(dir, 'b', '1.png'))}: cannot be decoded as a PNG/JPEG image`),
  },
  {
    name: 'truncated JPEG',
    run: async (dir) => {
      await classFolders(dir, { a: 1, b: 1 });
      const jpeg = await sharp(new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256), { raw: { width: 16, height: 16, channels: 3 } }).jpeg().toBuffer();
      writeFileSync(join(dir, 'a', 'cut.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
      return loadDataset(`folder:${dir}`, { testFraction: 0 });
    },
    message: /a\/cut\.jpg: cannot be decoded as a PNG\/JPEG image/,
  },
  {
    name: 'greyscale image among RGB images',
    run: async (dir) => {
      await classFolders(dir, { a: 2, b: 1 });
      await png(join(dir, 'b', '5.png'), 4, 4, 1);
      return loadDataset(`folder:${dir}`, { testFraction: 0 });
    },
    message: (dir) => new RegExp(`${esc(join(dir, 'b', '5.png'))}: has 1 colour channel but .*a/0\\.png has 3; expected every image to have the same channel count`),
  },
  {
    name: 'folder without class sub-folders',
    run: async (dir) => {
      await png(join(dir, 'loose.png'), 4, 4, 3);
      return loadDataset(`folder:${dir}`);
    },
    message: /has no class sub-folders; expected one folder of PNG\/JPEG images per class/,
  },
  {
    name: 'test class missing from train/',
    run: async (dir) => {
      await classFolders(join(dir, 'train'), { a: 1 });
      await classFolders(join(dir, 'test'), { a: 1, z: 1 });
      return loadDataset(`folder:${dir}`);
    },
    message: /test\/z: class 'z' does not exist in .*train; expected the same class folders in train\/ and test\//,
  },
  // Specs and directories
  {
    name: 'unknown spec prefix',
    run: () => loadDataset('imagenet:/data/imagenet'),
    message: /unknown dataset kind 'imagenet' in spec 'imagenet:\/data\/imagenet'; expected one of cifar10:, cifar100:, fashion-mnist:, mnist:, folder:, synthetic:/,
  },
  {
    name: 'spec without its directory',
    run: () => loadDataset('cifar10:'),
    message: /dataset spec 'cifar10:' lacks its argument; expected a directory/,
  },
  {
    name: 'unknown synthetic generator',
    run: () => loadDataset('synthetic:stripes'),
    message: /unknown synthetic dataset 'stripes' in spec 'synthetic:stripes'; expected one of synthetic:colour, synthetic:orientation/,
  },
  {
    name: 'missing directory',
    run: (dir) => loadDataset(`cifar10:${join(dir, 'nowhere')}`),
    message: (dir) => new RegExp(`${esc(join(dir, 'nowhere'))}: dataset directory does not exist`),
  },
  {
    name: 'a file given as the directory',
    run: (dir) => {
      writeFileSync(join(dir, 'file'), '');
      return loadDataset(`folder:${join(dir, 'file')}`);
    },
    message: /file: is not a directory; expected the image folder directory/,
  },
  // Sizes
  {
    name: 'more training images asked for than the files hold',
    run: (dir) => {
      writeFakeIdx(dir, { train: 4 });
      return loadDataset(`mnist:${dir}`, { trainCount: 9 });
    },
    message: /trainCount = 9 but only 4 images are available/,
    kind: 'range',
  },
  {
    name: 'proxy fraction above 1',
    run: () => sampleProxy(tiny, { kind: 'fraction', fraction: 1.5 }),
    message: /proxy fraction must be in \(0, 1\], got 1\.5/,
    kind: 'range',
  },
  {
    name: 'proxy count above the set size',
    run: () => sampleProxy(tiny, { kind: 'count', count: 13 }),
    message: /proxy asks for 13 images but the set has only 12/,
    kind: 'range',
  },
  {
    name: 'proxy with more classes than exist',
    run: () => sampleProxy(tiny, { kind: 'classes', classes: 4, perClass: 2 }),
    message: /proxy asks for 4 classes but the set has only 3 classes with images/,
    kind: 'range',
  },
  {
    name: 'proxy with more images per class than a class has',
    run: () => sampleProxy(tiny, { kind: 'classes', classes: 3, perClass: 4 }, 1),
    message: /proxy asks for 4 images per class but class [01] has only 3/,
    kind: 'range',
  },
  {
    name: 'proxy too small to halve',
    run: () => sampleProxy(tiny, { kind: 'fraction', fraction: 0.05 }),
    message: /proxy of 1 image\(s\) from 12 cannot be split into two non-empty halves/,
    kind: 'range',
  },
  {
    name: 'sampler state restored onto a set of another size',
    run: () => new BatchSampler(11, new BatchSampler(12, { batchSize: 4 }).state()),
    message: /sampler state was saved for 12 images but this set has 11/,
    kind: 'range',
  },
];

test('bad dataset input: every case fails with its specific message', async (t) => {
  for (const c of CASES) {
    await t.test(c.name, async () => {
      const tmp = tempDir('bad');
      try {
        const pattern = typeof c.message === 'function' ? c.message(tmp.dir) : c.message;
        await assert.rejects(
          async () => c.run(tmp.dir),
          (err: unknown) => {
            assert.ok(err instanceof (c.kind === 'range' ? RangeError : DatasetError), `${c.name}: wrong error type ${String(err)}`);
            assert.match((err as Error).message, pattern);
            return true;
          },
        );
      } finally {
        tmp.remove();
      }
    });
  }
  console.log(`${CASES.length} bad-input cases`);
});
