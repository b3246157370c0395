/**
 * The control panel end to end with real widget code: a page built from ipywidgets 8's
 * frontend packages (@jupyter-widgets/html-manager, base, controls) and
 * @jupyterlab/services (test/widget-page, bundled with esbuild) runs in headless Chromium
 * (driven by puppeteer-core) against a real jupyter-server and the tslab kernel. The test
 * clicks Run, then Pause (the step count stops growing), types a temperature into the
 * slider's readout (the next recorded step has it), clicks Step (exactly one more step)
 * and Stop (the search is intact: the next cell steps it). Screenshots go to
 * test-artifacts/widgets/. Skipped, with the reason, without Chromium or jupyter-server.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ARTIFACTS, CHROMIUM, REPO, chromiumMissing, freePort, isolatedJupyter, jupyterMissing, startJupyterServer, type JupyterEnv, type LiveServer } from './jupyter';

const missing = jupyterMissing() ?? chromiumMissing();
const SHOTS = join(ARTIFACTS, '..', 'widgets');
const PAGE_DIR = join(REPO, 'dist', 'widget-page');

/** Serves the built page on its own port (jupyter-server's /files/ would sandbox it). */
async function servePage(): Promise<{ url: string; close(): void }> {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
  const http = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, '') || 'index.html';
    if (!/^[\w.-]+$/.test(name)) return void res.writeHead(404).end();
    readFile(join(PAGE_DIR, name)).then(
      (body) => res.writeHead(200, { 'content-type': types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/`, close: () => http.close() };
}

async function buildPage(): Promise<void> {
  const esbuild = await import('esbuild');
  // Fonts and images inline: every request to /files/ needs the token, and CSS url()s carry none.
  const fonts = Object.fromEntries(['.woff', '.woff2', '.ttf', '.eot', '.svg', '.png', '.gif'].map((ext) => [ext, 'dataurl' as const]));
  await esbuild.build({
    entryPoints: [join(REPO, 'test', 'widget-page', 'page.ts')],
    bundle: true,
    outfile: join(PAGE_DIR, 'page.js'),
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    loader: fonts,
    define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
    // html-manager's embed module assigns webpack's public path global.
    banner: { js: 'var __webpack_public_path__ = "";' },
    logLevel: 'error',
  });
  const { copyFileSync } = await import('node:fs');
  copyFileSync(join(REPO, 'test', 'widget-page', 'index.html'), join(PAGE_DIR, 'index.html'));
}

interface Cell {
  status: string;
  stdout: string;
  stderr: string;
  views: number;
}

describe('the control panel in Chromium with ipywidgets 8 frontend code', { skip: missing ?? false, timeout: 300_000 }, () => {
  let jupyter: JupyterEnv;
  let server: LiveServer;
  let pageServer: { url: string; close(): void };
  let browser: import('puppeteer-core').Browser;
  let page: import('puppeteer-core').Page;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    await buildPage();
    jupyter = isolatedJupyter();
    pageServer = await servePage();
    server = await startJupyterServer(jupyter, REPO, [`--ServerApp.allow_origin=${pageServer.url.replace(/\/$/, '')}`]);
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1200,1600'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 1600 });
    const errors: string[] = [];
    page.on('pageerror', (err) => void errors.push(String(err)));
    await page.goto(`${pageServer.url}index.html?server=${encodeURIComponent(server.baseUrl)}&token=${server.token}`, { waitUntil: 'load' });
    await page.waitForFunction(() => document.body.dataset.ready !== undefined, { timeout: 60_000 });
    const ready = await page.evaluate(() => ({ ready: document.body.dataset.ready, error: document.body.dataset.error }));
    assert.equal(ready.ready, 'true', `the page did not connect: ${ready.error} ${errors.join('; ')}`);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    pageServer?.close();
    jupyter?.cleanup();
  });

  const execute = (code: string): Promise<Cell> => page.evaluate((c) => (window as unknown as { dralabPage: { execute(code: string): Promise<Cell> } }).dralabPage.execute(c), code);
  const status = () => page.$eval('.dralab-status', (el) => ({ state: (el as HTMLElement).dataset.state!, step: Number((el as HTMLElement).dataset.step) }));
  const clickButton = async (label: string) => {
    const buttons = await page.$$('button.jupyter-button');
    for (const b of buttons) {
      if ((await b.evaluate((el) => el.textContent?.trim())) === label) return b.click();
    }
    throw new Error(`no button '${label}'`);
  };
  const waitFor = async (what: string, probe: () => Promise<boolean>, timeoutMs = 90_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };

  it('Run, Pause, a temperature typed into the slider, Step and Stop act on the search in the kernel', async () => {
    const setup = await execute(`import { DraSearch, controls } from 'dralab';
const search = await DraSearch.create({ data: 'synthetic:colour', model: 'tiny-cnn', trainCount: 512, testCount: 32, batchSize: 16, steps: 2000, snapshotEvery: 5 });
const panel = controls(search, { intervalMs: 300 });`);
    assert.equal(setup.status, 'ok', setup.stderr);
    const shown = await execute('panel');
    assert.equal(shown.status, 'ok', shown.stderr);
    assert.equal(shown.views, 1, 'the panel is one widget view');
    await page.waitForSelector('.dralab-status', { timeout: 60_000 });
    for (const label of ['Run', 'Pause', 'Step', 'Stop']) assert.ok((await page.$$eval('button.jupyter-button', (bs) => bs.map((b) => b.textContent?.trim()))).includes(label), label);
    await page.screenshot({ path: join(SHOTS, '1-shown.png'), fullPage: true });

    await clickButton('Run');
    await waitFor('steps in the page', async () => (await status()).step >= 3);
    await page.screenshot({ path: join(SHOTS, '2-running.png'), fullPage: true });
    await clickButton('Pause');
    await waitFor('the pause', async () => (await status()).state === 'paused');
    const paused = (await status()).step;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await status()).step, paused, 'the step count stops growing');
    const kernelCount = await execute('console.log(search.stepCount);');
    assert.equal(Number(kernelCount.stdout.trim()), paused);

    // The temperature slider's readout is editable: type a value, press Enter.
    const readouts = await page.$$('.widget-readout');
    const temperatureReadout = readouts[0]!;
    await temperatureReadout.click({ clickCount: 3 });
    await page.keyboard.type('0.3');
    await page.keyboard.press('Enter');
    const applied = await execute('console.log(search.config.temperature);');
    assert.equal(Number(applied.stdout.trim()), 0.3, `the kernel has the new temperature (${applied.stderr})`);

    await clickButton('Step');
    await waitFor('one step', async () => (await status()).step === paused + 1);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await status()).step, paused + 1, 'exactly one more step');
    const recorded = await execute('const lastRecord = search.history.steps[search.history.steps.length - 1]; console.log(JSON.stringify({ step: lastRecord.step, temperature: lastRecord.temperature }));');
    assert.deepEqual(JSON.parse(recorded.stdout.trim()), { step: paused + 1, temperature: 0.3 });
    await page.screenshot({ path: join(SHOTS, '3-stepped.png'), fullPage: true });

    await clickButton('Resume');
    await waitFor('running again', async () => (await status()).step >= paused + 3);
    await clickButton('Stop');
    await waitFor('the stop', async () => (await status()).state === 'stopped');
    await page.screenshot({ path: join(SHOTS, '4-stopped.png'), fullPage: true });
    const next = await execute('await panel.idle(); const before = search.stepCount; await search.step(); console.log(JSON.stringify({ before, after: search.stepCount, records: search.history.steps.length }));');
    assert.equal(next.status, 'ok', next.stderr);
    const counts = JSON.parse(next.stdout.trim()) as { before: number; after: number; records: number };
    assert.equal(counts.after, counts.before + 1, 'the next cell steps the search');
    assert.equal(counts.records, counts.after, 'no half step was recorded');
  });
});
