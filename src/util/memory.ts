/**
 * Sizes checked before allocating: a dataset or image that would not fit is refused with
 * the size it would need, instead of a V8 "Invalid typed array length", a wasm "memory
 * access out of bounds" or the OOM killer.
 */
import { constants } from 'node:buffer';
import { totalmem } from 'node:os';

/** The largest single typed array V8 allocates here. */
const TYPED_ARRAY_LIMIT_BYTES = constants.MAX_LENGTH;

/**
 * The most one dataset or image working set may take: half the machine's memory (the
 * rest is tensors, the model and the system), or `DRALAB_MEMORY_LIMIT` bytes when set.
 */
export function memoryBudgetBytes(): number {
  const configured = Number(process.env.DRALAB_MEMORY_LIMIT);
  if (process.env.DRALAB_MEMORY_LIMIT !== undefined && Number.isFinite(configured) && configured > 0) return configured;
  return Math.floor(totalmem() / 2);
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/**
 * Throws a RangeError naming `what` and the size it would need when `bytes` is more than
 * the memory budget, or `arrayBytes` (the largest single array) more than V8 allows.
 */
export function checkAllocation(what: string, bytes: number, arrayBytes = bytes, limitBytes = memoryBudgetBytes()): void {
  if (!Number.isFinite(bytes) || bytes > limitBytes) {
    throw new RangeError(`${what} would need ${formatBytes(bytes)}, more than the ${formatBytes(limitBytes)} allowed (half this machine's memory; set DRALAB_MEMORY_LIMIT in bytes to change it)`);
  }
  if (arrayBytes > TYPED_ARRAY_LIMIT_BYTES) {
    throw new RangeError(`${what} would need one array of ${formatBytes(arrayBytes)}, more than the ${formatBytes(TYPED_ARRAY_LIMIT_BYTES)} a single array can hold here`);
  }
}
