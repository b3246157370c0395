/**
 * `npm run soak`: a test-sized search of 2,000 steps (tiny-cnn, CPU) sampling
 * tf.memory().numTensors and the process RSS every 100 steps, checkpointing every 500.
 * Fails (exit 1) if the tensor count moves after the first sample or RSS grows by more
 * than DRALAB_SOAK_RSS_MB (default 150 MB) between step 100 and the end. Writes the
 * samples to bench-results/soak.json.
 *
 * Environment: DRALAB_SOAK_STEPS (default 2000), DRALAB_SOAK_BATCH (default 32).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select';
import { DraSearch } from '../../src/search/search';

interface Sample {
  step: number;
  numTensors: number;
  numBytes: number;
  rssMB: number;
  msPerStep: number;
}

async function main(): Promise<void> {
  const steps = Number(process.env.DRALAB_SOAK_STEPS ?? 2000);
  const batch = Number(process.env.DRALAB_SOAK_BATCH ?? 32);
  const rssBoundMB = Number(process.env.DRALAB_SOAK_RSS_MB ?? 150);
  const backend = await selectBackend();
  const search = await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', steps, batchSize: batch, seed: 0, trainCount: 2000, testCount: 100 });
  const checkpointDir = mkdtempSync(join(tmpdir(), 'dralab-soak-'));
  const samples: Sample[] = [];
  let last = performance.now();
  console.log(`soak: ${steps} steps, batch ${batch}, backend ${backend.backend}, ${backend.threads} thread${backend.threads > 1 ? 's' : ''}${backend.details.convolutions ? `, convolutions: ${String(backend.details.convolutions)}` : ''}`);
  await search.run({
    onStep: async (rec) => {
      if (rec.step % 500 === 0) await search.save(checkpointDir);
      if (rec.step % 100 !== 0) return;
      global.gc?.();
      const now = performance.now();
      const m = tf.memory();
      const sample = { step: rec.step, numTensors: m.numTensors, numBytes: m.numBytes, rssMB: process.memoryUsage().rss / 2 ** 20, msPerStep: (now - last) / 100 };
      last = now;
      samples.push(sample);
      console.log(`step ${sample.step}: numTensors ${sample.numTensors}, tensor bytes ${sample.numBytes}, RSS ${sample.rssMB.toFixed(1)} MB, ${sample.msPerStep.toFixed(0)} ms/step`);
    },
  });
  search.dispose();
  rmSync(checkpointDir, { recursive: true, force: true });
  const first = samples[0]!;
  const end = samples[samples.length - 1]!;
  const tensorsFlat = samples.every((s) => s.numTensors === first.numTensors && s.numBytes === first.numBytes);
  const rssGrowth = end.rssMB - first.rssMB;
  const verdict = { steps, batch, backend: backend.backend, tensorsFlat, rssGrowthMB: rssGrowth, rssBoundMB, samples };
  const dir = resolve(process.env.DRALAB_BENCH_DIR ?? 'bench-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'soak.json'), `${JSON.stringify(verdict, null, 2)}\n`);
  console.log(`numTensors flat: ${tensorsFlat} (${first.numTensors}); RSS ${first.rssMB.toFixed(1)} -> ${end.rssMB.toFixed(1)} MB (growth ${rssGrowth.toFixed(1)} MB, bound ${rssBoundMB} MB)`);
  if (!tensorsFlat || rssGrowth > rssBoundMB) process.exit(1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
