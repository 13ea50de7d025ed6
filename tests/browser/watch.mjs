// `report serve --watch` in headless Chromium: the open page shows an edited prose file
// without anyone reloading it, shows a bad edit's error above the last good report, and
// drops the error once the edit is fixed. Edits the project's files itself, in order.
//
// usage: node watch.mjs URL PROJECT_ROOT
// Prints one JSON object; exits 0 when every step passed, 1 when one failed, 2 when the
// browser could not be run.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [url, root] = process.argv.slice(2);
if (!url || !root) {
  console.error('usage: node watch.mjs URL PROJECT_ROOT');
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
// A rebuild that trains nothing takes about a second; a loaded machine, much longer.
const TIMEOUT = 120_000;

let browser;
try {
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `cannot start Chromium: ${e.message}` }));
  process.exit(2);
}
const steps = [];
const result = { ok: false, steps };
try {
  const page = await browser.newPage();
  let navigations = 0;
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigations += 1; });
  await page.goto(url);
  const text = () => page.evaluate(() => document.body.innerText);
  const notes = path.join(root, 'experiments/notes.md');
  const report = path.join(root, 'experiments/report.toml');

  // 1. A prose edit appears in the page that is already open.
  if (!(await text()).includes('first words')) throw new Error('the notes are not on the page');
  const before = navigations;
  writeFileSync(notes, 'Second thoughts, written while the page was open.\n');
  await page.waitForFunction(
    () => document.body.innerText.includes('Second thoughts'), null, { timeout: TIMEOUT });
  steps.push({ step: 'prose edit shown', reloads: navigations - before });

  // 2. A bad edit: its error over the last good report, which stays.
  const good = readFileSync(report, 'utf8');
  writeFileSync(report, good + '\n[profiles.test\n');
  await page.waitForSelector('#report-watch-error', { timeout: TIMEOUT });
  const banner = await page.textContent('#report-watch-error');
  if (!banner.includes('report.toml')) throw new Error(`the error does not name the file: ${banner}`);
  if (!(await text()).includes('Second thoughts')) throw new Error('the last good report is gone');
  steps.push({ step: 'bad edit shown', banner: banner.trim() });

  // 3. The fix: the page reloads into the report, without the error.
  writeFileSync(report, good);
  await page.waitForFunction(
    () => !document.getElementById('report-watch-error') &&
      document.body.innerText.includes('Second thoughts'),
    null, { timeout: TIMEOUT });
  steps.push({ step: 'fixed edit shown' });
  result.ok = true;
} catch (e) {
  result.error = e.message;
}
await browser.close();
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
