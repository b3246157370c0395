/**
 * `npm run bench -- torch-transform`: dralab_torch's transform (rand-m9-n2, bit-exact with
 * dralab's 8-bit pass) against torchvision's RandAugment(2, 9) on the same PIL images, at
 * 32 and 224 px, nearest and bilinear (each against torchvision with the same interpolation),
 * in alternating rounds (python/benchmarks/bench_transform.py). Needs Debian's
 * python3-torch, python3-torchvision and python3-pil.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { BenchResult, BenchRow } from './main';
import { writeBenchmarksSection } from './util';

export async function run(): Promise<BenchResult> {
  const pkg = join(__dirname, '../../../python');
  const r = spawnSync('/usr/bin/python3', [join(pkg, 'benchmarks', 'bench_transform.py'), process.env.DRALAB_BENCH_ROUNDS ?? '7'], { encoding: 'utf8', cwd: pkg, env: { ...process.env, PYTHONPATH: pkg }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`bench_transform.py failed (python3-torch, python3-torchvision, python3-pil installed?): ${r.stderr.slice(-1500)}`);
  const result = JSON.parse(r.stdout) as Record<string, { dralab_torch: number; torchvision: number; ratio: number; ratio_range: [number, number] }>;
  const rows: BenchRow[] = Object.entries(result).map(([key, v]) => ({
    'image size': `${key.split(' ')[0]} px`,
    interpolation: key.split(' ')[1]!,
    'dralab_torch (images/s)': Math.round(v.dralab_torch),
    'torchvision RandAugment(2, 9), same interpolation (images/s)': Math.round(v.torchvision),
    'ratio (median)': Number(v.ratio.toFixed(2)),
    'ratio range': `${v.ratio_range[0].toFixed(2)}-${v.ratio_range[1].toFixed(2)}`,
  }));
  const header = Object.keys(rows[0]!);
  const table = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${header.map((h) => String(row[h])).join(' | ')} |`)].join('\n');
  writeBenchmarksSection(
    'torch-transform',
    'dralab_torch transform vs torchvision RandAugment',
    `${table}\n\nSingle process, torch on 1 thread (as in a DataLoader worker), PIL images in and out, the same images for both, alternating rounds; images per second of process CPU time (wall-clock rounds on this shared machine varied 2x). Nearest is torchvision's default interpolation, bilinear dralab's. dralab_torch does dralab's float32 arithmetic in numpy (so its bytes equal dralab's), on per-thread scratch arrays; torchvision's RandAugment calls Pillow's C operators. A ratio below 1 means dralab_torch is slower.`,
  );
  return { suite: 'torch-transform', rows, meta: { policy: 'rand-m9-n2', peer: 'torchvision.transforms.RandAugment(num_ops=2, magnitude=9)' } };
}
