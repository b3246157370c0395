/**
 * Every notebook in notebooks/ runs top to bottom on the tslab kernel (nbclient, headless),
 * its outputs carry the expected MIME types, and its HTML export (nbconvert) renders in
 * headless Chromium with every chart drawn. Screenshots: test-artifacts/notebooks/*.png.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, PYTHON, REPO, chromiumMissing, isolatedJupyter, jupyterMissing, renderInChromium, type JupyterEnv } from './jupyter';

interface Output {
  type: string;
  mime?: string[];
  name?: string;
  text?: string;
  ename?: string;
  dashboard?: boolean;
}
interface RunSummary {
  error: string | null;
  seconds: number;
  cells: { source: string; outputs: Output[] }[];
}

const FIGURE_MIME = ['image/svg+xml', 'text/html', 'text/plain'];
const DASHBOARD_MIME = ['image/svg+xml', 'text/html', 'text/plain'];
/** Dashboards and figures now carry the same types: dashboards are told apart by their HTML. */
const isDashboard = (o: Output) => o.dashboard === true;

/** Charts each notebook must show: [figure outputs (4 MIME types), dashboard outputs]. */
/** Charts each notebook must show, and the most its saved file (outputs included) may weigh. */
const EXPECTED: Record<string, { figures: number; dashboards: number; maxBytes: number }> = {
  quickstart: { figures: 5, dashboards: 1, maxBytes: 1_000_000 },
  'policy-inspection': { figures: 5, dashboards: 0, maxBytes: 1_000_000 },
  'train-with-policy': { figures: 2, dashboards: 0, maxBytes: 1_000_000 },
  // Its grids are images, each kept as PNG in the HTML, its static SVG and the SVG output.
  'operator-gallery': { figures: 2, dashboards: 0, maxBytes: 2_500_000 },
  'temperature-by-hand': { figures: 2, dashboards: 0, maxBytes: 1_000_000 },
};

const missing = jupyterMissing();

describe('notebooks end to end', { skip: missing ?? false }, () => {
  let jupyter: JupyterEnv;
  before(() => {
    jupyter = isolatedJupyter();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  after(() => jupyter?.cleanup());

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}.ipynb runs headless and renders every chart`, { timeout: 300_000 }, () => {
      const input = join(REPO, 'notebooks', `${name}.ipynb`);
      assert.ok(existsSync(input), `${input} exists`);
      const executed = join(ARTIFACTS, `${name}.executed.ipynb`);
      const html = join(ARTIFACTS, `${name}.html`);
      const run = spawnSync(PYTHON, [join(REPO, 'test/notebook/py/run_notebook.py'), input, executed, html, 'tslab', '300', join(REPO, 'notebooks')], { encoding: 'utf8', env: jupyter.env, cwd: join(REPO, 'notebooks'), maxBuffer: 64 * 1024 * 1024 });
      assert.equal(run.status, 0, `run_notebook.py failed: ${run.stderr.slice(-2000)}`);
      const summary = JSON.parse(run.stdout) as RunSummary;
      const stderr = summary.cells.flatMap((c) => c.outputs.filter((o) => o.name === 'stderr').map((o) => `${c.source.split('\n')[0]}: ${o.text}`));
      assert.equal(summary.error, null, `a cell failed:\n${summary.error}\n${stderr.join('\n')}`);
      // tslab reports errors (type errors included) on stderr only; a clean run has none.
      assert.deepEqual(stderr.filter((t) => /error/i.test(t)), []);
      const displays = summary.cells.flatMap((c) => c.outputs.filter((o) => o.type === 'display_data'));
      const figures = displays.filter((o) => JSON.stringify(o.mime) === JSON.stringify(FIGURE_MIME) && !isDashboard(o));
      const dashboards = displays.filter((o) => JSON.stringify(o.mime) === JSON.stringify(DASHBOARD_MIME) && isDashboard(o));
      assert.equal(figures.length, expected.figures, `figure outputs with ${FIGURE_MIME.join(', ')}`);
      assert.equal(dashboards.length, expected.dashboards, 'dashboard outputs');
      const bytes = statSync(executed).size;
      console.log(`${name}: executed in ${summary.seconds.toFixed(1)} s; saved with outputs: ${(bytes / 1e6).toFixed(2)} MB`);
      // plotly.js travels gzipped once (about 0.6 MB), so a notebook with its figures stays small.
      assert.ok(bytes < expected.maxBytes, `${name}.ipynb with outputs is ${bytes} bytes; expected under ${expected.maxBytes}`);

      const noChromium = chromiumMissing();
      if (noChromium) {
        console.log(`skipping the browser check: ${noChromium}`);
        return;
      }
      const rendered = renderInChromium(html, join(ARTIFACTS, `${name}.png`), jupyter.dir);
      assert.deepEqual(rendered.messages, [], 'no chart reported a drawing problem');
      // A dashboard holds three charts (losses, probabilities, magnitudes).
      assert.equal(rendered.plots, expected.figures + 3 * expected.dashboards, 'every chart was drawn by plotly');
      assert.ok(existsSync(join(ARTIFACTS, `${name}.png`)), 'screenshot written');
    });
  }
});
