/**
 * `DraSgdUpdate`: one SGD step (PyTorch's rule, see SGD in optim.ts) over every
 * parameter at once, as a host kernel on cpu and wasm. The composite spends eight small
 * tensor ops per parameter (about 470 dispatches for a ResNet-20); this is one loop over
 * all values. Every other backend runs the composite.
 *
 * Each operation is rounded to float32 in the composite's order, so the results are
 * bit-identical to it.
 *
 * Inputs: p0, g0[, b0], p1, g1[, b1], ... (parameter, gradient, momentum buffer when
 * momentum > 0). Outputs: the new parameters, then the new buffers.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { runOnHost, type HostKernel } from '../engine/host-kernels';

export const SGD_UPDATE = 'DraSgdUpdate';

export interface SgdUpdateAttrs {
  count: number;
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  decoupledWeightDecay: boolean;
}

const f32 = Math.fround;

const sgdUpdateKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const a = attrs as unknown as SgdUpdateAttrs;
  const withMomentum = a.momentum > 0;
  const ins: tf.TensorInfo[] = [];
  const outs: { shape: number[] }[] = [];
  for (let i = 0; i < a.count; i++) {
    const p = inputs[`p${i}`];
    const g = inputs[`g${i}`];
    const b = inputs[`b${i}`];
    if (!p || !g || (withMomentum && !b)) throw new Error(`${SGD_UPDATE}: inputs for parameter ${i} are missing`);
    for (const t of withMomentum ? [p, g, b!] : [p, g]) {
      if (t.dtype !== 'float32' || t.shape.join() !== p.shape.join()) throw new Error(`${SGD_UPDATE}: parameter ${i} needs float32 tensors of shape [${p.shape}], got ${t.dtype} [${t.shape}]`);
    }
    ins.push(...(withMomentum ? [p, g, b!] : [p, g]));
    outs.push({ shape: [...p.shape] });
  }
  if (withMomentum) for (let i = 0; i < a.count; i++) outs.push({ shape: [...ins[3 * i]!.shape] });
  // Scalars become float32 tensors in the composite.
  const lr = f32(a.learningRate);
  const m = f32(a.momentum);
  const wd = f32(a.weightDecay);
  const shrink = f32(1 - a.learningRate * a.weightDecay);
  const decay = a.weightDecay > 0 ? (a.decoupledWeightDecay ? 'decoupled' : 'l2') : 'none';
  const stride = withMomentum ? 3 : 2;
  return runOnHost(backend, ins, outs, (arrays, results) => {
    for (let i = 0; i < a.count; i++) {
      const p = arrays[stride * i]!;
      const g = arrays[stride * i + 1]!;
      const b = withMomentum ? arrays[3 * i + 2]! : undefined;
      const pOut = results[i]!;
      const bOut = withMomentum ? results[a.count + i]! : undefined;
      for (let k = 0; k < p.length; k++) {
        const pk = p[k]!;
        let gk = g[k]!;
        let base = pk;
        if (decay === 'decoupled') base = f32(pk * shrink);
        else if (decay === 'l2') gk = f32(gk + f32(pk * wd));
        let direction = gk;
        if (b) {
          const buf = f32(f32(b[k]! * m) + gk);
          bOut![k] = buf;
          direction = a.nesterov ? f32(gk + f32(buf * m)) : buf;
        }
        pOut[k] = f32(base - f32(direction * lr));
      }
    }
  });
};

/** The optimiser update as a host kernel (registered by ./optim). */
export const SGD_KERNELS: readonly HostKernel[] = [{ kernelName: SGD_UPDATE, kernelFunc: sgdUpdateKernel }];
