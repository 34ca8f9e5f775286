// The dashboard at a town's size (node/tests/it/town.rs: one board, 1,000 households that have
// reported and settled an interval), in Debian's headless Chromium, checked against JSON-RPC read
// on its own with ethers at the block the page says it shows: the Community view counts 1,000
// households and shows them 50 at a time — every figure of a page equal to the contract's, the
// next page the next 50 in registration order, a search by a piece of an address finding that
// household, sorting by surplus largest first — and the community's interval in its chart; Home
// follows a household that is not this board's. What the first load weighs (the page's files, and
// the JSON-RPC it asks until the Community view is filled) is reported.
//
// Usage: node town.mjs <http://127.0.0.1:port/> <output folder> <households>

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { DAISEE, daisee, openBrowser, rpcClient } from './common.mjs';

const [url, out, count] = process.argv.slice(2);
if (!url || !out || !count) throw new Error('usage: node town.mjs <url> <output folder> <households>');
mkdirSync(out, { recursive: true });
const HOUSEHOLDS = Number(count);
const TIMEOUT = 120_000;
const PAGE = 50;

const { rpcBatch, views } = rpcClient(url);

const { page, external, problems, close } = await openBrowser(url);
let rpcBytes = 0;
let rpcRequests = 0;
page.on('requestfinished', async (request) => {
  if (request.method() !== 'POST') return;
  const sizes = await request.sizes().catch(() => null);
  if (sizes) {
    rpcRequests += 1;
    rpcBytes += sizes.requestBodySize + sizes.responseBodySize;
  }
});
const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });

/** The Community view's page, read at once (one render, one block). */
const readPage = () => page.evaluate(() => {
  const v = document.getElementById('view');
  const table = v.querySelector('[data-testid="meters"]');
  return { block: Number(v.dataset.block), offset: Number(table.dataset.offset), matching: Number(table.dataset.matching),
    count: Number(v.querySelector('[data-testid="meter-count"]').dataset.value),
    chart: Number(v.querySelector('#community-chart').dataset.points),
    rows: [...table.querySelectorAll('tbody tr')].map((r) => ({ ...r.dataset })) };
});
/** Waits until the page's table satisfies `test` (given offset, matching, first row's data). */
const pageWhere = (test, arg) => page.waitForFunction(test, arg, { timeout: TIMEOUT });

/** Every figure of the page's rows equals the contract's at the block shown. */
async function checkRows(shown) {
  const who = shown.rows.map((r) => [r.address]);
  const [produced, consumed, net, last] = await Promise.all([
    views('productionOf', who, shown.block), views('consumptionOf', who, shown.block),
    views('netBalanceOf', who, shown.block), views('lastIntervalOf', who, shown.block)]);
  shown.rows.forEach((r, i) => {
    assert.equal(BigInt(r.produced), produced[i], `produced by ${r.address}`);
    assert.equal(BigInt(r.consumed), consumed[i], `consumed by ${r.address}`);
    assert.equal(BigInt(r.net), net[i], `net of ${r.address}`);
    assert.equal(BigInt(r.lastInterval), last[i], `last interval of ${r.address}`);
  });
}

const report = {};
try {
  const started = Date.now();
  await page.goto(`${url}#/community`);
  await page.waitForSelector('[data-testid="meters"] tbody tr', { timeout: TIMEOUT });
  report.communityShownMs = Date.now() - started;
  report.firstLoad = await page.evaluate(() => {
    const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
      .filter((e) => !['fetch', 'xmlhttprequest'].includes(e.initiatorType));
    return { files: entries.length, transferred: entries.reduce((s, e) => s + e.transferSize, 0) };
  });
  report.firstLoad.rpcRequests = rpcRequests;
  report.firstLoad.rpcBytes = rpcBytes;
  assert.ok(report.firstLoad.transferred < 100_000, `gzipped, the page's files weigh ${report.firstLoad.transferred} bytes`);

  const meters = (await rpcBatch([['eth_call', [{ to: DAISEE, data: daisee.encodeFunctionData('getMeters', []) }, 'latest']]]))
    .map((d) => daisee.decodeFunctionResult('getMeters', d)[0])[0].map((a) => a.toLowerCase());
  assert.equal(meters.length, HOUSEHOLDS);
  const first = await readPage();
  assert.equal(first.count, HOUSEHOLDS, 'every household counted');
  assert.equal(first.matching, HOUSEHOLDS);
  assert.deepEqual(first.rows.map((r) => r.address), meters.slice(0, PAGE), 'the first 50, in registration order');
  await checkRows(first);
  assert.ok(first.chart >= 1, 'the community chart has the reported interval');
  await shot('town-community');

  // The next page.
  await page.click('[data-testid="next"]');
  await pageWhere((o) => Number(document.querySelector('[data-testid="meters"]').dataset.offset) === o, PAGE);
  const second = await readPage();
  assert.deepEqual(second.rows.map((r) => r.address), meters.slice(PAGE, 2 * PAGE), 'the next 50');
  await checkRows(second);

  // A search by a piece of an address.
  const wanted = meters[HOUSEHOLDS - 7];
  await page.fill('[data-testid="search"]', wanted.slice(2, 12).toUpperCase());
  await pageWhere((a) => [...document.querySelectorAll('[data-testid="meters"] tbody tr')].some((r) => r.dataset.address === a)
    && document.querySelector('[data-testid="meters"]').dataset.offset === '0', wanted);
  const found = await readPage();
  assert.ok(found.matching >= 1 && found.matching < 5, `the search found ${found.matching}`);
  assert.ok(found.rows.every((r) => r.address.includes(wanted.slice(2, 12))));
  await checkRows(found);
  await page.fill('[data-testid="search"]', 'not hex!');
  await page.waitForTimeout(300);
  assert.equal(await page.$eval('[data-testid="search"]', (i) => i.validity.valid), false, 'a search that is no address is refused in the page');
  await page.fill('[data-testid="search"]', '');

  // Sorted by surplus, largest first.
  await page.selectOption('[data-testid="sort"]', 'net');
  await pageWhere(() => {
    const rows = [...document.querySelectorAll('[data-testid="meters"] tbody tr')];
    return rows.length === 50 && rows.every((r, i) => i === 0 || BigInt(rows[i - 1].dataset.net) >= BigInt(r.dataset.net));
  });
  const sorted = await readPage();
  await checkRows(sorted);
  const nets = await views('netBalanceOf', meters.map((m) => [m]), sorted.block);
  const best = nets.reduce((m, n) => (n > m ? n : m), nets[0]);
  assert.equal(BigInt(sorted.rows[0].net), best, 'the first has the largest surplus of all');
  await shot('town-community-sorted');

  // Home follows a household that is not this board's.
  const other = meters[HOUSEHOLDS / 2 + 1];
  await page.evaluate(() => (location.hash = '#/home'));
  await page.waitForSelector('#view[data-view="home"]', { timeout: TIMEOUT });
  await page.selectOption('#household', other);
  await page.waitForFunction((h) => document.getElementById('view').dataset.household === h, other, { timeout: TIMEOUT });
  const home = await page.evaluate(() => {
    const v = document.getElementById('view');
    const value = (id) => v.querySelector(`[data-testid="${id}"]`).dataset.value;
    return { block: Number(v.dataset.block), produced: value('total-produced'), net: value('net'),
      points: Number(v.querySelector('#home-chart').dataset.points) };
  });
  assert.equal(BigInt(home.produced), (await views('productionOf', [[other]], home.block))[0]);
  assert.equal(BigInt(home.net), (await views('netBalanceOf', [[other]], home.block))[0]);
  assert.equal(home.points, 1, 'its one reading in its chart');
  await shot('town-home');

  assert.deepEqual(external, [], 'no request leaves for anywhere but the node');
  assert.deepEqual(problems, [], 'no console error');
  console.log(JSON.stringify(report));
} catch (error) {
  await shot('town-failure').catch(() => {});
  console.error(`problems: ${JSON.stringify(problems)}; external: ${JSON.stringify(external)}`);
  throw error;
} finally {
  await close();
}
