/**
 * Preloaded into the tslab kernel by the kernelspec `dralab kernel install` writes
 * (`node --require <this file> tslab kernel ...`): wraps tslab's ZmqServer as its module
 * loads, so the kernel answers comm_info_request and takes comms (./comm) from its first
 * message, before any cell imports dralab. It loads nothing else of dralab (no tfjs).
 */
import Module from 'node:module';
import { patchTslabServer } from './comm';
import './jupyter-widgets';

type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const moduleInternals = Module as unknown as { _load: Load; _resolveFilename(request: string, parent: unknown, isMain: boolean): string };
const originalLoad = moduleInternals._load;
moduleInternals._load = function (request: string, parent: unknown, isMain: boolean) {
  const exports = originalLoad.call(this, request, parent, isMain);
  if (/(^|[/\\])jupyter(\.js)?$/.test(request)) {
    const file = moduleInternals._resolveFilename(request, parent, isMain);
    if (/[/\\]tslab[/\\]dist[/\\]jupyter\.js$/.test(file)) patchTslabServer(exports as never);
  }
  return exports;
};
