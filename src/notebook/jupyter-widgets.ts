/**
 * The Jupyter widget protocol (version 2.1, what ipywidgets 8's frontends speak in
 * JupyterLab 4, Notebook 7 and VS Code) on the kernel comms of ./comm, and the standard
 * `@jupyter-widgets/controls` models, so TypeScript notebooks get controls that talk back:
 *
 *   const t = new widgets.FloatSlider({ value: 0.5, min: 0.05, max: 2, step: 0.05, description: 'tau' });
 *   t.on('change:value', ({ new: v }) => search.setSettings({ temperature: v }));
 *   t   // the cell's value: displayed as a slider
 *
 * Each widget is one model: a comm to the frontend's `jupyter.widget` target carrying the
 * model's state. State syncs both ways: `set` sends an `update`; an `update` from the
 * frontend changes the state here, fires `change:<name>` handlers and is echoed
 * (`echo_update`) so other views of the model agree. The frontend's
 * `jupyter.widget.control` comm gets every live model's state on `request_states`, which
 * is how a reloaded page gets its widgets back. Trait names and defaults are ipywidgets'
 * (the model specification of @jupyter-widgets/controls 2.0.0 and base 2.0.0); a frontend
 * fills any trait not sent with the same defaults.
 */
import { inspect } from 'node:util';
import { comm, type Comm, type CommMessage } from './comm';
import { inKernel, sendDisplay, uniqueId } from './kernel';

export const WIDGET_PROTOCOL_VERSION = '2.1.0';
const CONTROLS = { module: '@jupyter-widgets/controls', version: '2.0.0' } as const;
const BASE = { module: '@jupyter-widgets/base', version: '2.0.0' } as const;
const OUTPUT = { module: '@jupyter-widgets/output', version: '1.0.0' } as const;
export const WIDGET_VIEW_MIME = 'application/vnd.jupyter.widget-view+json';

type State = Record<string, unknown>;

export interface Change<T = unknown> {
  name: string;
  old: T;
  new: T;
  owner: Widget;
}

type ChangeHandler<T = unknown> = (change: Change<T>) => void;

/** Marks objects a kernel displays when they are a cell's value (see ./display). */
export const DISPLAY = Symbol.for('dralab.display');

/** Every open model, shared by every copy of dralab in the process (the kernelspec's preload and a cell's import). */
const live: Map<string, Widget> = ((globalThis as unknown as Record<symbol, Map<string, Widget> | undefined>)[Symbol.for('dralab.widgets.live')] ??= new Map());

/** A widget model in the kernel, mirrored by a model (and any number of views) in the frontend. */
export class Widget<S extends State = State> {
  readonly comm: Comm;
  protected readonly state: S & State;
  private readonly handlers = new Map<string, Set<ChangeHandler<never>>>();

  protected constructor(spec: { model: string; view: string | null; module?: { module: string; version: string }; viewModule?: { module: string; version: string } }, state: S) {
    const model = spec.module ?? CONTROLS;
    const view = spec.viewModule ?? model;
    this.state = {
      _model_module: model.module,
      _model_module_version: model.version,
      _model_name: spec.model,
      _view_module: view.module,
      _view_module_version: view.version,
      _view_name: spec.view,
      _view_count: null,
      ...state,
    } as S & State;
    this.comm = comm.open('jupyter.widget', { state: this.serialized(), buffer_paths: [] }, { metadata: { version: WIDGET_PROTOCOL_VERSION } });
    live.set(this.comm.id, this);
    this.comm.onMessage((message) => this.received(message));
    this.comm.onClose(() => live.delete(this.comm.id));
  }

  /** The model id the frontend knows this widget by. */
  get modelId(): string {
    return this.comm.id;
  }

  get<K extends keyof S & string>(name: K): S[K] {
    return this.state[name];
  }

  /** Changes traits here and in every view; fires the change handlers of those that changed. */
  set(values: Partial<S>): this {
    const changed = this.apply(values as State);
    if (Object.keys(changed).length > 0 && !this.comm.closed) this.comm.send({ method: 'update', state: serialize(changed), buffer_paths: [] });
    return this;
  }

  /** `change:<trait>` handlers get {name, old, new, owner}; `change` handlers get every trait change. */
  on<K extends keyof S & string>(event: `change:${K}` | 'change', handler: ChangeHandler<S[K]>): this {
    let set = this.handlers.get(event);
    if (!set) this.handlers.set(event, (set = new Set()));
    set.add(handler as ChangeHandler<never>);
    return this;
  }

  off(event: string, handler: ChangeHandler<never>): this {
    this.handlers.get(event)?.delete(handler);
    return this;
  }

  /** Shows a view of the widget in the running cell's output. */
  display(): void {
    sendDisplay({
      data: { [WIDGET_VIEW_MIME]: { model_id: this.modelId, version_major: 2, version_minor: 1 }, 'text/plain': this.toString() },
      metadata: {},
      transient: { display_id: uniqueId('widget') },
    });
  }

  /** Closes the model (and its views); it can no longer be changed. */
  close(): void {
    this.comm.close();
  }

  toString(): string {
    return `${String(this.state._model_name).replace(/Model$/, '')}(${this.describe()})`;
  }

  /**
   * tslab prints a cell's value through util.inspect (console.log). In a kernel, a widget
   * that is the printed value is shown instead, as IPython shows a widget that ends a
   * cell; nested in another value, or outside a kernel, it prints as text.
   */
  [inspect.custom](depth: number, options: { depth?: number | null }): string {
    if (!inKernel() || depth !== (options.depth ?? 2)) return this.toString();
    this.display();
    swallowNextNewline();
    return '';
  }

  [DISPLAY](): void {
    this.display();
  }

  /** Custom messages from the views (a Button's click). */
  protected customMessage(_content: unknown, _buffers: Uint8Array[]): void {}

  protected describe(): string {
    const d = this.state.description;
    return typeof d === 'string' && d ? JSON.stringify(d) : '';
  }

  /** The full state for the wire (widgets as 'IPY_MODEL_<id>'). */
  serialized(): State {
    return serialize(this.state);
  }

  private received(message: CommMessage): void {
    const data = message.data as { method?: string; state?: State; content?: unknown };
    if (data.method === 'update' && data.state) {
      const changed = this.apply(deserializeFrom(data.state, this.state));
      // Protocol 2.1: every view (other tabs, other frontends) gets the accepted change.
      if (Object.keys(changed).length > 0) this.comm.send({ method: 'echo_update', state: serialize(changed), buffer_paths: [] });
    } else if (data.method === 'request_state') {
      this.comm.send({ method: 'update', state: this.serialized(), buffer_paths: [] });
    } else if (data.method === 'custom') {
      this.customMessage(data.content, message.buffers);
    }
  }

  /** Sets values that differ; returns them; fires change handlers after all are set. */
  private apply(values: State): State {
    const changes: Array<Change> = [];
    const changed: State = {};
    for (const [name, value] of Object.entries(values)) {
      const old = this.state[name];
      if (sameValue(old, value)) continue;
      (this.state as State)[name] = value;
      changed[name] = value;
      changes.push({ name, old, new: value, owner: this as unknown as Widget });
    }
    for (const change of changes) {
      for (const event of [`change:${change.name}`, 'change']) {
        for (const handler of [...(this.handlers.get(event) ?? [])]) {
          try {
            (handler as ChangeHandler)(change);
          } catch (err) {
            process.stderr.write(`widget ${this.toString()}: a change handler failed: ${(err as Error).stack ?? String(err)}\n`);
          }
        }
      }
    }
    return changed;
  }
}

/** console.log writes the (empty) text of a displayed value and a newline: the newline is dropped, once. */
function swallowNextNewline(): void {
  const write = process.stdout.write;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    process.stdout.write = write;
    if (chunk === '\n') return true;
    return (write as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  }) as typeof process.stdout.write;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameValue(v, b[i]));
  return false;
}

function serialize(value: unknown): State {
  return JSON.parse(
    JSON.stringify(value, (_key, v) => (v instanceof Widget ? `IPY_MODEL_${v.modelId}` : v)),
  ) as State;
}

/** Frontend values as kernel values: 'IPY_MODEL_<id>' back to the widget where the trait held one. */
function deserializeFrom(values: State, current: State): State {
  const out: State = {};
  for (const [name, value] of Object.entries(values)) {
    const here = current[name];
    if (typeof value === 'string' && value.startsWith('IPY_MODEL_') && (here instanceof Widget || here === null)) out[name] = live.get(value.slice(10)) ?? value;
    else out[name] = value;
  }
  return out;
}

/** Answers the frontend's `jupyter.widget.control` comm: every live model's state on `request_states`. */
export function answerControlRequests(): void {
  comm.registerTarget('jupyter.widget.control', (control) => {
  control.onMessage((message) => {
    if ((message.data as { method?: string }).method !== 'request_states') return;
    const states: Record<string, { model_name: unknown; model_module: unknown; model_module_version: unknown; state: State }> = {};
    for (const [id, widget] of live) {
      const state = widget.serialized();
      states[id] = { model_name: state._model_name, model_module: state._model_module, model_module_version: state._model_module_version, state };
    }
    control.send({ method: 'update_states', states, buffer_paths: [] });
  });
  });
}
answerControlRequests();

/** The widgets the kernel has open now (for tests and `request_states`). */
export function liveWidgets(): Widget[] {
  return [...live.values()];
}

// ---------------------------------------------------------------------------------------
// The controls. Constructor options are ipywidgets' trait names.

interface DOMState extends State {
  _dom_classes: string[];
  layout: Widget | null;
  tabbable: boolean | null;
  tooltip: string | null;
}

interface DescriptionState extends DOMState {
  description: string;
  description_allow_html: boolean;
  style: Widget | null;
}

const domDefaults = (): DOMState => ({ _dom_classes: [], layout: null, tabbable: null, tooltip: null });
const descriptionDefaults = (): DescriptionState => ({ ...domDefaults(), description: '', description_allow_html: false, style: null });

function pick<S extends State>(defaults: S, given: Partial<S>): S {
  for (const key of Object.keys(given)) {
    if (!(key in defaults)) throw new Error(`unknown trait '${key}'; expected one of ${Object.keys(defaults).filter((k) => !k.startsWith('_')).join(', ')}`);
  }
  return { ...defaults, ...given };
}

interface ButtonState extends DescriptionState {
  button_style: '' | 'primary' | 'success' | 'info' | 'warning' | 'danger';
  disabled: boolean;
  icon: string;
}

export class Button extends Widget<ButtonState> {
  private readonly clickHandlers = new Set<(button: Button) => void>();

  constructor(options: Partial<ButtonState> = {}) {
    super({ model: 'ButtonModel', view: 'ButtonView' }, pick({ ...descriptionDefaults(), button_style: '', disabled: false, icon: '' }, options));
  }

  /** Calls `handler` on every click in any view. */
  onClick(handler: (button: Button) => void): this {
    this.clickHandlers.add(handler);
    return this;
  }

  /** As a click in a view does (for scripts and tests). */
  click(): void {
    for (const handler of [...this.clickHandlers]) handler(this);
  }

  protected override customMessage(content: unknown): void {
    if ((content as { event?: string })?.event === 'click') this.click();
  }
}

interface ToggleButtonState extends DescriptionState {
  value: boolean;
  button_style: ButtonState['button_style'];
  disabled: boolean;
  icon: string;
}

export class ToggleButton extends Widget<ToggleButtonState> {
  constructor(options: Partial<ToggleButtonState> = {}) {
    super({ model: 'ToggleButtonModel', view: 'ToggleButtonView' }, pick({ ...descriptionDefaults(), value: false, button_style: '', disabled: false, icon: '' }, options));
  }
}

interface SliderState extends DescriptionState {
  value: number;
  min: number;
  max: number;
  step: number;
  orientation: 'horizontal' | 'vertical';
  readout: boolean;
  readout_format: string;
  continuous_update: boolean;
  disabled: boolean;
  behavior: string;
}

const sliderDefaults = (readoutFormat: string): SliderState => ({
  ...descriptionDefaults(),
  value: 0,
  min: 0,
  max: 100,
  step: 1,
  orientation: 'horizontal',
  readout: true,
  readout_format: readoutFormat,
  continuous_update: true,
  disabled: false,
  behavior: 'drag-tap',
});

export class FloatSlider extends Widget<SliderState> {
  constructor(options: Partial<SliderState> = {}) {
    super({ model: 'FloatSliderModel', view: 'FloatSliderView' }, pick({ ...sliderDefaults('.2f'), max: 10, step: 0.1 }, options));
  }
}

interface LogSliderState extends SliderState {
  base: number;
}

/** A slider over base^min .. base^max on a log scale; `value` is the number itself. */
export class FloatLogSlider extends Widget<LogSliderState> {
  constructor(options: Partial<LogSliderState> = {}) {
    super({ model: 'FloatLogSliderModel', view: 'FloatLogSliderView' }, pick({ ...sliderDefaults('.3g'), value: 1, base: 10, min: 0, max: 4, step: 0.1 }, options));
  }
}

export class IntSlider extends Widget<SliderState> {
  constructor(options: Partial<SliderState> = {}) {
    super({ model: 'IntSliderModel', view: 'IntSliderView' }, pick(sliderDefaults('d'), options));
  }
}

interface PlayState extends DescriptionState {
  value: number;
  min: number;
  max: number;
  step: number;
  interval: number;
  playing: boolean;
  repeat: boolean;
  show_repeat: boolean;
  disabled: boolean;
}

export class Play extends Widget<PlayState> {
  constructor(options: Partial<PlayState> = {}) {
    super({ model: 'PlayModel', view: 'PlayView' }, pick({ ...descriptionDefaults(), value: 0, min: 0, max: 100, step: 1, interval: 100, playing: false, repeat: false, show_repeat: true, disabled: false }, options));
  }
}

interface DropdownState extends DescriptionState {
  _options_labels: string[];
  index: number | null;
  disabled: boolean;
}

/**
 * A menu. `options` are labels, or [label, value] pairs; `value` (kernel side, as in
 * ipywidgets) follows the frontend's `index`, and `change:value` fires with it.
 */
export class Dropdown<V = string> extends Widget<DropdownState> {
  private readonly values: V[];

  constructor(options: { options: ReadonlyArray<string | readonly [string, V]>; value?: V; index?: number } & Partial<Omit<DropdownState, '_options_labels' | 'index'>>) {
    const { options: items, value, index, ...rest } = options;
    const labels = items.map((o) => (typeof o === 'string' ? o : o[0]));
    const values = items.map((o) => (typeof o === 'string' ? o : o[1])) as V[];
    const chosen = value !== undefined ? values.indexOf(value) : (index ?? (values.length > 0 ? 0 : null));
    if (value !== undefined && chosen === -1) throw new Error(`Dropdown: value ${String(value)} is not among the options`);
    super({ model: 'DropdownModel', view: 'DropdownView' }, pick({ ...descriptionDefaults(), _options_labels: labels, index: chosen, disabled: false }, rest as Partial<DropdownState>));
    this.values = values;
  }

  get value(): V | undefined {
    const index = this.get('index');
    return index === null ? undefined : this.values[index];
  }

  set value(value: V | undefined) {
    const index = value === undefined ? null : this.values.indexOf(value);
    if (index === -1) throw new Error(`Dropdown: value ${String(value)} is not among the options`);
    this.set({ index });
  }

  /** `change:value` is `change:index` in values. */
  override on<K extends keyof DropdownState & string>(event: `change:${K}` | 'change' | 'change:value', handler: ChangeHandler<never>): this {
    if (event !== 'change:value') return super.on(event as never, handler as never);
    const onIndex = (change: Change<number | null>) =>
      (handler as unknown as ChangeHandler<V | undefined>)({ ...change, name: 'value', old: change.old === null ? undefined : this.values[change.old], new: change.new === null ? undefined : this.values[change.new] });
    return super.on('change:index', onIndex as never);
  }
}

interface HTMLState extends DescriptionState {
  value: string;
  placeholder: string;
}

export class HTML extends Widget<HTMLState> {
  constructor(options: Partial<HTMLState> = {}) {
    super({ model: 'HTMLModel', view: 'HTMLView' }, pick({ ...descriptionDefaults(), value: '', placeholder: '' }, options));
  }
}

interface BoxState extends DOMState {
  children: Widget[];
  box_style: '' | 'success' | 'info' | 'warning' | 'danger';
}

export class HBox extends Widget<BoxState> {
  constructor(options: Partial<BoxState> = {}) {
    super({ model: 'HBoxModel', view: 'HBoxView' }, pick({ ...domDefaults(), children: [], box_style: '' }, options));
  }
}

export class VBox extends Widget<BoxState> {
  constructor(options: Partial<BoxState> = {}) {
    super({ model: 'VBoxModel', view: 'VBoxView' }, pick({ ...domDefaults(), children: [], box_style: '' }, options));
  }
}

interface OutputState extends DOMState {
  outputs: Array<Record<string, unknown>>;
  msg_id: string;
}

/** An output area the kernel fills: `show(bundle)` replaces what it shows, `clear()` empties it. */
export class Output extends Widget<OutputState> {
  constructor(options: Partial<OutputState> = {}) {
    super({ model: 'OutputModel', view: 'OutputView', module: OUTPUT }, pick({ ...domDefaults(), outputs: [], msg_id: '' }, options));
  }

  /** Replaces the output with one display_data of these MIME types. */
  show(data: Record<string, unknown>): void {
    this.set({ outputs: [{ output_type: 'display_data', data, metadata: {} }] });
  }

  clear(): void {
    this.set({ outputs: [] });
  }
}

interface LayoutState extends State {
  width: string | null;
  height: string | null;
  margin: string | null;
  padding: string | null;
  border: string | null;
}

/** CSS layout of a widget (`new widgets.Button({ layout: new widgets.Layout({ width: '8em' }) })`). */
export class Layout extends Widget<LayoutState> {
  constructor(options: Partial<LayoutState> = {}) {
    super({ model: 'LayoutModel', view: 'LayoutView', module: BASE }, { width: null, height: null, margin: null, padding: null, border: null, ...options });
  }
}
