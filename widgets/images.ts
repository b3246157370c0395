/**
 * Image grids: original vs augmented samples with the operators and magnitudes applied,
 * and an operator gallery (each operator at several magnitudes). Images arrive as PNG
 * data: URIs so the figure stays plain JSON and works offline.
 */
import { round, withDefaults } from './common';
import type { Annotation, Figure, ImageTrace, Layout } from './types';

export interface GridCell {
  /** PNG data: URI. */
  source: string;
  row: number;
  column: number;
  /** Caption under the image (plotly annotation text; <br> breaks lines). */
  caption?: string;
}

interface GridGeometry {
  rows: number;
  columns: number;
  imageWidth: number;
  imageHeight: number;
  cellPixels: number;
  captionPixels: number;
  title: string;
  rowLabels: string[];
  rowLabelPixels: number;
  columnLabels?: string[];
}

const TITLE_PIXELS = 40;
const COLUMN_LABEL_PIXELS = 22;

function imageGrid(cells: readonly GridCell[], g: GridGeometry): Figure {
  const rowPixels = g.cellPixels + g.captionPixels;
  const top = TITLE_PIXELS + (g.columnLabels ? COLUMN_LABEL_PIXELS : 0);
  const height = top + g.rows * rowPixels + 10;
  // Wide enough for the title too (about 8 px per character at 15 px).
  const width = Math.max(g.rowLabelPixels + g.columns * (g.cellPixels + 8) + 10, 8 * g.title.length + 20);
  const layout: Layout = {
    title: { text: g.title, x: 0.01 },
    height,
    width,
    margin: { l: 0, r: 0, t: 0, b: 0 },
    showlegend: false,
    hovermode: false,
    annotations: [],
  };
  const annotations: Annotation[] = layout.annotations!;
  const xFrac = (px: number) => round(px / width);
  const yFrac = (px: number) => round(1 - px / height);
  const data: ImageTrace[] = cells.map((cell, i) => {
    const axis = i === 0 ? '' : String(i + 1);
    const left = g.rowLabelPixels + cell.column * (g.cellPixels + 8);
    const cellTop = top + cell.row * rowPixels;
    layout[`xaxis${axis}`] = { domain: [xFrac(left), xFrac(left + g.cellPixels)], range: [-0.5, g.imageWidth - 0.5], visible: false, fixedrange: true, anchor: `y${axis}` as const };
    layout[`yaxis${axis}`] = { domain: [yFrac(cellTop + g.cellPixels), yFrac(cellTop)], range: [g.imageHeight - 0.5, -0.5], visible: false, fixedrange: true, anchor: `x${axis}` as const };
    if (cell.caption) {
      annotations.push({ text: cell.caption, x: xFrac(left + g.cellPixels / 2), y: yFrac(cellTop + g.cellPixels + 2), xref: 'paper', yref: 'paper', showarrow: false, xanchor: 'center', yanchor: 'top', font: { size: 10 } });
    }
    return { type: 'image', name: cell.caption ?? `row ${cell.row + 1}, column ${cell.column + 1}`, source: cell.source, hoverinfo: 'skip', xaxis: `x${axis}`, yaxis: `y${axis}` };
  });
  g.rowLabels.forEach((label, r) => {
    annotations.push({ text: label, x: xFrac(g.rowLabelPixels - 6), y: yFrac(top + r * rowPixels + g.cellPixels / 2), xref: 'paper', yref: 'paper', showarrow: false, xanchor: 'right', yanchor: 'middle', font: { size: 11 } });
  });
  g.columnLabels?.forEach((label, c) => {
    annotations.push({ text: label, x: xFrac(g.rowLabelPixels + c * (g.cellPixels + 8) + g.cellPixels / 2), y: yFrac(top - 4), xref: 'paper', yref: 'paper', showarrow: false, xanchor: 'center', yanchor: 'bottom', font: { size: 11 } });
  });
  return { data, layout, config: { responsive: false, displaylogo: false, displayModeBar: false } };
}

/** Original and augmented images of the same samples, as the kernel side encodes them. */
export interface SampleGridData {
  /** PNG data: URIs of the original images. */
  original: string[];
  /** PNG data: URIs of the augmented images, same order. */
  augmented: string[];
  /** Operators applied to each sample, in order (empty: not augmented). */
  ops: string[][];
  /** Magnitude in [0, 1] of each applied operator. */
  magnitudes: number[][];
  width: number;
  height: number;
}

export interface SampleGridOptions {
  /** Figure title. */
  title: string;
  /** Samples per row pair (original above augmented). */
  columns: number;
  /** Displayed size of each image in pixels. */
  cellPixels: number;
}

export const SAMPLE_GRID_DEFAULTS: SampleGridOptions = {
  title: 'Samples: original (top) and augmented (bottom)',
  columns: 8,
  cellPixels: 96,
};

export function sampleGrid(samples: SampleGridData, options?: Partial<SampleGridOptions>): Figure {
  const o = withDefaults(SAMPLE_GRID_DEFAULTS, options);
  const n = samples.original.length;
  if (n === 0) throw new Error('sampleGrid: needs at least one sample, got none');
  for (const field of ['augmented', 'ops', 'magnitudes'] as const) {
    if (samples[field].length !== n) throw new Error(`sampleGrid: ${n} original images but ${samples[field].length} ${field}`);
  }
  samples.ops.forEach((ops, i) => {
    if (ops.length !== samples.magnitudes[i]!.length) throw new Error(`sampleGrid: sample ${i} has ${ops.length} ops but ${samples.magnitudes[i]!.length} magnitudes`);
  });
  if (!Number.isInteger(o.columns) || o.columns < 1) throw new Error(`sampleGrid: columns must be a positive integer, got ${o.columns}`);
  const columns = Math.min(o.columns, n);
  const pairs = Math.ceil(n / columns);
  const cells: GridCell[] = [];
  const rowLabels: string[] = [];
  for (let pair = 0; pair < pairs; pair++) rowLabels.push('original', 'augmented');
  for (let i = 0; i < n; i++) {
    const pair = Math.floor(i / columns);
    const column = i % columns;
    const ops = samples.ops[i]!;
    const caption = ops.length === 0 ? 'not applied' : ops.map((op, j) => `${op} ${samples.magnitudes[i]![j]!.toFixed(2)}`).join('<br>');
    cells.push({ source: samples.original[i]!, row: 2 * pair, column });
    cells.push({ source: samples.augmented[i]!, row: 2 * pair + 1, column, caption });
  }
  const maxOps = Math.max(1, ...samples.ops.map((ops) => ops.length));
  return imageGrid(cells, {
    rows: 2 * pairs,
    columns,
    imageWidth: samples.width,
    imageHeight: samples.height,
    cellPixels: o.cellPixels,
    captionPixels: 6 + 13 * maxOps,
    title: o.title,
    rowLabels,
    rowLabelPixels: 80,
  });
}

/** One operator applied to the same image at several magnitudes. */
export interface GalleryRow {
  op: string;
  /** PNG data: URIs, one per magnitude. */
  images: string[];
}

export interface GalleryData {
  /** The untouched image (PNG data: URI), shown in the first column. */
  original: string;
  magnitudes: number[];
  rows: GalleryRow[];
  width: number;
  height: number;
}

export interface GalleryOptions {
  /** Figure title. */
  title: string;
  /** Displayed size of each image in pixels. */
  cellPixels: number;
}

export const GALLERY_DEFAULTS: GalleryOptions = {
  title: 'Operators at increasing magnitude',
  cellPixels: 72,
};

export function operatorGallery(gallery: GalleryData, options?: Partial<GalleryOptions>): Figure {
  const o = withDefaults(GALLERY_DEFAULTS, options);
  if (gallery.rows.length === 0) throw new Error('operatorGallery: needs at least one operator row, got none');
  gallery.rows.forEach((row) => {
    if (row.images.length !== gallery.magnitudes.length) {
      throw new Error(`operatorGallery: ${row.op} has ${row.images.length} images for ${gallery.magnitudes.length} magnitudes`);
    }
  });
  const cells: GridCell[] = [];
  gallery.rows.forEach((row, r) => {
    cells.push({ source: gallery.original, row: r, column: 0 });
    row.images.forEach((source, c) => cells.push({ source, row: r, column: c + 1 }));
  });
  return imageGrid(cells, {
    rows: gallery.rows.length,
    columns: gallery.magnitudes.length + 1,
    imageWidth: gallery.width,
    imageHeight: gallery.height,
    cellPixels: o.cellPixels,
    captionPixels: 6,
    title: o.title,
    rowLabels: gallery.rows.map((row) => row.op),
    rowLabelPixels: 100,
    columnLabels: ['original', ...gallery.magnitudes.map((m) => `m = ${m.toFixed(2)}`)],
  });
}
