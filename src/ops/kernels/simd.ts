/**
 * Host kernel loops compiled to WebAssembly with SIMD (src/ops/kernels/simd-source/*.ts, AssemblyScript,
 * built by `npm run build` into dist/wasm/dralab-kernels.wasm). The module owns no
 * memory: it imports one. On the wasm backend that is the backend's own heap, so the
 * loops read and write tensors in place; on cpu the arrays are copied into a scratch
 * memory that grows once to the largest batch seen and is reused.
 *
 * Where the module is missing (built with tsc alone) or cannot be compiled, `simdKernels`
 * returns undefined and the host kernels run their JavaScript loops, which give the
 * same values bit for bit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostArray } from '../../engine/host-kernels';

/** Where `npm run build` writes the compiled module (relative to dist/src/ops/kernels). */
/** The compiled kernels; DRALAB_KERNELS_WASM points elsewhere (the GPU bundle carries its copy beside its script). */
export const SIMD_MODULE_PATH = process.env.DRALAB_KERNELS_WASM ?? join(__dirname, '..', '..', '..', 'wasm', 'dralab-kernels.wasm');

interface KernelExports {
  affineWarp(x: number, m: number, out: number, n: number, h: number, w: number, c: number, bilinear: number, fill: number): void;
  smoothInterior(x: number, out: number, n: number, h: number, w: number, c: number, round: number): void;
  layerPass(
    x: number, plan: number, args: number, mats: number, centres: number, codes: number, out: number, work: number,
    n: number, h: number, w: number, c: number, layers: number, k: number, bilinear: number, fill: number,
  ): number;
}

/** The arrays of one layer pass (see DraLayerPass in layer-pass.ts). */
export interface LayerPassArrays {
  images: Float32Array;
  plan: Int32Array;
  args: Float32Array;
  mats: Float32Array;
  centres: Float32Array;
  /** Op code per op index (ALL_OP_NAMES order), -1 for Identity. */
  codes: Int32Array;
  out: Float32Array;
  /** Scratch of LAYER_PASS_WORK_BYTES(H W C) bytes. */
  work: Int32Array;
}

export interface SimdKernels {
  /** The affine warp forward pass of warp.ts over float32 arrays (images, [N,6] matrix). */
  affineWarp(x: Float32Array, m: Float32Array, out: Float32Array, shape: readonly number[], bilinear: boolean, fill: number): void;
  /**
   * Pillow's SMOOTH filter of images [N,H,W,C] (H, W >= 3) on every element off the
   * border; the border elements of `out` are left for the caller to copy afterwards.
   */
  smoothInterior(x: Float32Array, out: Float32Array, shape: readonly number[], round: boolean): void;
  /** The 8-bit layer pass; returns -1, or the first image holding a NaN. */
  layerPass(arrays: LayerPassArrays, shape: readonly number[], layers: number, bilinear: boolean, fill: number): number;
}

interface WasmHeapBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory } };
}

const PAGE_BYTES = 65536;
/** v128 loads of a 3-channel pixel read one float past it; the scratch memory keeps room. */
const SLACK_BYTES = 16;

let compiled: WebAssembly.Module | null | undefined;
let enabled = true;

/** Turns the SIMD kernels off (or back on): the host kernels then run their JavaScript loops. */
export function setSimdKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** Whether the compiled module loaded (it is absent when only tsc has run). */
export function simdKernelsAvailable(): boolean {
  return compiledModule() !== null;
}

function compiledModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  compiled = null;
  if (process.env.DRALAB_SIMD_KERNELS === '0' || !existsSync(SIMD_MODULE_PATH)) return compiled;
  try {
    compiled = new WebAssembly.Module(readFileSync(SIMD_MODULE_PATH));
  } catch {
    // An engine without wasm SIMD rejects the module; the JavaScript loops serve instead.
    compiled = null;
  }
  return compiled;
}

function instantiate(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
}

/** Runs kernels on arrays that already live in `memory` (the wasm backend's heap). */
class InPlace {
  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly exports: KernelExports,
  ) {}

  holds(arrays: readonly HostArray[]): boolean {
    const buffer = this.memory.buffer;
    return arrays.every((a) => a.buffer === buffer);
  }

  call(inputs: readonly HostArray[], outputs: readonly HostArray[], run: (k: KernelExports, pointers: number[]) => void): void {
    run(this.exports, [...inputs, ...outputs].map((a) => a.byteOffset));
  }
}

/** Runs kernels on copies of the arrays in a scratch memory of its own. */
class Scratch {
  private readonly memory = new WebAssembly.Memory({ initial: 1 });
  private readonly exports: KernelExports;

  constructor(module: WebAssembly.Module) {
    this.exports = instantiate(module, this.memory);
  }

  call(inputs: readonly HostArray[], outputs: readonly HostArray[], run: (k: KernelExports, pointers: number[]) => void): void {
    const arrays = [...inputs, ...outputs];
    const pointers: number[] = [];
    let end = 0;
    for (const a of arrays) {
      pointers.push(end);
      end += Math.ceil((a.byteLength + SLACK_BYTES) / 16) * 16;
    }
    const pages = Math.ceil(end / PAGE_BYTES);
    if (pages > this.memory.buffer.byteLength / PAGE_BYTES) this.memory.grow(pages - this.memory.buffer.byteLength / PAGE_BYTES);
    const buffer = this.memory.buffer;
    inputs.forEach((a, i) => new Uint8Array(buffer, pointers[i]!, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
    run(this.exports, pointers);
    outputs.forEach((a, i) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(new Uint8Array(buffer, pointers[inputs.length + i]!, a.byteLength)));
  }
}

const inPlaceByMemory = new WeakMap<WebAssembly.Memory, InPlace>();
let scratch: Scratch | undefined;

function runner(backend: unknown, arrays: readonly HostArray[]): InPlace | Scratch | undefined {
  const module = compiledModule();
  if (module === null) return undefined;
  const heap = (backend as Partial<WasmHeapBackend> | undefined)?.wasm?.asm?.memory;
  if (heap instanceof WebAssembly.Memory) {
    let inPlace = inPlaceByMemory.get(heap);
    if (inPlace === undefined) {
      inPlace = new InPlace(heap, instantiate(module, heap));
      inPlaceByMemory.set(heap, inPlace);
    }
    if (inPlace.holds(arrays)) return inPlace;
  }
  scratch ??= new Scratch(module);
  return scratch;
}

/** The SIMD kernels for `backend`'s arrays, or undefined where the module is unavailable. */
export function simdKernels(backend: unknown): SimdKernels | undefined {
  if (!enabled || compiledModule() === null) return undefined;
  return {
    affineWarp(x, m, out, shape, bilinear, fill) {
      const [n, h, w, c] = shape as [number, number, number, number];
      runner(backend, [x, m, out])!.call([x, m], [out], (k, [px, pm, po]) => k.affineWarp(px!, pm!, po!, n, h, w, c, bilinear ? 1 : 0, fill));
    },
    smoothInterior(x, out, shape, round) {
      const [n, h, w, c] = shape as [number, number, number, number];
      runner(backend, [x, out])!.call([x], [out], (k, [px, po]) => k.smoothInterior(px!, po!, n, h, w, c, round ? 1 : 0));
    },
    layerPass(a, shape, layers, bilinear, fill) {
      const [n, h, w, c] = shape as [number, number, number, number];
      const inputs = [a.images, a.plan, a.args, a.mats, a.centres, a.codes];
      let firstNaN = -1;
      runner(backend, [...inputs, a.out, a.work])!.call(inputs, [a.out, a.work], (k, [px, pp, pa, pm, pc, pk, po, pw]) => {
        firstNaN = k.layerPass(px!, pp!, pa!, pm!, pc!, pk!, po!, pw!, n, h, w, c, layers, a.codes.length, bilinear ? 1 : 0, fill);
      });
      return firstNaN;
    },
  };
}
