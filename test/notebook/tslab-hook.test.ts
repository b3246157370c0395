/**
 * The multi-MIME path through tslab itself: display() must find the kernel's tslab
 * module the way a cell does (globalThis.__tslab__.require('tslab')) and publish through
 * the same writer tslab's own display API uses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { display, inKernel, resetPlotly } from '../../src/notebook';
import type { DisplayContent } from '../../src/notebook';
import { syntheticSteps } from '../widgets/fixtures';
import { figures } from '../../src/notebook';

describe('tslab display hook', () => {
  it('publishes one multi-MIME display_data through tslab\'s writer, shaped like tslab\'s own messages', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const tslab = require('tslab') as typeof import('tslab');
    const jupyter = require('tslab/dist/jupyter') as { lastWriteDisplayData: ((c: DisplayContent, u: boolean) => void) | null };
    const sent: { content: DisplayContent; update: boolean }[] = [];
    (globalThis as { __tslab__?: unknown }).__tslab__ = { require: (id: string) => (id === 'tslab' ? tslab : require(id)) };
    assert.equal(inKernel(), false, 'no writer before a cell runs');
    jupyter.lastWriteDisplayData = (content, update) => sent.push({ content, update });

    const handle = tslab.newDisplay();
    handle.html('<b>a</b>');
    handle.html('<b>b</b>');
    resetPlotly();
    display(figures.lossesFigure(syntheticSteps(4)));

    assert.equal(inKernel(), true);
    assert.equal(sent.length, 3);
    assert.deepEqual(Object.keys(sent[2]!.content).sort(), Object.keys(sent[0]!.content).sort(), 'same message content fields as tslab');
    assert.deepEqual(sent.map((s) => Boolean(s.update)), [false, true, false]);
    assert.deepEqual(Object.keys(sent[2]!.content.data).sort(), ['image/svg+xml', 'text/html', 'text/plain']);
    assert.deepEqual(Object.keys(sent[0]!.content.data), ['text/html'], 'tslab\'s own API carries one MIME type');
  });
});
