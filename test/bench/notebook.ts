/**
 * Cost of the live dashboard on a running search: the same loop with and without
 * `show(search).run(...)` (updates throttled to the default interval, sent to a sink that
 * JSON-encodes them as the kernel would). Two loops: the real search (tiny-cnn on the
 * synthetic colour set) and a fast stand-in with 5 ms steps, the worst case for overhead.
 * Runs alternate to spread machine noise over both arms.
 */
import { setDisplaySink, show, DASHBOARD_DEFAULTS, type RunnableSearch } from '../../src/notebook';
import { DraSearch } from '../../src/search';
import { FakeSearch } from '../notebook/fake-search';
import { RecordingSink } from '../notebook/recorder';
import type { BenchResult, BenchRow } from './main';

async function timeRun(search: RunnableSearch, steps: number, withDashboard: boolean): Promise<{ ms: number; updates: number }> {
  const started = performance.now();
  let updates = 0;
  if (withDashboard) updates = (await show(search).run({ steps })).updates;
  else await search.run({ steps });
  return { ms: performance.now() - started, updates };
}

async function compare(label: string, make: () => Promise<RunnableSearch>, steps: number, rounds: number): Promise<BenchRow> {
  const plain: number[] = [];
  const live: number[] = [];
  let updates = 0;
  for (let r = 0; r < rounds; r++) {
    for (const withDashboard of r % 2 === 0 ? [false, true] : [true, false]) {
      const search = await make();
      await search.step(); // warm-up: first-step compilation stays out of both arms
      const t = await timeRun(search, steps, withDashboard);
      (withDashboard ? live : plain).push(t.ms);
      if (withDashboard) updates += t.updates;
      (search as { dispose?: () => void }).dispose?.();
    }
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const plainMs = sum(plain) / plain.length;
  const liveMs = sum(live) / live.length;
  return { loop: label, steps, rounds, 'plain ms/step': plainMs / steps, 'live ms/step': liveMs / steps, 'overhead %': (100 * (liveMs - plainMs)) / plainMs, 'updates/run': updates / rounds };
}

export async function run(): Promise<BenchResult> {
  const sink = new RecordingSink();
  setDisplaySink(sink);
  const rows: BenchRow[] = [];
  rows.push(await compare('fake 5 ms steps', async () => new FakeSearch(5), 400, 3));
  rows.push(await compare('DraSearch tiny-cnn b16', async () => (await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', seed: 0, batchSize: 16 })) as unknown as RunnableSearch, 25, 2));
  // The price of one update, which the throttle spreads over intervalMs.
  const search = new FakeSearch(0);
  await search.run({ steps: 300 });
  const dashboard = show(search);
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) dashboard.update(true);
  const renderMs = (performance.now() - t0) / 10;
  rows.push({ loop: 'one update (300 steps of history)', 'render+send ms': renderMs, 'bound %': (100 * renderMs) / DASHBOARD_DEFAULTS.intervalMs });
  setDisplaySink(undefined);
  return { suite: 'notebook', rows, meta: { intervalMs: DASHBOARD_DEFAULTS.intervalMs, bytesSent: sink.bytes } };
}
