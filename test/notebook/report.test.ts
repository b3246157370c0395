import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeReport, writeSearchReport } from '../../src/report';
import { syntheticSnapshots, syntheticSteps } from '../widgets/fixtures';
import { ARTIFACTS, chromiumMissing, renderInChromium } from './jupyter';

describe('report.html', () => {
  const history = { steps: syntheticSteps(25), snapshots: syntheticSnapshots(4, 2) };

  it('is one self-contained file: plotly inlined once, no external scripts, every figure with its static SVG', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-report-'));
    try {
      const file = writeReport(dir, { history, policy: history.snapshots[3]!.policy, step: 25, details: { model: 'tiny-cnn', seed: 0 } });
      assert.equal(file, join(dir, 'report.html'));
      assert.deepEqual(readdirSync(dir), ['report.html'], 'no temporary file left');
      const html = readFileSync(file, 'utf8');
      assert.equal(html.split('plotly.js v3').length - 1, 1);
      assert.doesNotMatch(html, /<script[^>]+src=/);
      assert.equal((html.match(/class="dralab-figure"/g) ?? []).length, 4, 'losses, probabilities, trajectories, magnitudes');
      assert.equal((html.match(/class="dralab-static"><svg/g) ?? []).length, 4);
      assert.match(html, /<tr><th>model<\/th><td>tiny-cnn<\/td><\/tr>/);
      assert.match(html, /policy at step 25, most likely operators:/);

      const noChromium = chromiumMissing();
      if (!noChromium) {
        const rendered = renderInChromium(file, join(ARTIFACTS, 'report.png'), dir);
        assert.deepEqual(rendered.messages, []);
        assert.equal(rendered.plots, 4, 'every figure drawn offline by the inlined plotly');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes a search report at a given .html path and names an unwritable target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dralab-report-'));
    try {
      const search = { history, policy: { snapshot: () => history.snapshots[3]!.policy }, stepCount: 30, config: { steps: 30 } };
      const file = writeSearchReport(search, join(dir, 'run', 'r.html'));
      assert.ok(existsSync(file));
      assert.match(readFileSync(file, 'utf8'), /5 policy snapshots/, 'the current policy is added as the newest snapshot');
      assert.throws(() => writeReport(join(file, 'inside-a-file'), { history, policy: history.snapshots[0]!.policy }), /cannot create .*inside-a-file for the report: ENOTDIR/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
