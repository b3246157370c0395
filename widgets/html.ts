/**
 * HTML for figures: a small runtime that draws a figure with window.Plotly once it is
 * there, and the plotly.js script itself (from the plotly.js-dist-min npm package, never a
 * CDN) made safe to inline in a page: hidden from require.js and with `</script`
 * escaped. Used by notebook outputs (plotly inlined once per kernel session) and by
 * reports (inlined once per file).
 */
import { readFileSync } from 'node:fs';

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
 * Browser code drawing one figure into its container. It waits (up to 10 s) for
 * window.Plotly, since the output that inlines plotly may render after this one; once
 * drawn it removes the static SVG shown to script-less viewers and adds the slider frames.
 */
export const DRAW_RUNTIME = `function dralabDraw(id, figure) {
  var tries = 0;
  function say(text) {
    var el = document.getElementById(id);
    var note = el && el.querySelector('.dralab-message');
    if (note) { note.textContent = text; note.style.display = 'block'; }
  }
  function attempt() {
    var el = document.getElementById(id);
    if (!el) return;
    var Plotly = window.Plotly;
    if (!Plotly) {
      if (++tries < 200) { setTimeout(attempt, 50); return; }
      say('plotly.js is not loaded in this page: it is inlined into the first chart output of a kernel session; re-run that cell, or call resetPlotly() and redisplay.');
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
