// Where the viewer's time goes between dropping a snapshot and every chart drawn: a Chromium trace
// (through Playwright) of one drop, summarised per thread (the page's main thread and each
// worker) as busy milliseconds by kind of work, plus the page's own marks.
//
// Build first as for bench-viewer.mjs. Run: node tests/browser/profile-viewer.mjs SNAPSHOT.reps [QUERY]
// (QUERY: e.g. "?workers=1"). Writes the raw trace to trace.json in the working directory.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { serve, launch, drawnScript } from './serve.mjs';

const snapshot = process.argv[2];
const query = process.argv[3] ?? '';
if (!snapshot) throw new Error('usage: node profile-viewer.mjs SNAPSHOT.reps [QUERY]');
const name = basename(snapshot);
const { server, base } = await serve();
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(base + query);
await page.waitForFunction(drawnScript('sample.reps'), null, { timeout: 60000 });
await page.waitForSelector('#statistics[data-ready="true"]', { timeout: 60000 });
await browser.startTracing(page, {
  categories: ['devtools.timeline', 'v8.execute', 'blink.user_timing', 'disabled-by-default-devtools.timeline',
    'disabled-by-default-v8.cpu_profiler'],
});
const t0 = performance.now();
await page.setInputFiles('input[type=file]:not(#open-b)', snapshot);
await page.waitForFunction(drawnScript(name), null, { timeout: 300000, polling: 20 });
const seconds = (performance.now() - t0) / 1000;
const trace = JSON.parse((await browser.stopTracing()).toString());
writeFileSync('trace.json', JSON.stringify(trace));
await browser.close();
server.close();

const events = trace.traceEvents;
const threads = new Map();
for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') threads.set(`${e.pid}:${e.tid}`, e.args.name);
// The first event of the drop (the input's change) to the last task: the traced window.
const tasks = events.filter((e) => e.ph === 'X' && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask'));
const start = Math.min(...events.filter((e) => e.ts > 0 && e.ph === 'X').map((e) => e.ts));
console.log(`drop to drawn ${seconds.toFixed(2)} s`);
const byThread = new Map();
for (const e of events) {
  if (e.ph !== 'X' || !e.dur) continue;
  const t = threads.get(`${e.pid}:${e.tid}`) ?? `${e.pid}:${e.tid}`;
  if (!/CrRendererMain|Worker/.test(t)) continue;
  const m = byThread.get(t) ?? new Map();
  m.set(e.name, (m.get(e.name) ?? 0) + e.dur / 1000);
  byThread.set(t, m);
}
for (const [t, m] of byThread) {
  const top = [...m].sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`${t}: ` + top.map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', '));
}
// The main thread's tasks over 20 ms, in order, with their offset from the first traced event.
const main = [...threads].find(([, n]) => n === 'CrRendererMain')?.[0];
for (const e of tasks) {
  if (`${e.pid}:${e.tid}` !== main || e.dur < 20000) continue;
  const inner = events.filter((c) => c.ph === 'X' && c.pid === e.pid && c.tid === e.tid && c.ts >= e.ts && c.ts + (c.dur ?? 0) <= e.ts + e.dur && c !== e && c.dur > 5000);
  console.log(`  main task at ${((e.ts - start) / 1000).toFixed(0)} ms: ${(e.dur / 1000).toFixed(0)} ms (` +
    inner.map((c) => `${c.name} ${(c.dur / 1000).toFixed(0)}`).join(', ') + ')');
}

// The sampling profiler's self time per function, per thread (functions over 1% of a thread).
const profiles = new Map();
for (const e of events) {
  if (e.name !== 'ProfileChunk') continue;
  const key = `${e.pid}:${e.tid}`;
  const p = profiles.get(key) ?? { nodes: new Map(), self: new Map(), total: 0 };
  const data = e.args.data;
  for (const n of data.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n.callFrame.functionName || n.callFrame.url || '(anonymous)');
  const samples = data.cpuProfile?.samples ?? [];
  const deltas = data.timeDeltas ?? [];
  samples.forEach((id, i) => {
    const ms = (deltas[i + 1] ?? deltas[i] ?? 0) / 1000;
    const f = p.nodes.get(id) ?? `node ${id}`;
    p.self.set(f, (p.self.get(f) ?? 0) + ms);
    p.total += ms;
  });
  profiles.set(key, p);
}
for (const [key, p] of profiles) {
  const busy = [...p.self].filter(([f]) => f !== '(idle)' && f !== '(program)');
  const sum = busy.reduce((a, [, v]) => a + v, 0);
  if (sum < 50) continue;
  console.log(`profile ${threads.get(key) ?? key} (${key}): ${sum.toFixed(0)} ms busy`);
  for (const [f, v] of busy.sort((a, b) => b[1] - a[1]).filter(([, v]) => v > sum / 100)) console.log(`  ${v.toFixed(0).padStart(6)} ms  ${f.slice(0, 110)}`);
}
