// Exports the charts the viewer draws for a multi-seed summary as SVG files, through the page's
// own "download SVG" buttons (what a reader of docs/REPLICATION.md would download).
//
// Build first: trunk build --release
// Run:         node tests/browser/export-charts.mjs SUMMARY.json OUTDIR
import { mkdir } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { serve, launch } from './serve.mjs';

const [summary, out] = process.argv.slice(2);
if (!summary || !out) throw new Error('usage: node tests/browser/export-charts.mjs SUMMARY.json OUTDIR');
await mkdir(out, { recursive: true });
const { server, base } = await serve(dirname(resolve(summary)));
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
await page.goto(`${base}?snapshot=data/${basename(summary)}`);
await page.waitForSelector('#seeds svg.chart-svg', { timeout: 60000 });
const ids = await page.$$eval('#seeds svg.chart-svg', (svgs) => svgs.map((s) => s.id));
for (const id of ids) {
  const button = page.locator(`svg#${id} ~ .chart-tools button`, { hasText: 'download SVG' });
  const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
  await download.saveAs(join(out, `${id}.svg`));
  console.log(join(out, `${id}.svg`));
}
await browser.close();
server.close();
