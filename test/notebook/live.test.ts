import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setDisplaySink, show } from '../../src/notebook';
import { FakeSearch } from './fake-search';
import { RecordingSink } from './recorder';

function withSink(): RecordingSink {
  const sink = new RecordingSink();
  setDisplaySink(sink);
  return sink;
}

describe('live dashboard', () => {
  it('opens one output and replaces it in place, throttled, ending with a final update', async () => {
    const sink = withSink();
    const search = new FakeSearch(4);
    const live = show(search, { intervalMs: 100 });
    const summary = await live.run({ steps: 60 });
    assert.equal(summary.reason, 'completed');
    assert.equal(search.stepCount, 60);
    const dashboard = sink.sent.filter((s) => s.content.transient.display_id !== undefined);
    const ids = new Set(dashboard.map((s) => s.content.transient.display_id));
    assert.equal(ids.size, 1, 'every dashboard message targets the same display');
    assert.equal(dashboard[0]!.type, 'display_data');
    assert.ok(dashboard.slice(1).every((s) => s.type === 'update_display_data'));
    // 60 steps x >= 4 ms = >= 240 ms: at most one update per 100 ms plus the first and the final one.
    const elapsedMs = summary.seconds * 1000;
    assert.ok(summary.updates <= Math.ceil(elapsedMs / 100) + 2, `${summary.updates} updates in ${elapsedMs.toFixed(0)} ms`);
    assert.ok(summary.updates >= 2);
    const last = dashboard[dashboard.length - 1]!.content.data;
    assert.deepEqual(Object.keys(last).sort(), ['image/svg+xml', 'text/html', 'text/plain']);
    assert.match(last['text/plain'] as string, /^DRA search: completed · step 60\/1000 · [\d.]+ s elapsed/);
    assert.ok((last['text/html'] as string).includes('class="dralab-dashboard"'));
    assert.equal(((last['text/html'] as string).match(/id="dralab-live-/g) ?? []).length, 3, 'losses, heatmap and magnitudes');
    const loader = sink.sent.find((s) => (s.content.data['text/html'] as string | undefined)?.includes('dralab-plotly-loader'));
    assert.ok(loader && loader.content.transient.display_id === undefined, 'plotly.js travels in a separate output that is never replaced');
    setDisplaySink(undefined);
  });

  it('shows progress and ETA while running', async () => {
    const sink = withSink();
    const search = new FakeSearch(3);
    const live = show(search, { intervalMs: 0 });
    await live.run({ steps: 5 });
    const texts = sink.sent.map((s) => s.content.data['text/plain']).filter((t): t is string => typeof t === 'string');
    assert.ok(texts.some((t) => /running · step 3\/5 · .* ETA [\d.]+ s/.test(t)), texts.join('\n---\n'));
    assert.ok(sink.sent.some((s) => /<progress max="1" value="0\.6000"/.test(s.content.data['text/html'] as string)));
    setDisplaySink(undefined);
  });

  it('stops at a step boundary on stop() and on a kernel interrupt, the search intact and resumable', async () => {
    const sink = withSink();
    const search = new FakeSearch(5);
    const live = show(search, { intervalMs: 50 });
    const running = live.run({ steps: 200 });
    setTimeout(() => live.stop(), 60);
    const stopped = await running;
    assert.equal(stopped.reason, 'stop');
    assert.ok(search.stepCount > 0 && search.stepCount < 200);
    assert.equal(search.history.steps.length, search.stepCount, 'no half-recorded step');
    assert.match(sink.sent[sink.sent.length - 1]!.content.data['text/plain'] as string, /stopped by stop\(\) at the step boundary after step \d+/);

    const before = search.stepCount;
    const sigintListeners = process.listenerCount('SIGINT');
    const interrupted = live.run({ steps: 200 });
    setTimeout(() => process.emit('SIGINT'), 60);
    const result = await interrupted;
    assert.equal(result.reason, 'interrupt');
    assert.equal(process.listenerCount('SIGINT'), sigintListeners, 'the SIGINT listener is removed after the run');
    assert.ok(search.stepCount > before && search.stepCount < before + 200);

    const resumed = await live.run({ steps: 3 });
    assert.equal(resumed.reason, 'completed');
    assert.equal(search.history.steps.length, search.stepCount);
    setDisplaySink(undefined);
  });

  it('a new run waits for an interrupted one to finish its step', async () => {
    withSink();
    const search = new FakeSearch(20);
    const live = show(search, { intervalMs: 1000 });
    const first = live.run({ steps: 50 });
    live.stop();
    const second = await show(search).run({ steps: 2 });
    const firstResult = await first;
    assert.equal(firstResult.reason, 'stop');
    assert.equal(second.stepCount, search.stepCount);
    assert.equal(search.history.steps.length, search.stepCount);
    setDisplaySink(undefined);
  });

  it('shows an error inside a step in the output, then rethrows it', async () => {
    const sink = withSink();
    const search = new FakeSearch(1);
    search.failAt = 4;
    const live = show(search, { intervalMs: 0 });
    await assert.rejects(live.run({ steps: 10 }), /\[64, 10\] tensor where \[64, 12\] was expected/);
    assert.equal(live.state, 'error');
    const last = sink.sent[sink.sent.length - 1]!.content.data;
    assert.match(last['text/plain'] as string, /error: RangeError: the model produced a \[64, 10\] tensor/);
    assert.match(last['text/html'] as string, /<pre style="[^"]*color:#b00[^"]*">error: RangeError: the model produced a \[64, 10\] tensor where \[64, 12\] was expected \(step 4\)<\/pre>/);
    assert.equal(search.stepCount, 3);
    await assert.rejects(live.step(), /RangeError|tensor/);
    setDisplaySink(undefined);
  });

  it('rejects a bad step count with its value', async () => {
    withSink();
    await assert.rejects(show(new FakeSearch(1)).run({ steps: -2 }), /steps must be a non-negative integer, got -2/);
    setDisplaySink(undefined);
  });
});

describe('the dashboard ETA', () => {
  it('uses the median step after the first (warm-up) and waits for two of them', async () => {
    const { typicalStepMs } = await import('../../src/notebook/live');
    assert.equal(typicalStepMs([6000]), undefined);
    assert.equal(typicalStepMs([6000, 100]), undefined);
    // A 6 s first step must not make a 100 ms/step run look 60 times longer.
    assert.equal(typicalStepMs([6000, 100, 120, 90]), 100);
    assert.equal(typicalStepMs([6000, 100, 120]), 110);
  });
});
