/**
 * The subset of the plotly.js figure format the figure builders emit. Builders return
 * plain JSON (no functions, no tensors), so a figure can be sent as
 * application/vnd.plotly.v1+json, inlined into HTML, snapshot-tested and drawn as SVG.
 */

export type AxisRef = `x${string}`;
export type YAxisRef = `y${string}`;

export interface ScatterTrace {
  type: 'scatter';
  name?: string;
  x: number[] | string[];
  /** null leaves a gap in the line. */
  y: (number | null)[];
  mode: 'lines' | 'markers' | 'lines+markers';
  /** 0..1: raw curves drawn faint under their smoothed line. */
  opacity?: number;
  line?: { color?: string; width?: number; dash?: 'solid' | 'dot' | 'dash' };
  marker?: {
    color?: string | number[];
    size?: number;
    symbol?: string;
    colorscale?: ColorScale;
    cmin?: number;
    cmax?: number;
    showscale?: boolean;
    colorbar?: { title?: { text: string }; len?: number; y?: number };
  };
  /** Error bars: `array` above the point, `arrayminus` below it (symmetric when absent). */
  error_y?: { type: 'data'; array: number[]; arrayminus?: number[]; symmetric?: boolean; visible: boolean; color?: string; thickness?: number; width?: number };
  customdata?: (number | string)[][];
  hovertemplate?: string;
  xaxis?: AxisRef;
  yaxis?: YAxisRef;
  visible?: boolean;
  showlegend?: boolean;
  legendgroup?: string;
}

export interface HeatmapTrace {
  type: 'heatmap';
  name?: string;
  z: number[][];
  x: string[];
  y: string[];
  colorscale: ColorScale;
  zmin: number;
  zmax: number;
  /** Per-cell values for the hover text (the probability relative to uniform). */
  customdata?: number[][];
  hovertemplate?: string;
  colorbar?: { title?: { text: string }; tickvals?: number[]; ticktext?: string[] };
  xaxis?: AxisRef;
  yaxis?: YAxisRef;
  visible?: boolean;
}

/** An image given as a data: URI (PNG); plotly draws it at one axis unit per pixel. */
export interface ImageTrace {
  type: 'image';
  name?: string;
  source: string;
  hoverinfo: 'skip';
  xaxis?: AxisRef;
  yaxis?: YAxisRef;
}

export type Trace = ScatterTrace | HeatmapTrace | ImageTrace;

/** [position in [0, 1], CSS colour] stops, as plotly takes them. */
export type ColorScale = [number, string][];

export interface Axis {
  title?: { text: string };
  domain?: [number, number];
  range?: [number, number];
  type?: 'linear' | 'category' | 'log';
  anchor?: AxisRef | YAxisRef;
  tickangle?: number;
  visible?: boolean;
  showgrid?: boolean;
  zeroline?: boolean;
  autorange?: boolean | 'reversed';
  scaleanchor?: AxisRef | YAxisRef;
  constrain?: 'domain' | 'range';
  fixedrange?: boolean;
}

export interface Annotation {
  text: string;
  x: number;
  y: number;
  xref: 'paper' | AxisRef;
  yref: 'paper' | YAxisRef;
  showarrow: false;
  xanchor?: 'left' | 'center' | 'right';
  yanchor?: 'top' | 'middle' | 'bottom';
  font?: { size?: number; color?: string };
}

/** A step of a slider: which frame it shows. */
export interface SliderStep {
  label: string;
  method: 'animate';
  args: [string[], { mode: 'immediate'; frame: { duration: 0; redraw: true }; transition: { duration: 0 } }];
}

export interface Slider {
  active: number;
  steps: SliderStep[];
  currentvalue: { prefix: string };
  pad?: { t?: number; b?: number };
  x?: number;
  len?: number;
}

/** A button of a drop-down menu: which traces it makes visible. */
export interface MenuButton {
  label: string;
  method: 'restyle' | 'update';
  args: unknown[];
}

export interface UpdateMenu {
  type: 'dropdown' | 'buttons';
  active: number;
  buttons: MenuButton[];
  x?: number;
  y?: number;
  xanchor?: 'left' | 'center' | 'right';
  yanchor?: 'top' | 'middle' | 'bottom';
  direction?: 'down' | 'right';
  showactive?: boolean;
}

export interface Layout {
  title?: { text: string; x?: number };
  width?: number;
  height: number;
  margin?: { l: number; r: number; t: number; b: number };
  showlegend?: boolean;
  legend?: { orientation?: 'h' | 'v'; x?: number; y?: number; xanchor?: 'left' | 'center' | 'right'; yanchor?: 'top' | 'middle' | 'bottom'; font?: { size?: number } };
  hovermode?: 'closest' | 'x' | 'x unified' | false;
  annotations?: Annotation[];
  sliders?: Slider[];
  updatemenus?: UpdateMenu[];
  /** xaxis, xaxis2, ..., yaxis, yaxis2, ... */
  [axis: `xaxis${string}` | `yaxis${string}`]: Axis | undefined;
}

/** A frame: per-trace data replacing the listed traces when a slider step is chosen. */
export interface Frame {
  name: string;
  /** Partial traces (only the fields that change), one per index in `traces`. */
  data: Partial<Trace>[];
  traces: number[];
  /** Layout changes the frame brings (its title: the step shown). */
  layout?: { title?: { text: string; x?: number } };
}

export interface Figure {
  data: Trace[];
  layout: Layout;
  frames?: Frame[];
  config?: { responsive?: boolean; displaylogo?: boolean; displayModeBar?: boolean };
}
