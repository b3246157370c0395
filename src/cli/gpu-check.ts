/**
 * `dralab gpu-check` (and the GPU bundle's run.sh, scripts/gpu-bundle.mjs): one run that
 * measures dralab on a WebGPU adapter. It reports the adapter; times a training step of
 * ResNet-20 and WRN-28-10 at batch 128 on WebGPU, and ResNet-20 on wasm for the ratio;
 * runs steps of the search with the official CIFAR recipe (`--preset official-cifar`) on
 * synthetic:colour, with its step time, the GPU-hours the official search (300 steps)
 * would take at that rate, the GPU memory tfjs reports, and the losses, checked finite and
 * compared with the same first steps on wasm. `--tiny` shrinks everything for a software
 * adapter (the CI check). Writes gpu-check.json and gpu-check.log to `--out` (or $OUT).
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../backend/select';
import { createModel } from '../models';
import { DraSearch } from '../search/search';
import { SGD } from '../train/optim';
import { trainStep } from '../train/step';

export interface GpuCheckOptions {
  tiny: boolean;
  allowSoftware: boolean;
  out?: string;
}

interface StepTiming {
  model: string;
  backend: string;
  batch: number;
  msPerStep: number;
  loss: number;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function runGpuCheck(options: GpuCheckOptions): Promise<Record<string, unknown>> {
  const out = options.out ?? process.env.OUT;
  if (out) mkdirSync(out, { recursive: true });
  const log = (line: string) => {
    process.stdout.write(`${line}\n`);
    if (out) appendFileSync(join(out, 'gpu-check.log'), `${line}\n`);
  };
  const started = performance.now();
  const webgpu = async () => selectBackend({ backend: 'webgpu', reselect: true, ...(options.allowSoftware ? { allowSoftwareWebgpu: true } : {}) });
  const report = await webgpu();
  const adapter = report.details;
  log(`adapter: ${JSON.stringify(adapter)}`);
  if (adapter.isSoftware === true && !options.allowSoftware) throw new Error('the WebGPU adapter is a software one; pass --allow-software to measure it anyway');

  const batch = options.tiny ? 8 : 128;
  const timedSteps = options.tiny ? 2 : 10;
  const timeTraining = async (model: string, backend: string): Promise<StepTiming> => {
    const net = createModel(model, { numClasses: 10, inputShape: [32, 32, 3], affineBatchNorm: true, seed: 1 });
    const optimizer = new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    const images = tf.randomUniform([batch, 32, 32, 3], 0, 255, 'float32', 3) as tf.Tensor4D;
    const labels = tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 10), 'int32');
    const times: number[] = [];
    let loss = NaN;
    for (let s = 0; s < 2 + timedSteps; s++) {
      const t0 = performance.now();
      loss = (await trainStep(net, optimizer, images, labels, { clipNorm: 5 })).loss; // awaits the loss: the GPU has finished
      if (s >= 2) times.push(performance.now() - t0);
    }
    tf.dispose([images, labels]);
    net.dispose();
    optimizer.dispose();
    const timing = { model, backend, batch, msPerStep: median(times), loss };
    log(`train step ${model} batch ${batch} on ${backend}: ${timing.msPerStep.toFixed(1)} ms (loss ${loss.toFixed(3)})`);
    return timing;
  };
  const training: StepTiming[] = [];
  const gpuModels = options.tiny ? ['resnet-20'] : ['resnet-20', 'wrn-28-10'];
  for (const model of gpuModels) training.push(await timeTraining(model, 'webgpu'));
  // The wasm reference runs on one thread: the bundle carries tfjs's single-threaded build only.
  await selectBackend({ backend: 'wasm', threads: 1, reselect: true });
  const wasmResnet = await timeTraining('resnet-20', 'wasm');
  training.push(wasmResnet);
  await webgpu();

  // The search with the official CIFAR recipe; --tiny keeps its semantics on a small model.
  const searchSteps = options.tiny ? 3 : 50;
  const settings = options.tiny
    ? { preset: 'official-cifar' as const, model: 'tiny-cnn', batchSize: 8, trainCount: 512, testCount: 16, proxyFraction: 0.5, steps: 300, seed: 0 }
    : { preset: 'official-cifar' as const, trainCount: 50_000, testCount: 1000, steps: 300, seed: 0 };
  const search = await DraSearch.create({ ...settings, data: 'synthetic:colour', backend: 'webgpu' });
  // tfjs's WebGPU backend reports its buffers' bytes; the largest after any step is the peak seen.
  type GpuMemory = tf.MemoryInfo & { numBytesInGPU?: number; numBytesAllocatedInGPU?: number };
  let peakAllocated = 0;
  let peakInUse = 0;
  const records = (
    await search.run({
      steps: searchSteps,
      onStep: () => {
        const m = tf.memory() as GpuMemory;
        peakAllocated = Math.max(peakAllocated, m.numBytesAllocatedInGPU ?? 0);
        peakInUse = Math.max(peakInUse, m.numBytesInGPU ?? 0);
      },
    })
  ).records;
  const memory = tf.memory() as GpuMemory;
  search.dispose();
  const stepMs = median(records.slice(1).map((r) => r.milliseconds));
  const losses = records.map((r) => r.valLoss);
  log(`search (${settings.model ?? 'wrn-28-10'}, batch ${settings.batchSize ?? 128}) ${records.length} steps: ${stepMs.toFixed(1)} ms/step; official search (300 steps) ~ ${((stepMs * 300) / 3.6e6).toFixed(3)} GPU-hours`);
  // The same first steps on wasm: same seed, same draws; the losses should agree closely.
  // One step for the full-size model (a WRN-28-10 step at batch 128 takes minutes on wasm).
  const compared = Math.min(options.tiny ? 3 : 1, records.length);
  await selectBackend({ backend: 'wasm', threads: 1, reselect: true });
  const reference = await DraSearch.create({ ...settings, data: 'synthetic:colour', backend: 'wasm' });
  const referenceLosses = (await reference.run({ steps: compared })).records.map((r) => r.valLoss);
  reference.dispose();
  const relative = referenceLosses.map((l, i) => Math.abs(losses[i]! - l) / Math.max(1e-6, Math.abs(l)));
  const result = {
    format: 'dralab.gpu-check',
    version: 1,
    date: new Date().toISOString(),
    tiny: options.tiny,
    adapter,
    training,
    webgpuOverWasmResnet20: wasmResnet.msPerStep / training[0]!.msPerStep,
    search: {
      settings: { ...settings, data: 'synthetic:colour' },
      steps: records.length,
      msPerStep: stepMs,
      officialSearchGpuHours: (stepMs * 300) / 3.6e6,
      losses,
      finite: losses.every(Number.isFinite),
      wasmLosses: referenceLosses,
      relativeDifferenceToWasm: relative,
    },
    memory: { peakBytesInGPU: peakInUse || null, peakBytesAllocatedInGPU: peakAllocated || null, numBytesInGPUAtEnd: memory.numBytesInGPU ?? null, numTensors: memory.numTensors },
    seconds: (performance.now() - started) / 1000,
  };
  log(`GPU memory (tfjs's buffer manager): peak ${(peakInUse / 2 ** 20).toFixed(0)} MiB in use, ${(peakAllocated / 2 ** 20).toFixed(0)} MiB allocated`);
  log(`losses finite: ${result.search.finite}; first ${compared} losses vs wasm, relative difference: ${relative.map((r) => r.toExponential(1)).join(', ')}`);
  if (out) writeFileSync(join(out, 'gpu-check.json'), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** Parses run.sh's and `dralab gpu-check`'s arguments: --tiny, --allow-software, --out DIR. */
export function parseGpuCheckArgs(argv: readonly string[]): GpuCheckOptions {
  const options: GpuCheckOptions = { tiny: false, allowSoftware: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--tiny') options.tiny = true;
    else if (arg === '--allow-software') options.allowSoftware = true;
    else if (arg === '--out' && argv[i + 1]) options.out = argv[++i]!;
    else throw new Error(`gpu-check: unknown argument '${arg}'; expected --tiny, --allow-software, --out DIR`);
  }
  return options;
}

export function registerGpuCheckCommand(program: import('commander').Command): void {
  program
    .command('gpu-check')
    .description('measure dralab on the WebGPU adapter: training steps, the official-recipe search, losses against wasm (JSON to --out or $OUT)')
    .option('--tiny', 'small models and batches (a software adapter, the CI check)')
    .option('--allow-software', 'measure a software adapter too')
    .option('--out <dir>', 'folder for gpu-check.json and gpu-check.log (default: $OUT)')
    .action(async (o: { tiny?: boolean; allowSoftware?: boolean; out?: string }) => {
      await runGpuCheck({ tiny: Boolean(o.tiny), allowSoftware: Boolean(o.allowSoftware), ...(o.out ? { out: o.out } : {}) });
    });
}
