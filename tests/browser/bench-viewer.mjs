// The viewer's benchmark (issues 4 and 14): time from dropping a 25-model paper-scale snapshot on
// the page to every chart drawn, in headless Chromium, with every worker the page starts (one
// per core) and with one (`?workers=1`); and the WebAssembly-to-native ratio of the same decoding
// and analysis, one worker against one native thread (web::load, via `cargo run --release -p web
// --example time_analysis`).
//
// BENCH_QUERY=simd=baseline: the simd128 build instead of the relaxed-SIMD one.
// Build first: trunk build --release; cargo build --release -p web --example time_analysis
//              -p reps-e2e --bin synthetic_snapshot
// Run:         node tests/browser/bench-viewer.mjs [SNAPSHOT.reps] [RUNS]
// Without a snapshot it writes a synthetic one with the paper's shapes (N = 200, width 64,
// layer4.1.conv2 at D = 8192, fc, the four stage outputs, conv1, avgpool).
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { join, basename } from 'node:path';
import { tmpdir } from 'node:os';
import { root, serve, launch, drawnScript } from './serve.mjs';

const release = join(root, 'target', 'release');
let snapshot = process.argv[2];
const runs = Number(process.argv[3] ?? 3);
if (!snapshot) {
  snapshot = join(await mkdtemp(join(tmpdir(), 'reps-bench-')), 'paper-scale.reps');
  execFileSync(join(release, 'synthetic_snapshot'), [snapshot, '--n', '200', '--width', '64', '--conv-dim', '8192']);
}
const name = basename(snapshot);
console.log(`snapshot ${snapshot}: ${(statSync(snapshot).size / 1e6).toFixed(1)} MB`);

const { server, base } = await serve();
const browser = await launch();

/** Whether Table 1 is on the page for the file `name`. */
function table1Script(name) {
  return `(() => {
    const line = document.querySelector('#preview-loaded') ?? document.querySelector('#loaded');
    return !!(line && line.textContent.includes(${JSON.stringify(name)}) && document.querySelector('#table1 td'));
  })()`;
}

/** `runs` drops of the snapshot on the page opened at `url`; the worker's figures of each. */
async function drops(url, label) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const results = [];
  for (let i = 0; i < runs; i++) {
    // Start from the sample each time, so that "drawn" means the new file's charts, and drop
    // once the page is idle (the sample's statistics computed): the worker answers one request
    // at a time, so a drop during them would time them too (about 0.9 s on a 2-core machine).
    await page.goto(url);
    await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 60000 });
    await page.waitForSelector('#statistics[data-ready="true"]', { timeout: 60000 });
    const t0 = performance.now();
    await page.setInputFiles('input[type=file]:not(#open-b)', snapshot);
    // Table 1 of the new file, from the preview the worker sends once the file is decoded (or
    // from the finished analysis, whichever comes first).
    await page.waitForFunction(table1Script(name), null, { timeout: 300000, polling: 10 });
    const table1 = (performance.now() - t0) / 1000;
    await page.waitForFunction(drawnScript(name), null, { timeout: 300000, polling: 20 });
    const seconds = (performance.now() - t0) / 1000;
    const t = await page.$eval('#timings', (e) => ({ read: Number(e.dataset.read), decode: Number(e.dataset.decode), analyse: Number(e.dataset.analyse), workers: Number(e.dataset.workers), kernels: e.dataset.kernels }));
    // Then the statistics of the default layers (intervals, p-values, claims), in the worker.
    await page.waitForSelector('#statistics[data-ready="true"]', { timeout: 300000 });
    const infer = Number(await page.$eval('#statistics', (e) => e.dataset.seconds));
    results.push({ seconds, table1, infer, ...t });
    console.log(`${label} run ${i + 1}: drop to Table 1 ${table1.toFixed(2)} s, to drawn ${seconds.toFixed(2)} s (${t.workers} worker(s), ${t.kernels}: read ${t.read.toFixed(2)} s, decode ${t.decode.toFixed(2)} s, analyse ${t.analyse.toFixed(2)} s); statistics ${infer.toFixed(2)} s`);
  }
  await page.close();
  return results;
}
// Every core the browser reports (the analysis worker and its helpers), then one worker alone.
// BENCH_QUERY adds to the page's query: `simd=baseline` times the simd128 build where the
// browser would start the relaxed-SIMD one.
const extra = process.env.BENCH_QUERY ?? '';
const results = await drops(extra ? `${base}?${extra}` : base, 'all workers');
const single = await drops(`${base}?workers=1${extra ? `&${extra}` : ''}`, 'one worker');
await browser.close();
server.close();

const nativeRun = (threads) => JSON.parse(execFileSync(join(release, 'examples', 'time_analysis'), [snapshot, '3'],
  { encoding: 'utf8', env: { ...process.env, ...(threads ? { RAYON_NUM_THREADS: String(threads) } : {}) } }));
const multi = nativeRun(null);
const oneThread = nativeRun(1);
const best = (rs, k) => Math.min(...rs.map((r) => r[k]));
const wasm = best(single, 'decode') + best(single, 'analyse');
console.log(`native decode ${multi.decode.toFixed(3)} s + analyse ${multi.analyse.toFixed(3)} s + statistics ${multi.infer.toFixed(3)} s (${multi.threads} threads); ` +
  `one thread ${oneThread.decode.toFixed(3)} + ${oneThread.analyse.toFixed(3)} + ${oneThread.infer.toFixed(3)} s`);
console.log(`statistics_wasm_s=${best(results, 'infer').toFixed(3)} statistics_native_s=${multi.infer.toFixed(3)} ` +
  `statistics_native_1thread_s=${oneThread.infer.toFixed(3)}`);
console.log(`drop_to_drawn_s=${best(results, 'seconds').toFixed(2)} (${results[0].workers} workers) ` +
  `drop_to_table1_s=${best(results, 'table1').toFixed(2)} ` +
  `drop_to_drawn_1worker_s=${best(single, 'seconds').toFixed(2)} ` +
  `wasm_1worker_s=${wasm.toFixed(3)} wasm_native_ratio_1thread=${(wasm / (oneThread.decode + oneThread.analyse)).toFixed(2)} ` +
  `wasm_all_workers_s=${(best(results, 'decode') + best(results, 'analyse')).toFixed(3)} ` +
  `wasm_native_ratio=${((best(results, 'decode') + best(results, 'analyse')) / (multi.decode + multi.analyse)).toFixed(2)}`);
