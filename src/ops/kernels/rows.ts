/**
 * Row gather as a host kernel pair: `DraGatherRows` (params [R, W], int32 indices [K] ->
 * [K, W]) copies whole rows, and its gradient `DraScatterRows` adds dy's rows back into
 * [R, W] (duplicate indices sum). On cpu and wasm this replaces tf.gather and the
 * scatterND gradient of the composite in primitives.ts with plain array copies.
 * `DraSplitRows` cuts [R, ...] into consecutive blocks of rows (tf.split along axis 0,
 * which wasm runs far slower than a copy); its gradient is the concatenation, and
 * `DraConcatRows` (tf.concat along axis 0) is the converse pair.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runOnHost, type HostKernel } from '../../engine/host-kernels';

export const GATHER_ROWS = 'DraGatherRows';
export const SCATTER_ROWS = 'DraScatterRows';
export const SPLIT_ROWS = 'DraSplitRows';
export const CONCAT_ROWS = 'DraConcatRows';

export interface SplitRowsAttrs {
  /** Rows of each consecutive block; they add up to the input's rows. */
  sizes: number[];
}

export interface ScatterRowsAttrs {
  rows: number;
}

function checkIndices(indices: ArrayLike<number>, rows: number, kernel: string): void {
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!(r >= 0 && r < rows)) throw new Error(`${kernel}: index ${r} at position ${i} is outside [0, ${rows - 1}]`);
  }
}

const gatherKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { params, indices } = inputs as { params: tf.TensorInfo; indices: tf.TensorInfo };
  const [rows, width] = params.shape as [number, number];
  const k = indices.shape[0]!;
  const [out] = runOnHost(backend, [params, indices], [{ shape: [k, width], dtype: params.dtype as 'float32' | 'int32' }], ([p, idx], [y]) => {
    checkIndices(idx!, rows, GATHER_ROWS);
    for (let i = 0; i < k; i++) {
      const r = idx![i]!;
      y!.set(p!.subarray(r * width, (r + 1) * width), i * width);
    }
  });
  return out!;
};

const scatterKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, indices } = inputs as { dy: tf.TensorInfo; indices: tf.TensorInfo };
  const { rows } = attrs as unknown as ScatterRowsAttrs;
  const [k, width] = dy.shape as [number, number];
  const [out] = runOnHost(backend, [dy, indices], [{ shape: [rows, width], zeroed: true }], ([g, idx], [dp]) => {
    checkIndices(idx!, rows, SCATTER_ROWS);
    for (let i = 0; i < k; i++) {
      const to = idx![i]! * width;
      const from = i * width;
      for (let j = 0; j < width; j++) dp![to + j] = dp![to + j]! + g![from + j]!;
    }
  });
  return out!;
};

const splitKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { sizes } = attrs as unknown as SplitRowsAttrs;
  const [rows, ...rest] = x.shape as number[];
  const width = rest.reduce((a, b) => a * b, 1);
  if (sizes.some((k) => !Number.isInteger(k) || k < 0) || sizes.reduce((a, b) => a + b, 0) !== rows) {
    throw new Error(`${SPLIT_ROWS}: block sizes [${sizes.join(', ')}] must be non-negative integers adding up to the ${rows} rows`);
  }
  return runOnHost(backend, [x], sizes.map((k) => ({ shape: [k, ...rest], dtype: x.dtype as 'float32' | 'int32' })), ([v], outs) => {
    let start = 0;
    sizes.forEach((k, i) => {
      outs[i]!.set(v!.subarray(start * width, (start + k) * width));
      start += k;
    });
  });
};

const concatKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const parts = Object.values(inputs) as tf.TensorInfo[];
  const [, ...rest] = parts[0]!.shape as number[];
  const width = rest.reduce((a, b) => a * b, 1);
  for (const p of parts) {
    if (p.shape.length !== rest.length + 1 || p.shape.slice(1).some((d, i) => d !== rest[i]) || p.dtype !== parts[0]!.dtype) {
      throw new Error(`${CONCAT_ROWS}: blocks must share dtype and trailing shape [${rest.join(', ')}], got [${p.shape.join(', ')}] ${p.dtype}`);
    }
  }
  const rows = parts.reduce((a, p) => a + p.shape[0]!, 0);
  const [out] = runOnHost(backend, parts, [{ shape: [rows, ...rest], dtype: parts[0]!.dtype as 'float32' | 'int32' }], (values, [y]) => {
    let start = 0;
    values.forEach((v, i) => {
      y!.set(v, start * width);
      start += parts[i]!.shape[0]!;
    });
  });
  return out!;
};


if (tf.getGradient(CONCAT_ROWS) === undefined) {
  tf.registerGradient({
    kernelName: CONCAT_ROWS,
    saveAllInputs: true,
    gradFunc: (dy, saved) => {
      const sizes = saved.map((t) => t.shape[0]!);
      const blocks = tf.engine().runKernel(SPLIT_ROWS, { x: dy as tf.Tensor }, { sizes } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return Object.fromEntries(blocks.map((b, i) => [String(i), () => b]));
    },
  });
}

if (tf.getGradient(SPLIT_ROWS) === undefined) {
  tf.registerGradient({
    kernelName: SPLIT_ROWS,
    gradFunc: (dy) => ({ x: () => tf.concat(Array.isArray(dy) ? dy : [dy], 0) }),
  });
}

if (tf.getGradient(GATHER_ROWS) === undefined) {
  tf.registerGradient({
    kernelName: GATHER_ROWS,
    inputsToSave: ['params', 'indices'],
    gradFunc: (dy, saved) => {
      const [params, indices] = saved as [tf.Tensor, tf.Tensor];
      const attrs: ScatterRowsAttrs = { rows: params.shape[0]! };
      return {
        params: () => tf.engine().runKernel(SCATTER_ROWS, { dy: dy as tf.Tensor, indices }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
        indices: () => tf.zeros(indices.shape),
      };
    },
  });
}

/**
 * `DraGatherBlocks`: rows of params [R, ...] taken in the order of a permutation of
 * [0, R) and cut into consecutive blocks of `sizes` rows, in one copy (a row gather and a
 * split fused). `DraScatterBlocks` is the converse: blocks whose concatenated row i goes
 * to row order[i]. Each is the other's gradient.
 */
export const GATHER_BLOCKS = 'DraGatherBlocks';
export const SCATTER_BLOCKS = 'DraScatterBlocks';

export interface BlocksAttrs {
  sizes: number[];
}

function checkPermutation(order: ArrayLike<number>, rows: number, kernel: string): void {
  if (order.length !== rows) throw new Error(`${kernel}: order must list each of the ${rows} rows once, got ${order.length} entries`);
  const seen = new Uint8Array(rows);
  for (let i = 0; i < rows; i++) {
    const r = order[i]!;
    if (!(r >= 0 && r < rows) || seen[r]) throw new Error(`${kernel}: order is not a permutation of [0, ${rows - 1}] (entry ${r} at position ${i})`);
    seen[r] = 1;
  }
}

function checkSizes(sizes: readonly number[], rows: number, kernel: string): void {
  if (sizes.some((k) => !Number.isInteger(k) || k < 0) || sizes.reduce((a, b) => a + b, 0) !== rows) {
    throw new Error(`${kernel}: block sizes [${sizes.join(', ')}] must be non-negative integers adding up to the ${rows} rows`);
  }
}

const gatherBlocksKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, order } = inputs as { x: tf.TensorInfo; order: tf.TensorInfo };
  const { sizes } = attrs as unknown as BlocksAttrs;
  const [rows, ...rest] = x.shape as number[];
  const width = rest.reduce((a, b) => a * b, 1);
  checkSizes(sizes, rows!, GATHER_BLOCKS);
  return runOnHost(backend, [x, order], sizes.map((k) => ({ shape: [k, ...rest], dtype: x.dtype as 'float32' | 'int32' })), ([v, idx], outs) => {
    checkPermutation(idx!, rows!, GATHER_BLOCKS);
    let i = 0;
    sizes.forEach((k, b) => {
      const out = outs[b]!;
      for (let j = 0; j < k; j++, i++) {
        const r = idx![i]!;
        out.set(v!.subarray(r * width, (r + 1) * width), j * width);
      }
    });
  });
};

const scatterBlocksKernel: tf.KernelFunc = ({ inputs, backend }) => {
  // The inputs come as an array (the blocks, then the permutation), as tf.concat passes them.
  const values = Object.values(inputs) as tf.TensorInfo[];
  const order = values[values.length - 1]!;
  const blocks = values.slice(0, -1);
  if (blocks.length === 0) throw new Error(`${SCATTER_BLOCKS}: needs at least one block`);
  const [, ...rest] = blocks[0]!.shape as number[];
  const width = rest.reduce((a, b) => a * b, 1);
  for (const p of blocks) {
    if (p.shape.length !== rest.length + 1 || p.shape.slice(1).some((d, i) => d !== rest[i]) || p.dtype !== blocks[0]!.dtype) {
      throw new Error(`${SCATTER_BLOCKS}: blocks must share dtype and trailing shape [${rest.join(', ')}], got [${p.shape.join(', ')}] ${p.dtype}`);
    }
  }
  const rows = blocks.reduce((a, p) => a + p.shape[0]!, 0);
  const [out] = runOnHost(backend, [...blocks, order], [{ shape: [rows, ...rest], dtype: blocks[0]!.dtype as 'float32' | 'int32' }], (arrays, [y]) => {
    const idx = arrays[blocks.length]!;
    checkPermutation(idx, rows, SCATTER_BLOCKS);
    let i = 0;
    blocks.forEach((p, b) => {
      const v = arrays[b]!;
      for (let j = 0; j < p.shape[0]!; j++, i++) {
        const r = idx[i]!;
        y!.set(v.subarray(j * width, (j + 1) * width), r * width);
      }
    });
  });
  return out!;
};


/** Inputs of `DraScatterBlocks`: an array of the blocks followed by the permutation (the gradient saves them all). */
export function scatterBlocksInputs(blocks: readonly tf.Tensor[], order: tf.Tensor): tf.NamedTensorMap {
  return [...blocks, order] as unknown as tf.NamedTensorMap;
}

if (tf.getGradient(GATHER_BLOCKS) === undefined) {
  tf.registerGradient({
    kernelName: GATHER_BLOCKS,
    inputsToSave: ['order'],
    gradFunc: (dy, saved) => {
      const [order] = saved as [tf.Tensor];
      const blocks = Array.isArray(dy) ? dy : [dy];
      return {
        x: () => tf.engine().runKernel(SCATTER_BLOCKS, scatterBlocksInputs(blocks, order)) as tf.Tensor,
        order: () => tf.zeros(order.shape),
      };
    },
  });
}

if (tf.getGradient(SCATTER_BLOCKS) === undefined) {
  tf.registerGradient({
    kernelName: SCATTER_BLOCKS,
    saveAllInputs: true,
    gradFunc: (dy, saved) => {
      const order = saved[saved.length - 1]!;
      const sizes = saved.slice(0, -1).map((t) => t.shape[0]!);
      const attrs: BlocksAttrs = { sizes };
      // Computed here, outside the per-input scopes the engine opens, so every block survives.
      const blocks = tf.engine().runKernel(GATHER_BLOCKS, { x: dy as tf.Tensor, order }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
      return { ...Object.fromEntries(blocks.map((b, i) => [String(i), () => b])), [String(blocks.length)]: () => tf.zeros(order.shape) };
    },
  });
}

/** This file's host kernels (registered in ./index.ts). */
export const ROWS_KERNELS: readonly HostKernel[] = [
  { kernelName: GATHER_ROWS, kernelFunc: gatherKernel },
  { kernelName: CONCAT_ROWS, kernelFunc: concatKernel },
  { kernelName: SPLIT_ROWS, kernelFunc: splitKernel },
  { kernelName: SCATTER_ROWS, kernelFunc: scatterKernel },
  { kernelName: GATHER_BLOCKS, kernelFunc: gatherBlocksKernel },
  { kernelName: SCATTER_BLOCKS, kernelFunc: scatterBlocksKernel },
];
