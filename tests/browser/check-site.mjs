// Opens a rendered site in headless Chromium and checks what a reader would notice:
// every image loads, nothing is logged as an error, every in-page link has its target,
// every relative link or source names a file that exists, nothing is loaded from
// outside the site, the page fits a phone's width, a phone shows every run's test
// accuracy and every claim's verdict without scrolling, every figure's smallest text
// is at least 11 CSS px on a 1366 px desktop and 9 px on a 390 px phone, every table
// fits its container (no sideways scroll) at 1024, 1280 and 1366 px, and the first
// screen (1366 x 768; figures below it load lazily) fetches under 200 KB and, when the
// page has lazy figures, at most half of what the page with every figure weighs.
// Reports those bytes, the widest table at each width, and the Claims table as a reader
// sees it (rows and verdicts). Saves screenshots.
//
// usage: node check-site.mjs SITE_DIR SCREENSHOT.png
// Prints one JSON object; exits 0 when every check passed, 1 when one failed, 2 when
// the browser could not be run.

import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [siteArg, shotArg] = process.argv.slice(2);
if (!siteArg || !shotArg) {
  console.error('usage: node check-site.mjs SITE_DIR SCREENSHOT.png');
  process.exit(2);
}
const site = path.resolve(siteArg);
const index = path.join(site, 'index.html');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

// The smallest text a figure may show, in CSS px at the size the page displays it.
const DESKTOP_MIN_PX = 11;
const PHONE_MIN_PX = 9;
// What the first screen may fetch (the page, its stylesheets, the images loaded before
// any scrolling), in bytes, and as a share of the page with every image loaded.
const FIRST_VIEW_MAX_BYTES = 200_000;
const FIRST_VIEW_MAX_SHARE = 0.5;
// Screen widths at which every table must fit its container without a sideways scroll.
const TABLE_FIT_WIDTHS = [1024, 1280, 1366];

/** Sum of the sizes of the site's files named by these file:// addresses. */
function bytesOf(urls) {
  let total = 0;
  for (const u of new Set(urls)) {
    if (!u.startsWith('file:')) continue;
    const f = fileURLToPath(u.split('#')[0]);
    if (existsSync(f)) total += statSync(f).size;
  }
  return total;
}

/** Width (from the root's width or viewBox) and smallest font-size of an SVG file. */
const svgCache = new Map();
function svgText(file) {
  if (!svgCache.has(file)) {
    const text = readFileSync(file, 'utf8');
    const root = text.match(/<svg\b[^>]*>/)?.[0] ?? '';
    const width = Number(root.match(/\swidth="([\d.]+)/)?.[1] ?? root.match(/viewBox="[\d.-]+ [\d.-]+ ([\d.]+)/)?.[1]);
    const sizes = [...text.matchAll(/font-size[=:]\s*"?([\d.]+)/g)].map((m) => Number(m[1]));
    svgCache.set(file, { width, minFont: sizes.length ? Math.min(...sizes) : null });
  }
  return svgCache.get(file);
}

/**
 * The smallest text of every SVG figure as the page shows it now: the SVG's smallest
 * font-size times the displayed width over the SVG's own width. Figures under `min`
 * px are problems.
 */
async function figureText(page, where, min) {
  const shown = await page.evaluate(() =>
    [...document.images]
      .filter((img) => img.currentSrc.endsWith('.svg'))
      .map((img) => ({ src: img.currentSrc, width: img.getBoundingClientRect().width })),
  );
  let smallest = null;
  for (const img of shown) {
    const file = fileURLToPath(img.src);
    const svg = svgText(file);
    if (!svg.minFont || !svg.width) continue;
    const px = (svg.minFont * img.width) / svg.width;
    const name = path.relative(site, file);
    if (smallest === null || px < smallest.px) smallest = { px: Math.round(px * 100) / 100, figure: name };
    if (px < min) problems.smallText.push(`${where}: ${name} shows ${px.toFixed(1)} px text (at least ${min})`);
  }
  return { figures: shown.length, smallest };
}

const weight = {};
const textSizes = {};
const problems = {
  brokenImages: [],
  consoleErrors: [],
  failedRequests: [],
  brokenAnchors: [],
  duplicateIds: [],
  missingFiles: [],
  notSelfContained: [],
  phoneOverflow: null,
  phoneHiddenCells: [],
  smallText: [],
  firstViewWeight: null,
  wideTables: [],
};
const tableFit = {};

let browser;
try {
  browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
} catch (e) {
  console.log(JSON.stringify({ error: `cannot start ${executablePath}: ${e.message}` }));
  process.exit(2);
}

try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => problems.consoleErrors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) =>
    problems.failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`),
  );
  await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });

  // What the first screen fetches: figures below it load lazily, when scrolled to.
  await page.waitForLoadState('networkidle');
  // (Resource timing lists no file:// loads, so: the page, its stylesheets and the
  // images that have loaded.)
  const firstView = await page.evaluate(() => {
    const loaded = [...document.images].filter((i) => i.complete && i.naturalWidth > 0);
    return {
      page: [location.href, ...[...document.styleSheets].map((s) => s.href).filter(Boolean)],
      images: loaded.map((i) => i.currentSrc),
      lazy: [...document.images].filter((i) => i.loading === 'lazy').length,
    };
  });
  weight.page = bytesOf(firstView.page);
  weight.firstView = bytesOf([...firstView.page, ...firstView.images]);
  weight.firstViewImages = firstView.images.length;
  weight.lazyImages = firstView.lazy;

  // Every image, once it has settled: loaded with a size, or broken. Lazy ones are
  // told to load now; one that has not settled after 30 s counts as broken.
  const images = await page.evaluate(async () => {
    const imgs = [...document.images];
    for (const img of imgs) img.loading = 'eager';
    const settled = (img) =>
      img.complete
        ? null
        : new Promise((done) => {
            img.addEventListener('load', done);
            img.addEventListener('error', done);
          });
    const timeout = new Promise((done) => setTimeout(done, 30000));
    await Promise.race([Promise.all(imgs.map(settled)), timeout]);
    return imgs.map((img) => ({
      src: img.getAttribute('src'),
      current: img.currentSrc,
      width: img.naturalWidth,
      ok: img.complete && img.naturalWidth > 0,
    }));
  });
  for (const img of images) {
    if (!img.ok) problems.brokenImages.push(img.current || img.src);
  }
  weight.images = images.length;
  weight.allImages = bytesOf(images.map((i) => i.current).filter(Boolean));
  weight.all = weight.page + weight.allImages;
  {
    const { firstView: first, all } = weight;
    const kb = (n) => `${(n / 1000).toFixed(1)} KB`;
    if (first > FIRST_VIEW_MAX_BYTES) {
      problems.firstViewWeight = `the first screen fetches ${kb(first)} (at most ${kb(FIRST_VIEW_MAX_BYTES)})`;
    } else if (weight.lazyImages > 0 && first > FIRST_VIEW_MAX_SHARE * all) {
      problems.firstViewWeight = `the first screen fetches ${kb(first)} of the page's ${kb(all)} with every figure (at most ${FIRST_VIEW_MAX_SHARE * 100} %)`;
    }
  }
  textSizes.desktop = await figureText(page, 'desktop', DESKTOP_MIN_PX);

  // In-page links and duplicate ids.
  const dom = await page.evaluate(() => {
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    const seen = new Set();
    const dups = new Set();
    for (const id of ids) (seen.has(id) ? dups : seen).add(id);
    const anchors = [...document.querySelectorAll('[href^="#"]')].map((a) => a.getAttribute('href'));
    const broken = anchors.filter((h) => {
      let id;
      try {
        id = decodeURIComponent(h.slice(1));
      } catch {
        return true;
      }
      return id === '' || !document.getElementById(id);
    });
    // Every address the page names, with the attribute it is in.
    const refs = [];
    for (const el of document.querySelectorAll('[href],[src],[srcset]')) {
      for (const attr of ['href', 'src']) {
        const v = el.getAttribute(attr);
        if (v !== null) refs.push({ tag: el.tagName.toLowerCase(), attr, value: v });
      }
      const set = el.getAttribute('srcset');
      if (set !== null) {
        for (const part of set.split(',')) {
          const v = part.trim().split(/\s+/)[0];
          if (v) refs.push({ tag: el.tagName.toLowerCase(), attr: 'srcset', value: v });
        }
      }
    }
    return { dups: [...dups], broken, refs };
  });
  problems.duplicateIds = dom.dups;
  problems.brokenAnchors = dom.broken;
  let checkedFiles = 0;
  for (const ref of dom.refs) {
    const v = ref.value.trim();
    if (v.startsWith('#') || v.startsWith('mailto:')) continue;
    const external = /^[a-z][a-z0-9+.-]*:/i.test(v) || v.startsWith('//');
    if (external) {
      // Links to the web are fine; loading anything from outside the site is not.
      const isLink = ref.tag === 'a' && ref.attr === 'href';
      if (!isLink || !/^https?:/i.test(v)) problems.notSelfContained.push(`<${ref.tag} ${ref.attr}="${v}">`);
      continue;
    }
    if (v.startsWith('/')) {
      problems.notSelfContained.push(`<${ref.tag} ${ref.attr}="${v}"> (absolute path)`);
      continue;
    }
    const rel = decodeURIComponent(v.split(/[?#]/)[0]);
    const file = path.resolve(site, rel);
    checkedFiles += 1;
    if (!file.startsWith(site + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      problems.missingFiles.push(v);
    }
  }

  // The Claims table as shown: each row's claim and verdict, and whether it is visible.
  const claims = await page.evaluate(() => {
    const table = document.querySelector('#claims table.claims');
    if (!table) return null;
    const rows = [...table.tBodies[0].rows].map((tr) => ({
      run: tr.querySelector('th')?.textContent.trim(),
      verdict: tr.querySelector('td.outcome strong')?.textContent.trim(),
      reason: tr.querySelector('td.outcome .vs')?.textContent.trim(),
    }));
    const r = table.getBoundingClientRect();
    return { rows, visible: r.width > 0 && r.height > 0 };
  });

  await page.screenshot({ path: shotArg, fullPage: true });

  // Every table (those in <details> opened) fits its container at common laptop and
  // desktop widths: the table is no wider than its wrapper, nothing in the wrapper
  // scrolls sideways, the wrapper is inside the screen, and the page does not scroll
  // sideways.
  await page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = true;
  });
  for (const width of TABLE_FIT_WIDTHS) {
    await page.setViewportSize({ width, height: 768 });
    const fit = await page.evaluate(() => {
      const screen = document.documentElement.clientWidth;
      const tables = [...document.querySelectorAll('table')].map((t, i) => {
        const wrap = t.closest('.table-wrap') ?? t.parentElement;
        const box = wrap.getBoundingClientRect();
        const table = t.getBoundingClientRect();
        // The narrowest the table can be laid out (its columns at their min-content).
        const keep = t.style.width;
        t.style.width = 'min-content';
        const needs = Math.round(t.getBoundingClientRect().width);
        t.style.width = keep;
        const name = `table${t.className ? '.' + t.className.trim().split(/\s+/).join('.') : ''} in #${t.closest('[id]')?.id ?? 'page'} (table ${i + 1})`;
        // How far the table reaches past its wrapper, or the wrapper past the screen.
        const over = Math.max(
          table.width - wrap.clientWidth,
          wrap.scrollWidth - wrap.clientWidth,
          box.right - screen,
          -box.left,
        );
        return { name, width: Math.round(table.width), needs, room: wrap.clientWidth, over: Math.round(over) };
      });
      return { screen, page: document.documentElement.scrollWidth, tables };
    });
    for (const t of fit.tables) {
      if (t.over > 1) problems.wideTables.push(`${width} px: ${t.name} is ${t.width} px wide in ${t.room} px (${t.over} px cut off)`);
    }
    if (fit.page > fit.screen + 1) problems.wideTables.push(`${width} px: the page is ${fit.page} px wide on a ${fit.screen} px screen`);
    // The table with the least room to spare.
    const short = (t) => Math.max(t.needs, t.width) - t.room;
    const tightest = fit.tables.reduce((a, t) => (a === null || short(t) > short(a) ? t : a), null);
    tableFit[width] = {
      tables: fit.tables.length,
      tightest: tightest && { table: tightest.name, width: tightest.width, needs: tightest.needs, room: tightest.room },
    };
  }

  // A phone: the page must not be wider than the screen (tables and figures scroll on
  // their own), and every run's test accuracy must be in sight without scrolling.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload({ waitUntil: 'load' });
  await page.evaluate(async () => {
    for (const img of document.images) img.loading = 'eager';
    await Promise.all(
      [...document.images].map((img) =>
        img.complete ? null : new Promise((done) => img.addEventListener('load', done) || img.addEventListener('error', done)),
      ),
    );
  });
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  if (widths.scroll > widths.client + 1) {
    problems.phoneOverflow = `page is ${widths.scroll}px wide on a ${widths.client}px screen`;
  }
  problems.phoneHiddenCells = await page.evaluate(() => {
    const hidden = [];
    for (const cell of document.querySelectorAll('table.results td.test, table.claims td.outcome')) {
      const r = cell.getBoundingClientRect();
      const box = cell.closest('.table-wrap')?.getBoundingClientRect() ?? { left: 0, right: innerWidth };
      const right = Math.min(box.right, document.documentElement.clientWidth);
      if (r.width === 0 || r.left < Math.max(box.left, 0) - 1 || r.right > right + 1) {
        const row = cell.closest('tr')?.querySelector('th')?.textContent?.trim();
        hidden.push(`${row}: ${cell.textContent.trim()} at ${Math.round(r.left)}-${Math.round(r.right)} px`);
      }
    }
    return hidden;
  });
  textSizes.phone = await figureText(page, 'phone', PHONE_MIN_PX);
  await page.screenshot({ path: shotArg.replace(/\.png$/, '-phone.png'), fullPage: false });

  const failed = Object.values(problems).some((p) => (Array.isArray(p) ? p.length > 0 : p !== null));
  console.log(
    JSON.stringify({ ok: !failed, images: images.length, checkedFiles, anchors: dom.refs.length, weight, textSizes, tableFit, claims, ...problems }),
  );
  await browser.close();
  process.exit(failed ? 1 : 0);
} catch (e) {
  console.log(JSON.stringify({ error: `check failed to run: ${e.stack || e.message}` }));
  await browser.close();
  process.exit(2);
}
