/**
 * Training kernels for the wasm backend, composed from kernels it has.
 *
 * The wasm backend (XNNPACK) has fast forward convolutions but no
 * Conv2DBackpropFilter, no depthwise backprops and no UnsortedSegmentSum, so a training
 * step fails there. Each replacement below rewrites the backward convolution as a
 * forward one over re-arranged tensors, which XNNPACK runs 5-10x faster than a direct
 * loop (measurements in the bench and in reference/tfjs-facts.md).
 *
 * A kernel function here wraps its inputs as tensors, composes ordinary tf ops inside
 * `tf.tidy` and returns the resulting tensor; the engine adopts a returned tensor as the
 * kernel output and does not record the inner ops on the gradient tape.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runOnHost } from '../engine/host-kernels';
import { ensureGradients } from '../engine/gradients';
import { checkNhwc, type Pad, type RoundingMode } from './conv-attrs';


/** Kernels this module registers on the wasm backend (replacing wasm's own where it has one), in registration order. */
export const WASM_TRAINING_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'UnsortedSegmentSum',
  'Identity',
  'Cast',
] as const;

function asTensor<T extends tf.Tensor = tf.Tensor>(info: tf.TensorInfo): T {
  if (info instanceof tf.Tensor) return info as T;
  return tf.engine().makeTensorFromTensorInfo(info) as T;
}

function pair(value: number | [number, number], what: string): [number, number] {
  const out: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (!(out[0] >= 1 && out[1] >= 1)) throw new Error(`${what} must be positive, got ${JSON.stringify(value)}`);
  return out;
}

type Explicit4d = [[number, number], [number, number], [number, number], [number, number]];

/**
 * Prepares an NHWC tensor for a 'valid'-style convolution that needs the given border
 * on each spatial side: negative amounts crop rows the forward pass never read, and the
 * non-negative remainder is returned as explicit convolution padding (XNNPACK pads
 * internally, which saves a full-size pad copy).
 */
function cropForPadding(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): { source: tf.Tensor4D; pad: Explicit4d } {
  const cropTop = Math.max(0, -top);
  const cropBottom = Math.max(0, -bottom);
  const cropLeft = Math.max(0, -left);
  const cropRight = Math.max(0, -right);
  let source = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    const [n, h, w, c] = x.shape;
    source = tf.slice(x, [0, cropTop, cropLeft, 0], [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c]);
  }
  return { source, pad: [[0, 0], [Math.max(0, top), Math.max(0, bottom)], [Math.max(0, left), Math.max(0, right)], [0, 0]] };
}

/**
 * Inserts (stride - 1) zeros after every row and column of dy: the input-gradient of a
 * strided convolution is a stride-1 convolution over this upsampled dy. Returns it with
 * the trailing zeros of the last row/column still attached (callers crop them through
 * their padding arithmetic).
 */
function zeroUpsample(dy: tf.Tensor4D, strideH: number, strideW: number): tf.Tensor4D {
  if (strideH === 1 && strideW === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.reshape(dy, [n, h, 1, w, 1, c]);
  const padded = tf.pad(spread, [[0, 0], [0, 0], [0, strideH - 1], [0, 0], [0, strideW - 1], [0, 0]]);
  return tf.reshape(padded, [n, h * strideH, w * strideW, c]);
}

/** Geometry of a patch matrix: input size, filter size, output size, strides, leading padding. */
interface PatchGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  kh: number;
  kw: number;
  oh: number;
  ow: number;
  sh: number;
  sw: number;
  top: number;
  left: number;
}

/**
 * Memory bounds of the kernels. patchElements: the largest patch matrix (float32
 * elements; 64 MiB) built at once; larger batches are processed in groups of images and
 * their filter gradients summed. Mutable so tests can exercise the grouping on small
 * tensors.
 */
export const WASM_KERNEL_LIMITS = { patchElements: 1 << 24 };

/**
 * Fills the transposed patch matrix of images n0 .. n0 + count - 1: row (i, j, c),
 * column (m, oy, ox) holds x[n0 + m, oy*sh + i - top, ox*sw + j - left, c], zero outside
 * the image. `src` is x transposed to [C, N, H, W], so for stride 1 and output size equal
 * to input size a row is the channel's plane shifted by one flat offset (one memory copy)
 * with the rows and columns that fell off the image zeroed afterwards.
 */
function writeTransposedPatches(src: Float32Array, dst: Float32Array, g: PatchGeometry, n0: number, count: number): void {
  const { n, h, w, c, kh, kw, oh, ow, sh, sw, top, left } = g;
  const plane = count * oh * ow;
  const shifted = sh === 1 && sw === 1 && oh === h && ow === w;
  for (let i = 0; i < kh; i++) {
    const dy = i - top;
    for (let j = 0; j < kw; j++) {
      const dx = j - left;
      for (let ch = 0; ch < c; ch++) {
        const rowStart = ((i * kw + j) * c + ch) * plane;
        const srcStart = (ch * n + n0) * h * w;
        if (shifted && Math.abs(dy) < h && Math.abs(dx) < w) {
          const delta = dy * w + dx;
          dst.set(src.subarray(srcStart + Math.max(0, delta), srcStart + plane + Math.min(0, delta)), rowStart + Math.max(0, -delta));
          const x0 = dx < 0 ? 0 : w - dx;
          const x1 = dx < 0 ? -dx : w;
          for (let m = 0; m < count; m++) {
            const image = rowStart + m * h * w;
            if (dy < 0) dst.fill(0, image, image - dy * w);
            else if (dy > 0) dst.fill(0, image + (h - dy) * w, image + h * w);
            for (let y = 0; y < h; y++) {
              const row = image + y * w;
              for (let xx = x0; xx < x1; xx++) dst[row + xx] = 0;
            }
          }
          continue;
        }
        for (let m = 0; m < count; m++) {
          for (let oy = 0; oy < oh; oy++) {
            const sy = oy * sh + dy;
            const out = rowStart + (m * oh + oy) * ow;
            if (sy < 0 || sy >= h) {
              dst.fill(0, out, out + ow);
              continue;
            }
            const row = srcStart + (m * h + sy) * w;
            for (let ox = 0; ox < ow; ox++) {
              const sx = ox * sw + dx;
              dst[out + ox] = sx >= 0 && sx < w ? src[row + sx]! : 0;
            }
          }
        }
      }
    }
  }
}

/**
 * dW[i, j, c, o] = sum over n, y, x of xPadded[n, y*s + i, x*s + j, c] * dy[n, y, x, o]:
 * one matrix product of the transposed patch matrix [kh*kw*C, N*oh*ow] with dy as
 * [N*oh*ow, O], whose result already has the filter's layout. The product runs as
 * XNNPACK's fully connected operator, as fast per multiply as a forward convolution; a
 * convolution over transposed tensors (dy as a huge filter) spends as long again
 * packing that filter and streaming it from memory, and the loop that builds the patch
 * matrix is mostly plain memory copies.
 */
function conv2dBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.Tensor {
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  checkNhwc(attrs.dataFormat, 'Conv2DBackpropFilter');
  return tf.tidy(() => {
    const x = asTensor<tf.Tensor4D>(args.inputs.x!);
    const dy = asTensor<tf.Tensor4D>(args.inputs.dy!);
    if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error(`Conv2DBackpropFilter on wasm needs float32 x and dy, got ${x.dtype} and ${dy.dtype}`);
    const [kh, kw, , o] = attrs.filterShape;
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad as Pad, attrs.dimRoundingMode as RoundingMode);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
    const geometry: PatchGeometry = { n, h, w, c, kh, kw, oh, ow, sh, sw, top: info.padInfo.top, left: info.padInfo.left };
    const xT = tf.transpose(x, [3, 0, 1, 2]);
    const dyRows = tf.reshape(dy, [n * oh * ow, o]);
    const group = Math.max(1, Math.min(n, Math.floor(WASM_KERNEL_LIMITS.patchElements / (kh * kw * c * oh * ow))));
    let dW: tf.Tensor | undefined;
    for (let n0 = 0; n0 < n; n0 += group) {
      const count = Math.min(group, n - n0);
      const [patchInfo] = runOnHost(args.backend, [xT], [{ shape: [kh * kw * c, count * oh * ow] }], ([src], [dst]) =>
        writeTransposedPatches(src as Float32Array, dst as Float32Array, geometry, n0, count),
      );
      const patches = asTensor<tf.Tensor2D>(patchInfo!);
      const rows = count === n ? dyRows : tf.slice(dyRows, [n0 * oh * ow, 0], [count * oh * ow, o]);
      const part = tf.matMul(patches, rows as tf.Tensor2D);
      // The patch matrix is the largest buffer here; free it before building the next.
      patches.dispose();
      dW = dW ? tf.add(dW, part) : part;
    }
    return tf.reshape(dW!, [kh, kw, c, o]);
  });
}

/**
 * dx = stride-1 convolution of the zero-upsampled dy with the spatially reversed filter
 * whose in/out channels are swapped. About 9x faster on wasm than its built-in kernel.
 */
/**
 * The filter of the input-gradient convolution: spatially reversed, in/out channels
 * swapped (f'[i, j, o, c] = f[kh-1-i, kw-1-j, c, o]). One loop over a few thousand
 * weights, where wasm's Reverse plus Transpose cost about a millisecond per layer.
 */
function flippedFilter(backend: unknown, filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = filter.shape;
  const [info] = runOnHost(backend, [filter], [{ shape: [kh, kw, co, ci] }], ([f], [out]) => {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const from = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
        const to = (i * kw + j) * co * ci;
        for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) out![to + o * ci + c] = f![from + c * co + o]!;
      }
    }
  });
  return asTensor<tf.Tensor4D>(info!);
}

/**
 * Adds every column block of `cols` ([N*oh*ow, kh*kw*C], row (n, oy, ox), column
 * (i, j, c)) into dx[n, oy*sh + i - top, ox*sw + j - left, c]; taps outside the image
 * are dropped. `dx` must be zeroed.
 */
function addColumnsToImage(cols: Float32Array, dx: Float32Array, g: PatchGeometry): void {
  const { n, h, w, c, kh, kw, oh, ow, sh, sw, top, left } = g;
  const rowLength = kh * kw * c;
  for (let m = 0; m < n; m++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const row = ((m * oh + oy) * ow + ox) * rowLength;
        for (let i = 0; i < kh; i++) {
          const y = oy * sh + i - top;
          if (y < 0 || y >= h) continue;
          for (let j = 0; j < kw; j++) {
            const x = ox * sw + j - left;
            if (x < 0 || x >= w) continue;
            const to = ((m * h + y) * w + x) * c;
            const from = row + (i * kw + j) * c;
            for (let k = 0; k < c; k++) dx[to + k] += cols[from + k]!;
          }
        }
      }
    }
  }
}

/**
 * dx of a strided convolution as dy [N*oh*ow, O] times the filter as [O, kh*kw*C], its
 * rows added into the image by one loop. The stride-1 formulation over zero-upsampled
 * dy would multiply stride^2 times as many values, most of them the inserted zeros.
 */
function stridedBackpropInput(backend: unknown, dy: tf.Tensor4D, filter: tf.Tensor4D, g: PatchGeometry): tf.Tensor4D {
  const { n, h, w, c, kh, kw, oh, ow } = g;
  const o = filter.shape[3];
  const filterRows = tf.transpose(tf.reshape(filter, [kh * kw * c, o])) as tf.Tensor2D;
  const cols = tf.matMul(tf.reshape(dy, [n * oh * ow, o]) as tf.Tensor2D, filterRows);
  const [dxInfo] = runOnHost(backend, [cols], [{ shape: [n, h, w, c], zeroed: true }], ([from], [to]) => addColumnsToImage(from as Float32Array, to as Float32Array, g));
  return asTensor<tf.Tensor4D>(dxInfo!);
}

function conv2dBackpropInput(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.Tensor {
  const attrs = args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
  checkNhwc(attrs.dataFormat, 'Conv2DBackpropInput');
  return tf.tidy(() => {
    const dy = asTensor<tf.Tensor4D>(args.inputs.dy!);
    const filter = asTensor<tf.Tensor4D>(args.inputs.filter!);
    const [kh, kw] = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad as Pad, attrs.dimRoundingMode as RoundingMode);
    const { strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w } = info;
    const { top, left } = info.padInfo;
    if (filter.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error(`Conv2DBackpropInput on wasm needs float32 dy and filter, got ${dy.dtype} and ${filter.dtype}`);
    const { batchSize: n, inChannels: c, outHeight: oh, outWidth: ow } = info;
    if ((sh > 1 || sw > 1) && n * oh * ow * kh * kw * c <= WASM_KERNEL_LIMITS.patchElements) {
      return stridedBackpropInput(args.backend, dy, filter, { n, h, w, c, kh, kw, oh, ow, sh, sw, top, left });
    }
    const up = zeroUpsample(dy, sh, sw);
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = h - up.shape[1] + kh - 1 - padTop;
    const padRight = w - up.shape[2] + kw - 1 - padLeft;
    const { source, pad } = cropForPadding(up, padTop, padBottom, padLeft, padRight);
    return tf.conv2d(source, flippedFilter(args.backend, filter), 1, pad);
  });
}

/**
 * tfjs computes depthwise gradients only for dilation 1 (its gradient asserts it, and
 * the cpu kernels ignore the attribute), so anything else is refused rather than
 * guessed.
 */
function checkUnitDilations(dilations: number | [number, number] | undefined, kernel: string): void {
  const [dh, dw] = pair(dilations ?? 1, `${kernel} dilations`);
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel} on wasm supports dilations of 1 only, got ${JSON.stringify(dilations)}`);
}

/**
 * Depthwise filter gradient: the channels of every image become channels of one image
 * ([1, H, W, N*C*M]), dy becomes a depthwise filter over them with the forward stride
 * as its dilation, and the per-image results are summed.
 */
function depthwiseBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap }): tf.Tensor {
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return tf.tidy(() => {
    const x = asTensor<tf.Tensor4D>(args.inputs.x!);
    const dy = asTensor<tf.Tensor4D>(args.inputs.dy!);
    const [kh, kw, channels, multiplier] = attrs.filterShape;
    checkUnitDilations(attrs.dilations, 'DepthwiseConv2dNativeBackpropFilter');
    const info = tf.backend_util.computeConv2DInfo(x.shape, attrs.filterShape, attrs.strides, 1, attrs.pad as Pad, attrs.dimRoundingMode as RoundingMode, true);
    const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w, batchSize: n } = info;
    const { top, left } = info.padInfo;
    const bottom = kh + (oh - 1) * sh - h - top;
    const right = kw + (ow - 1) * sw - w - left;
    const cm = channels * multiplier;
    const xExpanded = multiplier === 1 ? x : tf.reshape(tf.tile(tf.reshape(x, [n, h, w, channels, 1]), [1, 1, 1, 1, multiplier]), [n, h, w, cm]);
    const xT = tf.reshape(tf.transpose(xExpanded, [1, 2, 0, 3]), [1, h, w, n * cm]) as tf.Tensor4D;
    const { source, pad } = cropForPadding(xT, top, bottom, left, right);
    const dyT = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [oh, ow, n * cm, 1]) as tf.Tensor4D;
    const perImage = tf.depthwiseConv2d(source, dyT, 1, pad, 'NHWC', [sh, sw]);
    return tf.reshape(tf.sum(tf.reshape(perImage, [kh, kw, n, cm]), 2), [kh, kw, channels, multiplier]);
  });
}

/**
 * Depthwise input gradient: a depthwise convolution of the zero-upsampled dy (C*M
 * channels) with the reversed filter, then the M outputs of each input channel summed.
 */
function depthwiseBackpropInput(args: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap }): tf.Tensor {
  const attrs = args.attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return tf.tidy(() => {
    const dy = asTensor<tf.Tensor4D>(args.inputs.dy!);
    const filter = asTensor<tf.Tensor4D>(args.inputs.filter!);
    const [kh, kw, channels, multiplier] = filter.shape;
    checkUnitDilations(attrs.dilations, 'DepthwiseConv2dNativeBackpropInput');
    const info = tf.backend_util.computeConv2DInfo(attrs.inputShape, filter.shape, attrs.strides, 1, attrs.pad as Pad, attrs.dimRoundingMode as RoundingMode, true);
    const { strideHeight: sh, strideWidth: sw, inHeight: h, inWidth: w, batchSize: n } = info;
    const { top, left } = info.padInfo;
    const up = zeroUpsample(dy, sh, sw);
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = h - up.shape[1] + kh - 1 - padTop;
    const padRight = w - up.shape[2] + kw - 1 - padLeft;
    const { source, pad } = cropForPadding(up, padTop, padBottom, padLeft, padRight);
    const cm = channels * multiplier;
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, cm, 1]) as tf.Tensor4D;
    const perOutput = tf.depthwiseConv2d(source, flipped, 1, pad);
    if (multiplier === 1) return perOutput;
    return tf.sum(tf.reshape(perOutput, [n, h, w, channels, multiplier]), 4);
  });
}

/**
 * Identity sharing the input's storage (reference-counted, as the cpu backend's and
 * wasm's own Reshape do). The engine clones every tensor an op saves for its gradient,
 * and wasm's stock Identity copies the whole buffer each time; tensor data is never
 * written in place, so sharing it is safe.
 */
function identity(args: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = args.inputs.x!;
  (args.backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

let stockCast: tf.KernelFunc | undefined;

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): tf.backend_util.TypedArray;
}

/**
 * Cast to the dtype the tensor already has shares storage like Identity (avgPool and the
 * ReLU gradient cast float32 activations to float32 on every call, which wasm's stock
 * kernel copies). Casts to bool test against zero as the cpu backend does (the stock
 * kernel stores -2.5 as 254); other casts go to the stock kernel.
 */
function cast(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs: tf.NamedAttrMap }): tf.TensorInfo {
  const x = args.inputs.x!;
  const { dtype } = args.attrs as unknown as tf.CastAttrs;
  if (dtype === x.dtype) return identity(args);
  if (dtype === 'bool' && x.dtype !== 'string' && x.dtype !== 'complex64') {
    const backend = args.backend as WasmHeapBackend;
    const out = backend.makeOutput([...x.shape], 'bool');
    const to = backend.typedArrayFromHeap(out);
    const from = backend.typedArrayFromHeap(x);
    for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
    return out;
  }
  return stockCast!(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

/**
 * Sums rows of x into numSegments buckets by id, through scatterND (which adds
 * duplicate indices). Ids outside [0, numSegments) are dropped, as in TensorFlow: they
 * go to one spare bucket that is sliced away.
 */
function unsortedSegmentSum(args: { inputs: tf.NamedTensorInfoMap; attrs: tf.NamedAttrMap }): tf.Tensor {
  const { numSegments } = args.attrs as unknown as tf.UnsortedSegmentSumAttrs;
  return tf.tidy(() => {
    const x = asTensor(args.inputs.x!);
    const ids = tf.cast(asTensor(args.inputs.segmentIds!), 'int32');
    if (ids.rank !== 1 || ids.size !== x.shape[0]) {
      throw new Error(`UnsortedSegmentSum: segmentIds must be 1-D with one id per row of x (${x.shape[0]}), got shape [${ids.shape}]`);
    }
    const rows = ids.size;
    const rest = x.shape.slice(1);
    const flatIds = tf.reshape(ids, [rows]);
    const inRange = tf.logicalAnd(tf.greaterEqual(flatIds, 0), tf.less(flatIds, numSegments));
    const safeIds = tf.where(inRange, flatIds, tf.fill([rows], numSegments, 'int32'));
    const updates = tf.reshape(x, [rows, ...rest]);
    const summed = tf.scatterND(tf.reshape(safeIds, [rows, 1]), updates, [numSegments + 1, ...rest]);
    return tf.slice(summed, 0, numSegments);
  });
}

let registered = false;

/**
 * Registers the kernels in WASM_TRAINING_KERNELS for the 'wasm' backend (replacing
 * wasm's own Conv2DBackpropInput, which is slower). Safe to call more than once.
 */
export function registerWasmTrainingKernels(): void {
  ensureGradients();
  if (registered) return;
  const kernels: Record<(typeof WASM_TRAINING_KERNELS)[number], tf.KernelFunc> = {
    Conv2DBackpropFilter: conv2dBackpropFilter as unknown as tf.KernelFunc,
    Conv2DBackpropInput: conv2dBackpropInput as unknown as tf.KernelFunc,
    DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter as unknown as tf.KernelFunc,
    DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput as unknown as tf.KernelFunc,
    UnsortedSegmentSum: unsortedSegmentSum as unknown as tf.KernelFunc,
    Identity: identity as unknown as tf.KernelFunc,
    Cast: cast as unknown as tf.KernelFunc,
  };
  const stock = tf.getKernel('Cast', 'wasm');
  if (stock === undefined) throw new Error('the wasm backend has no Cast kernel to delegate to');
  stockCast = stock.kernelFunc;
  for (const name of WASM_TRAINING_KERNELS) {
    // Replacing a registered kernel without unregistering it first prints a warning.
    if (tf.getKernel(name, 'wasm') !== undefined) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: kernels[name] });
  }
  registered = true;
}
