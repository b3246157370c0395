/**
 * Writers of tiny real-format dataset files (CIFAR binary, IDX) in temporary folders,
 * with pixels that encode their own position so a loader's layout can be checked
 * exactly.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `dralab-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The pixel value a fake image n has at channel c, row y, column x. */
export function fakePixel(n: number, c: number, y: number, x: number): number {
  return (n * 37 + c * 101 + y * 7 + x * 3) % 256;
}

/** One CIFAR record set: for each image, label byte(s) then planar R, G, B rows. */
export function cifarBytes(labels: readonly (readonly number[])[], firstImage: number): Uint8Array {
  const labelBytes = labels[0]?.length ?? 1;
  const record = labelBytes + 3072;
  const out = new Uint8Array(labels.length * record);
  labels.forEach((ls, i) => {
    out.set(ls, i * record);
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) out[i * record + labelBytes + c * 1024 + y * 32 + x] = fakePixel(firstImage + i, c, y, x);
      }
    }
  });
  return out;
}

/** CIFAR-10 layout with `perBatch` images in each of the 5 train batches and `testCount` test images. */
export function writeFakeCifar10(dir: string, perBatch = 2, testCount = 3, meta = true): void {
  mkdirSync(dir, { recursive: true });
  let n = 0;
  for (let b = 1; b <= 5; b++) {
    const labels = Array.from({ length: perBatch }, (_, i) => [(n + i) % 10]);
    writeFileSync(join(dir, `data_batch_${b}.bin`), cifarBytes(labels, n));
    n += perBatch;
  }
  const testLabels = Array.from({ length: testCount }, (_, i) => [(7 * i + 3) % 10]);
  writeFileSync(join(dir, 'test_batch.bin'), cifarBytes(testLabels, 1000));
  if (meta) writeFileSync(join(dir, 'batches.meta.txt'), 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n');
}

/** CIFAR-100 layout: record labels are [coarse, fine]. */
export function writeFakeCifar100(dir: string, train: number[][], test: number[][]): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.bin'), cifarBytes(train, 0));
  writeFileSync(join(dir, 'test.bin'), cifarBytes(test, 500));
  writeFileSync(join(dir, 'fine_label_names.txt'), Array.from({ length: 100 }, (_, i) => `fine${i}`).join('\n'));
  writeFileSync(join(dir, 'coarse_label_names.txt'), Array.from({ length: 20 }, (_, i) => `coarse${i}`).join('\n'));
}

/** An IDX file of unsigned bytes: magic 0x0000080<dims>, big-endian dims, data. */
export function idxBytes(dims: readonly number[], data: Uint8Array, magic = 0x00000800 + dims.length): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Fake greyscale images [count, h, w] with fakePixel values (channel 0). */
export function idxImages(count: number, h: number, w: number, firstImage = 0): Uint8Array {
  const data = new Uint8Array(count * h * w);
  for (let n = 0; n < count; n++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[(n * h + y) * w + x] = fakePixel(firstImage + n, 0, y, x);
  return data;
}

export function writeFakeIdx(dir: string, options: { gzip?: boolean; train?: number; test?: number; size?: number } = {}): void {
  const { gzip = false, train = 4, test = 3, size = 28 } = options;
  mkdirSync(dir, { recursive: true });
  const write = (name: string, bytes: Uint8Array): void => writeFileSync(join(dir, gzip ? `${name}.gz` : name), gzip ? gzipSync(bytes) : bytes);
  write('train-images-idx3-ubyte', idxBytes([train, size, size], idxImages(train, size, size)));
  write('train-labels-idx1-ubyte', idxBytes([train], Uint8Array.from({ length: train }, (_, i) => (3 * i + 1) % 10)));
  write('t10k-images-idx3-ubyte', idxBytes([test, size, size], idxImages(test, size, size, 100)));
  write('t10k-labels-idx1-ubyte', idxBytes([test], Uint8Array.from({ length: test }, (_, i) => (5 * i + 2) % 10)));
}
