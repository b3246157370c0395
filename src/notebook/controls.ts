/**
 * A control panel for a search, built from Jupyter widgets (./jupyter-widgets): Run (and
 * resume), Pause, Step and Stop buttons; sliders for the temperature, the KL weight and
 * both learning rates, which take effect at the next step boundary and are recorded in
 * every step (DraSearch.setSettings); a step scrubber over the recorded snapshots; a
 * layer selector; and the figures, redrawn as static SVG into one HTML widget. Only
 * values change while the search runs, never the controls themselves, so a menu or a
 * slider stays where the user put it.
 *
 *   const panel = controls(search);
 *   panel        // shows the panel; Run starts the search in the background
 *
 * The run goes on in the kernel between cells; the buttons act at step boundaries, so
 * the search is whole whenever it stops, and the next cell can use it.
 */
import { inspect } from 'node:util';
import { figureToSvg, lossCurves, magnitudeDistributions, probabilityHeatmap } from '../../widgets';
import { escapeXml } from '../../widgets/svg';
import type { DraSearch } from '../search/search';
import type { StepRecord } from '../search/record';
import { lastStepText } from './figures';
import { Button, Dropdown, FloatLogSlider, FloatSlider, HBox, HTML, IntSlider, VBox, type Widget } from './jupyter-widgets';

export type PanelState = 'idle' | 'running' | 'pausing' | 'paused' | 'stopped' | 'completed' | 'error';

export interface ControlsOptions {
  /** Least time between two redraws of the figures while running, in milliseconds. */
  intervalMs: number;
  /** Heading of the panel. */
  title: string;
}

export const CONTROLS_DEFAULTS: ControlsOptions = { intervalMs: 1000, title: 'DRA search' };

type PanelSearch = Pick<DraSearch, 'config' | 'history' | 'policy' | 'stepCount' | 'step' | 'run' | 'stop' | 'setSettings'>;

export class SearchControls {
  readonly view: VBox;
  readonly buttons: { run: Button; pause: Button; step: Button; stop: Button };
  readonly sliders: { temperature: FloatLogSlider; klWeight: FloatSlider; policyLearningRate: FloatLogSlider; modelLearningRate: FloatLogSlider };
  readonly scrubber: IntSlider;
  readonly layer: Dropdown<number>;
  readonly status: HTML;
  readonly figures: HTML;
  private stateValue: PanelState = 'idle';
  private running: Promise<void> | undefined;
  private lastDraw = 0;
  private error: string | undefined;
  private readonly options: ControlsOptions;

  constructor(readonly search: PanelSearch, options: Partial<ControlsOptions> = {}) {
    this.options = { ...CONTROLS_DEFAULTS, ...options };
    const c = search.config;
    const button = (description: string, icon: string, tooltip: string) => new Button({ description, icon, tooltip });
    this.buttons = { run: button('Run', 'play', 'run (or resume) the search in the background'), pause: button('Pause', 'pause', 'stop at the next step boundary'), step: button('Step', 'step-forward', 'one step'), stop: button('Stop', 'stop', 'stop for good; the search stays usable from cells') };
    const log = (description: string, value: number, min: number, max: number) => new FloatLogSlider({ description, value, min, max, step: 0.05, continuous_update: false, readout_format: '.3g' });
    this.sliders = {
      temperature: log('temperature', c.temperature, -2, 1),
      klWeight: new FloatSlider({ description: 'KL weight', value: c.klWeight, min: 0, max: Math.max(5, c.klWeight), step: 0.05, continuous_update: false }),
      policyLearningRate: log('policy lr', c.policyLearningRate, -5, 0),
      modelLearningRate: log('model lr', c.modelLearningRate, -4, 0.5),
    };
    this.scrubber = new IntSlider({ description: 'step', value: 0, min: 0, max: 0, step: 1, continuous_update: false });
    this.layer = new Dropdown<number>({ description: 'layer', options: Array.from({ length: search.policy.depth }, (_, d) => [`layer ${d + 1}`, d] as const), value: 0 });
    this.status = new HTML({ value: '' });
    this.figures = new HTML({ value: '' });
    this.view = new VBox({
      children: [
        new HTML({ value: `<b>${escapeXml(this.options.title)}</b>` }),
        new HBox({ children: Object.values(this.buttons) }),
        this.status,
        new HBox({ children: [this.sliders.temperature, this.sliders.klWeight] }),
        new HBox({ children: [this.sliders.policyLearningRate, this.sliders.modelLearningRate] }),
        new HBox({ children: [this.scrubber, this.layer] as Widget[] }),
        this.figures,
      ],
    });
    this.buttons.run.onClick(() => void this.run());
    this.buttons.pause.onClick(() => this.pause());
    this.buttons.step.onClick(() => void this.step().catch(() => undefined));
    this.buttons.stop.onClick(() => void this.stop());
    for (const [name, slider] of Object.entries(this.sliders) as Array<[keyof SearchControls['sliders'], Widget<{ value: number }>]>) {
      slider.on('change:value', ({ new: value }) => {
        try {
          this.search.setSettings({ [name]: value });
        } catch (err) {
          this.error = (err as Error).message;
        }
        this.refresh(true);
      });
    }
    // The scrubber and the layer only change what is drawn.
    this.scrubber.on('change:value', () => this.refresh(true));
    this.layer.on('change:value', () => this.refresh(true));
    this.refresh(true);
  }

  get state(): PanelState {
    return this.stateValue;
  }

  /**
   * Runs (or resumes) the search in the background until it completes, is paused or
   * stopped, or (with `steps`) that many more steps are done. What Run does; a cell may
   * await it.
   */
  run(options: { steps?: number } = {}): Promise<void> {
    if (this.running || !['idle', 'paused'].includes(this.stateValue)) return this.running ?? Promise.resolve();
    this.setState('running');
    this.running = (async () => {
      try {
        const result = await this.search.run({ ...(options.steps !== undefined ? { steps: options.steps } : {}), onStep: (record) => this.stepped(record) });
        if (result.reason === 'non-finite' || result.reason === 'callback-error') {
          this.error = result.error?.message ?? result.reason;
          this.setState('error');
        } else if (this.stateValue === 'pausing') this.setState('paused');
        else if (this.stateValue === 'running') this.setState(this.search.stepCount >= this.search.config.steps ? 'completed' : 'paused');
      } catch (err) {
        this.error = (err as Error).message;
        this.setState('error');
      } finally {
        this.running = undefined;
        this.refresh(true);
      }
    })();
    return this.running;
  }

  /** Stops the run at the next step boundary; Run resumes it. */
  pause(): void {
    if (this.stateValue !== 'running') return;
    this.setState('pausing');
    this.search.stop();
  }

  /** One step, when not running. */
  async step(): Promise<StepRecord | undefined> {
    if (!['idle', 'paused'].includes(this.stateValue)) return undefined;
    this.buttons.step.set({ disabled: true });
    try {
      const record = await this.search.step();
      this.stepped(record);
      return record;
    } catch (err) {
      this.error = (err as Error).message;
      throw err;
    } finally {
      this.setState(this.search.stepCount >= this.search.config.steps ? 'completed' : this.stateValue);
      this.refresh(true);
    }
  }

  /** Stops for good (at the next step boundary when running); the search itself stays usable. */
  async stop(): Promise<void> {
    const wasRunning = this.running;
    if (this.stateValue === 'running' || this.stateValue === 'pausing') this.search.stop();
    this.setState('stopped');
    await wasRunning;
    this.setState('stopped');
    this.refresh(true);
  }

  /** Resolves when no run started from the panel is in flight. */
  async idle(): Promise<void> {
    await this.running;
  }

  private stepped(record: StepRecord): void {
    const snapshots = this.search.history.snapshots;
    const last = snapshots[snapshots.length - 1]?.step ?? 0;
    // The scrubber follows the run only while the user leaves it at the newest snapshot.
    const following = this.scrubber.get('value') >= this.scrubber.get('max');
    this.scrubber.set({ max: Math.max(last, record.step), ...(following ? { value: Math.max(last, record.step) } : {}) });
    this.refresh(false);
  }

  private setState(state: PanelState): void {
    this.stateValue = state;
    const can = (action: 'run' | 'pause' | 'step' | 'stop') =>
      ({ run: ['idle', 'paused'], pause: ['running'], step: ['idle', 'paused'], stop: ['idle', 'running', 'paused', 'pausing'] })[action].includes(state);
    for (const action of ['run', 'pause', 'step', 'stop'] as const) this.buttons[action].set({ disabled: !can(action) });
    this.buttons.run.set({ description: state === 'paused' ? 'Resume' : 'Run' });
    this.refresh(false);
  }

  /** Status every call; figures at most once per intervalMs while running, else always. */
  private refresh(force: boolean): void {
    const s = this.search;
    const records = s.history.steps;
    const latest = records[records.length - 1];
    const status = `${this.stateValue} · step ${s.stepCount}/${s.config.steps}${latest ? ` · ${escapeXml(lastStepText(latest))}` : ''}`;
    this.status.set({ value: `<span class="dralab-status" data-state="${this.stateValue}" data-step="${s.stepCount}">${status}</span>${this.error ? `<div style="color:#b00">${escapeXml(this.error)}</div>` : ''}` });
    const now = performance.now();
    if (!force && this.stateValue === 'running' && now - this.lastDraw < this.options.intervalMs) return;
    this.lastDraw = now;
    this.figures.set({ value: this.drawFigures() });
  }

  private drawFigures(): string {
    const s = this.search;
    const recorded = s.history.snapshots.length > 0 ? s.history.snapshots : [{ step: s.stepCount, policy: s.policy.snapshot() }];
    const wanted = this.scrubber.get('value');
    // The newest snapshot at or before the scrubbed step.
    const index = recorded.reduce((best, snap, i) => (snap.step <= wanted ? i : best), 0);
    const snapshot = recorded[index]!;
    const layer = this.layer.value ?? 0;
    const parts = [
      figureToSvg(probabilityHeatmap([snapshot], { title: `Operator probabilities at step ${snapshot.step}` })),
      figureToSvg(magnitudeDistributions([snapshot], { title: `Magnitudes at step ${snapshot.step}: μ, μ ± σ clipped to [0, scale]`, initialLayer: layer, height: 360 })),
    ];
    if (s.history.steps.length > 0) parts.push(figureToSvg(lossCurves(s.history.steps, { title: 'Losses', height: 380, showAccuracy: true })));
    return `<div class="dralab-figures" data-layer="${layer}" data-snapshot-step="${snapshot.step}">${parts.join('\n')}</div>`;
  }

  /** Shows the panel (a cell ending in `panel` does this). */
  display(): void {
    this.view.display();
  }

  [inspect.custom](depth: number, options: { depth?: number | null }): string {
    return (this.view as unknown as { [inspect.custom](d: number, o: object): string })[inspect.custom](depth, options);
  }
}

/** A control panel for `search` (display it by ending a cell with it). */
export function controls(search: PanelSearch, options?: Partial<ControlsOptions>): SearchControls {
  return new SearchControls(search, options);
}
