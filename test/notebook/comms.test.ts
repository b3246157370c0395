/**
 * Comms and widgets in a real tslab kernel, driven through @jupyterlab/services (the
 * client JupyterLab uses) against a real jupyter-server: the kernel answers
 * comm_info_request, takes comm_open/comm_msg/comm_close from the client, opens comms and
 * sends messages with binary buffers from kernel code, and handles a client's message
 * while a cell is still awaiting (between two search steps). Widgets: a FloatSlider shown
 * as a cell's value opens a `jupyter.widget` comm with the 2.1 protocol's state, syncs a
 * value changed by the client (firing its change handler and echoing the change), and is
 * listed by the `jupyter.widget.control` comm's request_states.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelManager, ServerConnection, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { REPO, executeCell, isolatedJupyter, jupyterMissing, shutDown, startJupyterServer, until, type CellRun, type JupyterEnv, type LiveServer } from './jupyter';

type IOPub = KernelMessage.IIOPubMessage;
const missing = jupyterMissing();

describe('comms and widgets in the tslab kernel', { skip: missing ?? false, timeout: 240_000 }, () => {
  let jupyter: JupyterEnv;
  let server: LiveServer;
  let kernel: Kernel.IKernelConnection;
  let manager: KernelManager;
  const iopub: IOPub[] = [];
  const opened: Array<{ comm: Kernel.IComm; data: unknown; messages: Array<{ data: unknown; buffers: number }> }> = [];

  before(async () => {
    jupyter = isolatedJupyter();
    // A second kernelspec without the preload: dralab must attach from a cell's import alone.
    const kernels = join(jupyter.dir, 'share', 'jupyter', 'kernels');
    const spec = JSON.parse(readFileSync(join(kernels, 'tslab', 'kernel.json'), 'utf8')) as { argv: string[]; display_name: string };
    const plainDir = join(kernels, 'tslab-plain');
    mkdirSync(plainDir, { recursive: true });
    writeFileSync(join(plainDir, 'kernel.json'), JSON.stringify({ ...spec, display_name: 'tslab (plain)', argv: spec.argv.filter((a, i) => a !== '--require' && spec.argv[i - 1] !== '--require') }));
    server = await startJupyterServer(jupyter, join(REPO, 'notebooks'));
    manager = new KernelManager({ serverSettings: ServerConnection.makeSettings({ baseUrl: server.baseUrl, wsUrl: server.wsUrl, token: server.token, appendToken: true }) });
    await manager.ready;
    kernel = await manager.startNew({ name: 'tslab' });
    kernel.iopubMessage.connect((_, msg) => void iopub.push(msg));
    for (const target of ['dralab.test', 'jupyter.widget']) {
      kernel.registerCommTarget(target, (comm, msg) => {
        const entry = { comm, data: msg.content.data, messages: [] as Array<{ data: unknown; buffers: number }> };
        comm.onMsg = (m) => void entry.messages.push({ data: m.content.data, buffers: m.buffers?.length ?? 0 });
        opened.push(entry);
      });
    }
  });

  after(() => shutDown(kernel, manager, server, jupyter));

  const execute = (code: string): Promise<CellRun> => executeCell(kernel, code);

  it('answers comm_info_request before dralab is imported (the kernelspec preloads the comm layer)', async () => {
    const reply = await kernel.requestCommInfo({ target_name: 'jupyter.widget' });
    assert.equal(reply.header.msg_type, 'comm_info_reply');
    assert.equal(reply.content.status, 'ok');
    assert.deepEqual((reply.content as { comms: object }).comms, {});
  });

  it('takes comms from the frontend, opens its own with buffers, and handles messages while a cell awaits', async () => {
    const setup = await execute(`import { comm, DraSearch } from 'dralab';
const received: unknown[] = [];
comm.registerTarget('dralab.echo', (c, first) => {
  received.push(first.data);
  c.onMessage((m) => { received.push(m.data); c.send({ echo: m.data, steps: search.stepCount }, { buffers: [new Uint8Array([1, 2, 3])] }); });
});
const search = await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', trainCount: 256, testCount: 16, batchSize: 16, steps: 400 });
const mine = comm.open('dralab.test', { hello: 1 }, { buffers: [new Uint8Array([9, 8])] });
mine.send({ second: true });`);
    assert.equal(setup.status, 'ok', setup.stderr);
    const ours = await until('the kernel-opened comm', () => opened.find((o) => o.comm.targetName === 'dralab.test'));
    assert.deepEqual(ours.data, { hello: 1 });
    await until('its message', () => (ours.messages.length >= 1 ? true : undefined));
    assert.deepEqual(ours.messages[0], { data: { second: true }, buffers: 0 });
    const info = await kernel.requestCommInfo({});
    assert.ok(Object.values((info.content as { comms: Record<string, { target_name: string }> }).comms).some((c) => c.target_name === 'dralab.test'));

    // A client comm, used while a long run is awaited in a cell.
    const client = kernel.createComm('dralab.echo');
    const replies: Array<{ data: unknown; buffers: DataView[] }> = [];
    client.onMsg = (m) => void replies.push({ data: m.content.data, buffers: (m.buffers ?? []) as DataView[] });
    client.open({ start: true });
    const running = execute('await search.run({ steps: 80 }); console.log(search.stepCount);');
    // Pings until one is answered from inside the run (steps already done), however loaded the machine.
    let reply: { data: unknown; buffers: DataView[] } | undefined;
    for (let ping = 1; !reply && ping < 120; ping++) {
      client.send({ ping });
      await until('an echo', () => replies[ping - 1], 30_000);
      if ((replies[ping - 1]!.data as { steps: number }).steps > 0) reply = replies[ping - 1];
      else await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(reply, 'an echo came from inside the run');
    const stepsAtReply = (reply.data as { steps: number }).steps;
    assert.equal(((reply.data as { echo: { ping: number } }).echo.ping > 0), true);
    assert.deepEqual([...new Uint8Array(reply.buffers[0]!.buffer, reply.buffers[0]!.byteOffset, reply.buffers[0]!.byteLength)], [1, 2, 3]);
    const done = await running;
    assert.equal(done.status, 'ok', done.stderr);
    const finalSteps = Number(done.stdout.trim().split('\n').pop());
    assert.ok(stepsAtReply > 0 && stepsAtReply < finalSteps, `answered between steps (at step ${stepsAtReply} of ${finalSteps})`);
    client.close();
    const check = await execute('console.log(JSON.stringify(received));');
    const got = JSON.parse(check.stdout.trim()) as unknown[];
    assert.deepEqual(got[0], { start: true });
    assert.deepEqual(got.slice(1), replies.map((_, i) => ({ ping: i + 1 })), 'every ping reached the kernel, in order');
  });

  it('a FloatSlider shown as a cell value syncs both ways and is listed by request_states', async () => {
    const made = await execute(`import { widgets } from 'dralab';
const slider = new widgets.FloatSlider({ value: 0.5, min: 0, max: 2, step: 0.1, description: 'tau' });
// Kept on globalThis: tslab drops a declaration from later cells once a cell has not used it.
const seen: number[] = ((globalThis as any).seenValues = []);
slider.on('change:value', (c) => seen.push(c.new));`);
    assert.equal(made.status, 'ok', made.stderr);
    const shown = await execute('slider');
    assert.equal(shown.status, 'ok', shown.stderr);
    assert.equal(shown.messages.filter((m) => m.header.msg_type === 'comm_open').length, 0, 'showing opens no second model');
    const view = shown.messages.find((m) => m.header.msg_type === 'display_data');
    assert.ok(view, `a display_data; got ${JSON.stringify(shown.messages.map((m) => [m.header.msg_type, m.content]))}`);
    const spec = (view!.content as { data: Record<string, { model_id: string; version_major: number; version_minor: number }> }).data['application/vnd.jupyter.widget-view+json']!;
    assert.equal(spec.version_major, 2);
    assert.equal(spec.version_minor, 1);
    assert.equal(shown.stdout, '', 'nothing printed besides the view');
    const model = await until('the widget comm', () => opened.find((o) => o.comm.commId === spec.model_id));
    const state = (model.data as { state: Record<string, unknown> }).state;
    assert.equal(state._model_name, 'FloatSliderModel');
    assert.equal(state._model_module, '@jupyter-widgets/controls');
    assert.equal(state.value, 0.5);
    assert.equal(state.description, 'tau');

    model.comm.send({ method: 'update', state: { value: 1.3 }, buffer_paths: [] });
    await until('the echo', () => model.messages.find((m) => (m.data as { method: string }).method === 'echo_update'));
    const after = await execute('console.log(JSON.stringify({ value: slider.get("value"), seen: (globalThis as any).seenValues }));');
    assert.equal(after.status, "ok", after.stderr + after.stdout);
    assert.deepEqual(JSON.parse(after.stdout.trim()), { value: 1.3, seen: [1.3] });

    await execute('slider.set({ max: 3 });');
    await until('the kernel-side update', () => model.messages.find((m) => (m.data as { method: string; state?: { max?: number } }).method === 'update' && (m.data as { state: { max?: number } }).state.max === 3));

    const control = kernel.createComm('jupyter.widget.control');
    const states: unknown[] = [];
    control.onMsg = (m) => void states.push(m.content.data);
    control.open({});
    control.send({ method: 'request_states' });
    const update = (await until('update_states', () => states[0])) as { method: string; states: Record<string, { model_name: string; state: { value: number } }> };
    assert.equal(update.method, 'update_states');
    assert.equal(update.states[spec.model_id]!.model_name, 'FloatSliderModel');
    assert.equal(update.states[spec.model_id]!.state.value, 1.3);
  });

  it('without the preload, a cell\'s import attaches at once: a comm opened in that same cell reaches the client', async () => {
    const plain = await manager.startNew({ name: 'tslab-plain' });
    try {
      const got: unknown[] = [];
      plain.registerCommTarget('dralab.plain', (_comm, msg) => void got.push(msg.content.data));
      const before = await plain.requestCommInfo({});
      assert.notEqual(before.header.msg_type, 'comm_info_reply', 'plain tslab does not answer comm_info_request properly');
      const future = plain.requestExecute({ code: `import { comm } from 'dralab';\nconst c = comm.open('dralab.plain', { plain: true });` });
      await future.done;
      assert.deepEqual(await until('the comm_open', () => got[0], 30_000), { plain: true });
      const info = await plain.requestCommInfo({ target_name: 'dralab.plain' });
      assert.equal(info.header.msg_type, 'comm_info_reply');
      assert.equal(Object.keys((info.content as { comms: object }).comms).length, 1);
    } finally {
      await plain.shutdown();
    }
  });
});
