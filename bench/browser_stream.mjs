// The viewer on a pair of activation files larger than 1 GiB in all, in headless Chromium: the
// worker reads them in row chunks from their Blobs (FileReaderSync on Blob.slice) and analyses
// them single-threaded in WebAssembly. Prints the time from drop to the analysis shown.
//
// Usage (after `trunk build --release`; needs tests/browser's node_modules):
//   node bench/browser_stream.mjs [TOKENS=1048576] [HIDDEN=128] [LAYERS=2]
// Writes two .npz files of LAYERS layers of TOKENS × HIDDEN float16 (2 × LAYERS × TOKENS ×
// HIDDEN × 2 bytes) under a temporary directory, with numpy.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { serve, launch } from '../tests/browser/serve.mjs';

const [tokens = 1 << 20, hidden = 128, layers = 2] = process.argv.slice(2).map(Number);
const dir = await mkdtemp(join(tmpdir(), 'reps-stream-bench-'));
const script = `
import numpy as np, sys
rng = np.random.default_rng(0)
T, H, L = ${tokens}, ${hidden}, ${layers}
basis = rng.standard_normal((16, H)).astype(np.float32)
for name, noise in [("reference", 0.0), ("quantized", 0.1)]:
    arrays = {}
    for l in range(L):
        h = np.empty((T, H), dtype=np.float16)
        for s in range(0, T, 65536):
            z = rng.standard_normal((min(65536, T - s), 16)).astype(np.float32)
            x = z @ basis + 0.3 * rng.standard_normal((z.shape[0], H)).astype(np.float32)
            h[s:s + z.shape[0]] = x + noise * rng.standard_normal(x.shape).astype(np.float32)
        arrays[f"layers.{l}"] = h.reshape(1, T, H)
    arrays["attention_mask"] = np.ones((1, T), dtype=np.int64)
    np.savez(sys.argv[1] + f"/{name}.npz", **arrays)
`;
execFileSync('python3', ['-c', script, dir]);
const files = ['reference', 'quantized'].map((m) => join(dir, `${m}.npz`));
let total = 0;
for (const f of files) total += (await stat(f)).size;
const { server, base } = await serve(dir);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(base);
  await page.waitForSelector('[data-key="plcc:reps_equal"]', { timeout: 60000 });
  const start = Date.now();
  await page.setInputFiles('input[type=file]', files, { timeout: 600000 });
  await page.waitForFunction(() => document.querySelector('#loaded')?.textContent.includes('read in row chunks'), null, { timeout: 3600000, polling: 500 });
  const seconds = (Date.now() - start) / 1000;
  const error = await page.$('#error');
  if (error) throw new Error(await error.textContent());
  console.log(`${layers} layers × ${tokens} tokens × ${hidden} hidden (f16), 2 files of ${(total / 2 ** 30).toFixed(2)} GiB in all: drop to analysis shown in ${seconds.toFixed(1)} s`);
} finally {
  await browser.close();
  server.close();
  await rm(dir, { recursive: true, force: true });
}
