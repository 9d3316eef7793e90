// The viewer end to end in headless Chromium: the page (built by `trunk build --release` into
// dist/) is served on 127.0.0.1, opened, fed files, and every number it shows is compared with
// `native analyze --format json` on the same files. Screenshots go to target/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { root, serve, launch, FIGURES, drawnScript } from './serve.mjs';

const native = process.env.NATIVE_BIN ?? join(root, 'target', 'debug', 'native');
const shots = join(root, 'target', 'screenshots');
const data = await mkdtemp(join(tmpdir(), 'reps-viewer-data-'));

let server, base, browser;

before(async () => {
  ({ server, base } = await serve(data));
  browser = await launch();
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

/** Waits until the worker's statistics for what the page shows have arrived (they add intervals
 * and p-values to the tables a moment after the numbers). */
async function statisticsReady(page) {
  await page.waitForSelector('#statistics[data-ready="true"]', { timeout: 60000 });
}

/** A little-endian float64 .npy file (written here, independently of the importers under test). */
function npy(shape, values) {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => body.writeDoubleLE(v, 8 * i));
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

function analyzeJson(files, extra = []) {
  return JSON.parse(execFileSync(native, ['analyze', ...files, '--format', 'json', ...extra], { encoding: 'utf8' }));
}

function close(a, b, what) {
  if (a === null || b === null) return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= 1e-8 * (1 + Math.abs(b)), `${what}: page ${a}, native ${b}`);
}

/** The page's numbers equal the native report's: every model-level score of the report (the
 * keys of `correlations` are the score registry) in the per-model table, Table 2 and Table 3. */
function compare(shown, report) {
  let checked = 0;
  for (const m of report.models) {
    const pairs = { [`acc2:${m.name}`]: m.accuracy, [`drop2:${m.name}`]: m.accuracy_drop };
    for (const k of Object.keys(report.correlations)) pairs[`score:${k}:${m.name}`] = k in m ? m[k] : m.baselines[k];
    for (const [k, v] of Object.entries(pairs)) {
      assert.ok(k in shown, `${k} is not on the page`);
      close(shown[k], v ?? null, k);
      checked++;
    }
  }
  for (const [k, c] of Object.entries(report.correlations)) {
    if (!(`plcc:${k}` in shown)) continue;
    for (const s of ['plcc', 'srcc', 'krcc']) { close(shown[`${s}:${k}`], c[s], `${s}:${k}`); checked++; }
  }
  for (const s of report.sensitivity) { close(shown[`sens:${s.name}`], s.plcc, `sens:${s.name}`); checked++; }
  return checked;
}

test('?simd=baseline runs the simd128 build, with the numbers of native analyze', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}?simd=baseline`);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  assert.equal(await page.getAttribute('#timings', 'data-kernels'), 'simd128');
  const checked = compare(await pageNumbers(page), analyzeJson([join(root, 'www', 'sample.reps')]));
  assert.ok(checked >= 25 * 10 + 14 * 3 + 6, `only ${checked} numbers compared`);
  await page.close();
});

test('the bundled sample shows the numbers of native analyze, and the sliders recompute REPS live', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  const shown = await pageNumbers(page);
  const report = analyzeJson([join(root, 'www', 'sample.reps')]);
  const checked = compare(shown, report);
  assert.ok(checked >= 25 * 10 + 14 * 3 + 6, `only ${checked} numbers compared`);
  // The numbers above were shared among the analysis worker and its helpers: one per core (at
  // most 4 in all).
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  assert.equal(Number(await page.getAttribute('#timings', 'data-workers')), Math.min(Math.max(cores, 1), 4));
  // The matrix products ran SIMD kernels, not scalar ones: the relaxed-SIMD build where this
  // browser validates a module using f64x2.relaxed_madd (written here byte by byte), else simd128.
  const relaxed = await page.evaluate(() => {
    const v = [0xfd, 0x0c, ...Array(16).fill(0)];
    const body = [0x00, ...v, ...v, ...v, 0xfd, 0x87, 0x02, 0x0b];
    return WebAssembly.validate(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b,
      3, 2, 1, 0, 0x0a, body.length + 2, 1, body.length, ...body]));
  });
  assert.equal(await page.getAttribute('#timings', 'data-kernels'), relaxed ? 'relaxed-simd' : 'simd128');
  // The figures: REPS against drop has one point per compressed model; Figure 1 and the seven
  // panels of Figure 2 are drawn.
  assert.equal(await page.locator('#reps-vs-drop circle').count(), 24);
  for (const id of FIGURES.slice(1)) {
    assert.ok(await page.locator(`#${id} polyline, #${id} circle`).count() > 0, `${id} is empty`);
  }
  // Sliders: weights (0.4, 0, 0.3, 0.3) give the `User weights` row of native analyze --weights.
  for (const [k, v] of [[0, '0.4'], [1, '0'], [2, '0.3'], [3, '0.3']]) {
    await page.locator(`#w${k}`).fill(v);
  }
  const live = await pageNumbers(page);
  const user = analyzeJson([join(root, 'www', 'sample.reps')], ['--weights', '0.4,0,0.3,0.3']);
  close(live['sens:User weights'], user.sensitivity.find((s) => s.name === 'User weights').plcc, 'live PLCC');
  for (const s of ['plcc', 'srcc', 'krcc']) close(live[`${s}:reps_user`], user.correlations.reps_user[s], `live ${s}`);
  for (const m of user.models) close(live[`score:reps_user:${m.name}`], m.reps_user, `live REPS ${m.name}`);
  // Table 2 as CSV: the REPS (equal weights) row carries the native PLCC.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByText('download table2.csv').click()]);
  const csv = await readFile(await download.path(), 'utf8');
  const row = csv.split('\n').find((l) => l.startsWith('reps_equal,'));
  close(Number(row.split(',')[1]), report.correlations.reps_equal.plcc, 'CSV PLCC');
  // Table 2 for a paper: a booktabs tabular with one row per score and 14 columns, and the same
  // table in Markdown; both carry the native PLCC.
  const downloaded = async (name) => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByText(`download ${name}`).click()]);
    return readFile(await d.path(), 'utf8');
  };
  const tex = await downloaded('table2.tex');
  const body = tex.match(/^\\begin\{tabular\}\{(lr*)\}\n\\toprule\n(.*) \\\\\n\\midrule\n([\s\S]*)\\bottomrule\n\\end\{tabular\}\n$/);
  assert.ok(body, `not a booktabs tabular:\n${tex}`);
  const texRows = body[3].trimEnd().split(' \\\\\n').map((l) => l.replace(/ \\\\$/, ''));
  assert.equal(texRows.length, Object.keys(user.correlations).length, 'one row per score');
  assert.equal(body[1].length, 14, 'column spec');
  for (const l of [body[2], ...texRows]) assert.equal(l.split(/(?<!\\)&/).length, 14, l);
  const texRepsEqual = texRows.find((l) => l.startsWith('reps\\_equal &'));
  close(Number(texRepsEqual.split(' & ')[1]), report.correlations.reps_equal.plcc, 'LaTeX PLCC');
  const md = (await downloaded('table2.md')).trimEnd().split('\n');
  assert.equal(md.length, 2 + Object.keys(user.correlations).length);
  assert.match(md[1], /^\| --- (\| --- )+\|$/);
  close(Number(md.find((l) => l.startsWith('| reps_equal |')).split(' | ')[1]), report.correlations.reps_equal.plcc, 'Markdown PLCC');
  await page.screenshot({ path: join(shots, 'viewer-sample.png'), fullPage: true });
  await page.close();
});

/** Every interval the page shows: `data-key` → [low, high]. */
async function pageIntervals(page) {
  return page.$$eval('.ci[data-key]', (spans) => Object.fromEntries(spans.map((s) => [s.dataset.key, [Number(s.dataset.lo), Number(s.dataset.hi)]])));
}

function closeInterval(got, want, what) {
  if (want === null || want === undefined) return assert.equal(got, undefined, `${what}: the page shows an interval native has not`);
  assert.ok(got, `${what}: no interval on the page`);
  close(got[0], want[0], `${what} low`);
  close(got[1], want[1], `${what} high`);
}

test('the statistics, computed in the worker, equal native analyze: intervals, p-values, the stable regime, REPS against each score, the claims and per-model intervals', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await statisticsReady(page);
  const sample = join(root, 'www', 'sample.reps');
  const report = analyzeJson([sample]);
  const shown = await pageNumbers(page);
  const intervals = await pageIntervals(page);
  let checked = 0;
  const table = (correlations, prefix) => {
    for (const [k, c] of Object.entries(correlations)) {
      for (const s of ['plcc', 'srcc', 'krcc']) {
        if (c[s] === null) continue;
        close(shown[`${prefix}${s}:${k}`], c[s], `${prefix}${s}:${k}`);
        closeInterval(intervals[`ci:${prefix}${s}:${k}`], c[`${s}_ci`], `${prefix}${s}_ci:${k}`);
        close(shown[`p:${prefix}${s}:${k}`], c[`${s}_p`], `${prefix}${s}_p:${k}`);
        checked += 3;
      }
    }
  };
  table(report.correlations, '');
  assert.equal(report.correlations_stable.reason, null);
  table(report.correlations_stable.correlations, 'stable:');
  assert.equal(await page.textContent('#stable-models'), `${report.correlations_stable.models.length} model(s): ${report.correlations_stable.models.join(', ')}`);
  for (const s of report.sensitivity) { closeInterval(intervals[`ci:sens:${s.name}`], s.plcc_ci, `sens ${s.name}`); checked++; }
  for (const [k, c] of Object.entries(report.comparisons)) {
    close(shown[`diff:${k}`], c.diff, `diff ${k}`);
    closeInterval(intervals[`diff_ci:${k}`], c.diff_ci, `diff_ci ${k}`);
    close(shown[`steiger_p:${k}`], c.steiger_p, `steiger_p ${k}`);
    checked += 3;
  }
  assert.ok(checked >= 14 * 9 + 25 * 3, `only ${checked} statistics compared`);
  const claims = await page.$$eval('li.claim', (items) => items.map((i) => [i.dataset.claim, i.dataset.verdict]));
  assert.deepEqual(claims, report.claims.map((c) => [c.id, c.verdict]));
  assert.ok(claims.length >= 7);
  // Per-model intervals: 100 resamples of the samples, the same as native --sample-bootstrap 100;
  // the REPS-against-drop chart draws a whisker per compressed model.
  assert.equal(await page.locator('#reps-vs-drop path.whisker').count(), 0);
  await page.click('#sample-bootstrap');
  await page.waitForSelector('.ci[data-key^="reps_ci:"]', { timeout: 120000 });
  const sampled = analyzeJson([sample], ['--sample-bootstrap', '100']);
  const perModel = await pageIntervals(page);
  for (const m of sampled.models) closeInterval(perModel[`reps_ci:${m.name}`], m.reps_ci, `reps_ci ${m.name}`);
  assert.equal(await page.locator('#reps-vs-drop path.whisker').count(), 24);
  await page.screenshot({ path: join(shots, 'viewer-statistics.png'), fullPage: true });
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
  await statisticsReady(page);
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
  // A NaN in an activation file, and two files whose sample counts differ: named errors, page kept.
  const nan = join(dir, 'nan.npy');
  await writeFile(nan, npy([4, 3], [0, 1, 2, 3, 4, NaN, 6, 7, 8, 9, 10, 11]));
  await page.setInputFiles('input[type=file]', nan);
  await page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('nan.npy'), null, { timeout: 10000 });
  assert.match(await page.textContent('#error'), /nan\.npy.*non-finite value NaN at sample 1, feature 2/);
  const [a, b] = [join(dir, 'four.npy'), join(dir, 'five.npy')];
  await writeFile(a, npy([4, 3], Array.from({ length: 12 }, (_, i) => i)));
  await writeFile(b, npy([5, 3], Array.from({ length: 15 }, (_, i) => i * i)));
  await page.setInputFiles('input[type=file]', [a, b]);
  await page.waitForFunction(() => document.querySelector('#error')?.textContent.includes('five.npy'), null, { timeout: 10000 });
  assert.match(await page.textContent('#error'), /number of samples/);
  assert.deepEqual(await pageNumbers(page), shown);
  await page.screenshot({ path: join(shots, 'viewer-error.png'), fullPage: true });
  // A snapshot written by `native train-sweep` (the bundled sample), dropped on the page.
  const sample = join(root, 'www', 'sample.reps');
  await page.locator('.page').drop({ files: [sample] });
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 30000 });
  assert.equal(await page.locator('#error').count(), 0, 'the old error is still shown after a good file');
  const again = compare(await pageNumbers(page), analyzeJson([sample]));
  assert.ok(again >= 25 * 10, `only ${again} numbers compared`);
  // Files that say how their models were made (np.savez(..., method="distill"), safetensors
  // metadata): Table 1 groups them by method, in the order found, and the numbers are native's.
  execFileSync('python3', [join(root, 'tests', 'python', 'method_files.py'), dir]);
  const methodFiles = ['ref.npz', 'student.npz', 'rank.npz', 'quant.safetensors'].map((f) => join(dir, f));
  await page.locator('.page').drop({ files: methodFiles });
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('4 activation files'), null, { timeout: 30000 });
  const groups = await page.$$eval('#table1 th[data-method]', (ths) => ths.map((t) => [t.dataset.method, t.textContent]));
  assert.deepEqual(groups, [['distill', 'distill (temperature)'], ['lowrank', 'lowrank'], ['gptq', 'gptq (bits)']]);
  const methods = compare(await pageNumbers(page), analyzeJson(methodFiles));
  assert.ok(methods >= 4 * 16, `only ${methods} numbers compared`);
  await page.close();
});

test('files over the streaming threshold are read in row chunks from their Blobs: token files with an attention_mask give the numbers of native analyze --tokens, also after a change of reference', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'reps-viewer-tokens-'));
  execFileSync('python3', [join(root, 'tests', 'python', 'reference_reps.py'), dir, '--tokens']);
  const files = ['ref', 'prune', 'quant', 'coreset', 'noisy'].map((m) => join(dir, `${m}.npz`));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // ?stream_above=0: every dropped file goes through the path that files over 1 GiB take.
  await page.goto(`${base}?stream_above=0`);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  await page.locator('.page').drop({ files });
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('read in row chunks'), null, { timeout: 30000 });
  assert.match(await page.textContent('#loaded'), /48 tokens \(the files have an attention_mask\)/);
  await statisticsReady(page);
  const checked = compare(await pageNumbers(page), analyzeJson(files, ['--tokens']));
  assert.ok(checked > 60, `only ${checked} numbers compared`);
  // Another reference reads the files again.
  await page.locator('#reference').selectOption('quant');
  await page.waitForFunction(() => document.querySelector('[data-key="drop2:quant"]')?.dataset.value === '0', null, { timeout: 30000 });
  await statisticsReady(page);
  const again = compare(await pageNumbers(page), analyzeJson(files, ['--tokens', '--reference', 'quant']));
  assert.ok(again > 60, `only ${again} numbers compared`);
  await page.close();
  // Small token files too are read as tokens: the attention_mask decides, not the size.
  const small = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await small.goto(base);
  await small.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  await small.locator('.page').drop({ files });
  await small.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('48 tokens'), null, { timeout: 30000 });
  assert.ok(compare(await pageNumbers(small), analyzeJson(files, ['--tokens'])) > 60);
  // Files without a mask: the switch reads their (batch, sequence, hidden) arrays as tokens, or
  // one sample per first axis, as native analyze does with and without --tokens.
  const plain = ['a', 'b', 'c'].map((m) => join(dir, `plain-${m}.npz`));
  execFileSync('python3', ['-c', `
import numpy as np, sys
rng = np.random.default_rng(3)
h, l = rng.normal(size=(4, 6, 5)), rng.normal(size=(4, 6, 3))
for k, path in enumerate(sys.argv[1:]):
    np.savez(path, h=(h + 0.4 * k * rng.normal(size=h.shape)).astype(np.float32), logits=(l + 0.3 * k * rng.normal(size=l.shape)).astype(np.float32))
`, ...plain]);
  for (const [axes, flags, loaded] of [['tokens', ['--tokens'], '24 tokens'], ['samples', [], '3 activation files']]) {
    await small.selectOption('#axes', axes);
    await small.locator('.page').drop({ files: plain });
    await small.waitForFunction((t) => document.querySelector('#loaded')?.textContent.includes(t) && !document.querySelector('#status'), loaded, { timeout: 30000 });
    const want = analyzeJson(plain, flags);
    const got = await pageNumbers(small);
    for (const m of want.models) close(got[`score:cka:${m.name}`], m.cka, `${axes}: CKA of ${m.name}`);
    assert.ok(compare(got, want) >= 3 * 10, axes);
  }
  await small.close();
});

test('?snapshot=URL opens that snapshot, and a missing one is a clear error', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}?snapshot=sample.reps`);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  assert.match(await page.textContent('#loaded'), /sample\.reps · resnet18/);
  await page.goto(`${base}?snapshot=missing.reps`);
  await page.waitForSelector('#error', { timeout: 30000 });
  assert.match(await page.textContent('#error'), /missing\.reps: the server answered 404/);
  await page.close();
});

test('sweeps\' results.json files dropped together are pooled over their seeds: the numbers of native analyze --pool', async () => {
  const out = join(data, 'vit-seeds');
  execFileSync(native, ['train-sweep', '--width', '4', '--epochs', '1', '--train-size', '200', '--test-size', '100',
    '--samples', '20', '--batch-size', '32', '--fractions', '0.5,0.1', '--ratios', '0.5,0.9', '--bits', '8,2',
    '--seeds', '2,1', '--out', out], { stdio: 'ignore' });
  const want = JSON.parse(execFileSync(native, ['analyze', '--pool', out, '--format', 'json'], { encoding: 'utf8' }));
  assert.deepEqual(want.seeds, [1, 2]);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  // In the order opposite to the seeds': the page pools in seed order, as native does.
  await page.setInputFiles('input[type=file]', [join(out, 'seed-2', 'results.json'), join(out, 'seed-1', 'results.json')]);
  await page.waitForSelector('#pooled', { timeout: 60000 });
  let checked = 0;
  for (const [key, c] of Object.entries(want.correlations)) {
    for (const stat of ['plcc', 'srcc', 'krcc']) {
      const shown = await page.$(`[data-key="pooled:${stat}:${key}"]`);
      if (c.pooled[stat] === null || !shown) continue;
      assert.equal(Number(await shown.getAttribute('data-value')), c.pooled[stat], `${key} ${stat}`);
      const ci = c.pooled[`${stat}_ci`];
      if (ci) {
        const e = await page.$(`[data-key="ci:pooled:${stat}:${key}"]`);
        assert.deepEqual([Number(await e.getAttribute('data-lo')), Number(await e.getAttribute('data-hi'))], ci, `${key} ${stat} interval`);
      }
      checked += 1;
    }
  }
  assert.ok(checked >= 20, `only ${checked} pooled numbers checked`);
  // Accuracy drop by level, one chart per method: the mean drop at each level, in level order.
  for (const method of ['coreset', 'prune', 'quant']) {
    const titles = await page.$$eval(`#seeds-drop-${method} circle title`, (ts) => ts.map((t) => t.textContent));
    const models = want.models.filter((m) => m.method === method).sort((a, b) => a.parameter - b.parameter);
    assert.equal(models.length, 2);
    assert.deepEqual(titles, models.map((m) => `${m.name} (${method}): (${m.parameter.toFixed(4)}, ${m.accuracy_drop.mean.toFixed(4)})`));
  }
  for (const c of want.claims) {
    assert.equal(await page.getAttribute(`[data-claim="${c.id}"]`, 'data-verdict'), c.verdict, c.id);
    assert.equal(await page.getAttribute(`[data-key="verdict:${c.id}:pooled"]`, 'data-verdict'), c.verdict, c.id);
  }
  // Each seed's verdicts, as its own results.json has them.
  for (const seed of [1, 2]) {
    const own = JSON.parse(await readFile(join(out, `seed-${seed}`, 'results.json'), 'utf8')).report.claims;
    assert.ok(own.length > 0);
    for (const c of own) {
      assert.equal(await page.getAttribute(`[data-key="verdict:${c.id}:${seed}"]`, 'data-verdict'), c.verdict, `${c.id} seed ${seed}`);
    }
  }
  // A results.json and a summary.json together are not sweeps to pool: refused, naming the file.
  await page.setInputFiles('input[type=file]', [join(out, 'seed-1', 'results.json'), join(out, 'summary.json')]);
  await page.waitForSelector('#error', { timeout: 10000 });
  assert.match(await page.textContent('#error'), /summary\.json: not the results\.json of a sweep/);
  await page.close();
});

test('a search.json dropped on the page shows the Search view: every strategy\'s numbers and verdicts as search.json has them, its path and its levels per layer; dropped with its search.reps, above that snapshot\'s analysis', async () => {
  const sweep = join(data, 'search-sweep');
  const out = join(data, 'search-out');
  execFileSync(native, ['train-sweep', '--width', '4', '--epochs', '1', '--train-size', '64', '--test-size', '40',
    '--samples', '20', '--batch-size', '32', '--stage', 'original', '--out', sweep], { stdio: 'ignore' });
  execFileSync(native, ['search', '--from', sweep, '--method', 'prune', '--budget', '0.5', '--ladder', '0.25,0.5,0.75',
    '--calibration', '16', '--resamples', '50', '--out', out], { stdio: 'ignore' });
  const want = JSON.parse(await readFile(join(out, 'search.json'), 'utf8'));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  await page.setInputFiles('input[type=file]', [join(out, 'search.json')]);
  await page.waitForSelector('#search, #error', { timeout: 30000 });
  assert.equal(await page.$('#error'), null, await page.textContent('#error').catch(() => ''));
  const shown = await pageNumbers(page);
  assert.equal(want.models.length, 6);
  for (const m of want.models) {
    const k = (c) => `search:${m.strategy}:${c}`;
    assert.equal(shown[k('accuracy')], m.accuracy, m.strategy);
    assert.equal(shown[k('budget')], m.budget, m.strategy);
    assert.equal(shown[k('reps')], m.reps, m.strategy);
    assert.equal(shown[k('calibration_reps')], m.calibration.scores.reps_weighted, m.strategy);
    assert.equal(shown[k('vs_uniform')], m.vs_uniform ? m.vs_uniform.difference : null, m.strategy);
    // Each layer's bar: the strategy's level, or the untouched amount (0) for a layer it left.
    want.space.layers.forEach((l, i) => {
      assert.equal(shown[`search-level:${m.strategy}:${l.name}`], m.levels[i] ?? 0, `${m.strategy} ${l.name}`);
    });
  }
  for (const c of want.claims) {
    assert.equal(await page.getAttribute(`[data-key="search-claim:${c.id}"]`, 'data-verdict'), c.verdict, c.id);
  }
  // The REPS path of each greedy strategy: the untouched model, then one point per step.
  for (const a of want.allocations.filter((a) => a.greedy)) {
    const points = await page.$$eval(`#search-path-reps g[data-model="${a.strategy}"] circle`, (cs) => cs.length);
    assert.equal(points, a.greedy.steps.length + 1, a.strategy);
  }
  await page.screenshot({ path: join(shots, 'search.png'), fullPage: true });
  // Dropped with its search.reps, the Search view stays above the snapshot's analysis: every
  // strategy's test accuracy in both, as search.json has it.
  await page.setInputFiles('input[type=file]', [join(out, 'search.json'), join(out, 'search.reps')]);
  await page.waitForSelector('#loaded, #error', { timeout: 60000 });
  assert.equal(await page.$('#error'), null, await page.textContent('#error').catch(() => ''));
  assert.notEqual(await page.$('#search'), null, 'the Search view is still shown');
  const both = await pageNumbers(page);
  assert.equal(both['acc:original'], want.original_accuracy);
  for (const m of want.models) {
    assert.equal(both[`search:${m.strategy}:accuracy`], m.accuracy, m.strategy);
    assert.equal(both[`acc:${m.strategy}`], m.accuracy, m.strategy);
  }
  await page.close();
});

test('the replication summaries of docs/replication open from the site\'s links (?snapshot=replication/...) with their verdicts', async () => {
  const { readdir } = await import('node:fs/promises');
  const settings = await readdir(join(root, 'docs', 'replication'));
  assert.ok(settings.length >= 2, `${settings}`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  for (const setting of settings) {
    const file = JSON.parse(await readFile(join(root, 'docs', 'replication', setting, 'summary.json'), 'utf8'));
    await page.goto(`${base}?snapshot=replication/${setting}/summary.json`);
    await page.waitForSelector('#pooled', { timeout: 60000 });
    assert.equal(Number(await page.getAttribute('[data-key="pooled:plcc:reps_weighted"]', 'data-value')),
      file.correlations.reps_weighted.pooled.plcc, setting);
    assert.ok(file.claims.length >= 4, setting);
    for (const c of file.claims) {
      assert.equal(await page.getAttribute(`[data-claim="${c.id}"]`, 'data-verdict'), c.verdict, `${setting} ${c.id}`);
    }
  }
  await page.close();
});

test('a Vision Transformer sweep with every method: the page analyses its default layers and lists every method, with the numbers of native analyze', async () => {
  const out = join(data, 'vit');
  execFileSync(native, ['train-sweep', '--arch', 'vit-tiny', '--methods', 'all', '--width', '8', '--epochs', '1',
    '--train-size', '64', '--test-size', '40', '--samples', '20', '--batch-size', '32', '--fractions', '0.5',
    '--ratios', '0.5', '--bits', '8', '--grid', 'channel-prune=0.3', '--grid', 'lowrank=0.5', '--out', out], { stdio: 'ignore' });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}?snapshot=data/vit/sweep.reps`);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 60000 });
  assert.match(await page.textContent('#loaded'), /vit-tiny/);
  const box = (l) => page.locator(`#layers input[data-item="${l}"]`);
  assert.ok(await box('blocks.3.tokens').isChecked() && await box('head').isChecked());
  assert.ok(!(await box('blocks.0').isChecked()));
  const report = analyzeJson([join(out, 'sweep.reps')]);
  assert.deepEqual(report.layers, ['blocks.3.tokens', 'head']);
  assert.ok(compare(await pageNumbers(page), report) >= 6 * 10);
  const text = await page.textContent('body');
  for (const m of ['channel-prune', 'lowrank', 'coreset', 'prune', 'quant']) assert.ok(text.includes(m), `${m} is not on the page`);
  await page.screenshot({ path: join(shots, 'viewer-vit.png'), fullPage: true });
  await page.close();
});

test('the layer choice re-averages the tables like native analyze --layers, one layer always stays chosen, and Figure 2 draws the chosen models', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 30000 });
  const sample = join(root, 'www', 'sample.reps');
  const box = (l) => page.locator(`#layers input[data-item="${l}"]`);
  assert.ok(await box('layer4.1.conv2').isChecked());
  assert.ok(await box('fc').isChecked());
  assert.ok(!(await box('layer3').isChecked()));
  await box('layer3').check();
  await page.waitForFunction(() => document.querySelectorAll('#layers input:checked').length === 3);
  let checked = compare(await pageNumbers(page), analyzeJson([sample], ['--layers', 'layer3,layer4.1.conv2,fc']));
  assert.ok(checked >= 25 * 10, `only ${checked} numbers compared`);
  await box('layer4.1.conv2').uncheck();
  await box('fc').uncheck();
  await page.waitForFunction(() => document.querySelectorAll('#layers input:checked').length === 1);
  checked = compare(await pageNumbers(page), analyzeJson([sample], ['--layers', 'layer3']));
  assert.ok(checked >= 25 * 10, `only ${checked} numbers compared`);
  // Unchecking the last layer is refused: the tables keep their numbers.
  await statisticsReady(page);
  const before = await pageNumbers(page);
  await box('layer3').click();
  assert.ok(await box('layer3').isChecked());
  assert.deepEqual(await pageNumbers(page), before);
  // Figure 2's models: one line per chosen model in the per-layer panels and the spectrum.
  const lines = async () => [await page.locator('#fig2a-rank polyline').count(), await page.locator('#fig2e-spectrum polyline').count()];
  const model = (m) => page.locator(`#figure-models input[data-item="${m}"]`);
  const [rank0, spectrum0] = await lines();
  assert.ok(await model('prune-0.9').isChecked());
  assert.ok(!(await model('quant-8').isChecked()));
  await model('prune-0.9').uncheck();
  assert.deepEqual(await lines(), [rank0 - 1, spectrum0 - 1]);
  await model('quant-8').check();
  await model('quant-1').check();
  assert.deepEqual(await lines(), [rank0 + 1, spectrum0 + 1]);
  assert.ok(await page.locator('#fig2a-rank').textContent().then((t) => t.includes('quant-1') && !t.includes('prune-0.9')));
  await page.close();
});

test('a large snapshot is analysed in the worker: progress shows, the page stays responsive, the numbers equal native analyze', async (t) => {
  const synthetic = process.env.SYNTHETIC_BIN ?? join(root, 'target', 'debug', 'synthetic_snapshot');
  const large = join(data, 'large.reps');
  execFileSync(synthetic, [large, '--n', '200', '--width', '32', '--conv-dim', '4096']);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 30000 });
  // A watchdog on the page's thread: the longest gap between 10 ms timer ticks while the worker
  // analyses. Were the analysis on this thread, the gap would be the whole analysis.
  await page.evaluate(() => {
    window.gaps = { max: 0, ticks: 0, seenProgress: false };
    let last = performance.now();
    window.watchdog = setInterval(() => {
      const now = performance.now();
      const p = document.querySelector('#progress');
      if (p && p.textContent.includes('analysing')) {
        const done = Number(p.getAttribute('aria-valuenow')), total = Number(p.getAttribute('aria-valuemax'));
        if (done > 0 && done < total) window.gaps.seenProgress = true;
        window.gaps.max = Math.max(window.gaps.max, now - last);
        window.gaps.ticks++;
      }
      last = now;
    }, 10);
  });
  await page.setInputFiles('input[type=file]', large);
  // While the worker works, the page answers: a weight slider still recomputes the sample's live REPS.
  await page.waitForSelector('#progress', { timeout: 60000 });
  await page.screenshot({ path: join(shots, 'viewer-progress.png') });
  const liveBefore = (await pageNumbers(page))['sens:User weights'];
  await page.locator('#w1').fill('0.5');
  const liveDuring = (await pageNumbers(page))['sens:User weights'];
  await page.waitForFunction(drawnScript('large.reps'), null, { timeout: 120000 });
  const gaps = await page.evaluate(() => { clearInterval(window.watchdog); return window.gaps; });
  const analyse = Number(await page.$eval('#timings', (e) => e.dataset.analyse));
  t.diagnostic(`analysis ${analyse.toFixed(2)} s in the worker; longest pause of the page meanwhile ${gaps.max.toFixed(0)} ms over ${gaps.ticks} ticks`);
  assert.ok(gaps.seenProgress, 'no progress between 0 and the total was shown');
  assert.ok(analyse > 0.3, `the analysis took only ${analyse} s: too short to show anything`);
  assert.ok(gaps.max < 250 && gaps.max < 500 * analyse, `the page froze for ${gaps.max} ms during a ${analyse} s analysis`);
  assert.notEqual(liveDuring, liveBefore, 'the slider did not recompute during the analysis');
  await page.locator('#w1').fill('0.05');
  const checked = compare(await pageNumbers(page), analyzeJson([large]));
  assert.ok(checked >= 25 * 10, `only ${checked} numbers compared`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, 'viewer-large.png'), fullPage: true });
  await page.close();
});

test('a multi-seed summary.json shows Table 1 as mean ± sd, Table 2 per seed and pooled, REPS against drop with ±1 sd error bars, and the pooled inference', async () => {
  // Written here with known values (the shape of native train-sweep --seeds' summary.json).
  const ms = (mean, sd, n = 3) => ({ mean, sd, n });
  const corr = (plcc, srcc, krcc) => ({ plcc, srcc, krcc, reason: null });
  const model = (name, method, acc, drop, reps) => ({
    name, method, parameter: null, parameter_name: null,
    accuracy: acc, accuracy_drop: drop, reps_weighted: reps, reps_equal: reps, cka: ms(0.9, 0.01),
  });
  const summary = {
    seeds: [42, 43, 44],
    reference: 'original',
    models: [
      model('original', 'original', ms(0.8, 0.01), ms(0, 0), ms(1, 0)),
      model('quant-4', 'quant', ms(0.7, 0.05), ms(0.1, 0.04), ms(0.9, 0.02)),
      model('prune-0.5', 'prune', ms(0.6, 0.03), ms(0.2, 0.02), ms(0.75, 0.05)),
      model('prune-0.9', 'prune', ms(0.3, 0.1, 2), ms(0.5, 0.09, 2), ms(0.4, null, 1)),
    ],
    correlations: {
      reps_weighted: { per_seed: [corr(-0.9, -0.8, -0.7), corr(-0.95, -1, -1), corr(null, null, null)], pooled: corr(-0.91, -0.86, -0.72) },
    },
  };
  const dir = await mkdtemp(join(tmpdir(), 'reps-seeds-'));
  const file = join(dir, 'summary.json');
  await writeFile(file, JSON.stringify(summary));
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 30000 });
  await page.setInputFiles('input[type=file]', file);
  await page.waitForSelector('#seeds', { timeout: 30000 });
  const cells = await page.$$eval('[data-key^="seeds"]', (cs) => Object.fromEntries(cs.map((c) => [c.dataset.key, [c.dataset.value ?? null, c.dataset.sd ?? null]])));
  for (const m of summary.models) {
    for (const [key, field] of [['acc', 'accuracy'], ['drop', 'accuracy_drop'], ['reps_weighted', 'reps_weighted']]) {
      const [value, sd] = cells[`seeds:${key}:${m.name}`];
      assert.equal(Number(value), m[field].mean, `${m.name} ${field}`);
      assert.equal(sd === null ? null : Number(sd), m[field].sd, `${m.name} ${field} sd`);
    }
  }
  assert.deepEqual(cells['seeds-corr:reps_weighted:pooled:plcc'], ['-0.91', null]);
  assert.deepEqual(cells['seeds-corr:reps_weighted:43:srcc'], ['-1', null]);
  assert.deepEqual(cells['seeds-corr:reps_weighted:44:plcc'], [null, null]);
  // Error bars: one per compressed model with a standard deviation, from mean − sd to mean + sd.
  const bars = await page.$$eval('#seeds-reps-vs-drop path.whisker title', (ts) => ts.map((t) => t.textContent));
  assert.deepEqual(bars.sort(), [
    'prune: mean ± 1 sd [0.7000, 0.8000]',
    'quant: mean ± 1 sd [0.8800, 0.9200]',
  ]);
  assert.equal(await page.locator('#seeds-reps-vs-drop circle').count(), 3);
  // A summary written before the pooled inference existed shows none.
  assert.equal(await page.locator('#pooled').count(), 0);
  // With it (the fields analyze --pool and train-sweep --seeds write): the pooled intervals and
  // p-values, Table 3, the comparisons and the claims, each number as written.
  const pooled = {
    ...summary,
    correlations: {
      reps_weighted: {
        ...summary.correlations.reps_weighted,
        pooled: { ...corr(-0.91, -0.86, -0.72), plcc_ci: [-0.97, -0.8], plcc_p: 0.0004, srcc_ci: [-0.95, -0.7] },
      },
    },
    inference: { bootstrap: 10000, permutations: 10000, seed: 0, stable_drop: 0.05 },
    comparisons: {
      reps_weighted_vs_cka: { a: 'reps_weighted', b: 'cka', diff: 0.031, diff_ci: [-0.02, 0.09], steiger_z: 1.2, steiger_p: 0.23, reason: null },
    },
    correlations_stable: { max_drop: 0.05, models: ['seed-42/quant-8'], reason: '1 model(s) have an accuracy drop of at most 0.05; at least 4 are needed', correlations: {} },
    sensitivity: [{ name: 'Equal weights', weights: [0.25, 0.25, 0.25, 0.25], plcc: -0.93, reason: null, plcc_ci: [-0.98, -0.85] }],
    claims: [{ id: 'reps_strongest_plcc', statement: 'REPS (equal weights) has the strongest PLCC', verdict: 'undecided', evidence: 'closest: CKA' }],
  };
  const pooledFile = join(dir, 'pooled.json');
  await writeFile(pooledFile, JSON.stringify(pooled));
  await page.setInputFiles('input[type=file]', pooledFile);
  await page.waitForSelector('#pooled', { timeout: 30000 });
  const ci = (key) => page.$eval(`[data-key="${key}"]`, (e) => [Number(e.dataset.lo), Number(e.dataset.hi)]);
  assert.equal(await page.getAttribute('[data-key="pooled:plcc:reps_weighted"]', 'data-value'), '-0.91');
  assert.deepEqual(await ci('ci:pooled:plcc:reps_weighted'), [-0.97, -0.8]);
  assert.deepEqual(await ci('ci:pooled:srcc:reps_weighted'), [-0.95, -0.7]);
  assert.equal(await page.getAttribute('[data-key="p:pooled:plcc:reps_weighted"]', 'data-value'), '0.0004');
  assert.deepEqual(await ci('ci:pooled-table3:Equal weights'), [-0.98, -0.85]);
  assert.equal(await page.getAttribute('[data-key="diff:reps_weighted_vs_cka"]', 'data-value'), '0.031');
  assert.deepEqual(await ci('diff_ci:reps_weighted_vs_cka'), [-0.02, 0.09]);
  assert.equal(await page.getAttribute('[data-claim="reps_strongest_plcc"]', 'data-verdict'), 'undecided');
  assert.match(await page.textContent('#stable-reason'), /at least 4 are needed/);
  assert.match(await page.textContent('#seeds'), /cluster-bootstrap interval \(10000 resamples/);
  await page.screenshot({ path: join(shots, 'viewer-seeds.png'), fullPage: true });
  // Not a summary: the error names the file, the summary stays; a snapshot replaces it.
  const bad = join(dir, 'other.json');
  await writeFile(bad, '{"seeds": "many"}');
  await page.setInputFiles('input[type=file]', bad);
  await page.waitForSelector('#error', { timeout: 10000 });
  assert.match(await page.textContent('#error'), /other\.json: not a multi-seed summary/);
  assert.equal(await page.locator('#seeds').count(), 1);
  await page.setInputFiles('input[type=file]', join(root, 'www', 'sample.reps'));
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 30000 });
  assert.equal(await page.locator('#seeds').count(), 0);
  await page.close();
});

test('the overview heatmap shows every layer\'s score as native analyze computes it, and each model\'s first damaged layer follows the threshold and the score', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('[data-key^="heat:"]', { timeout: 30000 });
  const layers = await page.$$eval('#heatmap th.layer', (ths) => ths.map((t) => t.textContent));
  assert.ok(layers.length >= 5, `layers: ${layers}`);
  const report = analyzeJson([join(root, 'www', 'sample.reps')], ['--layers', layers.join(',')]);
  const models = report.models.filter((m) => m.name !== report.reference);
  const check = async (key, threshold) => {
    const cells = await page.$$eval('[data-key^="heat:"], [data-key^="first-damaged:"], [data-key^="models-first-damaged:"]', (cs) => Object.fromEntries(cs.map((c) => [c.dataset.key, c.dataset.value ?? c.dataset.layer ?? null])));
    let n = 0;
    for (const m of models) {
      for (const l of layers) {
        const want = m.layers[l][key];
        close(cells[`heat:${m.name}:${l}`] === null ? null : Number(cells[`heat:${m.name}:${l}`]), want ?? null, `${key} ${m.name} ${l}`);
        n++;
      }
      // Computed here: the first layer, in order, whose value is below the threshold.
      const first = layers.find((l) => m.layers[l][key] !== null && m.layers[l][key] < threshold) ?? '';
      assert.equal(cells[`first-damaged:${m.name}`], first, `first damaged layer of ${m.name} at ${threshold}`);
      assert.equal(cells[`models-first-damaged:${m.name}`], first, `per-model table: first damaged layer of ${m.name} at ${threshold}`);
    }
    return n;
  };
  assert.equal(await check('reps_weighted', 0.9), models.length * layers.length);
  await page.locator('#overview').screenshot({ path: join(shots, 'viewer-heatmap.png') });
  const firsts = async () => page.$$eval('[data-key^="first-damaged:"]', (cs) => cs.map((c) => c.dataset.layer));
  const before = await firsts();
  await page.fill('#heat-threshold', '0.97');
  await page.dispatchEvent('#heat-threshold', 'change');
  await page.waitForFunction((b) => JSON.stringify([...document.querySelectorAll('[data-key^="first-damaged:"]')].map((c) => c.dataset.layer)) !== b, JSON.stringify(before), { timeout: 10000 });
  await check('reps_weighted', 0.97);
  await page.selectOption('#heat-score', 'cka');
  await page.waitForSelector('#heatmap caption:has-text("Linear CKA")', { timeout: 10000 });
  await check('cka', 0.97);
  await page.close();
});

test('the page says where the labels came from, shows every note of the report, explains missing correlations and marks an earlier analysis kept after an error', async () => {
  const words = { labels: 'true labels', pseudo: 'pseudo-labels', none: 'none' };
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('#label-source', { timeout: 30000 });
  const sample = analyzeJson([join(root, 'www', 'sample.reps')]);
  assert.match(await page.textContent('#label-source'), new RegExp(words[sample.label_source]));
  assert.equal(await page.locator('#few-models').count(), 0);
  // numpy-written files (labels inside): their label source, and native's notes, each on the page.
  const dir = await mkdtemp(join(tmpdir(), 'reps-context-'));
  execFileSync('python3', [join(root, 'tests', 'python', 'reference_reps.py'), dir]);
  const files = ['ref', 'prune', 'quant', 'coreset', 'noisy'].map((m) => join(dir, `${m}.npz`));
  await page.setInputFiles('input[type=file]', files);
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('5 activation files'), null, { timeout: 30000 });
  const report = analyzeJson(files);
  assert.equal(await page.getAttribute('#label-source', 'data-source'), report.label_source);
  assert.match(await page.textContent('#label-source'), new RegExp(words[report.label_source]));
  const notes = await page.$$eval('#notes li', (li) => li.map((l) => l.textContent));
  assert.deepEqual(notes, report.notes);
  // Two files: one compressed model, so the correlations are explained, not just n/a.
  await page.setInputFiles('input[type=file]', files.slice(0, 2));
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('2 activation files'), null, { timeout: 30000 });
  assert.match(await page.textContent('#few-models'), /1 model\(s\) besides the reference ref.*at least 3/);
  // A bad file: the error, and a marker naming what is still shown.
  const description = await page.evaluate(() => document.querySelector('#loaded').firstChild.textContent);
  const broken = join(dir, 'broken.npz');
  await writeFile(broken, Buffer.from('not a zip archive'));
  await page.setInputFiles('input[type=file]', broken);
  await page.waitForSelector('#stale', { timeout: 10000 });
  assert.ok((await page.textContent('#stale')).includes(description), await page.textContent('#stale'));
  // The file picker reads once ("Open files…"), and its input is still reachable by keyboard.
  assert.equal((await page.textContent('label.picker')).trim(), 'Open files…');
  await page.focus('input[type=file]');
  assert.equal(await page.evaluate(() => document.activeElement.type), 'file');
  await page.close();
});

/** Whether the page has drawn the statistics of the shown analysis (numbers, figures, intervals). */
async function sampleReady(page) {
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 30000 });
  await statisticsReady(page);
}

test('linked selection: hovering a model highlights it in every view, pinning shows its panel, and a copied link restores the view', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await sampleReady(page);
  const report = analyzeJson([join(root, 'www', 'sample.reps')]);
  // A model that Figure 2 (f) draws as a line, besides the reference.
  const drawn = await page.$$eval('#fig2f-reps g[data-model]', (gs) => gs.map((g) => g.dataset.model));
  const name = drawn.find((n) => n !== report.reference);
  assert.ok(name, `no compressed model drawn: ${drawn}`);
  const style = (sel, prop) => page.$eval(sel, (el, p) => getComputedStyle(el)[p], prop);
  const q = (s) => JSON.stringify(s);
  const point = `#reps-vs-drop circle[data-model=${q(name)}]`;
  const line = `#fig2f-reps g[data-model=${q(name)}] polyline`;
  const heatRow = `#heatmap tr[data-model=${q(name)}] th`;
  const before = [await style(point, 'strokeWidth'), await style(line, 'strokeWidth'), await style(heatRow, 'backgroundColor')];
  // The tooltip names the model (the scatter's series are methods).
  assert.ok((await page.textContent(`${point} title`)).startsWith(`${name} (`), await page.textContent(`${point} title`));
  await page.hover(`#models tr[data-model=${q(name)}] td:nth-child(3)`);
  const hoveredBg = await page.evaluate(() => {
    const probe = document.createElement('div');
    probe.style.background = 'var(--hovered-bg)';
    document.body.append(probe);
    const c = getComputedStyle(probe).backgroundColor;
    probe.remove();
    return c;
  });
  assert.equal(await style(point, 'strokeWidth'), '2px');
  assert.equal(await style(line, 'strokeWidth'), '4px');
  assert.equal(await style(heatRow, 'backgroundColor'), hoveredBg);
  assert.notDeepEqual(before, [await style(point, 'strokeWidth'), await style(line, 'strokeWidth'), hoveredBg]);
  // Another model's point is not highlighted.
  const other = report.models.find((m) => m.name !== name && m.name !== report.reference).name;
  assert.notEqual(await style(`#reps-vs-drop circle[data-model=${q(other)}]`, 'strokeWidth'), '2px');
  // Clicking pins: the panel shows every layer's scores of the model, as native computes them.
  await page.click(`#models tr[data-model=${q(name)}] td:nth-child(3)`);
  await page.waitForSelector('#pinned-table');
  const shown = await pageNumbers(page);
  const m = report.models.find((x) => x.name === name);
  let checked = 0;
  for (const [layer, values] of Object.entries(m.layers)) {
    for (const [k, v] of Object.entries(values)) {
      const key = `pinned:${name}:${layer}:${k}`;
      if (!(key in shown)) continue;
      close(shown[key], v, key);
      checked++;
    }
  }
  assert.ok(checked >= Object.keys(m.layers).length * 6, `only ${checked} pinned values compared`);
  assert.ok(await page.locator(`#pinned-spectra g[data-model=${q(name)}] polyline`).count() === 1);
  // Keyboard: Enter on a focused heatmap row pins a second model.
  await page.focus(`#heatmap tr[data-model=${q(other)}]`);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('#pinned-table th[data-model]').length === 2);
  // The view in the link: another reference, two layers, a weight, the threshold, the theme.
  await page.selectOption('#reference', other);
  await page.waitForFunction((r) => document.querySelector('#reference')?.value === r && !document.querySelector('#status'), other, { timeout: 60000 });
  const layers = await page.$$eval('#layers input', (is) => is.map((i) => i.dataset.item));
  for (const l of layers.slice(0, -2)) await page.uncheck(`#layers input[data-item=${q(l)}]`);
  for (const l of layers.slice(-2)) await page.check(`#layers input[data-item=${q(l)}]`);
  await page.locator('#w0').fill('0.5');
  await page.fill('#heat-threshold', '0.95');
  await page.dispatchEvent('#heat-threshold', 'change');
  await page.click('#theme');
  await page.waitForFunction(() => location.hash.includes('t=0.95') && location.hash.includes('theme=dark') && location.hash.includes('w=0.5'));
  const link = page.url();
  const fresh = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await fresh.goto(link);
  await fresh.waitForFunction((r) => document.querySelector('#reference')?.value === r && document.querySelector('#pinned-table'), other, { timeout: 60000 });
  await statisticsReady(fresh);
  assert.equal(await fresh.getAttribute('html', 'data-theme'), 'dark');
  assert.equal(await fresh.inputValue('#heat-threshold'), '0.95');
  assert.equal(await fresh.inputValue('#w0'), '0.5');
  assert.deepEqual(await fresh.$$eval('#layers input:checked', (is) => is.map((i) => i.dataset.item)), layers.slice(-2));
  assert.deepEqual(await fresh.$$eval('#pinned-table th[data-model]', (ths) => ths.map((t) => t.dataset.model)), [name, other]);
  // The restored view computes what native computes for it.
  const restored = analyzeJson([join(root, 'www', 'sample.reps')], ['--reference', other, '--layers', layers.slice(-2).join(',')]);
  const numbers = await pageNumbers(fresh);
  for (const x of restored.models) close(numbers[`score:reps_weighted:${x.name}`], x.reps_weighted, `restored REPS ${x.name}`);
  await fresh.screenshot({ path: join(shots, 'viewer-dark.png'), fullPage: true });
  await fresh.close();
  await page.close();
});

/** WCAG 2 contrast ratio of two `rgb(...)` colours. */
function contrast(a, b) {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const s = Number(v) / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

/** Text colour and the opaque background behind it of every element matching `selector`. */
async function textColours(page, selector) {
  return page.$$eval(selector, (els) => els.filter((el) => el.textContent.trim() && el.getClientRects().length).map((el) => {
    let bg = el;
    const opaque = (c) => c && c !== 'transparent' && !/rgba\(.*, 0\)$/.test(c);
    while (bg && !opaque(getComputedStyle(bg).backgroundColor)) bg = bg.parentElement;
    return { what: `${el.tagName} ${el.textContent.trim().slice(0, 30)}`, fg: getComputedStyle(el).color, bg: bg ? getComputedStyle(bg).backgroundColor : 'rgb(255, 255, 255)' };
  }));
}

/** Chart text fill against the chart background. */
async function chartColours(page) {
  return page.$$eval('svg.chart-svg', (svgs) => svgs.flatMap((svg) => {
    const bg = getComputedStyle(svg.querySelector('.bg')).fill;
    return [...svg.querySelectorAll('text:not(.legend)')].map((t) => ({ what: `${svg.id} ${t.textContent}`, fg: getComputedStyle(t).fill, bg }));
  }));
}

test('dark mode follows the browser, keeps text contrast at 4.5:1, and everything works by keyboard; charts and the report export as SVG, PNG and JSON; charts zoom and switch axes', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
  await page.goto(base);
  await sampleReady(page);
  assert.equal(await page.getAttribute('html', 'data-theme'), 'dark');
  const lowContrast = async () => {
    const pairs = [...await textColours(page, 'td, th, .note, .lede, h1, h2, label, p'), ...await chartColours(page)];
    assert.ok(pairs.length > 500, `${pairs.length} texts`);
    return pairs.map((p) => ({ ...p, ratio: contrast(p.fg, p.bg) })).filter((p) => p.ratio < 4.5);
  };
  assert.deepEqual((await lowContrast()).slice(0, 5), [], 'dark theme');
  // Keyboard only: open files, change a weight and the reference, pin a model, switch the theme.
  const dir = await mkdtemp(join(tmpdir(), 'reps-keys-'));
  execFileSync('python3', [join(root, 'tests', 'python', 'reference_reps.py'), dir]);
  const files = ['ref', 'prune', 'quant', 'coreset'].map((m) => join(dir, `${m}.npz`));
  // Enter, or Space, on the focused picker opens the file chooser. (Headless Chromium sometimes
  // ignores the first key press when several tests ran in the same browser: press again.)
  let chooser = null;
  for (const key of ['Enter', ' ', 'Enter']) {
    await page.bringToFront();
    await page.focus('input[type=file]');
    [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 5000 }).catch(() => null), page.keyboard.press(key)]);
    if (chooser) break;
  }
  assert.ok(chooser, 'no file chooser opened by keyboard');
  await chooser.setFiles(files);
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('4 activation files'), null, { timeout: 30000 });
  const w1 = await page.inputValue('#w1');
  await page.focus('#w1');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((v) => document.querySelector('#w1').value !== v, w1);
  await page.focus('#reference');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.querySelector('#reference').value === 'prune' && !document.querySelector('#status'), null, { timeout: 60000 });
  await page.focus('#models tbody tr:nth-child(3)');
  await page.keyboard.press(' ');
  await page.waitForSelector('#pinned-table');
  await page.focus('#theme');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.documentElement.dataset.theme === 'light');
  // The sample again, in the light theme (the toggle outlives a reload through the link).
  await page.goto(base);
  await sampleReady(page);
  if (await page.getAttribute('html', 'data-theme') !== 'light') await page.click('#theme');
  assert.deepEqual((await lowContrast()).slice(0, 5), [], 'light theme');
  await page.screenshot({ path: join(shots, 'viewer-light.png') });
  const report = analyzeJson([join(root, 'www', 'sample.reps')]);
  const save = async (trigger) => {
    const [d] = await Promise.all([page.waitForEvent('download'), trigger()]);
    return readFile(await d.path());
  };
  // SVG: standalone, with its title, axis titles, every legend entry and the theme's colours.
  const svg = (await save(() => page.click('#reps-vs-drop + .chart-tools >> text=download SVG'))).toString('utf8');
  assert.match(svg, /^<\?xml[^>]*>\n<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  for (const text of ['REPS (your weights) against accuracy drop', '>accuracy drop<', '>REPS<']) assert.ok(svg.includes(text), text);
  const methods = [...new Set(report.models.filter((m) => m.name !== report.reference).map((m) => m.method))];
  for (const method of methods) assert.ok(svg.includes(`class="legend"`) && svg.includes(`>${method}<`), `legend ${method}`);
  assert.match(svg, /<style>[\s\S]*\.bg \{ fill: (#[0-9a-f]{6}|rgb[^;]*); \}/);
  // PNG: twice the chart's size.
  const png = await save(() => page.click('#fig2a-rank + .chart-tools >> text=download PNG'));
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [1120, 640]);
  // The report: what native analyze --format json writes, with the paper's weights and with others.
  const same = (got, want, path) => {
    if (typeof want === 'number' || typeof got === 'number') return close(got, want, path);
    if (want === null || typeof want !== 'object') return assert.equal(got, want, path);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), path);
    for (const k of Object.keys(want)) same(got[k], want[k], `${path}.${k}`);
  };
  same(JSON.parse(await save(() => page.click('#download-report'))), report, 'report');
  await page.locator('#w3').fill('0.5');
  const weighted = JSON.parse(await save(() => page.click('#download-report')));
  const raw = await Promise.all([0, 1, 2, 3].map((k) => page.inputValue(`#w${k}`)));
  same(weighted, analyzeJson([join(root, 'www', 'sample.reps')], ['--weights', raw.join(',')]), 'report with weights');
  // Zoom: a dragged box becomes the window, computed here from the axes' mapping.
  await page.locator('#fig2a-rank').scrollIntoViewIfNeeded();
  const chartBox = await page.locator('#fig2a-rank').boundingBox();
  const win = async () => page.$eval('#fig2a-rank', (s) => ['x0', 'x1', 'y0', 'y1'].map((k) => Number(s.dataset[k])));
  const [x0, x1, y0, y1] = await win();
  const scale = chartBox.width / 560;
  const at = (px, py) => [x0 + ((px - chartBox.x) / scale - 62) / (560 - 62 - 150) * (x1 - x0), y0 + (320 - 62 - (py - chartBox.y) / scale) / (320 - 30 - 62) * (y1 - y0)];
  const [a, b] = [[chartBox.x + 120 * scale, chartBox.y + 60 * scale], [chartBox.x + 300 * scale, chartBox.y + 200 * scale]];
  await page.mouse.move(...a);
  await page.mouse.down();
  await page.mouse.move(...b, { steps: 5 });
  await page.mouse.up();
  const [p, q] = [at(...a), at(...b)];
  const zoomed = await win();
  const want = [p[0], q[0], q[1], p[1]];
  // Within 1.5 px: the browser reports the pointer in whole CSS pixels.
  const px = [(x1 - x0) / 348, (x1 - x0) / 348, (y1 - y0) / 228, (y1 - y0) / 228].map((u) => 1.5 * u / scale);
  zoomed.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= px[i], `window ${zoomed} want ${want}`));
  await page.dblclick('#fig2a-rank .bg');
  assert.deepEqual(await win(), [x0, x1, y0, y1]);
  // The spectrum switches between log-log and linear axes.
  assert.equal(await page.getAttribute('#fig2e-spectrum', 'data-log'), 'true');
  await page.click('#fig2e-spectrum + .chart-tools >> text=linear axes');
  assert.equal(await page.getAttribute('#fig2e-spectrum', 'data-log'), 'false');
  const ticks = await page.$$eval('#fig2e-spectrum .x-tick text', (ts) => ts.map((t) => t.textContent));
  assert.ok(ticks.every((t) => !/^1e/.test(t)), `${ticks}`);
  // Down to a tablet: wide tables scroll inside their sections, the page never sideways.
  await page.setViewportSize({ width: 768, height: 1000 });
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'the page is wider than a tablet');
  await page.screenshot({ path: join(shots, 'viewer-tablet.png') });
  await page.close();
});

test('two snapshots dropped together are compared: each side equals native analyze of its snapshot, and B − A of per-model REPS is their difference', async () => {
  const synthetic = process.env.SYNTHETIC_BIN ?? join(root, 'target', 'debug', 'synthetic_snapshot');
  const b = join(data, 'b.reps');
  execFileSync(synthetic, [b, '--n', '40', '--width', '4', '--conv-dim', '64', '--seed', '7']);
  const a = join(root, 'www', 'sample.reps');
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await sampleReady(page);
  await page.setInputFiles('input[type=file]:not(#open-b)', [a, b]);
  await page.waitForSelector('#compare-table2', { timeout: 60000 });
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 30000 });
  const [ra, rb] = [analyzeJson([a]), analyzeJson([b])];
  const shown = await pageNumbers(page);
  let n = 0;
  for (const [side, r] of [['a', ra], ['b', rb]]) {
    for (const [k, c] of Object.entries(r.correlations)) {
      for (const s of ['plcc', 'srcc', 'krcc']) {
        const key = `ab:${side}:${s}:${k}`;
        assert.ok(key in shown, `${key} is not on the page`);
        close(shown[key], c[s], key);
        n++;
      }
    }
  }
  assert.equal(n, 3 * (Object.keys(ra.correlations).length + Object.keys(rb.correlations).length));
  // B's heatmap: native's per-layer REPS of B on every layer of B.
  const layersB = await page.$$eval('#b-heatmap th.layer', (ths) => ths.map((t) => t.textContent));
  const rbAll = analyzeJson([b], ['--layers', layersB.join(',')]);
  for (const m of rbAll.models.filter((x) => x.name !== rbAll.reference)) {
    for (const l of layersB) close(shown[`b:heat:${m.name}:${l}`] ?? null, m.layers[l].reps_weighted ?? null, `B ${m.name} ${l}`);
  }
  // B − A for the models both hold, from the two native reports.
  const shared = ra.models.filter((m) => m.name !== ra.reference && rb.models.some((x) => x.name === m.name && x.name !== rb.reference));
  assert.ok(shared.length >= 20, `${shared.length} shared models`);
  for (const m of shared) {
    const other = rb.models.find((x) => x.name === m.name);
    close(shown[`diff:${m.name}`], other.reps_weighted - m.reps_weighted, `B − A ${m.name}`);
  }
  await page.locator('#compare').screenshot({ path: join(shots, 'viewer-compare.png') });
  // Closing B leaves A as it was.
  await page.click('#close-b');
  assert.equal(await page.locator('#compare').count(), 0);
  close((await pageNumbers(page))['plcc:reps_weighted'], ra.correlations.reps_weighted.plcc, 'A after closing B');
  await page.close();
});
