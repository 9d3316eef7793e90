// Shared by the viewer's tests and its benchmark: serve dist/ (and optionally a data folder under
// /data/) on 127.0.0.1, and launch Debian's headless Chromium.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, extname, resolve } from 'node:path';
import { chromium } from 'playwright-core';

export const root = resolve(import.meta.dirname, '..', '..');
export const dist = join(root, 'dist');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Serves dist/ at `/` and `dataDir` (if given) at `/data/`; resolves to { server, base }. */
export async function serve(dataDir) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = dataDir && path.startsWith('/data/')
      ? join(dataDir, path.slice('/data/'.length))
      : join(dist, path.replace(/\/$/, '/index.html'));
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${server.address().port}/` };
}

/** Headless Chromium (CHROMIUM overrides the path). */
export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** The ids of the figures the page draws once an analysis is shown. */
export const FIGURES = ['reps-vs-drop', 'fig1-weights', 'fig2a-rank', 'fig2b-death', 'fig2c-separation', 'fig2d-sep-agree',
  'fig2e-spectrum', 'fig2f-reps', 'fig2g-cka'];

/** Whether every figure has marks, the loaded line names `name`, and nothing is in progress. */
export function drawnScript(name) {
  return `(() => {
    const loaded = document.querySelector('#loaded');
    if (!loaded || !loaded.textContent.includes(${JSON.stringify(name)})) return false;
    if (document.querySelector('#progress') || document.querySelector('#status')) return false;
    return ${JSON.stringify(FIGURES)}.every((id) => document.querySelector('#' + id + ' polyline, #' + id + ' circle, #' + id + ' rect'));
  })()`;
}
