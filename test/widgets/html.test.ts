import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { colourAt, escapeScriptText, figureHtml, hiddenFromAmdScriptTag, niceTicks, plotlyScriptTag, scriptJson, VIRIDIS } from '../../widgets';

describe('figure HTML', () => {
  it('embeds figure JSON that cannot close its script element', () => {
    const html = figureHtml({ data: [], layout: { title: { text: '</script><script>alert(1)</script>' } } }, { elementId: 'fig-1' });
    assert.equal(html.match(/<\/script/gi)?.length, 1, 'only the real closing tag remains');
    const json = scriptJson({ a: '</script>\u2028' });
    assert.deepEqual(JSON.parse(json), { a: '</script>\u2028' });
    assert.throws(() => figureHtml({}, { elementId: '1"><b' }), /elementId must be/);
  });

  it('inlines plotly.js once, hidden from require.js define, with no closing script inside', () => {
    const tag = plotlyScriptTag();
    assert.ok(tag.length > 1_000_000, 'the whole minified bundle is inlined');
    assert.equal(tag.match(/<\/script/gi)?.length, 1);
    assert.ok(tag.indexOf('window.define = undefined') < tag.indexOf('plotly.js v'));
    assert.match(escapeScriptText('a</SCRIPT>b<!--c'), /^a<\\\/SCRIPT>b<\\!--c$/);
  });

  it('runs a UMD bundle as a global where require.js has defined `define`, and restores define', async () => {
    const vm = await import('node:vm');
    const registered: unknown[] = [];
    const define = Object.assign((...args: unknown[]) => registered.push(args), { amd: {} });
    // The usual UMD prologue: AMD first, then the browser global.
    const umd = `(function (root, factory) {
      if (typeof window.define === 'function' && window.define.amd) window.define([], factory);
      else root.Lib = factory();
    })(window, function () { return { version: 1 }; });`;
    const run = (source: string) => {
      const window: Record<string, unknown> = { define };
      vm.runInContext(source.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, ''), vm.createContext({ window }));
      return window;
    };
    const bare = run(`<script>${umd}</script>`);
    assert.equal(bare.Lib, undefined, 'unwrapped, the bundle registers with require.js instead');
    assert.equal(registered.length, 1);
    const wrapped = run(hiddenFromAmdScriptTag(umd, 'window.Lib'));
    assert.equal((wrapped.Lib as { version?: number } | undefined)?.version, 1);
    assert.equal(wrapped.define, define, 'define is restored');
    assert.equal(registered.length, 1, 'nothing more was registered with require.js');
  });

  it('interpolates colour scales and picks round ticks', () => {
    assert.equal(colourAt(VIRIDIS, 0), '#440154');
    assert.equal(colourAt(VIRIDIS, 1), '#fde725');
    assert.equal(colourAt([[0, '#000000'], [1, '#ffffff']], 0.5), '#808080');
    assert.deepEqual(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(niceTicks(3, 47), [10, 20, 30, 40]);
  });
});
