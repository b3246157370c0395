/**
 * Jupyter comms for the tslab kernel, which has none of its own: tslab answers
 * `comm_info_request` with a message typed `complete_reply` and drops `comm_open`,
 * `comm_msg` and `comm_close` as unknown. dralab adds them by wrapping the shell handler
 * of tslab's `ZmqServer` (dist/jupyter.js):
 *
 * - comm messages from the frontend are taken before tslab sees them: `comm_open` to a
 *   registered target creates a Comm, `comm_msg` goes to its handlers, `comm_close` closes
 *   it, and `comm_info_request` gets a real `comm_info_reply`;
 * - kernel code opens comms and sends messages (with binary buffers) on the kernel's iopub
 *   socket, signed with the connection key.
 *
 * tslab's message loop hands each shell message to the handler without waiting for the
 * previous one, so comm messages are handled while a cell awaits a long run: between two
 * search steps, whenever the run yields to the event loop.
 *
 * Two ways in: the kernelspec written by `dralab kernel install` preloads ./preload (the
 * server is wrapped before it starts), or a cell's `import 'dralab'` wraps the running
 * server's class and attaches to it by sending itself one signed message on the shell
 * socket. Outside a kernel (scripts, tests) a transport can be set with
 * `setCommTransport` to see and drive the messages.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Comm data: any JSON value (usually an object). */
export type CommData = unknown;

export interface CommMessage {
  data: CommData;
  buffers: Uint8Array[];
  metadata: Record<string, unknown>;
}

export interface SendOptions {
  buffers?: readonly Uint8Array[];
  metadata?: Record<string, unknown>;
}

/** What carries comm messages: the kernel's iopub socket, or a test's recorder. */
export interface CommTransport {
  send(msgType: 'comm_open' | 'comm_msg' | 'comm_close', content: Record<string, unknown>, buffers: readonly Uint8Array[], metadata: Record<string, unknown>): void;
}

type MessageHandler = (message: CommMessage, comm: Comm) => void;
type OpenHandler = (comm: Comm, message: CommMessage) => void;

/** One comm: a channel between kernel code and a frontend object, by id. */
export class Comm {
  private readonly messageHandlers = new Set<MessageHandler>();
  private readonly closeHandlers = new Set<MessageHandler>();
  private isClosed = false;

  constructor(
    readonly id: string,
    readonly target: string,
    private readonly registry: CommRegistry,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends `data` (JSON) and binary buffers to the frontend side. */
  send(data: CommData, options: SendOptions = {}): void {
    if (this.isClosed) throw new Error(`comm ${this.id} (${this.target}) is closed`);
    this.registry.transmit('comm_msg', { comm_id: this.id, data }, options);
  }

  /** Calls `handler` for every message from the frontend; returns a function that stops it. */
  onMessage(handler: MessageHandler): () => void {
    this.messageHandlers.add(handler);
    return () => this.messageHandlers.delete(handler);
  }

  /** Calls `handler` when the comm closes (from either side). */
  onClose(handler: MessageHandler): () => void {
    this.closeHandlers.add(handler);
    return () => this.closeHandlers.delete(handler);
  }

  /** Closes the comm on both sides. */
  close(data: CommData = {}, options: SendOptions = {}): void {
    if (this.isClosed) return;
    this.registry.transmit('comm_close', { comm_id: this.id, data }, options);
    this.closed_({ data, buffers: [], metadata: {} });
  }

  /** @internal A message from the frontend. */
  deliver(message: CommMessage): void {
    for (const handler of [...this.messageHandlers]) {
      try {
        handler(message, this);
      } catch (err) {
        // A failing handler must not take the kernel's message loop down with it.
        process.stderr.write(`comm ${this.target}: a message handler failed: ${(err as Error).stack ?? String(err)}\n`);
      }
    }
  }

  /** @internal Closed by the frontend (or by close()). */
  closed_(message: CommMessage): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.registry.forget(this.id);
    for (const handler of [...this.closeHandlers]) handler(message, this);
  }
}

/** The comms of this process: one registry, shared by every copy of dralab loaded in it. */
class CommRegistry {
  readonly comms = new Map<string, Comm>();
  readonly targets = new Map<string, OpenHandler>();
  transport: CommTransport | undefined;
  /** Messages sent before a transport exists (a cell's import, before the server is attached). */
  readonly pending: Array<Parameters<CommTransport['send']>> = [];

  transmit(msgType: 'comm_open' | 'comm_msg' | 'comm_close', content: Record<string, unknown>, options: SendOptions): void {
    const args: Parameters<CommTransport['send']> = [msgType, content, options.buffers ?? [], options.metadata ?? {}];
    if (this.transport) this.transport.send(...args);
    else this.pending.push(args);
  }

  setTransport(transport: CommTransport | undefined): void {
    this.transport = transport;
    if (!transport) return;
    for (const args of this.pending.splice(0)) transport.send(...args);
  }

  forget(id: string): void {
    this.comms.delete(id);
  }

  /** A `comm_open` from the frontend: a comm for a registered target, or an immediate close. */
  opened(content: { comm_id: string; target_name: string; data?: CommData }, buffers: Uint8Array[], metadata: Record<string, unknown>): void {
    const handler = this.targets.get(content.target_name);
    const comm = new Comm(content.comm_id, content.target_name, this);
    if (!handler) {
      // As ipykernel does: a comm to an unknown target is closed at once.
      this.transmit('comm_close', { comm_id: content.comm_id, data: {} }, {});
      return;
    }
    this.comms.set(comm.id, comm);
    handler(comm, { data: content.data ?? {}, buffers, metadata });
  }

  /** A frontend's comm_open, comm_msg or comm_close, wherever it came from (the kernel's shell socket, a test). */
  receive(msgType: 'comm_open' | 'comm_msg' | 'comm_close', content: Record<string, unknown>, buffers: Uint8Array[], metadata: Record<string, unknown>): void {
    if (msgType === 'comm_open') this.opened(content as never, buffers, metadata);
    else if (msgType === 'comm_msg') this.message(content as never, buffers, metadata);
    else this.closedByFrontend(content as never, buffers, metadata);
  }

  message(content: { comm_id: string; data?: CommData }, buffers: Uint8Array[], metadata: Record<string, unknown>): void {
    this.comms.get(content.comm_id)?.deliver({ data: content.data ?? {}, buffers, metadata });
  }

  closedByFrontend(content: { comm_id: string; data?: CommData }, buffers: Uint8Array[], metadata: Record<string, unknown>): void {
    this.comms.get(content.comm_id)?.closed_({ data: content.data ?? {}, buffers, metadata });
  }

  info(targetName: string | undefined): Record<string, { target_name: string }> {
    const out: Record<string, { target_name: string }> = {};
    for (const comm of this.comms.values()) if (targetName === undefined || comm.target === targetName) out[comm.id] = { target_name: comm.target };
    return out;
  }
}

const REGISTRY_KEY = Symbol.for('dralab.comms');
function registry(): CommRegistry {
  const holder = globalThis as unknown as Record<symbol, CommRegistry | undefined>;
  return (holder[REGISTRY_KEY] ??= new CommRegistry());
}

/** The public API: open comms, take the frontend's, see who is connected. */
export const comm = {
  /** Opens a comm to `target` on the frontend (sent once the kernel connection is attached). */
  open(target: string, data: CommData = {}, options: SendOptions & { id?: string } = {}): Comm {
    const r = registry();
    const c = new Comm(options.id ?? randomUUID().replace(/-/g, ''), target, r);
    r.comms.set(c.id, c);
    r.transmit('comm_open', { comm_id: c.id, target_name: target, data }, options);
    return c;
  },
  /** Handles the frontend's `comm_open` messages to `target`. */
  registerTarget(target: string, handler: OpenHandler): void {
    registry().targets.set(target, handler);
  },
  unregisterTarget(target: string): void {
    registry().targets.delete(target);
  },
  /** The open comms by id (for `comm_info_request`). */
  info(targetName?: string): Record<string, { target_name: string }> {
    return registry().info(targetName);
  },
  /** Whether kernel messages go out now (a kernel is attached, or a transport is set). */
  get connected(): boolean {
    return registry().transport !== undefined;
  },
};

/** Routes comm messages to `transport` (tests, embedding); `deliverToKernel` feeds the other direction. */
export function setCommTransport(transport: CommTransport | undefined): void {
  registry().setTransport(transport);
}

/** Hands the kernel side a message as if it came from a frontend (tests, embedding). */
export function deliverToKernel(msgType: 'comm_open' | 'comm_msg' | 'comm_close', content: Record<string, unknown>, buffers: Uint8Array[] = [], metadata: Record<string, unknown> = {}): void {
  registry().receive(msgType, content, buffers, metadata);
}

// ---------------------------------------------------------------------------------------
// The tslab side: the wire protocol and the wrapped ZmqServer.

const DELIM = Buffer.from('<IDS|MSG>');
const COMM_TYPES = new Set(['comm_open', 'comm_msg', 'comm_close', 'comm_info_request']);
/** The message a cell's import sends itself to find the running server. */
const ATTACH_TYPE = 'dralab_attach_request';
const KERNEL_SESSION: string = randomUUID();

interface Header {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

interface WireMessage {
  identities: Buffer[];
  header: Header;
  parent: Partial<Header>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
  buffers: Buffer[];
}

interface ZmqSocket {
  send(frames: Array<Buffer | string>): Promise<void>;
}

/** What dralab uses of tslab's ZmqServer instance. */
interface TslabServer {
  connInfo: { key: string; signature_scheme?: string; transport: string; ip: string; shell_port: number };
  iopub: ZmqSocket;
  handleShellMessage(sock: ZmqSocket, ...frames: Buffer[]): Promise<void>;
}

interface TslabJupyterModule {
  ZmqServer: { prototype: TslabServer & { init(): Promise<void> } };
}

function sign(key: string, parts: readonly string[]): string {
  if (!key) return '';
  const hmac = createHmac('sha256', key);
  for (const p of parts) hmac.update(p);
  return hmac.digest('hex');
}

function parseWire(key: string, frames: readonly Buffer[]): WireMessage | undefined {
  const delim = frames.findIndex((f) => f.equals(DELIM));
  if (delim < 0 || frames.length < delim + 6) return undefined;
  const parts = frames.slice(delim + 2, delim + 6).map((f) => f.toString('utf8'));
  if (sign(key, parts) !== frames[delim + 1]!.toString('utf8')) return undefined; // tslab will refuse it
  return {
    identities: frames.slice(0, delim),
    header: JSON.parse(parts[0]!) as Header,
    parent: JSON.parse(parts[1]!) as Partial<Header>,
    metadata: JSON.parse(parts[2]!) as Record<string, unknown>,
    content: JSON.parse(parts[3]!) as Record<string, unknown>,
    buffers: frames.slice(delim + 6),
  };
}

function header(msgType: string, session: string = KERNEL_SESSION): Header {
  return { msg_id: randomUUID(), msg_type: msgType, session, username: 'dralab', date: new Date().toISOString(), version: '5.3' };
}

function wireFrames(key: string, identities: readonly Buffer[], head: Header, parent: Partial<Header>, metadata: Record<string, unknown>, content: Record<string, unknown>, buffers: readonly Uint8Array[]): Buffer[] {
  const parts = [JSON.stringify(head), JSON.stringify(parent), JSON.stringify(metadata), JSON.stringify(content)];
  return [...identities, DELIM, Buffer.from(sign(key, parts)), ...parts.map((p) => Buffer.from(p)), ...buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))];
}

/** The kernel connection dralab attached to: sends on iopub, parented to the latest request. */
class KernelTransport implements CommTransport {
  /** The request whose outputs messages belong to (the running cell, or the comm message being handled). */
  parent: Partial<Header> = {};

  constructor(readonly server: TslabServer) {}

  send(msgType: string, content: Record<string, unknown>, buffers: readonly Uint8Array[], metadata: Record<string, unknown>): void {
    const frames = wireFrames(this.server.connInfo.key, [Buffer.from(`comm.${msgType}`)], header(msgType, this.parent.session), this.parent, metadata, content, buffers);
    void this.server.iopub.send(frames).catch((err: Error) => process.stderr.write(`comm: iopub send failed: ${err.message}\n`));
  }

  reply(sock: ZmqSocket, request: WireMessage, msgType: string, content: Record<string, unknown>): void {
    const frames = wireFrames(this.server.connInfo.key, request.identities, header(msgType, request.header.session), request.header, {}, content, []);
    void sock.send(frames).catch(() => undefined);
  }
}

const PATCHED = Symbol.for('dralab.comms.patched');

/** The cell the kernel is executing, where the frontend names it (shared by every copy of dralab). */
interface Execution {
  /** The cell's id, where the frontend sends one. */
  id: string | undefined;
  /** The execute_request's msg_id: one per run of a cell. */
  request: string | undefined;
}
const currentCell: Execution = ((globalThis as unknown as Record<symbol, Execution | undefined>)[Symbol.for('dralab.currentCell')] ??= { id: undefined, request: undefined });

/** The execution running now: its cell id (JupyterLab, Notebook 7, VS Code send one) and request id. */
export function currentExecution(): Readonly<Execution> {
  return { ...currentCell };
}

/** Sets the current execution (tests and embedding; the kernel sets it from each execute_request). */
export function setCurrentExecution(execution: Execution): void {
  Object.assign(currentCell, execution);
}

/** busy/idle around a comm message, as a kernel reports every request it handles. */
function publishStatus(server: TslabServer, message: WireMessage, state: 'busy' | 'idle'): void {
  const frames = wireFrames(server.connInfo.key, [Buffer.from('status')], header('status', message.header.session), message.header, {}, { execution_state: state }, []);
  void server.iopub.send(frames).catch(() => undefined);
}

function attach(server: TslabServer): KernelTransport {
  const r = registry();
  if (r.transport instanceof KernelTransport && r.transport.server === server) return r.transport;
  const transport = new KernelTransport(server);
  r.setTransport(transport);
  return transport;
}

/** Wraps tslab's ZmqServer (once per module instance) so comm messages reach the registry. */
export function patchTslabServer(jupyter: TslabJupyterModule): void {
  const proto = jupyter.ZmqServer.prototype as TslabServer & { init(): Promise<void>; [PATCHED]?: boolean };
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;
  const originalInit = proto.init;
  proto.init = async function (this: TslabServer) {
    const result = await originalInit.call(this);
    attach(this);
    return result;
  } as typeof proto.init;
  const originalHandle = proto.handleShellMessage;
  proto.handleShellMessage = async function (this: TslabServer, sock: ZmqSocket, ...frames: Buffer[]) {
    const transport = attach(this);
    const message = parseWire(this.connInfo.key, frames);
    if (message?.header.msg_type === ATTACH_TYPE) return; // attached above; nothing to answer
    if (!message || !COMM_TYPES.has(message.header.msg_type)) {
      // Outputs sent while a cell runs belong to it.
      if (message?.header.msg_type === 'execute_request') {
        transport.parent = message.header;
        // JupyterLab, Notebook 7 and VS Code name the cell in the request's metadata.
        const cellId = (message.metadata as { cellId?: unknown }).cellId;
        currentCell.id = typeof cellId === 'string' ? cellId : undefined;
        currentCell.request = message.header.msg_id;
      }
      return originalHandle.call(this, sock, ...frames);
    }
    publishStatus(this, message, 'busy');
    const previousParent = transport.parent;
    transport.parent = message.header;
    try {
      const r = registry();
      const content = message.content;
      if (message.header.msg_type === 'comm_info_request') {
        transport.reply(sock, message, 'comm_info_reply', { status: 'ok', comms: r.info(content.target_name as string | undefined) });
      } else r.receive(message.header.msg_type as 'comm_open' | 'comm_msg' | 'comm_close', content, message.buffers, message.metadata);
    } finally {
      transport.parent = previousParent;
      publishStatus(this, message, 'idle');
    }
  };
}

/**
 * From a cell (`import 'dralab'`): wraps the running kernel's server class and makes it
 * attach now, by sending one signed message to its own shell socket. Does nothing
 * outside tslab, or when already attached.
 */
export function attachToRunningKernel(jupyter: TslabJupyterModule, jupyterFile: string): void {
  patchTslabServer(jupyter);
  if (registry().transport) return;
  const configIndex = process.argv.indexOf('--config-path');
  const configPath = configIndex >= 0 ? process.argv[configIndex + 1] : undefined;
  if (!configPath) return; // attaches at the next shell message instead
  let info: TslabServer['connInfo'];
  try {
    info = JSON.parse(readFileSync(configPath, 'utf8')) as TslabServer['connInfo'];
  } catch {
    return;
  }
  const zmq = createRequire(jupyterFile)('zeromq') as { Dealer: new () => ZmqSocket & { connect(address: string): void; close(): void } };
  const dealer = new zmq.Dealer();
  dealer.connect(`${info.transport}://${info.ip}:${info.shell_port}`);
  const frames = wireFrames(info.key, [], header(ATTACH_TYPE), {}, {}, {}, []);
  void dealer
    .send(frames)
    .catch(() => undefined)
    .finally(() => setTimeout(() => dealer.close(), 1000).unref());
}
