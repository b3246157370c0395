/**
 * Drives a real tslab kernel through @jupyterlab/services against a real jupyter-server
 * (127.0.0.1, random free port, token), cell by cell: create a search, step it, read the
 * display_data and update_display_data messages, interrupt a running run (it stops at a
 * step boundary and the next cell works), show an error raised inside a step, continue.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KernelManager, ServerConnection, type Kernel, type KernelMessage } from '@jupyterlab/services';
import { REPO, executeCell, isolatedJupyter, jupyterMissing, shutDown, startJupyterServer, until, type CellRun, type JupyterEnv, type LiveServer } from './jupyter';

type IOPub = KernelMessage.IIOPubMessage;

const missing = jupyterMissing();

describe('a tslab kernel driven through @jupyterlab/services', { skip: missing ?? false, timeout: 240_000 }, () => {
  let jupyter: JupyterEnv;
  let server: LiveServer;
  let kernel: Kernel.IKernelConnection;
  let manager: KernelManager;
  const iopub: IOPub[] = [];

  before(async () => {
    jupyter = isolatedJupyter();
    server = await startJupyterServer(jupyter, join(REPO, 'notebooks'));
    const serverSettings = ServerConnection.makeSettings({ baseUrl: server.baseUrl, wsUrl: server.wsUrl, token: server.token, appendToken: true });
    manager = new KernelManager({ serverSettings });
    await manager.ready;
    kernel = await manager.startNew({ name: 'tslab' });
    kernel.iopubMessage.connect((_, msg) => {
      iopub.push(msg);
    });
  });

  after(() => shutDown(kernel, manager, server, jupyter));

  const execute = (code: string): Promise<CellRun> => executeCell(kernel, code);

  function dashboardUpdates(displayId: string): IOPub[] {
    return iopub.filter((m) => m.header.msg_type === 'update_display_data' && (m.content as { transient?: { display_id?: string } }).transient?.display_id === displayId);
  }

  it('creates a search, steps it, displays a multi-MIME figure, interrupts a run and continues', async () => {
    const setup = await execute(`import { DraSearch, plot, show } from 'dralab';
const search = await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', seed: 0, batchSize: 16, steps: 400, snapshotEvery: 5 });
const first = await search.step();
console.log(JSON.stringify({ step: first.step, count: search.stepCount }));`);
    assert.equal(setup.status, 'ok', setup.stderr);
    assert.deepEqual(JSON.parse(setup.stdout.trim().split('\n').pop()!), { step: 1, count: 1 });

    const figure = await execute('plot.probabilities(search);');
    assert.equal(figure.status, 'ok', figure.stderr);
    const displays = figure.messages.filter((m) => m.header.msg_type === 'display_data');
    assert.equal(displays.length, 1, 'one output');
    const data = (displays[0]!.content as { data: Record<string, unknown> }).data;
    assert.deepEqual(Object.keys(data).sort(), ['image/svg+xml', 'text/html', 'text/plain']);
    assert.ok((data['text/html'] as string).includes('class="dralab-plotly-payload"'), 'the first figure of the session carries plotly.js');

    // A long run, interrupted once the dashboard has updated twice.
    // The dashboard gets its own cell: tslab forgets the declarations of a cell that fails (an interrupted one does).
    assert.equal((await execute('const live = show(search, { intervalMs: 200 });')).status, 'ok');
    const running = execute('await live.run({ steps: 300 });');
    const opened = await until('the dashboard display', () => iopub.find((m) => m.header.msg_type === 'display_data' && (m.content as { transient?: { display_id?: string } }).transient?.display_id));
    const displayId = (opened.content as { transient: { display_id: string } }).transient.display_id;
    await until('two dashboard updates', () => (dashboardUpdates(displayId).length >= 2 ? true : undefined));
    await kernel.interrupt();
    const interrupted = await running;
    assert.equal(interrupted.status, 'ok', 'the interrupt stops the run; the cell ends normally');
    assert.doesNotMatch(interrupted.stderr, /Interrupted asynchronously|\n\s+at /, 'no stack trace');
    const stoppedUpdate = await until('the final dashboard update', () => dashboardUpdates(displayId).find((m) => /stopped by kernel interrupt/.test((m.content as { data: Record<string, string> }).data['text/plain'] ?? '')));
    assert.match((stoppedUpdate.content as { data: Record<string, string> }).data['text/html']!, /stopped by kernel interrupt at the step boundary after step \d+/);

    const after = await execute('await live.idle();\nconsole.log(JSON.stringify({ count: search.stepCount, records: search.history.steps.length, state: live.state }));');
    assert.equal(after.status, 'ok', after.stderr);
    const state = JSON.parse(after.stdout.trim().split('\n').pop()!) as { count: number; records: number; state: string };
    assert.equal(state.state, 'stopped');
    assert.ok(state.count > 1 && state.count < 301, `stopped early at step ${state.count}`);
    assert.equal(state.records, state.count, 'no half-done step was recorded');

    const resumed = await execute('await live.run({ steps: 2 });\nconsole.log(search.stepCount);');
    assert.equal(resumed.status, 'ok', resumed.stderr);
    assert.equal(Number(resumed.stdout.trim().split('\n').pop()), state.count + 2);

    // A plain awaited run, interrupted: it stops at a step boundary, the cell ends with a
    // one-line note, and the next cell works at once.
    const plain = execute('console.log("run starts");\nawait search.run({ steps: 200 });\nconsole.log(search.stepCount);');
    const countBefore = state.count + 2;
    await until('the run to start', () => iopub.find((m) => m.header.msg_type === 'stream' && /run starts/.test((m.content as { text: string }).text)));
    await new Promise((r) => setTimeout(r, 1500));
    await kernel.interrupt();
    const plainDone = await plain;
    assert.equal(plainDone.status, 'ok', plainDone.stderr);
    assert.match(plainDone.stderr, /^interrupted: stopping the running search at the next step boundary \(intact; run\(\) again to continue\)\n$/);
    const stoppedAt = Number(plainDone.stdout.trim().split('\n').pop());
    assert.ok(stoppedAt >= countBefore && stoppedAt < countBefore + 200, `stopped at ${stoppedAt}`);
    const nextCell = await execute('await search.step();\nconsole.log(search.stepCount, search.history.steps.length);');
    assert.equal(nextCell.status, 'ok', nextCell.stderr);
    assert.equal(nextCell.stdout.trim(), `${stoppedAt + 1} ${stoppedAt + 1}`);

    // An error inside a step reaches the cell output, not only stderr.
    const failing = await execute(`const broken = Object.create(search);
broken.step = async () => { throw new RangeError('shapes [16, 10] and [16, 12] do not match'); };
await show(broken, { intervalMs: 0 }).run({ steps: 1 });`);
    assert.equal(failing.status, 'error');
    const shown = failing.messages.filter((m) => m.header.msg_type === 'update_display_data' || m.header.msg_type === 'display_data').map((m) => (m.content as { data: Record<string, string> }).data['text/plain'] ?? '');
    assert.ok(shown.some((t) => /error: RangeError: shapes \[16, 10\] and \[16, 12\] do not match/.test(t)), shown.join('\n---\n'));
  });
});
