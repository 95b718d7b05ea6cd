/**
 * `pul report` and `pul eval --visrank` end to end on a real (tiny) run, and the pages in a real browser:
 * Debian's chromium driven by playwright-core (nothing downloaded). The browser part is skipped, saying
 * why, only when /usr/bin/chromium is absent; .ci/run installs it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { Rng, buildRankedListReport, featureMatrix, loadRunState, parseConfig, renderReportHtml, runPul, selectBackend, silentProgress, type FeatureFolder } from '../../src/index.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { hashTree } from '../helpers/tree-hash.js';
import { fixtureConfig, writePulFixture } from '../pipeline/pul-fixture.js';

const CHROMIUM = process.env['PUL_CHROMIUM'] ?? '/usr/bin/chromium';
const NO_BROWSER = existsSync(CHROMIUM) ? false : `no ${CHROMIUM} (Debian's chromium: apt-get install chromium; .ci/run installs it)`;
/** Where the screenshots stay after the test, to be looked at. */
const SHOTS = path.join(os.tmpdir(), 'pul-report-screenshots');

type PageData = { ranked: { lists: [number, number | null, number[][]][] } | null; thumbnails: string[] };
const pageData = (html: string) => JSON.parse(/<script type="application\/json" id="pul-data">(.*?)<\/script>/s.exec(html)![1]!) as PageData;

/** Collects console errors and page errors of a page. */
async function openPage(browser: Browser, file: string) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) errors.push(`network request ${r.url()}`);
  });
  await page.goto(`file://${file}`);
  return { page, errors };
}

// the page's own expressions, as strings: the tests compile without the DOM's types
/** Images that did not decode (src missing or naturalWidth 0), by alt text. */
const brokenImages = (page: Page) => page.evaluate<string[]>('[...document.images].filter((im) => !im.getAttribute("src") || !im.complete || im.naturalWidth === 0).map((im) => im.alt)');
/** The ranked-list rows on screen: query file name and AP. */
const shownRows = (page: Page) => page.evaluate<{ name: string; ap: number }[]>('[...document.querySelectorAll(".rank-row")].map((r) => ({ name: r.dataset.query, ap: Number(r.dataset.ap) }))');

describe('pul report on a run (CLI, browser)', () => {
  it('writes a page whose lists agree with the run\'s figures, shows noise rows, and works in chromium', { timeout: 120_000 }, async (t) => {
    await selectBackend('wasm');
    await withTempDir(async (root) => {
      const dataDir = path.join(root, 'data');
      await mkdir(dataDir);
      await writePulFixture(dataDir);
      const { runDir } = await runPul({ config: parseConfig(fixtureConfig(dataDir, path.join(root, 'runs')), 'test'), progress: silentProgress });
      // a density method's noise: hand-made −1 rows in the newest round's clusters
      const assignments = path.join(runDir, 'round-02', 'clusters', 'assignments.csv');
      const lines = (await readFile(assignments, 'utf8')).trim().split('\n');
      await writeFile(assignments, `${lines.map((l, i) => (i >= 1 && i <= 6 ? l.replace(/^(\d+),\d+,/, '$1,-1,') : l)).join('\n')}\n`);
      const before = await hashTree(runDir);
      const out = path.join(root, 'pages', 'report.html');
      const r = await runCli(['report', runDir, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await hashTree(runDir), before, 'pul report wrote into the run it reads');
      const again = await runCli(['report', runDir, '--out', out]);
      assert.equal(again.code, 4, again.stderr);
      assert.match(again.stderr, /exists; add --force/);
      assert.equal((await runCli(['report', runDir, '--out', path.join(root, 'report.txt')])).code, 2);
      assert.equal((await runCli(['report', runDir, '--out', out, '--force'])).code, 0);

      const html = await readFile(out, 'utf8');
      const state = (await loadRunState(runDir))!;
      const finalMap = state.completed.find((s) => s.round === 2 && s.stage === 'evaluate')!.summary['mAP'] as number;
      const lists = pageData(html).ranked!.lists;
      const apMean = lists.reduce((s, l) => s + (l[1] ?? 0), 0) / lists.filter((l) => l[1] !== null).length;
      assert.ok(Math.abs(apMean - finalMap) < 1e-5, `the page's mean AP ${apMean} vs the run's final mAP ${finalMap}`);
      assert.match(html, /6 noise/);

      // a checkpoint on a data set: the same lists, the same mean AP
      const ck = path.join(root, 'pages', 'checkpoint.html');
      const c = await runCli(['report', '--checkpoint', path.join(runDir, 'round-02', 'checkpoint'), '--data', dataDir, '--format', 'idx', '--classes', '2-3', '--out', ck]);
      assert.equal(c.code, 0, c.stderr);
      assert.deepEqual(pageData(await readFile(ck, 'utf8')).ranked!.lists.map((l) => l[1]), lists.map((l) => l[1]));
      assert.equal((await runCli(['report', '--checkpoint', path.join(runDir, 'round-02', 'checkpoint'), '--out', ck, '--force'])).code, 2, '--checkpoint needs --data');

      // pul eval --visrank: the ranked lists alone, 3 counted results per query
      const visrank = path.join(root, 'visrank');
      const e = await runCli(['eval', '--checkpoint', runDir, '--data', dataDir, '--format', 'idx', '--classes', '2-3', '--visrank', '3', '--out', visrank]);
      assert.equal(e.code, 0, e.stderr);
      const vis = pageData(await readFile(path.join(visrank, 'visrank.html'), 'utf8'));
      assert.equal(vis.ranked!.lists.length, lists.length);
      for (const l of vis.ranked!.lists) assert.equal(l[2].filter((x) => x[3]! > 0).length, 3);
      assert.equal((await runCli(['eval', '--checkpoint', runDir, '--data', dataDir, '--format', 'idx', '--classes', '2-3', '--visrank', '3', '--out', visrank])).code, 4);
      assert.equal((await runCli(['eval', '--checkpoint', runDir, '--data', dataDir, '--format', 'idx', '--classes', '2-3', '--visrank', '3'])).code, 2);

      if (NO_BROWSER) {
        t.skip(NO_BROWSER);
        return;
      }
      // the page needs nothing beside it: the images it shows are moved away
      await rename(dataDir, `${dataDir}-moved`);
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
      try {
        const { page, errors } = await openPage(browser, out);
        assert.deepEqual(errors, []);
        assert.deepEqual(await brokenImages(page), []);
        assert.ok((await page.$$('img')).length >= 20);
        // curves: the baseline and one point per round; λ and the selection: one per round
        assert.equal(await page.locator('[data-chart="mAP"] circle.pt[data-series="mAP"]').count(), 3);
        assert.equal(await page.locator('[data-chart="selected"] circle.pt').count(), 2);
        assert.equal(await page.locator('[data-chart="lambda"] circle.pt').count(), 2);
        assert.equal(await page.locator('[data-chart="loss"] circle.pt').count(), 2 + 2 + 2, 'source and two rounds, 2 epochs each');
        assert.equal(await page.locator('.cluster.noise img').count(), 6);
        assert.equal(await page.locator('.rank-row').count(), lists.length);
        await mkdir(SHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SHOTS, 'run-report.png'), fullPage: true });
        t.diagnostic(`screenshot: ${path.join(SHOTS, 'run-report.png')}`);
        const vp = await openPage(browser, path.join(visrank, 'visrank.html'));
        assert.deepEqual(vp.errors, []);
        assert.deepEqual(await brokenImages(vp.page), []);
      } finally {
        await browser.close();
      }
    });
  });

  it('sorts the ranked lists by AP, searches by file name and pages through them in chromium', { skip: NO_BROWSER, timeout: 60_000 }, async (t) => {
    await selectBackend('cpu');
    await withTempDir(async (root) => {
      // 45 queries and 60 gallery images of 10 people, random 4-d features: APs spread over (0, 1]
      const rng = new Rng(5);
      const make = async (prefix: string, n: number): Promise<FeatureFolder> => {
        const index = [];
        for (let i = 0; i < n; i++) {
          const pid = 1 + (i % 10);
          const file = path.join(root, `${prefix}${i}.png`);
          await sharp({ create: { width: 16, height: 32, channels: 3, background: { r: 25 * pid, g: 255 - 20 * pid, b: 90 } } }).png().toFile(file);
          index.push({ path: file, pid, camid: prefix === 'q' ? 1 : 2 + (i % 3) });
        }
        return { features: featureMatrix(n, 4, Float32Array.from({ length: n * 4 }, () => rng.normal())), index };
      };
      const query = await make('q', 45);
      const gallery = await make('g', 60);
      const data = await buildRankedListReport(query, gallery, { top: 5 });
      const file = path.join(root, 'visrank.html');
      await writeFile(file, renderReportHtml(data));
      const aps = data.ranked!.lists.map((l) => l.ap!);
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
      try {
        const { page, errors } = await openPage(browser, file);
        const shown = () => shownRows(page);
        let rows = await shown();
        assert.equal(rows.length, 20, 'a page of 20 queries');
        assert.ok(rows.every((r, i) => i === 0 || rows[i - 1]!.ap <= r.ap), 'worst AP first');
        assert.ok(Math.abs(rows[0]!.ap - Math.min(...aps)) < 1e-6);
        assert.match(await page.locator('#rank-page').innerText(), /page 1 of 3 \(45 queries\)/);
        await page.selectOption('#rank-sort', 'ap-desc');
        rows = await shown();
        assert.ok(rows.every((r, i) => i === 0 || rows[i - 1]!.ap >= r.ap), 'best AP first');
        assert.ok(Math.abs(rows[0]!.ap - Math.max(...aps)) < 1e-6);
        await page.click('#rank-next');
        await page.click('#rank-next');
        assert.equal((await shown()).length, 5, 'the last page holds 45 − 40');
        await page.fill('#rank-search', 'q17.');
        rows = await shown();
        assert.deepEqual(rows.map((r) => r.name), ['q17.png']);
        assert.ok(Math.abs(rows[0]!.ap - aps[17]!) < 1e-6);
        assert.equal(await page.locator('.rank-row .hit').count(), 5);
        assert.deepEqual(await brokenImages(page), []);
        await page.fill('#rank-search', '');
        await page.screenshot({ path: path.join(await mkdir(SHOTS, { recursive: true }).then(() => SHOTS), 'visrank.png') });
        t.diagnostic(`screenshot: ${path.join(SHOTS, 'visrank.png')}`);
        assert.deepEqual(errors, []);
      } finally {
        await browser.close();
      }
    });
  });
});
