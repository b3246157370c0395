/**
 * A browser page that runs notebook cells against a live tslab kernel and renders their
 * widget outputs with ipywidgets' own frontend code: @jupyter-widgets/html-manager,
 * base and controls (ipywidgets 8), connected through @jupyterlab/services the way
 * ipywidgets' web example connects to a kernel. Bundled by esbuild and served next to
 * the jupyter-server under test, named by ?server=...&token=...
 * (test/notebook/widgets-browser.test.ts drives it).
 *
 * window.dralabPage.execute(code) runs one cell and resolves with its status and
 * streams; widget views it displays appear in #outputs.
 */
import * as base from '@jupyter-widgets/base';
import { HTMLManager } from '@jupyter-widgets/html-manager';
import { KernelManager, ServerConnection, type Kernel, type KernelMessage } from '@jupyterlab/services';
import '@jupyter-widgets/controls/css/widgets-base.css';
import '@jupyter-widgets/html-manager/css/output.css';

const WIDGET_MIME = 'application/vnd.jupyter.widget-view+json';

class KernelWidgetManager extends HTMLManager {
  constructor(readonly kernel: Kernel.IKernelConnection) {
    super();
    kernel.registerCommTarget(this.comm_target_name, async (comm, msg) => {
      await this.handle_comm_open(new base.shims.services.Comm(comm), msg as never);
    });
  }

  override _get_comm_info(): Promise<{}> {
    return this.kernel.requestCommInfo({ target_name: this.comm_target_name }).then((reply) => (reply.content as { comms: {} }).comms);
  }

  override async _create_comm(targetName: string, modelId: string, data?: unknown, metadata?: unknown, buffers?: ArrayBuffer[] | ArrayBufferView[]): Promise<unknown> {
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) comm.open(data as never, metadata as never, buffers as never);
    return new base.shims.services.Comm(comm);
  }
}

interface CellResult {
  status: string;
  stdout: string;
  stderr: string;
  views: number;
}

async function start(): Promise<void> {
  // The page is served apart from jupyter-server (whose /files/ sandboxes pages), which lets it in by allow_origin.
  const params = new URLSearchParams(location.search);
  const token = params.get('token') ?? '';
  const server = new URL(params.get('server') ?? `${location.origin}/`);
  const serverSettings = ServerConnection.makeSettings({ baseUrl: server.href, wsUrl: `ws://${server.host}/`, token, appendToken: true });
  const kernels = new KernelManager({ serverSettings });
  await kernels.ready;
  const kernel = await kernels.startNew({ name: params.get('kernel') ?? 'tslab' });
  const manager = new KernelWidgetManager(kernel);
  const outputs = document.getElementById('outputs')!;

  async function execute(code: string): Promise<CellResult> {
    const cell = document.createElement('div');
    cell.className = 'cell';
    outputs.appendChild(cell);
    const result: CellResult = { status: 'unknown', stdout: '', stderr: '', views: 0 };
    const rendering: Promise<void>[] = [];
    const future = kernel.requestExecute({ code, stop_on_error: false });
    future.onIOPub = (msg: KernelMessage.IIOPubMessage) => {
      const type = msg.header.msg_type;
      if (type === 'stream') {
        const content = msg.content as { name: string; text: string };
        if (content.name === 'stdout') result.stdout += content.text;
        else result.stderr += content.text;
      } else if (type === 'display_data' || type === 'execute_result') {
        const data = (msg.content as { data: Record<string, unknown> }).data;
        const spec = data[WIDGET_MIME] as { model_id: string } | undefined;
        if (spec) {
          result.views++;
          const el = document.createElement('div');
          el.className = 'widget-output';
          cell.appendChild(el);
          rendering.push(manager.get_model(spec.model_id).then((model) => manager.display_view(manager.create_view(model), el)));
        }
      } else if (type === 'error') {
        const content = msg.content as { ename: string; evalue: string };
        result.stderr += `${content.ename}: ${content.evalue}\n`;
      }
    };
    const reply = await future.done;
    result.status = (reply.content as { status: string }).status;
    await Promise.all(rendering);
    return result;
  }

  (window as unknown as { dralabPage: unknown }).dralabPage = { execute, kernel, manager };
  document.body.dataset.ready = 'true';
}

start().catch((err: Error) => {
  document.body.dataset.ready = 'error';
  document.body.dataset.error = `${err.name}: ${err.message}`;
});
