/**
 * The widget models against the protocol, through a test transport: each control opens a
 * `jupyter.widget` comm with the model and view names of @jupyter-widgets/controls 2.0.0
 * (base 2.0.0 for Layout, output 1.0.0 for Output) and ipywidgets' trait names; `set`
 * sends only the changed traits; a frontend `update` fires change handlers and is echoed;
 * `request_state` gets the whole state; children and layouts travel as IPY_MODEL_ ids.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deliverToKernel, setCommTransport } from '../../src/notebook/comm';
import * as widgets from '../../src/notebook/jupyter-widgets';

interface Sent {
  type: string;
  content: { comm_id: string; data: { state?: Record<string, unknown>; method?: string; states?: Record<string, unknown> }; target_name?: string };
}
const sent: Sent[] = [];
before(() => setCommTransport({ send: (type, content) => void sent.push({ type, content: content as Sent['content'] }) }));
after(() => setCommTransport(undefined));

const openedState = (w: widgets.Widget) => sent.find((m) => m.type === 'comm_open' && m.content.comm_id === w.modelId)!.content.data.state!;
const messagesTo = (w: widgets.Widget) => sent.filter((m) => m.type === 'comm_msg' && m.content.comm_id === w.modelId).map((m) => m.content.data);

describe('widget models', () => {
  it('every control opens its model with the standard names and its traits', () => {
    const cases: Array<[widgets.Widget, string, string, string]> = [
      [new widgets.Button({ description: 'Go' }), 'ButtonModel', 'ButtonView', '@jupyter-widgets/controls'],
      [new widgets.ToggleButton({ value: true }), 'ToggleButtonModel', 'ToggleButtonView', '@jupyter-widgets/controls'],
      [new widgets.FloatSlider({ value: 0.5, max: 1 }), 'FloatSliderModel', 'FloatSliderView', '@jupyter-widgets/controls'],
      [new widgets.FloatLogSlider({ value: 0.01, min: -3, max: 0 }), 'FloatLogSliderModel', 'FloatLogSliderView', '@jupyter-widgets/controls'],
      [new widgets.IntSlider({ value: 3 }), 'IntSliderModel', 'IntSliderView', '@jupyter-widgets/controls'],
      [new widgets.Play({ max: 10, interval: 200 }), 'PlayModel', 'PlayView', '@jupyter-widgets/controls'],
      [new widgets.Dropdown({ options: ['a', 'b'] }), 'DropdownModel', 'DropdownView', '@jupyter-widgets/controls'],
      [new widgets.HTML({ value: '<b>x</b>' }), 'HTMLModel', 'HTMLView', '@jupyter-widgets/controls'],
      [new widgets.HBox(), 'HBoxModel', 'HBoxView', '@jupyter-widgets/controls'],
      [new widgets.VBox(), 'VBoxModel', 'VBoxView', '@jupyter-widgets/controls'],
      [new widgets.Output(), 'OutputModel', 'OutputView', '@jupyter-widgets/output'],
      [new widgets.Layout({ width: '8em' }), 'LayoutModel', 'LayoutView', '@jupyter-widgets/base'],
    ];
    for (const [w, model, view, module] of cases) {
      const state = openedState(w);
      assert.equal(state._model_name, model);
      assert.equal(state._view_name, view);
      assert.equal(state._model_module, module);
      assert.equal(state._model_module_version, module === '@jupyter-widgets/output' ? '1.0.0' : '2.0.0');
      const open = sent.find((m) => m.type === 'comm_open' && m.content.comm_id === w.modelId)!;
      assert.equal(open.content.target_name, 'jupyter.widget');
    }
    assert.equal(openedState(cases[2]![0]).value, 0.5);
    assert.equal(openedState(cases[5]![0]).interval, 200);
    assert.throws(() => new widgets.FloatSlider({ valu: 1 } as never), /unknown trait 'valu'/);
  });

  it('set sends only what changed; a frontend update fires handlers and is echoed; request_state gets everything', () => {
    const s = new widgets.IntSlider({ value: 1, max: 10 });
    const seen: number[] = [];
    s.on('change:value', (c) => seen.push(c.new));
    s.set({ value: 2, max: 10 });
    assert.deepEqual(messagesTo(s).at(-1), { method: 'update', state: { value: 2 }, buffer_paths: [] });
    deliverToKernel('comm_msg', { comm_id: s.modelId, data: { method: 'update', state: { value: 7 }, buffer_paths: [] } });
    assert.equal(s.get('value'), 7);
    assert.deepEqual(seen, [2, 7]);
    assert.deepEqual(messagesTo(s).at(-1), { method: 'echo_update', state: { value: 7 }, buffer_paths: [] });
    deliverToKernel('comm_msg', { comm_id: s.modelId, data: { method: 'request_state' } });
    const full = messagesTo(s).at(-1)!;
    assert.equal(full.method, 'update');
    assert.equal(full.state!.value, 7);
    assert.equal(full.state!._model_name, 'IntSliderModel');
  });

  it('children and layouts travel as IPY_MODEL_ ids; a Dropdown maps index to value; Output shows a bundle; Button clicks', () => {
    const a = new widgets.Button({ description: 'A' });
    const layout = new widgets.Layout({ width: '10em' });
    const box = new widgets.HBox({ children: [a], layout });
    assert.deepEqual(openedState(box).children, [`IPY_MODEL_${a.modelId}`]);
    assert.equal(openedState(box).layout, `IPY_MODEL_${layout.modelId}`);

    const d = new widgets.Dropdown<number>({ options: [['one', 1], ['two', 2]], value: 2 });
    assert.equal(openedState(d).index, 1);
    assert.deepEqual(openedState(d)._options_labels, ['one', 'two']);
    const values: Array<number | undefined> = [];
    d.on('change:value', (c) => values.push(c.new as number | undefined));
    deliverToKernel('comm_msg', { comm_id: d.modelId, data: { method: 'update', state: { index: 0 }, buffer_paths: [] } });
    assert.equal(d.value, 1);
    assert.deepEqual(values, [1]);
    assert.throws(() => new widgets.Dropdown({ options: ['a'], value: 'z' }), /value z is not among the options/);

    const out = new widgets.Output();
    out.show({ 'text/plain': 'hello' });
    assert.deepEqual(messagesTo(out).at(-1)!.state, { outputs: [{ output_type: 'display_data', data: { 'text/plain': 'hello' }, metadata: {} }] });

    let clicks = 0;
    a.onClick(() => clicks++);
    deliverToKernel('comm_msg', { comm_id: a.modelId, data: { method: 'custom', content: { event: 'click' } } });
    assert.equal(clicks, 1);
  });

  it('the control comm lists every live model on request_states, and a closed model leaves the list', () => {
    const w = new widgets.ToggleButton({ description: 'listed' });
    deliverToKernel('comm_open', { comm_id: 'control-1', target_name: 'jupyter.widget.control', data: {} });
    deliverToKernel('comm_msg', { comm_id: 'control-1', data: { method: 'request_states' } });
    const reply = sent.filter((m) => m.content.comm_id === 'control-1').at(-1)!.content.data;
    assert.equal(reply.method, 'update_states');
    assert.ok(w.modelId in reply.states!);
    w.close();
    assert.equal(sent.at(-1)!.type, 'comm_close');
    deliverToKernel('comm_msg', { comm_id: 'control-1', data: { method: 'request_states' } });
    assert.ok(!(w.modelId in sent.filter((m) => m.content.comm_id === 'control-1').at(-1)!.content.data.states!));
  });
});
