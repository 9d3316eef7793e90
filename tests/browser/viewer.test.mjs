// The viewer end to end in headless Chromium: the page (built by `trunk build --release` into
// dist/) is served on 127.0.0.1, opened, fed files, and every number it shows is compared with
// `native analyze --format json` on the same files. Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join, extname, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..', '..');
const dist = join(root, 'dist');
const native = process.env.NATIVE_BIN ?? join(root, 'target', 'debug', 'native');
const shots = join(root, 'target', 'screenshots');
const types = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

let server, base, browser;

before(async () => {
  server = createServer(async (req, res) => {
    const path = join(dist, decodeURIComponent(new URL(req.url, 'http://x').pathname).replace(/\/$/, '/index.html'));
    try {
      const body = await readFile(path);
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}/`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  await mkdir(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Every `data-key` → `data-value` number the page shows ("n/a" cells map to null). */
async function pageNumbers(page) {
  return page.$$eval('[data-key]', (cells) => Object.fromEntries(cells.map((c) => [c.dataset.key, c.dataset.value === undefined ? null : Number(c.dataset.value)])));
}

function analyzeJson(files, extra = []) {
  return JSON.parse(execFileSync(native, ['analyze', ...files, '--format', 'json', ...extra], { encoding: 'utf8' }));
}

function close(a, b, what) {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= 1e-8 * (1 + Math.abs(b)), `${what}: page ${a}, native ${b}`);
}

/** The page's numbers equal the native report's. */
function compare(shown, report) {
  let checked = 0;
  for (const m of report.models) {
    const pairs = { [`acc2:${m.name}`]: m.accuracy, [`drop2:${m.name}`]: m.accuracy_drop, [`repsw:${m.name}`]: m.reps_weighted,
      [`repse:${m.name}`]: m.reps_equal, [`se:${m.name}`]: m.effective_rank, [`alive:${m.name}`]: m.alive,
      [`ss:${m.name}`]: m.separation, [`sd:${m.name}`]: m.decay, [`cka:${m.name}`]: m.cka,
      [`agree:${m.name}`]: m.baselines.prediction_agreement };
    for (const [k, v] of Object.entries(pairs)) { close(shown[k], v ?? null, k); checked++; }
  }
  for (const [k, c] of Object.entries(report.correlations)) {
    if (!(`plcc:${k}` in shown)) continue;
    for (const s of ['plcc', 'srcc', 'krcc']) { close(shown[`${s}:${k}`], c[s], `${s}:${k}`); checked++; }
  }
  for (const s of report.sensitivity) { close(shown[`sens:${s.name}`], s.plcc, `sens:${s.name}`); checked++; }
  return checked;
}

test('the bundled sample shows the numbers of native analyze, and the sliders recompute REPS live', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  const shown = await pageNumbers(page);
  const report = analyzeJson([join(root, 'www', 'sample.reps')]);
  const checked = compare(shown, report);
  assert.ok(checked >= 25 * 10 + 14 * 3 + 6, `only ${checked} numbers compared`);
  // The figures: REPS against drop has one point per compressed model; Figure 1 and the seven
  // panels of Figure 2 are drawn.
  assert.equal(await page.locator('#reps-vs-drop circle').count(), 24);
  for (const id of ['fig1-weights', 'fig2a-rank', 'fig2b-death', 'fig2c-separation', 'fig2d-sep-agree', 'fig2e-spectrum', 'fig2f-reps', 'fig2g-cka']) {
    assert.ok(await page.locator(`#${id} polyline, #${id} circle`).count() > 0, `${id} is empty`);
  }
  // Sliders: weights (0.4, 0, 0.3, 0.3) give the `User weights` row of native analyze --weights.
  for (const [k, v] of [[0, '0.4'], [1, '0'], [2, '0.3'], [3, '0.3']]) {
    await page.locator(`#w${k}`).fill(v);
  }
  const live = await pageNumbers(page);
  const user = analyzeJson([join(root, 'www', 'sample.reps')], ['--weights', '0.4,0,0.3,0.3']);
  close(live['sens:live'], user.sensitivity.find((s) => s.name === 'User weights').plcc, 'live PLCC');
  for (const m of user.models) close(live[`live:${m.name}`], m.reps_user, `live REPS ${m.name}`);
  // Table 2 as CSV: the REPS (equal weights) row carries the native PLCC.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('download table2.csv').click()]);
  const csv = await readFile(await download.path(), 'utf8');
  const row = csv.split('\n').find((l) => l.startsWith('reps_equal,'));
  close(Number(row.split(',')[1]), report.correlations.reps_equal.plcc, 'CSV PLCC');
  await page.screenshot({ path: join(shots, 'viewer-sample.png'), fullPage: true });
  await page.close();
});

test('numpy-written .npz files dropped on the page give the numbers of native analyze; a bad file shows its error and keeps the page', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reps-viewer-'));
  execFileSync('python3', [join(root, 'tests', 'python', 'reference_reps.py'), dir]);
  const files = ['ref', 'prune', 'quant', 'coreset', 'noisy'].map((m) => join(dir, `${m}.npz`));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  await page.locator('.page').drop({ files });
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('5 activation files'), null, { timeout: 30000 });
  const shown = await pageNumbers(page);
  const checked = compare(shown, analyzeJson(files));
  assert.ok(checked > 60, `only ${checked} numbers compared`);
  await page.screenshot({ path: join(shots, 'viewer-npz.png'), fullPage: true });
  // A broken file: the error names it, the loaded analysis stays.
  const broken = join(dir, 'broken.npz');
  await writeFile(broken, Buffer.from('PK\u0003\u0004 this is not a zip archive'));
  await page.setInputFiles('input[type=file]', broken);
  await page.waitForSelector('#error', { timeout: 10000 });
  const message = await page.textContent('#error');
  assert.match(message, /broken\.npz/);
  assert.deepEqual(await pageNumbers(page), shown);
  await page.screenshot({ path: join(shots, 'viewer-error.png'), fullPage: true });
  await page.close();
});

test('?snapshot=URL opens that snapshot, and a missing one is a clear error', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}?snapshot=sample.reps`);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  assert.match(await page.textContent('#loaded'), /sample\.reps: resnet18/);
  await page.goto(`${base}?snapshot=missing.reps`);
  await page.waitForSelector('#error', { timeout: 30000 });
  assert.match(await page.textContent('#error'), /missing\.reps: the server answered 404/);
  await page.close();
});
