/**
 * The live dashboard: one output that shows progress, ETA, loss curves, the probability
 * heatmap and the magnitude distributions, replaced in place (update_display_data) while
 * a search runs. Updates are throttled to one per `intervalMs`: rendering and sending cost
 * a few milliseconds, so on a fast loop the run slows by a small fraction (see
 * test/bench/notebook.ts).
 */
import { inspect } from 'node:util';
import { figureHtml, figureToSvg, lossCurves, magnitudeDistributions, plotlyPayloadTag, probabilityHeatmap, type Figure } from '../../widgets';
import { escapeXml } from '../../widgets/svg';
import type { StepRecord } from '../search/record';
import { markPlotlyInlined, plotlyInlined } from './bundle';
import { UpdatableOutput } from './display';
import { policyText } from '../search/summary';
import { lastStepText } from './figures';
import { sendDisplay, uniqueId, type MimeBundle } from './kernel';
import { snapshotsOf, type SearchLike } from './shape';
import { StopSignal, type StopReason } from './stop';

/** What the dashboard needs of a search (DraSearch has all of it). */
export interface RunnableSearch extends SearchLike {
  config: { steps: number };
  step(signal?: AbortSignal): Promise<StepRecord>;
  run(options: { steps?: number; signal?: AbortSignal; onStep?: (record: StepRecord) => void | Promise<void> }): Promise<{ records: StepRecord[]; reason: string; error?: Error }>;
}

export interface DashboardOptions {
  /** Minimum time between two updates of the output, in milliseconds. */
  intervalMs: number;
  /** Heading of the dashboard. */
  title: string;
  /** Include the magnitude distributions panel. */
  showMagnitudes: boolean;
  /** Stop at the next step boundary on a kernel interrupt (SIGINT). */
  stopOnInterrupt: boolean;
}

export const DASHBOARD_DEFAULTS: DashboardOptions = {
  intervalMs: 1000,
  title: 'DRA search',
  showMagnitudes: true,
  stopOnInterrupt: true,
};

export type DashboardState = 'idle' | 'running' | 'stopping' | 'stopped' | 'completed' | 'error';

export interface RunSummary {
  /** Steps this call ran (rejected ones included). */
  steps: number;
  /** The search's step count afterwards. */
  stepCount: number;
  reason: 'completed' | 'interrupt' | 'stop' | 'non-finite' | 'error';
  seconds: number;
  /** Output updates sent during the run (throttled). */
  updates: number;
  error?: string;
}

/** The run in flight on each search, so a new run waits for an interrupted one to finish its step. */
const activeRuns = new WeakMap<object, Promise<unknown>>();

/**
 * A separate, never-updated output carrying plotly.js, so updated outputs need not (an
 * updated output would drop it from the saved notebook). Skipped when an ordinary figure
 * output of this session already carries it: those are never replaced either.
 */
function ensurePlotlyLoader(): void {
  if (plotlyInlined()) return;
  markPlotlyInlined();
  sendDisplay({ data: { 'text/html': `${plotlyPayloadTag()}<div class="dralab-plotly-loader" style="display:none"></div>`, 'text/plain': '' }, metadata: {}, transient: {} });
}

function seconds(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = ms / 1000;
  return s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

/**
 * A run's time per step, for the ETA: the median of its steps after the first, which pays
 * for warm-up (kernel compilation, first allocations) and alone once made a 70 s run read
 * "ETA 7 min". Undefined until two steps after the first are done.
 */
export function typicalStepMs(durations: readonly number[]): number | undefined {
  const settled = durations.slice(1).filter((ms) => Number.isFinite(ms) && ms > 0).sort((a, b) => a - b);
  if (settled.length < 2) return undefined;
  const mid = settled.length >> 1;
  return settled.length % 2 === 1 ? settled[mid]! : (settled[mid - 1]! + settled[mid]!) / 2;
}

/** Stacks SVG documents vertically into one, under a line of text. */
export function stackSvgs(heading: string, svgs: readonly string[]): string {
  let y = 28;
  let width = 400;
  const parts: string[] = [];
  for (const svg of svgs) {
    const w = Number(/width="(\d+(?:\.\d+)?)"/.exec(svg)?.[1] ?? 0);
    const h = Number(/height="(\d+(?:\.\d+)?)"/.exec(svg)?.[1] ?? 0);
    parts.push(svg.replace('<svg ', `<svg x="0" y="${y}" `));
    y += h + 8;
    width = Math.max(width, w);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">`,
    `<rect width="${width}" height="${y}" fill="#fff"/>`,
    `<text x="8" y="18" font-family="Helvetica, Arial, sans-serif" font-size="13" fill="#333">${escapeXml(heading)}</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

export class Dashboard {
  readonly options: DashboardOptions;
  private readonly output = new UpdatableOutput();
  private stateValue: DashboardState = 'idle';
  private stopper: StopSignal | undefined;
  private runStarted = 0;
  private runStartStep = 0;
  private runTarget = 0;
  private lastRender = 0;
  private updatesSent = 0;
  private errorText: string | undefined;
  private stopNote: string | undefined;

  constructor(readonly search: RunnableSearch, options?: Partial<DashboardOptions>) {
    this.options = { ...DASHBOARD_DEFAULTS, ...options };
    if (!(this.options.intervalMs >= 0)) throw new Error(`show: intervalMs must be >= 0, got ${this.options.intervalMs}`);
  }

  get state(): DashboardState {
    return this.stateValue;
  }

  /** Outputs sent so far (first display and updates). */
  get updates(): number {
    return this.updatesSent;
  }

  /** Asks the running run to stop at the next step boundary. */
  stop(): void {
    if (this.stopper) {
      this.stopper.stop();
      this.stateValue = 'stopping';
    }
  }

  /** Resolves when no run is in flight on this dashboard's search. */
  async idle(): Promise<void> {
    await activeRuns.get(this.search)?.catch(() => undefined);
  }

  /** Renders now (force) or when the throttle interval has passed since the last render. */
  update(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastRender < this.options.intervalMs) return;
    this.lastRender = now;
    this.output.show(this.render(false));
    this.updatesSent++;
  }

  /**
   * Runs `steps` steps (default: to the configured total) with the dashboard updating;
   * a kernel interrupt or stop() ends it at a step boundary. An error in a step is shown
   * in the output and rethrown.
   */
  async run(options: { steps?: number } = {}): Promise<RunSummary> {
    if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 0)) {
      throw new Error(`run: steps must be a non-negative integer, got ${options.steps}`);
    }
    // Created before waiting for an earlier run, so stop() right after run() still counts.
    const stopper = new StopSignal({ interrupt: this.options.stopOnInterrupt });
    this.stopper = stopper;
    const previous = activeRuns.get(this.search);
    const work = (async () => {
      await previous?.catch(() => undefined);
      return this.runSteps(options.steps ?? Math.max(0, this.search.config.steps - this.search.stepCount), stopper);
    })();
    activeRuns.set(this.search, work);
    try {
      return await work;
    } finally {
      stopper.dispose();
      if (this.stopper === stopper) this.stopper = undefined;
      if (activeRuns.get(this.search) === work) activeRuns.delete(this.search);
    }
  }

  /** One step with the dashboard updated after it (and an error shown in the output). */
  async step(): Promise<StepRecord> {
    await this.idle();
    try {
      const record = await this.search.step();
      this.stateValue = 'idle';
      this.update(true);
      return record;
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  private async runSteps(steps: number, stopper: StopSignal): Promise<RunSummary> {
    this.stateValue = 'running';
    this.errorText = undefined;
    this.stopNote = undefined;
    this.runStarted = performance.now();
    this.runStartStep = this.search.stepCount;
    this.runTarget = this.search.stepCount + steps;
    const updatesBefore = this.updatesSent;
    if (!this.output.isShown) ensurePlotlyLoader();
    this.update(true);
    let reason: RunSummary['reason'] = 'completed';
    let errorMessage: string | undefined;
    try {
      const result = await this.search.run({ steps, signal: stopper.signal, onStep: () => this.update() });
      if (result.reason === 'aborted') reason = (stopper.reason ?? 'stop') as StopReason;
      else if (result.reason === 'non-finite') reason = 'non-finite';
      else if (result.reason !== 'completed') {
        reason = 'error';
        errorMessage = result.error ? `${result.error.name}: ${result.error.message}` : result.reason;
      }
    } catch (err) {
      this.fail(err);
      throw err;
    }
    const done = this.search.stepCount - this.runStartStep;
    if (reason === 'interrupt' || reason === 'stop') {
      this.stateValue = 'stopped';
      this.stopNote = `stopped by ${reason === 'interrupt' ? 'kernel interrupt' : 'stop()'} at the step boundary after step ${this.search.stepCount}; the search is intact and can continue`;
    } else if (reason === 'error' || reason === 'non-finite') {
      this.stateValue = 'error';
      this.errorText = errorMessage ?? 'a step produced a non-finite loss and the search is set to stop on it';
    } else {
      this.stateValue = 'completed';
    }
    this.lastRender = performance.now();
    this.output.show(this.render(true));
    this.updatesSent++;
    const summary: RunSummary = { steps: done, stepCount: this.search.stepCount, reason, seconds: (performance.now() - this.runStarted) / 1000, updates: this.updatesSent - updatesBefore };
    if (this.errorText) summary.error = this.errorText;
    return Object.assign(summary, { [inspect.custom]: () => `run ${summary.reason}: ${summary.steps} steps in ${summary.seconds.toFixed(1)} s, search at step ${summary.stepCount}` });
  }

  private fail(err: unknown): void {
    this.stateValue = 'error';
    const e = err instanceof Error ? err : new Error(String(err));
    this.errorText = `${e.name}: ${e.message}`;
    try {
      this.output.show(this.render(true));
      this.updatesSent++;
    } catch (renderError) {
      // The error itself must reach the cell even if drawing the dashboard fails.
      sendDisplay({ data: { 'text/plain': `${this.errorText}\n(dashboard could not be drawn: ${(renderError as Error).message})` }, metadata: {}, transient: {} });
    }
  }

  private statusLine(): string {
    const s = this.search;
    const stepsRun = s.stepCount - this.runStartStep;
    const elapsed = performance.now() - this.runStarted;
    const parts = [`${this.options.title}: ${this.stateValue}`, `step ${s.stepCount}/${this.stateValue === 'running' || this.stateValue === 'stopping' ? this.runTarget : s.config.steps}`];
    if (this.runStarted > 0 && stepsRun > 0) {
      const perStep = typicalStepMs(s.history.steps.slice(-stepsRun).map((r) => r.milliseconds));
      parts.push(`${seconds(elapsed)} elapsed`);
      if (perStep !== undefined) {
        parts.push(`${(perStep / 1000).toFixed(2)} s/step`);
        if (this.stateValue === 'running') parts.push(`ETA ${seconds(perStep * (this.runTarget - s.stepCount))}`);
      }
    }
    return parts.join(' · ');
  }

  /** The whole bundle: HTML (charts drawn by window.Plotly), a stacked SVG and text. */
  render(final: boolean): MimeBundle {
    const s = this.search;
    const steps = s.history.steps;
    // While running, only the current policy; the final render gets the recorded history with its step slider.
    const snapshots = final ? snapshotsOf(s, 'show') : [{ step: s.stepCount, policy: s.policy.snapshot() }];
    const figures: Figure[] = [
      lossCurves(steps, { title: 'Losses', height: 420, showAccuracy: true }),
      probabilityHeatmap(snapshots, { title: 'Operator probabilities' }),
    ];
    if (this.options.showMagnitudes) figures.push(magnitudeDistributions(snapshots, { title: 'Magnitudes: μ, μ ± σ clipped to [0, scale]', height: 380 }));
    const status = this.statusLine();
    const last = lastStepText(steps[steps.length - 1]);
    const note = this.errorText ? `error: ${this.errorText}` : this.stopNote;
    const svgs = figures.map((f) => figureToSvg(f));
    const stepsRun = s.stepCount - this.runStartStep;
    const progress = this.runTarget > this.runStartStep ? Math.min(1, stepsRun / (this.runTarget - this.runStartStep)) : 1;
    const html = [
      `<div class="dralab-dashboard" style="font-family:Helvetica,Arial,sans-serif">`,
      `<div style="font-size:13px;margin:4px 0"><b>${escapeXml(status)}</b></div>`,
      `<progress max="1" value="${progress.toFixed(4)}" style="width:100%;height:10px"></progress>`,
      `<div style="font-size:12px;color:#444;margin:2px 0">${escapeXml(last)}</div>`,
      note ? `<pre style="white-space:pre-wrap;color:${this.errorText ? '#b00' : '#555'};background:${this.errorText ? '#fee' : '#f6f6f6'};padding:6px;margin:4px 0;font-size:12px">${escapeXml(note)}</pre>` : '',
      ...figures.map((f, i) => figureHtml(f, { elementId: uniqueId('dralab-live'), staticSvg: svgs[i]! })),
      `</div>`,
    ].join('\n');
    const latest = snapshots[snapshots.length - 1]!;
    const text = [status, last, ...(note ? [note] : []), policyText(latest.policy, latest.step)].join('\n');
    return { 'text/html': html, 'image/svg+xml': stackSvgs(`${status} — ${last}`, svgs), 'text/plain': text };
  }

  [inspect.custom](): string {
    return `Dashboard(${this.statusLine()})`;
  }
}

/** Opens the live dashboard output for a search (shown at once; updated by run()/step()). */
export function show(search: RunnableSearch, options?: Partial<DashboardOptions>): Dashboard {
  const dashboard = new Dashboard(search, options);
  ensurePlotlyLoader();
  dashboard.update(true);
  return dashboard;
}
