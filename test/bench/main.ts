/**
 * `npm run bench [-- <suite> ...]`: runs benchmark suites and writes their results as
 * JSON to bench-results/<suite>.json (override the folder with DRALAB_BENCH_DIR).
 * Benchmarks report ratios measured side by side in one run; absolute times on shared
 * 2-core machines are noisy. Suites: see SUITES below.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface BenchRow {
  [column: string]: string | number | null;
}

export interface BenchResult {
  suite: string;
  /** Rows of the printed table. */
  rows: BenchRow[];
  /** Anything else worth keeping (backend report, settings). */
  meta: Record<string, unknown>;
}

type Suite = () => Promise<BenchResult>;

/** Each suite is a module test/bench/<name>.ts exporting `run()`. */
const SUITES: Record<string, () => Promise<Suite>> = {
  train: async () => (await import('./train')).run,
  ops: async () => (await import('./ops')).run,
  search: async () => (await import('./search')).run,
  headline: async () => (await import('./headline')).run,
  notebook: async () => (await import('./notebook')).run,
  webgpu: async () => (await import('./webgpu')).run,
  'torch-transform': async () => (await import('./torch-transform')).run,
};

function printTable(result: BenchResult): void {
  const rows = result.rows;
  if (rows.length === 0) return;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3)) : String(v ?? ''));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(`\n== ${result.suite}`);
  console.log(line(columns));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
}

/** What a bare `npm run bench` runs; headline (tens of minutes) and notebook run when named. */
const DEFAULT_SUITES = ['train', 'ops', 'search', 'webgpu'];

export async function main(argv: string[]): Promise<void> {
  const requested = argv.length > 0 ? argv : DEFAULT_SUITES;
  const outDir = resolve(process.env.DRALAB_BENCH_DIR ?? 'bench-results');
  mkdirSync(outDir, { recursive: true });
  for (const name of requested) {
    const load = SUITES[name];
    if (!load) throw new Error(`unknown bench suite '${name}'; expected one of ${Object.keys(SUITES).join(', ')}`);
    const result = await (await load())();
    printTable(result);
    const file = join(outDir, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`-> ${file}`);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
