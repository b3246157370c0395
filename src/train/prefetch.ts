/**
 * Augmentation off the training thread, as a PyTorch DataLoader with workers does it: while
 * one batch trains, the next one's 8-bit layer pass (and its crop and flip) runs on a
 * worker thread (./augment-worker.ts).
 *
 * Everything random is drawn on the training thread, batch by batch in the order training
 * has always drawn it, and the op arguments and affine matrices are computed there on the
 * training backend; the worker only does the pixel loops, with the kernel's own code. So a
 * seed gives the same bytes with and without prefetching (test/train/prefetch.test.ts).
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { AugmentJob, AugmentReply } from './augment-worker';

type Waiter = { resolve: (levels: Float32Array) => void; reject: (error: Error) => void };

export class AugmentWorkers {
  private readonly workers: Worker[];
  private readonly inFlight: number[];
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(count = 1) {
    this.inFlight = new Array<number>(count).fill(0);
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(join(__dirname, 'augment-worker.js'));
      worker.on('message', (reply: AugmentReply) => this.settle(reply));
      worker.on('error', (error) => this.failAll(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.failAll(new Error(`an augmentation worker exited with code ${code}`));
      });
      // Idle workers must not keep Node running; a job in flight holds its own reference.
      worker.unref();
      return worker;
    });
  }

  /** Augments one batch on a worker (round robin); the levels [N, H, W, C]. */
  run(job: Omit<AugmentJob, 'id'>): Promise<Float32Array> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const slot = id % this.workers.length;
    const worker = this.workers[slot]!;
    // A worker with jobs in flight keeps Node running (ref/unref are not counted, so this is).
    if (this.inFlight[slot]!++ === 0) worker.ref();
    const done = () => {
      if (--this.inFlight[slot]! === 0) worker.unref();
    };
    return new Promise<Float32Array>((resolve, reject) => {
      this.waiting.set(id, {
        resolve: (levels) => {
          done();
          resolve(levels);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      worker.postMessage({ ...job, id }, [job.images.buffer]);
    });
  }

  /** Stops the workers; jobs still in flight are rejected. */
  async close(): Promise<void> {
    this.failAll(new Error('augmentation workers closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private settle(reply: AugmentReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if ('error' in reply) waiter.reject(new Error(`augmentation worker: ${reply.error}`));
    else waiter.resolve(reply.levels);
  }

  private failAll(error: Error): void {
    this.failure ??= error;
    for (const [id, waiter] of this.waiting) {
      this.waiting.delete(id);
      waiter.reject(error);
    }
  }
}
