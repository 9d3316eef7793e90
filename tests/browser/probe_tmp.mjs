import { serve, launch } from './serve.mjs';
const { server, base } = await serve();
const browser = await launch();
for (const [pre, key] of [['w', ' '], ['w', 'Enter'], ['none', 'Enter'], ['w-click-body', 'Enter']]) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(base);
  await page.waitForSelector('#statistics[data-ready="true"]', { timeout: 60000 });
  if (pre.startsWith('w')) { await page.focus('#w1'); await page.keyboard.press('ArrowRight'); }
  if (pre === 'w-click-body') await page.mouse.click(5, 5);
  await page.focus('input[type=file]');
  const r = await Promise.all([page.waitForEvent('filechooser', { timeout: 3000 }).then(() => 'chooser').catch(() => 'none'), page.keyboard.press(key)]);
  console.log(pre, JSON.stringify(key), r[0]);
  await page.close();
}
await browser.close(); server.close();
