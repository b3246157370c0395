/**
 * MIME bundles for figures: self-contained HTML (plotly.js's cartesian bundle from npm, gzipped into the first
 * chart output of a kernel session and unpacked by any figure that finds no
 * window.Plotly, so reloads and reopened notebooks draw again), a static SVG for viewers
 * that run no scripts, and text. plotly's own JSON type (for frontends with a plotly
 * renderer) is opt-in: it would store every figure's data a third time in the notebook.
 */
import { figureHtml, figureToSvg, plotlyPayloadTag, type Figure } from '../../widgets';
import { currentExecution } from './comm';
import { uniqueId, type MimeBundle } from './kernel';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** A figure plus the words that stand for it where nothing else can be shown. */
export interface Displayable {
  figure: Figure;
  /** text/plain: a short summary (a terminal or a log shows only this). */
  text: string;
}

/**
 * Whether plotly.js has been put into an output of this kernel session yet, and by which
 * cell. Module state is kernel-session state: the kernel process loads this module once.
 * Re-running the cell that carried it replaces that output, so the cell carries it again
 * (where the frontend names cells); otherwise a saved notebook would lose it.
 */
const session: { plotlyInlined: boolean; carrierCell: string | undefined; carrierRequest: string | undefined } = { plotlyInlined: false, carrierCell: undefined, carrierRequest: undefined };

/** Forgets that plotly.js was inlined, so the next output carries it again. */
export function resetPlotly(): void {
  session.plotlyInlined = false;
  session.carrierCell = undefined;
  session.carrierRequest = undefined;
}

/**
 * Whether an output of this session carries plotly.js: false again when the cell that
 * carried it runs anew (its outputs are being replaced), true within that same run.
 */
export function plotlyInlined(): boolean {
  if (!session.plotlyInlined) return false;
  const now = currentExecution();
  if (now.request !== undefined && now.request === session.carrierRequest) return true;
  return !(now.id !== undefined && now.id === session.carrierCell);
}

export function markPlotlyInlined(): void {
  const now = currentExecution();
  session.plotlyInlined = true;
  session.carrierCell = now.id;
  session.carrierRequest = now.request;
}

export interface BundleOptions {
  /** Put plotly.js into this output: 'auto' does it once per session. */
  inlinePlotly?: 'auto' | 'always' | 'never';
  /** Container element id (default: a fresh unique one). */
  elementId?: string;
  /** Also send application/vnd.plotly.v1+json (default false: the HTML draws everywhere scripts run). */
  plotlyJsonMime?: boolean;
}

/** plotly's JSON MIME type takes data/layout/frames/config as they are. */
export function plotlyJson(figure: Figure): object {
  return { data: figure.data, layout: figure.layout, ...(figure.frames ? { frames: figure.frames } : {}), config: figure.config ?? {} };
}

export function figureBundle(item: Displayable, options: BundleOptions = {}): MimeBundle {
  const mode = options.inlinePlotly ?? 'auto';
  const inline = mode === 'always' || (mode === 'auto' && !plotlyInlined());
  const svg = figureToSvg(item.figure);
  const html = (inline ? plotlyPayloadTag() : '') + figureHtml(item.figure, { elementId: options.elementId ?? uniqueId('dralab-fig'), staticSvg: svg });
  if (inline) markPlotlyInlined();
  return {
    ...(options.plotlyJsonMime ? { [PLOTLY_MIME]: plotlyJson(item.figure) } : {}),
    'text/html': html,
    'image/svg+xml': svg,
    'text/plain': item.text,
  };
}
