// Opens a rendered site in headless Chromium and checks what a reader would notice:
// every image loads, nothing is logged as an error, every in-page link has its target,
// every relative link or source names a file that exists, nothing is loaded from
// outside the site, and the page fits a phone's width. Saves screenshots.
//
// usage: node check-site.mjs SITE_DIR SCREENSHOT.png
// Prints one JSON object; exits 0 when every check passed, 1 when one failed, 2 when
// the browser could not be run.

import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [siteArg, shotArg] = process.argv.slice(2);
if (!siteArg || !shotArg) {
  console.error('usage: node check-site.mjs SITE_DIR SCREENSHOT.png');
  process.exit(2);
}
const site = path.resolve(siteArg);
const index = path.join(site, 'index.html');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

const problems = {
  brokenImages: [],
  consoleErrors: [],
  failedRequests: [],
  brokenAnchors: [],
  duplicateIds: [],
  missingFiles: [],
  notSelfContained: [],
  phoneOverflow: null,
};

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
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error') problems.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => problems.consoleErrors.push(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) =>
    problems.failedRequests.push(`${r.url()}: ${r.failure()?.errorText ?? 'failed'}`),
  );
  await page.goto(pathToFileURL(index).href, { waitUntil: 'load' });

  // Every image, once it has settled: loaded with a size, or broken.
  const images = await page.evaluate(async () => {
    const imgs = [...document.images];
    await Promise.all(
      imgs.map((img) =>
        img.complete
          ? null
          : new Promise((settled) => {
              img.addEventListener('load', settled);
              img.addEventListener('error', settled);
            }),
      ),
    );
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

  await page.screenshot({ path: shotArg, fullPage: true });

  // A phone: the page must not be wider than the screen (tables scroll on their own).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload({ waitUntil: 'load' });
  const widths = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  if (widths.scroll > widths.client + 1) {
    problems.phoneOverflow = `page is ${widths.scroll}px wide on a ${widths.client}px screen`;
  }
  await page.screenshot({ path: shotArg.replace(/\.png$/, '-phone.png'), fullPage: false });

  const failed = Object.values(problems).some((p) => (Array.isArray(p) ? p.length > 0 : p !== null));
  console.log(
    JSON.stringify({ ok: !failed, images: images.length, checkedFiles, anchors: dom.refs.length, ...problems }),
  );
  await browser.close();
  process.exit(failed ? 1 : 0);
} catch (e) {
  console.log(JSON.stringify({ error: `check failed to run: ${e.stack || e.message}` }));
  await browser.close();
  process.exit(2);
}
