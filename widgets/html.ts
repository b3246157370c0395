/**
 * HTML for figures: a small runtime that draws a figure with window.Plotly once it is
 * there, and plotly.js itself (from npm packages, never a CDN). Reports inline the full
 * bundle (plotly.js-dist-min) once per file, made safe to inline: hidden from require.js,
 * `</script` escaped. Notebooks carry plotly's cartesian bundle (every trace dralab draws:
 * scatter, heatmap, image) gzipped in an inert element of one output per kernel session,
 * about 0.6 MB instead of 4.9; the draw runtime of any figure unpacks it when the page has
 * no window.Plotly, so figures draw again after a page reload or in a saved notebook
 * reopened without a kernel.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

/** JSON safe inside a <script> element: no `</script`, no `<!--`, no JS line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escapes text that goes into a <script> element verbatim. */
export function escapeScriptText(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

let plotlySource: string | undefined;

/** The minified plotly.js bundle shipped in the plotly.js-dist-min package. */
export function plotlyJs(): string {
  plotlySource ??= readFileSync(require.resolve('plotly.js-dist-min/plotly.min.js'), 'utf8');
  return plotlySource;
}

let payload: string | undefined;

/** The element type of the notebook payload: browsers neither run nor show it. */
export const PLOTLY_PAYLOAD_TYPE = 'text/x-dralab-plotly-gzip-base64';

/**
 * plotly.js for notebooks: the cartesian bundle of plotly.js-cartesian-dist-min, gzipped
 * and base64-encoded in an inert <script> element that DRAW_RUNTIME unpacks.
 */
export function plotlyPayloadTag(): string {
  payload ??= gzipSync(readFileSync(require.resolve('plotly.js-cartesian-dist-min/plotly-cartesian.min.js')), { level: 9 }).toString('base64');
  return `<script type="${PLOTLY_PAYLOAD_TYPE}" class="dralab-plotly-payload">${payload}</script>`;
}

/**
 * A <script> that defines window.Plotly unless the page already has it. require.js (the
 * classic notebook) defines a global `define`; a UMD bundle seeing it would register an
 * anonymous AMD module instead of setting window.Plotly, so `define` is hidden while
 * plotly runs and restored after.
 */
export function plotlyScriptTag(): string {
  return hiddenFromAmdScriptTag(plotlyJs(), 'window.Plotly');
}

/**
 * Wraps a UMD bundle in a <script> that runs it unless `alreadyLoaded` (a JS expression)
 * is truthy, with the global `define` hidden for the duration.
 */
export function hiddenFromAmdScriptTag(source: string, alreadyLoaded: string): string {
  return (
    '<script type="text/javascript">(function () {\n' +
    `if (${alreadyLoaded}) return;\n` +
    'var hiddenDefine = window.define; window.define = undefined;\n' +
    'try {\n' +
    escapeScriptText(source) +
    '\n} finally { window.define = hiddenDefine; }\n' +
    '})();</script>'
  );
}

/**
 * Browser code drawing one figure into its container. Without window.Plotly it unpacks
 * the notebook payload (plotlyPayloadTag) found anywhere in the page, once per page, with
 * require.js's `define` hidden; it waits up to 10 s for either, since the output holding
 * the payload may render after this one. Once drawn it removes the static SVG shown to
 * script-less viewers and adds the slider frames.
 */
export const DRAW_RUNTIME = `function dralabDraw(id, figure) {
  var tries = 0;
  function say(text) {
    var el = document.getElementById(id);
    var note = el && el.querySelector('.dralab-message');
    if (note) { note.textContent = text; note.style.display = 'block'; }
  }
  function unpack() {
    if (window.__dralabPlotly) return window.__dralabPlotly;
    var holder = document.querySelector('script[type="${PLOTLY_PAYLOAD_TYPE}"]');
    if (!holder || typeof DecompressionStream === 'undefined') return null;
    var bytes = Uint8Array.from(atob(holder.textContent.trim()), function (c) { return c.charCodeAt(0); });
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    window.__dralabPlotly = new Response(stream).text().then(function (source) {
      if (window.Plotly) return;
      var hiddenDefine = window.define; window.define = undefined;
      try { var s = document.createElement('script'); s.textContent = source; document.head.appendChild(s); }
      finally { window.define = hiddenDefine; }
    });
    return window.__dralabPlotly;
  }
  function attempt() {
    var el = document.getElementById(id);
    if (!el) return;
    var Plotly = window.Plotly;
    if (!Plotly) {
      var loading = unpack();
      if (loading) { loading.then(function () { if (window.Plotly) attempt(); else say('plotly.js could not be unpacked in this page'); }); return; }
      if (++tries < 200) { setTimeout(attempt, 50); return; }
      say('plotly.js is not in this page: it travels in the first chart output of a kernel session; re-run that cell, or call resetPlotly() and redisplay.');
      return;
    }
    var target = el.querySelector('.dralab-plot');
    Plotly.newPlot(target, figure.data, figure.layout, figure.config || {}).then(function (gd) {
      var fallback = el.querySelector('.dralab-static');
      if (fallback) fallback.parentNode.removeChild(fallback);
      if (figure.frames && figure.frames.length) return Plotly.addFrames(gd, figure.frames);
    }).catch(function (err) { say('could not draw the chart: ' + (err && err.message ? err.message : err)); });
  }
  attempt();
}`;

export interface FigureHtmlOptions {
  /** Unique element id of the figure's container. */
  elementId: string;
  /** Static SVG shown until (or instead of, where scripts do not run) the plotly chart. */
  staticSvg?: string;
}

/** A container div plus the script that draws `figure` into it with window.Plotly. */
export function figureHtml(figure: unknown, options: FigureHtmlOptions): string {
  if (!/^[A-Za-z][\w-]*$/.test(options.elementId)) {
    throw new Error(`figureHtml: elementId must be letters, digits, '-' or '_' starting with a letter, got '${options.elementId}'`);
  }
  return (
    `<div class="dralab-figure" id="${options.elementId}">` +
    `<div class="dralab-message" style="display:none;color:#b00;font-family:sans-serif;font-size:12px"></div>` +
    (options.staticSvg ? `<div class="dralab-static">${options.staticSvg}</div>` : '') +
    `<div class="dralab-plot"></div></div>\n` +
    `<script type="text/javascript">(${DRAW_RUNTIME})(${scriptJson(options.elementId)}, ${scriptJson(figure)});</script>`
  );
}
