// The pooled inference over seeds in the viewer (issue 31): time from dropping the sweeps'
// results.json files on the page to the pooled statistics drawn (reading, the cluster bootstrap
// with 10,000 resamples and 10,000 permutations, drawing), against `native analyze --pool` of the
// same files in the same run (the whole process: reading, pooling, printing).
//
// Build first: trunk build --release; cargo build --release -p native
// Run:         node tests/browser/bench-pool.mjs RESULTS.json... [--runs N]
//              (e.g. the seed-*/results.json of a train-sweep --seeds --methods all directory)
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root, serve, launch, drawnScript } from './serve.mjs';

const args = process.argv.slice(2);
const at = args.indexOf('--runs');
const runs = at >= 0 ? Number(args.splice(at, 2)[1]) : 3;
const files = args;
if (files.length === 0) throw new Error('usage: node tests/browser/bench-pool.mjs RESULTS.json... [--runs N]');

const native = join(root, 'target', 'release', 'native');
const dirs = files.map((f) => f.replace(/\/results\.json$/, ''));
const nativeSeconds = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  execFileSync(native, ['analyze', '--pool', ...dirs, '--format', 'json'], { stdio: ['ignore', 'ignore', 'inherit'] });
  nativeSeconds.push((performance.now() - t0) / 1000);
}

const { server, base } = await serve();
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const viewer = [];
for (let i = 0; i < runs; i++) {
  await page.goto(base);
  await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 60000 });
  await page.waitForSelector('#statistics[data-ready="true"]', { timeout: 60000 });
  const t0 = performance.now();
  await page.setInputFiles('input[type=file]:not(#open-b)', files);
  await page.waitForSelector('#pooled', { timeout: 300000 });
  viewer.push((performance.now() - t0) / 1000);
}
await browser.close();
server.close();
const best = (v) => Math.min(...v);
console.log(JSON.stringify({
  files: files.length,
  runs,
  viewer_drop_to_pooled_s: viewer.map((x) => +x.toFixed(3)),
  native_pool_s: nativeSeconds.map((x) => +x.toFixed(3)),
  best_viewer_s: +best(viewer).toFixed(3),
  best_native_s: +best(nativeSeconds).toFixed(3),
  ratio: +(best(viewer) / best(nativeSeconds)).toFixed(2),
}, null, 2));
