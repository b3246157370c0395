/**
 * An augmentation worker (node:worker_threads): given a batch's packed 8-bit images, its
 * crops and flips and the policy's plan (drawn and computed on the training thread), it
 * builds the float levels and runs the 8-bit layer pass, with the same loops as the
 * DraLayerPass kernel (the compiled ones where they load, in a memory of their own), so
 * the bytes are the ones the training thread would have made. See ./prefetch.ts.
 */
import { parentPort } from 'node:worker_threads';
import { levelsOf } from '../data/batch';
import { layerPassWorkLength, runLayerPass, type LayerPassAttrs } from '../ops/kernels/layer-pass';
import { simdKernels } from '../ops/kernels/simd';

/** One batch to augment. */
export interface AugmentJob {
  id: number;
  images: Uint8Array;
  shape: [number, number, number, number];
  crops?: Int32Array;
  layers: number;
  plan: Int32Array;
  args: Float32Array;
  mats: Float32Array;
  centres: Float32Array;
  attrs: LayerPassAttrs;
}

export type AugmentReply = { id: number; levels: Float32Array } | { id: number; error: string };

/** The job's augmented levels [N, H, W, C]. */
export function augment(job: AugmentJob): Float32Array {
  const [n, h, w, c] = job.shape;
  const levels = levelsOf(job.images, n, { height: h, width: w, channels: c }, job.crops);
  if (job.layers === 0) return levels;
  const out = new Float32Array(levels.length);
  const simd = simdKernels(undefined);
  const work = simd ? new Int32Array(layerPassWorkLength(h * w * c, job.attrs.ops.length)) : undefined;
  runLayerPass({ images: levels, plan: job.plan, args: job.args, mats: job.mats, centres: job.centres, out, ...(work ? { work } : {}) }, job.shape, job.layers, job.attrs, simd);
  return out;
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: AugmentJob) => {
    try {
      const levels = augment(job);
      port.postMessage({ id: job.id, levels } satisfies AugmentReply, [levels.buffer]);
    } catch (err) {
      port.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies AugmentReply);
    }
  });
}
