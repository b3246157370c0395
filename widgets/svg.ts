/**
 * A static SVG drawing of a figure for viewers that run no scripts (GitHub, nbviewer,
 * e-mail). It draws from the same plain figure JSON plotly gets: lines as polylines,
 * markers as circles, heatmap cells as rects, images as <image>. Interactive parts
 * (sliders, menus, hover) are left out: the static image shows the figure's opening state.
 */
import { round, withDefaults } from './common';
import type { Axis, ColorScale, Figure, HeatmapTrace, ImageTrace, Layout, ScatterTrace, Trace } from './types';

export interface SvgOptions {
  /** Width used when the figure leaves it to its container. */
  defaultWidth: number;
  /** Font family of every text. */
  fontFamily: string;
}

export const SVG_DEFAULTS: SvgOptions = {
  defaultWidth: 820,
  fontFamily: 'Helvetica, Arial, sans-serif',
};

const PLOTLY_DEFAULT_MARGIN = { l: 80, r: 80, t: 100, b: 80 };
const LEGEND_ROW_PIXELS = 18;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Splits plotly's `<br>` line breaks and drops other markup. */
function textLines(text: string): string[] {
  return text.split(/<br\s*\/?>/i).map((line) => line.replace(/<[^>]*>/g, ''));
}

function parseHex(colour: string): [number, number, number] {
  const m = /^#([0-9a-f]{6})$/i.exec(colour);
  if (!m) throw new Error(`svg: colour scale stops must be #rrggbb, got '${colour}'`);
  const v = parseInt(m[1]!, 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Linear interpolation along a colour scale, value normalised to [0, 1]. */
export function colourAt(scale: ColorScale, t: number): string {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  let i = 0;
  while (i < scale.length - 2 && scale[i + 1]![0] < u) i++;
  const [p0, c0] = scale[i]!;
  const [p1, c1] = scale[Math.min(i + 1, scale.length - 1)]!;
  const f = p1 > p0 ? (u - p0) / (p1 - p0) : 0;
  const a = parseHex(c0);
  const b = parseHex(c1);
  const mix = a.map((x, j) => Math.round(x + f * (b[j]! - x)));
  return `#${mix.map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

/** About five round tick values covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  if (!(high > low)) return [low];
  const rough = (high - low) / count;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= rough) ?? rough;
  const ticks: number[] = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) ticks.push(round(v));
  return ticks;
}

function formatTick(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(round(v));
}

interface Scale {
  /** Data value (or category) to pixel. */
  at(value: number | string): number;
  /** Half the width of one category band (0 for a linear axis). */
  band: number;
  ticks: { value: number | string; pixel: number; label: string }[];
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

function axisKey(ref: string | undefined, letter: 'x' | 'y'): `xaxis${string}` | `yaxis${string}` {
  const suffix = ref && ref.length > 1 ? ref.slice(1) : '';
  return `${letter}axis${suffix}`;
}

function makeScale(axis: Axis | undefined, values: (number | string)[], start: number, length: number, vertical: boolean): Scale {
  const categorical = axis?.type === 'category' || values.some((v) => typeof v === 'string');
  if (categorical) {
    const categories = [...new Set(values.map(String))];
    const n = Math.max(1, categories.length);
    const reversed = axis?.autorange === 'reversed';
    const band = length / n / 2;
    const at = (value: number | string) => {
      const i = categories.indexOf(String(value));
      const position = start + (i + 0.5) * (length / n);
      return vertical !== reversed ? start + length - (position - start) : position;
    };
    return { at, band, ticks: categories.map((c) => ({ value: c, pixel: at(c), label: c })) };
  }
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  let [low, high] = axis?.range ?? [Math.min(...numbers), Math.max(...numbers)];
  if (!Number.isFinite(low) || !Number.isFinite(high)) [low, high] = [0, 1];
  if (low === high) [low, high] = [low - 1, high + 1];
  if (!axis?.range) {
    const pad = (high - low) * 0.04;
    [low, high] = [low - pad, high + pad];
  }
  const descending = low > high;
  const [lo, hi] = descending ? [high, low] : [low, high];
  const at = (value: number | string) => {
    const f = (Number(value) - lo) / (hi - lo);
    const g = descending ? 1 - f : f;
    return vertical ? start + length - g * length : start + g * length;
  };
  return { at, band: 0, ticks: niceTicks(lo, hi).map((v) => ({ value: v, pixel: at(v), label: formatTick(v) })) };
}

function boxOf(layout: Layout, xKey: string, yKey: string, plot: Box): Box {
  const xd = (layout[xKey as `xaxis${string}`]?.domain ?? [0, 1]) as [number, number];
  const yd = (layout[yKey as `yaxis${string}`]?.domain ?? [0, 1]) as [number, number];
  return {
    left: plot.left + xd[0] * plot.width,
    top: plot.top + (1 - yd[1]) * plot.height,
    width: (xd[1] - xd[0]) * plot.width,
    height: (yd[1] - yd[0]) * plot.height,
  };
}

function f(v: number): string {
  return String(Math.round(v * 10) / 10);
}

function text(x: number, y: number, content: string, attrs: string): string {
  const lines = textLines(content);
  if (lines.length === 1) return `<text x="${f(x)}" y="${f(y)}" ${attrs}>${escapeXml(lines[0]!)}</text>`;
  return `<text x="${f(x)}" y="${f(y)}" ${attrs}>${lines.map((l, i) => `<tspan x="${f(x)}" dy="${i === 0 ? 0 : '1.2em'}">${escapeXml(l)}</tspan>`).join('')}</text>`;
}

function drawScatter(t: ScatterTrace, xs: Scale, ys: Scale, out: string[]): void {
  const colour = t.line?.color ?? (typeof t.marker?.color === 'string' ? t.marker.color : '#1f77b4');
  const points = t.y.map((y, i) => (y === null || !Number.isFinite(y) ? null : [xs.at(t.x[i]!), ys.at(y)] as const));
  if (t.error_y?.visible) {
    t.y.forEach((y, i) => {
      const up = t.error_y!.array[i];
      if (y === null || up === undefined) return;
      const down = t.error_y!.arrayminus?.[i] ?? up;
      const x = xs.at(t.x[i]!);
      const [a, b] = [ys.at(y - down), ys.at(y + up)];
      const w = (t.error_y!.width ?? 4) / 2;
      out.push(`<path d="M${f(x)},${f(a)}V${f(b)}M${f(x - w)},${f(a)}H${f(x + w)}M${f(x - w)},${f(b)}H${f(x + w)}" stroke="${t.error_y!.color ?? colour}" stroke-width="${t.error_y!.thickness ?? 1}" fill="none"/>`);
    });
  }
  if (t.mode.includes('lines')) {
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${colour}" stroke-width="${t.line?.width ?? 2}"${t.opacity !== undefined ? ` stroke-opacity="${t.opacity}"` : ''}${t.line?.dash === 'dot' ? ' stroke-dasharray="2,3"' : t.line?.dash === 'dash' ? ' stroke-dasharray="6,4"' : ''}/>`);
      run = [];
    };
    for (const p of points) {
      if (p) run.push(`${f(p[0])},${f(p[1])}`);
      else flush();
    }
    flush();
  }
  if (t.mode.includes('markers')) {
    const m = t.marker;
    points.forEach((p, i) => {
      if (!p) return;
      let fill = colour;
      if (m && Array.isArray(m.color)) {
        const [lo, hi] = [m.cmin ?? Math.min(...m.color), m.cmax ?? Math.max(...m.color)];
        fill = colourAt(m.colorscale ?? [[0, '#000000'], [1, '#1f77b4']], (m.color[i]! - lo) / (hi - lo || 1));
      }
      out.push(`<circle cx="${f(p[0])}" cy="${f(p[1])}" r="${f((m?.size ?? 6) / 2)}" fill="${fill}" stroke="#333" stroke-width="0.5"/>`);
    });
  }
}

function drawHeatmap(t: HeatmapTrace, xs: Scale, ys: Scale, out: string[]): void {
  t.z.forEach((row, r) => {
    row.forEach((v, c) => {
      const cx = xs.at(t.x[c]!);
      const cy = ys.at(t.y[r]!);
      const fill = colourAt(t.colorscale, (v - t.zmin) / (t.zmax - t.zmin || 1));
      out.push(`<rect x="${f(cx - xs.band)}" y="${f(cy - ys.band)}" width="${f(2 * xs.band)}" height="${f(2 * ys.band)}" fill="${fill}"><title>${escapeXml(`${t.y[r]}, ${t.x[c]}: ${round(v)}`)}</title></rect>`);
    });
  });
}

/** The heatmap's colour bar at the right of its plot box, labelled as the figure's colorbar says. */
function drawColourBar(t: HeatmapTrace, box: Box, fontAttrs: string, out: string[]): void {
  const x = box.left + box.width + 14;
  const steps = 24;
  const h = box.height / steps;
  for (let i = 0; i < steps; i++) {
    const v = 1 - (i + 0.5) / steps;
    out.push(`<rect x="${f(x)}" y="${f(box.top + i * h)}" width="12" height="${f(h + 0.5)}" fill="${colourAt(t.colorscale, v)}"/>`);
  }
  out.push(`<rect x="${f(x)}" y="${f(box.top)}" width="12" height="${f(box.height)}" fill="none" stroke="#999"/>`);
  const tickvals = t.colorbar?.tickvals ?? [t.zmin, (t.zmin + t.zmax) / 2, t.zmax];
  tickvals.forEach((value, i) => {
    const y = box.top + (1 - (value - t.zmin) / (t.zmax - t.zmin || 1)) * box.height;
    out.push(text(x + 16, y + 3, t.colorbar?.ticktext?.[i] ?? String(round(value)), `${fontAttrs} font-size="9"`));
  });
  if (t.colorbar?.title) out.push(text(x, box.top - 6, t.colorbar.title.text, `${fontAttrs} font-size="9"`));
}

function drawImage(t: ImageTrace, box: Box, out: string[]): void {
  out.push(`<image x="${f(box.left)}" y="${f(box.top)}" width="${f(box.width)}" height="${f(box.height)}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${escapeXml(t.source)}"/>`);
}

function drawAxes(axisX: Axis | undefined, axisY: Axis | undefined, box: Box, xs: Scale, ys: Scale, fontAttrs: string, out: string[]): void {
  if (axisX?.visible === false) return;
  out.push(`<rect x="${f(box.left)}" y="${f(box.top)}" width="${f(box.width)}" height="${f(box.height)}" fill="none" stroke="#ccc"/>`);
  const bottom = box.top + box.height;
  for (const tick of xs.ticks) {
    if (xs.band === 0) out.push(`<line x1="${f(tick.pixel)}" x2="${f(tick.pixel)}" y1="${f(box.top)}" y2="${f(bottom)}" stroke="#eee"/>`);
    const angle = axisX?.tickangle ?? 0;
    out.push(angle !== 0
      ? `<text transform="translate(${f(tick.pixel)},${f(bottom + 12)}) rotate(${angle})" text-anchor="end" ${fontAttrs} font-size="10">${escapeXml(tick.label)}</text>`
      : text(tick.pixel, bottom + 14, tick.label, `text-anchor="middle" ${fontAttrs} font-size="10"`));
  }
  for (const tick of ys.ticks) {
    if (ys.band === 0) out.push(`<line x1="${f(box.left)}" x2="${f(box.left + box.width)}" y1="${f(tick.pixel)}" y2="${f(tick.pixel)}" stroke="#eee"/>`);
    out.push(text(box.left - 5, tick.pixel + 3, tick.label, `text-anchor="end" ${fontAttrs} font-size="10"`));
  }
  if (axisX?.title) out.push(text(box.left + box.width / 2, bottom + 32, axisX.title.text, `text-anchor="middle" ${fontAttrs} font-size="11"`));
  if (axisY?.title) {
    out.push(`<text transform="translate(${f(box.left - 42)},${f(box.top + box.height / 2)}) rotate(-90)" text-anchor="middle" ${fontAttrs} font-size="11">${escapeXml(axisY.title.text)}</text>`);
  }
}

function visibleTraces(figure: Figure): Trace[] {
  return figure.data.filter((t) => !('visible' in t) || t.visible !== false);
}

/** Renders a figure to a standalone SVG document string. */
export function figureToSvg(figure: Figure, options?: Partial<SvgOptions>): string {
  const o = withDefaults(SVG_DEFAULTS, options);
  const layout = figure.layout;
  const traces = visibleTraces(figure);
  const legendEntries = layout.showlegend === false
    ? []
    : [...new Map(traces.filter((t): t is ScatterTrace => t.type === 'scatter' && t.showlegend !== false && t.name !== undefined).map((t) => [t.name!, t.line?.color ?? (typeof t.marker?.color === 'string' ? t.marker.color : '#1f77b4')])).entries()];
  const width = layout.width ?? o.defaultWidth;
  const legendRows = Math.ceil(legendEntries.length / Math.max(1, Math.floor((width - 40) / 170)));
  const height = layout.height + legendRows * LEGEND_ROW_PIXELS;
  const margin = layout.margin ?? PLOTLY_DEFAULT_MARGIN;
  const plot: Box = { left: margin.l, top: margin.t, width: width - margin.l - margin.r, height: layout.height - margin.t - margin.b };
  const fontAttrs = `font-family="${escapeXml(o.fontFamily)}" fill="#333"`;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (layout.title) out.push(text(8, 20, layout.title.text, `${fontAttrs} font-size="15"`));
  // A static picture shows one choice of a menu: say which, and where the others are.
  const menu = layout.updatemenus?.find((m) => m.buttons.length > 1);
  if (menu) out.push(text(8, 36, `showing ${menu.buttons[menu.active]?.label ?? 'the first choice'} (${menu.buttons.length} in the interactive chart's menu)`, `${fontAttrs} font-size="11" font-style="italic"`));
  const pairs = new Map<string, Trace[]>();
  for (const t of traces) {
    const key = `${axisKey(t.xaxis, 'x')}|${axisKey(t.yaxis, 'y')}`;
    pairs.set(key, [...(pairs.get(key) ?? []), t]);
  }
  for (const [key, group] of pairs) {
    const [xKey, yKey] = key.split('|') as [`xaxis${string}`, `yaxis${string}`];
    const box = boxOf(layout, xKey, yKey, plot);
    const axisX = layout[xKey];
    const axisY = layout[yKey];
    const xValues: (number | string)[] = [];
    const yValues: (number | string)[] = [];
    for (const t of group) {
      if (t.type === 'scatter') {
        xValues.push(...t.x);
        t.y.forEach((y, i) => {
          if (y === null) return;
          const up = t.error_y?.visible ? t.error_y.array[i] ?? 0 : 0;
          const down = t.error_y?.visible ? t.error_y.arrayminus?.[i] ?? up : 0;
          yValues.push(y - down, y + up);
        });
      } else if (t.type === 'heatmap') {
        xValues.push(...t.x);
        yValues.push(...t.y);
      }
    }
    if (group.every((t) => t.type === 'image')) {
      for (const t of group) drawImage(t as ImageTrace, box, out);
      continue;
    }
    const xs = makeScale(axisX, xValues, box.left, box.width, false);
    const ys = makeScale(axisY, yValues, box.top, box.height, true);
    drawAxes(axisX, axisY, box, xs, ys, fontAttrs, out);
    for (const t of group) {
      if (t.type === 'scatter') drawScatter(t, xs, ys, out);
      else if (t.type === 'heatmap') {
        drawHeatmap(t, xs, ys, out);
        drawColourBar(t, box, fontAttrs, out);
      } else drawImage(t, box, out);
    }
  }
  for (const a of layout.annotations ?? []) {
    if (a.xref !== 'paper' || a.yref !== 'paper') continue;
    const x = plot.left + a.x * plot.width;
    const y = plot.top + (1 - a.y) * plot.height;
    const anchor = a.xanchor === 'left' ? 'start' : a.xanchor === 'right' ? 'end' : 'middle';
    const lines = textLines(a.text).length;
    const size = a.font?.size ?? 12;
    const dy = a.yanchor === 'top' ? size : a.yanchor === 'middle' ? size / 3 - ((lines - 1) * size * 1.2) / 2 : -(lines - 1) * size * 1.2;
    out.push(text(x, y + dy, a.text, `text-anchor="${anchor}" ${fontAttrs} font-size="${size}"${a.font?.color ? ` style="fill:${escapeXml(a.font.color)}"` : ''}`));
  }
  const perRow = Math.max(1, Math.floor((width - 40) / 170));
  legendEntries.forEach(([name, colour], i) => {
    const x = 20 + (i % perRow) * 170;
    const y = layout.height + Math.floor(i / perRow) * LEGEND_ROW_PIXELS + 4;
    out.push(`<line x1="${x}" x2="${x + 20}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="3"/>`);
    out.push(text(x + 26, y + 4, name, `${fontAttrs} font-size="11"`));
  });
  out.push('</svg>');
  return out.join('\n');
}
