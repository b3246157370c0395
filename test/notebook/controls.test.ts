/**
 * The search control panel driven the way a frontend drives it, through the widget
 * protocol's messages (a test transport in place of the kernel's sockets): Run starts the
 * search in the background, Pause stops it at a step boundary (the step count stops
 * growing), a moved temperature slider is used by the next step and recorded, Step runs
 * exactly one step, Stop leaves the search whole for the next cell; the layer menu and
 * the scrubber keep their values while the run updates the panel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../../src/backend/select';
import { controls } from '../../src/notebook/controls';
import { deliverToKernel, setCommTransport } from '../../src/notebook/comm';
import { DraSearch } from '../../src/search/search';

interface Sent {
  type: string;
  content: Record<string, unknown>;
}

const sent: Sent[] = [];

before(async () => {
  await selectBackend({ backend: 'wasm', reselect: true });
  setCommTransport({ send: (type, content) => void sent.push({ type, content }) });
});

after(() => setCommTransport(undefined));

const click = (id: string) => deliverToKernel('comm_msg', { comm_id: id, data: { method: 'custom', content: { event: 'click' } } });
const move = (id: string, state: Record<string, unknown>) => deliverToKernel('comm_msg', { comm_id: id, data: { method: 'update', state, buffer_paths: [] } });

async function until(what: string, probe: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the search control panel', () => {
  it('run, pause, a slider, step and stop act at step boundaries and are recorded', async () => {
    const search = await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', trainCount: 256, testCount: 16, batchSize: 16, steps: 500, snapshotEvery: 2 });
    const panel = controls(search, { intervalMs: 50 });
    const opened = sent.filter((m) => m.type === 'comm_open').map((m) => (m.content.data as { state: { _model_name: string } }).state._model_name);
    for (const model of ['ButtonModel', 'FloatLogSliderModel', 'FloatSliderModel', 'IntSliderModel', 'DropdownModel', 'HTMLModel', 'HBoxModel', 'VBoxModel']) assert.ok(opened.includes(model), model);

    click(panel.buttons.run.modelId);
    await until('a few steps', () => search.stepCount >= 3);
    assert.equal(panel.state, 'running');
    move(panel.layer.modelId, { index: 1 });
    click(panel.buttons.pause.modelId);
    await until('the pause', () => panel.state === 'paused');
    const paused = search.stepCount;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(search.stepCount, paused, 'the step count stops growing');
    assert.equal(panel.buttons.run.get('description'), 'Resume');

    move(panel.sliders.temperature.modelId, { value: 0.3 });
    assert.equal(search.config.temperature, 0.3);
    click(panel.buttons.step.modelId);
    await until('one step', () => search.stepCount === paused + 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(search.stepCount, paused + 1, 'exactly one more step');
    assert.equal(search.history.steps[search.history.steps.length - 1]!.temperature, 0.3);
    assert.equal(panel.layer.value, 1, 'the layer menu stayed where it was put');
    assert.match(panel.figures.get('value'), /data-layer="1"/);

    click(panel.buttons.run.modelId);
    await until('running again', () => search.stepCount >= paused + 3);
    click(panel.buttons.stop.modelId);
    await panel.idle();
    assert.equal(panel.state, 'stopped');
    const stopped = search.stepCount;
    assert.equal(search.history.steps.length, stopped, 'no half step recorded');
    await search.step(); // the next cell works
    assert.equal(search.stepCount, stopped + 1);
    assert.equal(panel.buttons.run.get('disabled'), true);
    search.dispose();
  });

  it('the scrubber shows an earlier snapshot and stays there while the run goes on', async () => {
    const search = await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', trainCount: 256, testCount: 16, batchSize: 16, steps: 500, snapshotEvery: 2 });
    const panel = controls(search, { intervalMs: 0 });
    for (let i = 0; i < 4; i++) await panel.step();
    assert.equal(panel.scrubber.get('max'), 4);
    assert.equal(panel.scrubber.get('value'), 4, 'it follows the newest snapshot');
    move(panel.scrubber.modelId, { value: 2 });
    assert.match(panel.figures.get('value'), /data-snapshot-step="2"/);
    await panel.step();
    await panel.step();
    assert.equal(panel.scrubber.get('value'), 2, 'left where the user put it');
    assert.equal(panel.scrubber.get('max'), 6);
    search.dispose();
  });
});
