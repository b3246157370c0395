/**
 * Progress output for long commands: a cli-progress bar (well kept, CommonJS) on a
 * terminal, plain lines every few seconds otherwise (logs, CI, notebooks).
 */
import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  update(done: number, fields: Record<string, string>): void;
  stop(): void;
}

export function createProgress(total: number, label: string, stream: NodeJS.WriteStream = process.stderr, start = 0): Progress {
  if (stream.isTTY) {
    const bar = new SingleBar(
      { format: `${label} {bar} {value}/{total} | ETA {eta_formatted} | {info}`, stream, hideCursor: true, etaBuffer: 50 },
      Presets.shades_classic,
    );
    bar.start(total, start, { info: '' });
    return {
      update: (done, fields) => bar.update(done, { info: Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ') }),
      stop: () => bar.stop(),
    };
  }
  const began = Date.now();
  let lastPrint = 0;
  let lastDone = start;
  return {
    update(done, fields) {
      lastDone = done;
      const now = Date.now();
      if (now - lastPrint < 2000 && done < total) return;
      lastPrint = now;
      const rate = (done - start) / Math.max(1e-3, (now - began) / 1000);
      const eta = rate > 0 ? Math.round((total - done) / rate) : NaN;
      stream.write(`${label} ${done}/${total} eta ${Number.isFinite(eta) ? `${eta}s` : '?'} ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
    },
    stop() {
      void lastDone;
    },
  };
}
