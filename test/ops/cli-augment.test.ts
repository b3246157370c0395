/**
 * `dralab augment` end to end: spawns `node bin/dralab.js` (needs `npx tsc -p .` first) on
 * PNGs made from the Pillow fixtures and compares its PNG output with Pillow's.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadFixtures, type FixtureCase } from './helpers';

const ROOT = join(__dirname, '..', '..', '..');

function dralab(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'dralab.js'), 'augment', ...args], {
    encoding: 'utf8',
    env: { ...process.env, DRALAB_BACKEND: process.env.DRALAB_BACKEND ?? 'cpu' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('dralab augment', () => {
  let dir = '';
  const f = loadFixtures();
  const writeInput = async (i: number, path: string) => {
    const im = f.images[i]!;
    const size = im.height * im.width * 3;
    await sharp(Buffer.from(f.inputs.subarray(im.offset, im.offset + size)), { raw: { width: im.width, height: im.height, channels: 3 } }).png().toFile(path);
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dralab-augment-'));
    await writeInput(0, join(dir, 'face.png'));
    mkdirSync(join(dir, 'many'));
    await writeInput(0, join(dir, 'many', 'a.png'));
    await writeInput(1, join(dir, 'many', 'b.png'));
    writeFileSync(join(dir, 'broken.png'), 'not an image');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const pick = (op: string, pred: (c: FixtureCase) => boolean = () => true) => f.cases.find((c) => c.op === op && c.image === 0 && pred(c))!;
  for (const c of [pick('Rotate', (k) => k.interpolation === 'bilinear'), pick('ShearX', (k) => k.interpolation === 'nearest'), pick('Color'), pick('Equalize'), pick('SolarizeAdd')]) {
    it(`${c.op} m=${c.magnitude} sign=${c.sign}${c.interpolation ? ` ${c.interpolation} fill ${c.fill}` : ''} matches Pillow`, async () => {
      const out = join(dir, `${c.op}.png`);
      const args = ['--op', c.op, '--magnitude', String(c.magnitude), '--sign', String(c.sign), '--input', join(dir, 'face.png'), '--output', out];
      if (c.interpolation) args.push('--interpolation', c.interpolation, '--fill', String(c.fill));
      const r = dralab(args);
      assert.equal(r.status, 0, r.stderr);
      const { data, info } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([info.width, info.height, info.channels], [32, 32, 3]);
      const expected = f.outputs.subarray(c.offset, c.offset + data.length);
      let within = 0;
      for (let i = 0; i < data.length; i++) if (Math.abs(data[i]! - expected[i]!) <= 1) within++;
      assert.ok(within / data.length >= 0.99, `${c.op}: ${within}/${data.length} within 1 level`);
    });
  }

  it('--grid writes every operator side by side; directories map to directories', async () => {
    const grid = join(dir, 'grid.png');
    assert.equal(dralab(['--grid', '--magnitude', '0.5', '--input', join(dir, 'face.png'), '--output', grid]).status, 0);
    const meta = await sharp(grid).metadata();
    assert.deepEqual([meta.width, meta.height], [17 * 32, 32]);
    const outDir = join(dir, 'out');
    mkdirSync(outDir);
    const r = dralab(['--op', 'Invert', '--magnitude', '0', '--input', join(dir, 'many'), '--output', outDir]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(outDir).sort(), ['a.png', 'b.png']);
    const { data } = await sharp(join(outDir, 'b.png')).raw().toBuffer({ resolveWithObject: true });
    const im = f.images[1]!;
    for (let i = 0; i < data.length; i++) assert.equal(data[i], 255 - f.inputs[im.offset + i]!);
  });

  for (const [what, args, message] of [
    ['an unknown operator', ['--op', 'Sheer', '--magnitude', '0.5'], /unknown --op 'Sheer'/],
    ['a magnitude above 1', ['--op', 'Rotate', '--magnitude', '1.5'], /--magnitude must be a number in \[0, 1\], got '1.5'/],
    ['a magnitude that is not a number', ['--op', 'Rotate', '--magnitude', 'abc'], /--magnitude must be a number/],
    ['a sign of 0', ['--op', 'Rotate', '--magnitude', '0.5', '--sign', '0'], /--sign must be 1 or -1/],
    ['a fill of 300', ['--op', 'Rotate', '--magnitude', '0.5', '--fill', '300'], /--fill must be a number in \[0, 255\]/],
  ] as Array<[string, string[], RegExp]>) {
    it(`rejects ${what} with a clear error, a non-zero exit and no output`, () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}.png`);
      const r = dralab([...args, '--input', join(dir, 'face.png'), '--output', out]);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, message);
      assert.equal(existsSync(out), false);
    });
  }

  it('rejects an unreadable image naming the file, and writes nothing', () => {
    const out = join(dir, 'broken-out.png');
    const r = dralab(['--op', 'Invert', '--magnitude', '0', '--input', join(dir, 'broken.png'), '--output', out]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot read image '.*broken\.png'/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')), []);
  });
});
