/**
 * Stopping long runs from a notebook. A tslab kernel interrupt (SIGINT) only abandons the
 * cell's promise; the async work behind it carries on. A StopSignal turns the interrupt
 * (and an explicit stop()) into an AbortSignal that the search honours at its next step
 * boundary, so the search is left whole and the next cell can use it.
 */
export type StopReason = 'interrupt' | 'stop';

export class StopSignal {
  private readonly controller = new AbortController();
  private reasonGiven: StopReason | undefined;
  private readonly onSigint = () => this.abort('interrupt');

  /** Listens for SIGINT until `dispose()` when `interrupt` is true. */
  constructor(options: { interrupt?: boolean } = {}) {
    if (options.interrupt ?? true) process.on('SIGINT', this.onSigint);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why it stopped, once it has. */
  get reason(): StopReason | undefined {
    return this.reasonGiven;
  }

  stop(): void {
    this.abort('stop');
  }

  private abort(reason: StopReason): void {
    if (this.controller.signal.aborted) return;
    this.reasonGiven = reason;
    this.controller.abort(new Error(reason === 'interrupt' ? 'interrupted (kernel interrupt)' : 'stopped'));
  }

  /** Stops listening for SIGINT (the kernel's own handling stays as it was). */
  dispose(): void {
    process.removeListener('SIGINT', this.onSigint);
  }
}

/**
 * An AbortSignal that aborts on the next kernel interrupt, for a hand-written loop:
 * `const stop = interruptSignal(); await search.run({ steps: 100, signal: stop.signal }); stop.dispose();`
 */
export function interruptSignal(): StopSignal {
  return new StopSignal({ interrupt: true });
}
