/**
 * Hostile input that used to give a silent wrong result, a crash or an unclear error:
 * a resume on data or checkpoint files changed since they were written, a manifest
 * without its state, NaN and infinity given to the ops, sizes that cannot fit, a dataset
 * folder with one class or nested folders, and misuse of the search object. Each case is
 * named by what it guards and checks the message names what was wrong.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import sharp from 'sharp';
import { selectBackend } from '../../src/backend/select';
import { loadDataset } from '../../src/data';
import { applyOp } from '../../src/ops';
import { DraSearch } from '../../src/search/search';
import { checkAllocation } from '../../src/util/memory';
import { bin, cliEnv, dralab, root } from '../helpers/cli';

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
});

async function png(path: string, shade: number, size = 8): Promise<void> {
  await sharp(new Uint8Array(size * size * 3).fill(shade), { raw: { width: size, height: size, channels: 3 } }).png().toFile(path);
}

/** A folder dataset of `perClass` images in each of `classes` class folders (distinct shades). */
async function imageFolder(dir: string, classes: readonly string[], perClass: number): Promise<void> {
  for (const [c, name] of classes.entries()) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 0; i < perClass; i++) await png(join(dir, name, `${i}.png`), 20 + 100 * c + i);
  }
}

const tinyFolderRun = (data: string, out: string): string[] => ['search', '--data', `folder:${data}`, '--model', 'tiny-cnn', '--batch-size', '4', '--steps', '1', '--seed', '2', '--out', out, '--no-report'];

function smallRun(out: string): string[] {
  return ['search', '--data', 'synthetic:colour', '--model', 'tiny-cnn', '--train-count', '64', '--test-count', '16', '--batch-size', '8', '--steps', '1', '--seed', '4', '--out', out, '--no-report'];
}

describe('a resume verifies the data and the checkpoint it continues', () => {
  it('a folder dataset that gained or lost images since the checkpoint is refused, naming the change; restored, it resumes', async () => {
    const base = mkdtempSync(join(tmpdir(), 'dralab-datahash-'));
    const data = join(base, 'data');
    await imageFolder(data, ['a', 'b'], 10);
    const out = join(base, 'run');
    const first = dralab(tinyFolderRun(data, out));
    assert.equal(first.status, 0, first.stderr);

    await png(join(data, 'a', 'extra.png'), 250);
    const gained = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
    assert.notEqual(gained.status, 0);
    assert.match(gained.stderr, /the data 'folder:.*' changed since the checkpoint was written \(16 training images when saved, 17 now\)/);

    rmSync(join(data, 'a', 'extra.png'));
    rmSync(join(data, 'b', '9.png'));
    const lost = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
    assert.notEqual(lost.status, 0);
    assert.match(lost.stderr, /changed since the checkpoint was written \(16 training images when saved, 1[45] now\)/);
    assert.doesNotMatch(lost.stderr, /out of range/);

    await png(join(data, 'b', '9.png'), 20 + 100 + 9);
    const restored = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
    assert.equal(restored.status, 0, restored.stderr);
    assert.match(restored.stdout, /search finished at step 2\/2/);
  });

  it('a folder image whose pixels changed (same count) is refused as different content', async () => {
    const base = mkdtempSync(join(tmpdir(), 'dralab-datahash2-'));
    const data = join(base, 'data');
    await imageFolder(data, ['a', 'b'], 10);
    const out = join(base, 'run');
    assert.equal(dralab(tinyFolderRun(data, out)).status, 0);
    await png(join(data, 'a', '3.png'), 3);
    const r = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /the same \d+ training images, different content/);
  });

  it('64 bytes overwritten inside tensors.bin (same size) are refused with the tensor that no longer matches', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-checksum-')), 'run');
    assert.equal(dralab(smallRun(out)).status, 0);
    const blob = join(out, 'checkpoint', 'tensors.bin');
    const size = readFileSync(blob).byteLength;
    const fd = openSync(blob, 'r+');
    writeSync(fd, new Uint8Array(64).fill(0x7f), 0, 64, Math.floor(size / 2));
    closeSync(fd);
    assert.equal(readFileSync(blob).byteLength, size);
    const r = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /tensor '[a-zA-Z]+\/\d+' does not match its checksum: tensors\.bin was changed or damaged after it was written/);
  });

  it('a history saved in the checkpoint that was edited is refused', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-checksum-h-')), 'run');
    assert.equal(dralab(smallRun(out)).status, 0);
    const history = join(out, 'checkpoint', 'history.jsonl');
    writeFileSync(history, readFileSync(history, 'utf8').replace('"type":"step"', '"type":"step" '));
    const r = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /history\.jsonl does not match its checksum/);
  });

  for (const [what, edit, message] of [
    ['a manifest without its config', (m: { state: Record<string, unknown> }) => delete m.state.config, /manifest\.json is corrupt, the run's state is incomplete \(config: missing\)/],
    ['a manifest without its RNG state', (m: { state: { search: Record<string, unknown> } }) => delete m.state.search.rng, /manifest\.json is corrupt, the run's state is incomplete \(search\.rng: missing\)/],
    ['a manifest that is null', () => null, /manifest\.json is corrupt: it holds null, not a checkpoint manifest/],
    ['a manifest without its state', (m: { state?: unknown }) => delete m.state, /manifest\.json is corrupt: it lacks the run's state/],
  ] as const) {
    it(`${what} is corrupt, never resumed with defaults`, () => {
      const out = join(mkdtempSync(join(tmpdir(), 'dralab-manifest-')), 'run');
      assert.equal(dralab(smallRun(out)).status, 0);
      const path = join(out, 'checkpoint', 'manifest.json');
      const manifest = JSON.parse(readFileSync(path, 'utf8'));
      const edited = (edit as (m: unknown) => unknown)(manifest);
      writeFileSync(path, JSON.stringify(edited === null ? null : manifest));
      const r = dralab(['search', '--resume', out, '--steps', '2', '--no-report']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /Cannot read properties/);
    });
  }
});

describe('the ops refuse values that are not numbers', () => {
  const image = () => tf.fill([2, 8, 8, 3], 100) as tf.Tensor4D;

  it('NaN or infinite pixels are refused, naming the argument and the first place', () => {
    const x = tf.tidy(() => {
      const v = new Float32Array(2 * 8 * 8 * 3).fill(100);
      v[8 * 8 * 3 + 5 * 8 * 3 + 2 * 3 + 1] = NaN;
      v[8 * 8 * 3 + 7 * 8 * 3] = Infinity;
      return tf.tensor4d(v, [2, 8, 8, 3]);
    });
    assert.throws(() => applyOp('Rotate', x, tf.tensor1d([0.5, 0.5])), /applyOp\(Rotate\): images hold 2 non-finite values \(first: NaN at \[1, 5, 2, 1\]\)/);
    x.dispose();
  });

  for (const [what, values] of [
    ['a NaN', [0.5, NaN]],
    ['an infinite', [Infinity, 0.5]],
    ['a negative', [-0.2, 0.5]],
  ] as const) {
    it(`${what} magnitude is refused with its index`, () => {
      const x = image();
      const before = tf.memory().numTensors;
      const index = values.findIndex((v) => !(Number.isFinite(v) && v >= 0));
      assert.throws(() => applyOp('Brightness', x, tf.tensor1d([...values])), new RegExp(`applyOp\\(Brightness\\): magnitude\\[${index}\\] = ${String(values[index])}; magnitudes must be finite and >= 0`));
      assert.ok(tf.memory().numTensors <= before + 1, 'a refused call leaks at most its own magnitude tensor');
      x.dispose();
    });
  }

  it('a sign other than +-1 is refused; magnitudes above 1 (a magnitude scale) are accepted', () => {
    const x = image();
    assert.throws(() => applyOp('Rotate', x, tf.tensor1d([0.5, 0.5]), { sign: tf.tensor1d([1, 0]) }), /sign\[1\] = 0; signs must be \+1 or -1/);
    const out = applyOp('Rotate', x, tf.tensor1d([1.5, 3]));
    assert.deepEqual(out.shape, [2, 8, 8, 3]);
    tf.dispose([x, out]);
  });
});

describe('sizes are refused before allocating, with the size they would need', () => {
  it('--train-count 1000000000 fails at once with the memory it would need (no hang, no typed-array error)', () => {
    const started = performance.now();
    const r = dralab(['search', '--data', 'synthetic:colour', '--train-count', '1000000000', '--steps', '1', '--out', join(mkdtempSync(join(tmpdir(), 'dralab-huge-')), 'run')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /synthetic:colour with 1000000000 train and \d+ test images of 32x32x3 would need 2\.8 TiB, more than the .* allowed/);
    assert.doesNotMatch(r.stderr, /Invalid typed array length/);
    assert.ok(performance.now() - started < 60_000);
  });

  it('the memory check counts the largest single array as well as the total', () => {
    assert.doesNotThrow(() => checkAllocation('small', 1024, 1024, 4096));
    assert.throws(() => checkAllocation('big', 8192, 1024, 4096), /big would need 8\.0 KiB, more than the 4\.0 KiB allowed/);
    assert.throws(() => checkAllocation('one array', 1, 2 ** 60, 2 ** 62), /one array of/);
  });

  /** A valid PNG header and IHDR claiming width x height, with a tiny IDAT: sharp reads the size without the pixels. */
  function pngClaiming(width: number, height: number): Buffer {
    const crcTable = Array.from({ length: 256 }, (_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });
    const crc = (buf: Buffer) => {
      let c = 0xffffffff;
      for (const b of buf) c = crcTable[(c ^ b) & 0xff]! ^ (c >>> 8);
      return (c ^ 0xffffffff) >>> 0;
    };
    const chunk = (type: string, data: Buffer) => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(data.length);
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const sum = Buffer.alloc(4);
      sum.writeUInt32BE(crc(body));
      return Buffer.concat([len, body, sum]);
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(16))), chunk('IEND', Buffer.alloc(0))]);
  }

  for (const backend of ['wasm', 'cpu']) {
    it(`augment refuses a PNG whose header claims 12000x12000 on ${backend}, naming the size, before decoding`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'dralab-bomb-'));
      const input = join(dir, 'claims-12000.png');
      writeFileSync(input, pngClaiming(12000, 12000));
      const r = dralab(['--backend', backend, 'augment', '--op', 'Rotate', '--magnitude', '0.5', '--input', input, '--output', join(dir, 'out.png')]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /augmenting '.*claims-12000\.png' \(12000x12000x3, 1 operator\)( on the wasm backend)? would need [\d.]+ GiB, more than the/);
      assert.doesNotMatch(r.stderr, /memory access out of bounds/);
    });
  }
});

describe('folder datasets say which folder is wrong', () => {
  it('a folder with one class names the folder and the class', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-oneclass-'));
    await imageFolder(dir, ['only'], 3);
    await assert.rejects(loadDataset(`folder:${dir}`), (err: Error) => {
      assert.equal(err.message, `${dir}: has one class folder ('only'); a classifier needs at least two, one folder of images per class`);
      return true;
    });
  });

  it('images in nested sub-folders of a class are not silently left out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-nested-'));
    await imageFolder(dir, ['cat', 'dog'], 2);
    mkdirSync(join(dir, 'cat', 'tabby'));
    await png(join(dir, 'cat', 'tabby', 'x.png'), 5);
    await assert.rejects(loadDataset(`folder:${dir}`), /cat: class folder 'cat' holds sub-folder 'tabby', whose images would be left out/);
  });
});

describe('the search object refuses misuse with what to do', () => {
  it('create(null) says settings must be an object', async () => {
    await assert.rejects(DraSearch.create(null as never), /DraSearch\.create\(settings\): settings must be an object of search settings .*got null/);
  });

  it('a step, run or save after dispose says the search was disposed (not "Tensor is disposed")', async () => {
    const search = await DraSearch.create({ data: 'synthetic:colour', trainCount: 32, testCount: 8, model: 'tiny-cnn', batchSize: 8, steps: 2 });
    search.dispose();
    search.dispose(); // twice is harmless
    for (const call of [() => search.step(), () => search.run(), () => search.save(mkdtempSync(join(tmpdir(), 'dralab-disposed-')))]) {
      await assert.rejects(call(), /this search was disposed; create a new one, or load a saved one with DraSearch\.load\(dir\)/);
    }
  });
});

describe('one writer per run folder, across processes', () => {
  it('a second search on the --out of a running one is refused as in use by its PID (not ENOENT)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'dralab-twice-')), 'run');
    const args = ['search', '--data', 'synthetic:colour', '--model', 'tiny-cnn', '--train-count', '192', '--test-count', '16', '--batch-size', '16', '--steps', '400', '--out', out, '--no-report'];
    const first = spawn(process.execPath, [bin, ...args], { cwd: root, env: cliEnv });
    const exited = new Promise<void>((resolve) => first.on('exit', () => resolve()));
    await new Promise<void>((resolve) => {
      let seen = '';
      first.stderr.on('data', (d) => {
        seen += d;
        if (/search \d+\/400/.test(seen)) resolve();
      });
      first.on('exit', () => resolve());
    });
    const second = dralab([...args, '--force']);
    first.kill('SIGKILL');
    await exited;
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, new RegExp(`is in use by process ${first.pid}`));
    assert.doesNotMatch(second.stderr, /ENOENT/);
  });
});
