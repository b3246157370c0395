import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { display, figures, plot, resetPlotly, setDisplaySink, PLOTLY_MIME } from '../../src/notebook';
import { syntheticSnapshots, syntheticSteps } from '../widgets/fixtures';
import { RecordingSink } from './recorder';

describe('display', () => {
  it('sends one output with HTML, SVG and text (plotly JSON on request); plotly.js inlined only the first time', () => {
    const sink = new RecordingSink();
    setDisplaySink(sink);
    resetPlotly();
    const history = { steps: syntheticSteps(20), snapshots: syntheticSnapshots(3) };
    plot.losses(history);
    plot.probabilities(history);
    assert.equal(sink.sent.length, 2);
    for (const { type, content } of sink.sent) {
      assert.equal(type, 'display_data');
      assert.deepEqual(Object.keys(content.data).sort(), ['image/svg+xml', 'text/html', 'text/plain']);
    }
    const [first, second] = sink.sent.map((s) => s.content.data['text/html'] as string);
    assert.ok(first!.includes('class="dralab-plotly-payload"'), 'the first output carries plotly.js');
    assert.ok(!second!.includes('dralab-plotly-payload">'), 'later outputs reuse it');
    assert.ok(second!.length < 200_000);
    plot.probabilities(history, { plotlyJsonMime: true });
    const plotlyJson = sink.sent[2]!.content.data[PLOTLY_MIME] as { data: unknown[]; frames: unknown[] };
    assert.equal(plotlyJson.frames.length, 3, 'the step slider frames travel in the plotly JSON');
    assert.match(sink.sent[1]!.content.data['text/plain'] as string, /policy at step 15, most likely operators:\n {2}layer 1: /);
    assert.match(sink.sent[0]!.content.data['image/svg+xml'] as string, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    setDisplaySink(undefined);
  });

  it('takes a bare figure too, titled in text/plain', () => {
    const sink = new RecordingSink();
    setDisplaySink(sink);
    display(figures.lossesFigure(syntheticSteps(5)).figure, { inlinePlotly: 'never' });
    assert.equal(sink.sent[0]!.content.data['text/plain'], 'Search losses');
    setDisplaySink(undefined);
  });

  it('plots from a lone policy, a history and a search-like object alike', () => {
    const snapshots = syntheticSnapshots(2);
    const policy = { ...snapshots[1]!.policy, meta: { step: 42 } };
    assert.match(figures.probabilitiesFigure(policy).text, /^policy at step 42/);
    const search = { history: { steps: [], snapshots }, policy: { snapshot: () => policy }, stepCount: 12 };
    const fig = figures.magnitudesFigure(search).figure;
    assert.equal(fig.frames!.length, 3, 'a search adds its current policy after the recorded snapshots');
    assert.throws(() => figures.probabilitiesFigure({} as never), /plot.probabilities: expected a policy snapshot, a search, a history or an array of snapshots/);
  });

  it('prints the text part outside a kernel', async () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (writes.push(chunk), true)) as typeof process.stdout.write;
    try {
      plot.losses(syntheticSteps(3));
    } finally {
      process.stdout.write = original;
    }
    assert.match(writes.join(''), /^Search losses over 3 steps; step 3: train CE/);
  });
});

describe('plotly.js in a saved notebook', () => {
  it('re-running the cell that carried it carries it again (its old output is replaced), once per run; other cells do not', async () => {
    const { setCurrentExecution } = await import('../../src/notebook/comm');
    const sink = new RecordingSink();
    setDisplaySink(sink);
    resetPlotly();
    const carries = () => (sink.sent[sink.sent.length - 1]!.content.data['text/html'] as string).includes('class="dralab-plotly-payload"');
    const history = { steps: syntheticSteps(5), snapshots: syntheticSnapshots(2) };
    setCurrentExecution({ id: 'cell-a', request: 'run-1' });
    plot.losses(history);
    assert.equal(carries(), true, 'first figure of the session');
    plot.probabilities(history);
    assert.equal(carries(), false, 'a second figure in the same run');
    setCurrentExecution({ id: 'cell-b', request: 'run-2' });
    plot.losses(history);
    assert.equal(carries(), false, 'another cell');
    setCurrentExecution({ id: 'cell-a', request: 'run-3' });
    plot.losses(history);
    assert.equal(carries(), true, 'the carrier cell run again');
    plot.losses(history);
    assert.equal(carries(), false, 'once per run');
    setCurrentExecution({ id: undefined, request: undefined });
    setDisplaySink(undefined);
  });
});
