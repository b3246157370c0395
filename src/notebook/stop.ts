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
  private disposed = false;

  /**
   * Listens for SIGINT until `dispose()` when `interrupt` is true. The listener is added
   * on the next turn of the event loop, not now: tslab runs a cell's synchronous part in
   * vm.runInThisContext({breakOnSigint: true}), and a SIGINT listener added inside that
   * window leaves the signal at its default action once the window closes (measured: the
   * next kernel interrupt killed the kernel process).
   */
  constructor(options: { interrupt?: boolean } = {}) {
    if (options.interrupt ?? true) {
      setImmediate(() => {
        if (!this.disposed) process.on('SIGINT', this.onSigint);
      });
    }
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
    this.disposed = true;
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
