import { serve, launch, drawnScript } from './serve.mjs';
import { readFileSync } from 'node:fs';
const snapshot = process.argv[2];
const { server, base } = await serve();
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(base);
await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 60000 });
await browser.startTracing(page, { path: '/tmp/trace.json', categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute'] });
const t0 = performance.now();
await page.setInputFiles('input[type=file]:not(#open-b)', snapshot);
await page.waitForFunction(drawnScript('paper-scale.reps'), null, { timeout: 300000, polling: 20 });
console.log('drawn after', ((performance.now() - t0) / 1000).toFixed(2));
await browser.stopTracing();
const trace = JSON.parse(readFileSync('/tmp/trace.json', 'utf8'));
const events = trace.traceEvents ?? trace;
// main thread of the page: the thread with most 'Layout' events
const byName = new Map();
const tids = new Map();
for (const e of events) if (e.name === 'Layout') tids.set(e.tid, (tids.get(e.tid) ?? 0) + 1);
const main = [...tids.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
for (const e of events) {
  if (e.tid !== main || e.ph !== 'X' || !e.dur) continue;
  byName.set(e.name, (byName.get(e.name) ?? 0) + e.dur);
}
for (const [k, v] of [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log((v / 1000).toFixed(1).padStart(8), 'ms', k);
// timeline of the main thread: first and last events after the file drop
const msgs = events.filter((e) => e.tid === main && e.name === 'FunctionCall' && e.dur > 20000).map((e) => [(e.ts / 1000).toFixed(0), (e.dur / 1000).toFixed(1)]);
console.log('long function calls (ts ms, dur ms):', JSON.stringify(msgs));
const paints = events.filter((e) => e.tid === main && (e.name === 'Layout' || e.name === 'UpdateLayoutTree') && e.dur > 20000).map((e) => [e.name, (e.ts / 1000).toFixed(0), (e.dur / 1000).toFixed(1)]);
console.log('long layouts:', JSON.stringify(paints));
await browser.close(); server.close();
