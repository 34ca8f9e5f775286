// Drives the dashboard of a running `daisee dev` in Debian's headless Chromium (playwright-core)
// and checks it against JSON-RPC, read on its own with ethers at the very block the page says it
// shows: every figure of Home and Community, the head of Chain; then buys energy through the
// node's unlocked account and sees both households and the trades table update. Any request to
// anywhere but the node, any console error (a CSP violation among them) fails the test.
// Screenshots of each view go to the output folder.
//
// Usage: node dashboard.mjs <http://127.0.0.1:port/> <output folder>

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { DAISEE, daisee, hex, openBrowser, router, rpcClient } from './common.mjs';

const [url, out] = process.argv.slice(2);
if (!url || !out) throw new Error('usage: node dashboard.mjs <url> <output folder>');
mkdirSync(out, { recursive: true });

const PRODUCER = '0x14dc79964da2c08b23698b3d3cc7ca32193d9955'; // dev account 7
const CONSUMER = '0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f'; // dev account 8
const SIGNER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'; // dev account 0
const TIMEOUT = 90_000;

// ------------------------------------------------------------------ JSON-RPC, independently

const { rpc, view } = rpcClient(url);
async function logs(event, from, to) {
  const topic = daisee.getEvent(event).topicHash;
  const found = await rpc('eth_getLogs', [{ address: DAISEE, fromBlock: hex(from), toBlock: hex(to), topics: [topic] }]);
  return found.map((l) => ({ ...daisee.parseLog(l).args.toObject(), block: Number(l.blockNumber), tx: l.transactionHash }));
}

// ------------------------------------------------------------------ the browser

const { context, page, external, problems, close } = await openBrowser(url);

const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
const go = router(page, TIMEOUT);
/** Waits until the page shows block `n` or later. */
const shownFrom = (n) => page.waitForFunction((b) => Number(document.getElementById('view').dataset.block) >= b, n, { timeout: TIMEOUT });

/** Everything Home shows, read at once (one render, one block). */
const readHome = () => page.evaluate(() => {
  const v = document.getElementById('view');
  const value = (id) => v.querySelector(`[data-testid="${id}"]`).dataset.value;
  const ids = ['produced-today', 'consumed-today', 'net', 'sold-wh', 'sold-wei', 'bought-wh', 'bought-wei', 'total-produced', 'total-consumed', 'escrow'];
  return { block: Number(v.dataset.block), from: Number(v.dataset.fromBlock), household: v.dataset.household,
    dayStart: Number(v.dataset.dayStart), ...Object.fromEntries(ids.map((i) => [i, BigInt(value(i))])),
    netText: v.querySelector('[data-testid="net"]').textContent, chartPoints: Number(v.querySelector('#home-chart').dataset.points) };
});

/** Home's figures equal what JSON-RPC says at the block it shows. */
async function checkHome(household) {
  await page.selectOption('#household', household);
  await page.waitForFunction((h) => document.getElementById('view').dataset.household === h, household);
  const shown = await readHome();
  const b = shown.block;
  assert.equal(shown.household, household);
  assert.equal(shown['total-produced'], await view('productionOf', [household], b), 'total produced');
  assert.equal(shown['total-consumed'], await view('consumptionOf', [household], b), 'total consumed');
  assert.equal(shown.net, await view('netBalanceOf', [household], b), 'net balance');
  assert.equal(shown.escrow, await view('escrowOf', [household], b), 'escrow');
  const readings = await logs('Reading', shown.from, b);
  const latest = readings.reduce((m, r) => Math.max(m, Number(r.intervalEnd)), 0);
  assert.equal(shown.dayStart, latest - 1 - ((latest - 1) % 86400), 'today starts at the UTC midnight before the newest interval');
  const today = readings.filter((r) => r.meter.toLowerCase() === household && Number(r.intervalEnd) > shown.dayStart);
  assert.equal(shown['produced-today'], today.reduce((s, r) => s + r.producedWh, 0n), 'produced today');
  assert.equal(shown['consumed-today'], today.reduce((s, r) => s + r.consumedWh, 0n), 'consumed today');
  const rate = await view('getRate', [], b);
  assert.equal((await logs('RateChanged', shown.from, b)).length, 0, 'the dev rate never changes');
  // Trades: bought by hand (Buy, at the rate) and settled automatically (Matched, at the clearing price).
  const trades = [
    ...(await logs('Buy', shown.from, b)).map((t) => ({ ...t, paid: t.energy * rate })),
    ...(await logs('Matched', shown.from, b)).map((t) => ({ ...t, energy: t.energyWh })),
  ];
  const sum = (list, key) => list.reduce((s, t) => s + t[key], 0n);
  const sales = trades.filter((t) => t.seller.toLowerCase() === household);
  const purchases = trades.filter((t) => t.buyer.toLowerCase() === household);
  assert.equal(shown['sold-wh'], sum(sales, 'energy'), 'sold');
  assert.equal(shown['sold-wei'], sum(sales, 'paid'), 'received');
  assert.equal(shown['bought-wh'], sum(purchases, 'energy'), 'bought');
  assert.equal(shown['bought-wei'], sum(purchases, 'paid'), 'paid');
  // The board's sensors of this household: where each reads from and what it read.
  const own = (await rpc('daisee_meters')).find((m) => m.address.toLowerCase() === household);
  const rows = await page.evaluate(() => [...document.querySelectorAll('[data-testid="sources"] tbody tr')]
    .map((r) => ({ source: r.dataset.source, accepted: Number(r.querySelector('[data-kind="accepted"]').textContent) })));
  assert.deepEqual(rows.map((r) => r.source), own.sensors.map((s) => s.source), 'the sensors’ sources');
  assert.ok(rows.every((r) => r.accepted > 0), `every sensor read something: ${JSON.stringify(rows)}`);
  return shown;
}

/** Community's table and rate equal JSON-RPC at the block shown. */
async function checkCommunity() {
  const shown = await page.evaluate(() => {
    const v = document.getElementById('view');
    return { block: Number(v.dataset.block), rate: v.querySelector('[data-testid="rate"]').dataset.value,
      rows: [...v.querySelectorAll('[data-testid="meters"] tbody tr')].map((r) => ({ ...r.dataset })),
      trades: [...v.querySelectorAll('[data-testid="trades"] tbody tr')].map((r) => ({ ...r.dataset })) };
  });
  const meters = (await view('getMeters', [], shown.block)).map((a) => a.toLowerCase());
  assert.deepEqual(shown.rows.map((r) => r.address), meters, 'every registered meter, in order');
  assert.equal(BigInt(shown.rate), await view('getRate', [], shown.block), 'rate');
  for (const row of shown.rows) {
    assert.equal(BigInt(row.produced), await view('productionOf', [row.address], shown.block), `produced by ${row.address}`);
    assert.equal(BigInt(row.consumed), await view('consumptionOf', [row.address], shown.block), `consumed by ${row.address}`);
    assert.equal(BigInt(row.net), await view('netBalanceOf', [row.address], shown.block), `net of ${row.address}`);
  }
  return shown;
}

/** Waits until `household` has at least `wh` of surplus; returns the block where it had. */
async function untilSurplus(household, wh) {
  for (let i = 0; i < 180; i++) {
    const block = Number(await rpc('eth_blockNumber'));
    if ((await view('netBalanceOf', [household], block)) >= wh) return block;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${household} never had ${wh} Wh of surplus`);
}

const report = {};
try {
  const started = Date.now();
  await page.goto(url);
  // Home, once the simulated households have reported a few intervals.
  await page.waitForFunction(() => Number(document.querySelector('#home-chart')?.dataset.points) >= 3, null, { timeout: TIMEOUT });
  await page.waitForFunction(() => document.body.dataset.live === 'ws', null, { timeout: TIMEOUT });
  report.firstChartMs = Date.now() - started;
  report.weight = await page.evaluate(() => {
    const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
      .filter((e) => !['fetch', 'xmlhttprequest'].includes(e.initiatorType));
    return { files: entries.length, transferred: entries.reduce((s, e) => s + e.transferSize, 0),
      decoded: entries.reduce((s, e) => s + e.decodedBodySize, 0) };
  });
  const producerHome = await checkHome(PRODUCER);
  assert.ok(producerHome.chartPoints >= 3 && producerHome['produced-today'] > 0n, 'the producer has produced today');
  await checkHome(CONSUMER);
  await shot('home');

  await go('#/community');
  await page.waitForSelector('[data-testid="meters"] tbody tr');
  await checkCommunity();
  await shot('community');

  await go('#/chain');
  await page.waitForSelector('[data-testid="signers"] tbody tr[data-signer]', { timeout: TIMEOUT });
  const chain = await page.evaluate(() => {
    const v = document.getElementById('view');
    return { number: Number(v.querySelector('[data-testid="head-number"]').dataset.value),
      hash: v.querySelector('[data-testid="head-hash"]').dataset.value,
      stale: v.querySelector('#health').dataset.stale,
      signers: [...v.querySelectorAll('[data-signer]')].map((r) => r.dataset.signer) };
  });
  assert.equal((await rpc('eth_getBlockByNumber', [hex(chain.number), false])).hash, chain.hash, 'the head shown is a canonical block');
  assert.ok(chain.number <= Number(await rpc('eth_blockNumber')));
  assert.equal(chain.stale, 'false', 'a chain sealing every few seconds is healthy');
  assert.deepEqual(chain.signers, [SIGNER]);
  await shot('chain');

  // Buy: failures first, then 100 Wh from the producer as the consumer.
  await go('#/buy');
  await page.selectOption('#buyer', CONSUMER);
  await page.waitForFunction((p) => [...document.querySelectorAll('#seller option')].some((o) => o.value === p), PRODUCER, { timeout: TIMEOUT });
  await page.selectOption('#seller', PRODUCER);
  const message = () => page.evaluate(() => ({ ...document.getElementById('buy-message').dataset, text: document.getElementById('buy-message').textContent }));
  await page.fill('#amount', '1000000000000');
  await page.click('[data-testid="pay"]');
  await page.waitForFunction(() => document.getElementById('buy-message').dataset.state === 'error');
  assert.match((await message()).text, /Insufficient surplus/);
  await page.fill('#amount', '1.5');
  await page.click('[data-testid="pay"]');
  await page.waitForFunction(() => /whole number/.test(document.getElementById('buy-message').textContent));
  await page.fill('#amount', '100');
  const rate = await view('getRate', [], Number(await rpc('eth_blockNumber')));
  assert.equal(BigInt(await page.getAttribute('[data-testid="price"]', 'data-value')), 100n * rate, 'price = amount × rate');
  const rich = await untilSurplus(PRODUCER, 150n);
  const before = { producer: await checkHomeLater(PRODUCER), consumer: await checkHomeLater(CONSUMER) };
  await shownFrom(rich);
  await page.click('[data-testid="pay"]');
  await page.waitForFunction(() => ['ok', 'error'].includes(document.getElementById('buy-message').dataset.state), null, { timeout: TIMEOUT });
  const done = await message();
  assert.equal(done.state, 'ok', done.text);
  const receipt = await rpc('eth_getTransactionReceipt', [done.tx]);
  assert.equal(receipt.status, '0x1');
  const minedIn = Number(receipt.blockNumber);
  assert.match(done.text, new RegExp(`block ${minedIn}`));
  const [trade] = (await logs('Buy', minedIn, minedIn)).filter((t) => t.tx === done.tx);
  assert.equal(trade.buyer.toLowerCase(), CONSUMER);
  assert.equal(trade.seller.toLowerCase(), PRODUCER);
  assert.equal(trade.energy, 100n);
  await shot('buy');

  // The trades table and both households show it, without a reload.
  await go('#/community');
  await page.waitForSelector(`[data-testid="trades"] tr[data-tx="${done.tx}"]`, { timeout: TIMEOUT });
  const row = await page.evaluate((tx) => ({ ...document.querySelector(`tr[data-tx="${tx}"]`).dataset }), done.tx);
  assert.deepEqual([row.buyer, row.seller, row.energy, row.price, row.block], [CONSUMER, PRODUCER, '100', String(100n * rate), String(minedIn)]);
  await checkCommunity();
  const settled = await page.$$eval('[data-testid="trades"] tr[data-kind="settled"]', (rows) => rows.length);
  assert.ok(settled > 0, 'automatic settlements are listed beside the purchase');
  await shot('community-after-purchase');
  await go('#/home');
  await shownFrom(minedIn);
  const consumer = await checkHome(CONSUMER);
  assert.ok(consumer['bought-wh'] >= before.consumer['bought-wh'] + 100n, 'the consumer bought 100 Wh more (and what settlement brought)');
  const producer = await checkHome(PRODUCER);
  assert.ok(producer['sold-wh'] >= before.producer['sold-wh'] + 100n, 'the producer sold 100 Wh more (and what settlement sold)');
  await shot('home-after-purchase');

  // French, and a phone.
  await page.click('#lang');
  await page.waitForFunction(() => document.querySelector('nav a[data-route="community"]').textContent === 'Communauté');
  assert.match(await page.textContent('#view'), /Produit aujourd’hui/);
  await checkHome(PRODUCER);
  await shot('home-fr');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (${overflow} px too wide)`);
  await shot('home-phone-fr');
  await page.click('#lang');

  // Without a WebSocket (a proxy that drops upgrades), the page polls and still follows the chain.
  const polling = await context.newPage();
  await polling.routeWebSocket(/.*/, (ws) => ws.close());
  await polling.goto(url);
  await polling.waitForFunction(() => document.body.dataset.live === 'poll' && document.getElementById('view').dataset.block, null, { timeout: TIMEOUT });
  const firstSeen = Number(await polling.getAttribute('#view', 'data-block'));
  await polling.waitForFunction((b) => Number(document.getElementById('view').dataset.block) > b, firstSeen, { timeout: TIMEOUT });
  report.pollingFollowed = { from: firstSeen, to: Number(await polling.getAttribute('#view', 'data-block')) };
  await polling.close();

  // A browser whose clock is a day past the head sees a head a day old: the banner turns red.
  // (The dev chain lives its households' accelerated day, a block every few hundred simulated
  // seconds: the head's time, not the wall clock, is what the page's clock is set from.)
  const later = await context.newPage();
  const headTime = Number((await rpc('eth_getBlockByNumber', ['latest', false])).timestamp);
  await later.clock.setFixedTime(headTime * 1000 + 86_400_000);
  await later.goto(`${url}#/chain`);
  await later.waitForFunction(() => document.getElementById('health')?.dataset.stale === 'true', null, { timeout: TIMEOUT });
  assert.match(await later.textContent('#health'), /Chain is stale: no new block for (2[0-4]) h/);
  await later.screenshot({ path: join(out, 'chain-stale.png'), fullPage: true });
  await later.close();

  // With an injected EIP-1193 wallet the page pays through it: a stand-in for MetaMask whose
  // account we choose and whose user presses "Reject" (the node's own signing is tested above).
  const walleted = await context.newPage();
  walleted.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await walleted.addInitScript(() => {
    window.walletAccount = '0x1111111111111111111111111111111111111111';
    window.ethereum = {
      async request({ method }) {
        if (method === 'eth_requestAccounts') return [window.walletAccount];
        if (method === 'eth_chainId') return '0x7a69';
        if (method === 'eth_sendTransaction') throw Object.assign(new Error('User rejected the request.'), { code: 4001 });
        throw new Error(`unsupported ${method}`);
      },
    };
  });
  await walleted.goto(`${url}#/buy`);
  await walleted.waitForFunction((p) => [...document.querySelectorAll('#seller option')].some((o) => o.value === p), PRODUCER, { timeout: TIMEOUT });
  assert.match(await walleted.textContent('#view'), /with your wallet/);
  await walleted.selectOption('#seller', PRODUCER);
  await walleted.fill('#amount', '10');
  const walletSays = async () => {
    await walleted.evaluate(() => delete document.getElementById('buy-message').dataset.state);
    await walleted.click('[data-testid="pay"]');
    await walleted.waitForFunction(() => ['ok', 'error'].includes(document.getElementById('buy-message').dataset.state), null, { timeout: TIMEOUT });
    return walleted.textContent('#buy-message');
  };
  assert.match(await walletSays(), /Insufficient funds: .* has 0 ETH, the purchase needs 0\.00015 ETH/);
  await walleted.evaluate(() => (window.walletAccount = '0x9965507d1a55bcc2695c58ba16fb37d819b0a4dc'));
  assert.match(await walletSays(), /Rejected in the wallet/);
  await walleted.screenshot({ path: join(out, 'buy-wallet-rejected.png'), fullPage: true });
  await walleted.close();

  assert.deepEqual(external, [], 'no request leaves for anywhere but the node');
  assert.deepEqual(problems, [], 'no console error');
  report.purchase = { tx: done.tx, block: minedIn };
  console.log(JSON.stringify(report));

  /** Home's figures for a household before the purchase (checked, then the view is left as it was). */
  async function checkHomeLater(household) {
    await go('#/home');
    const shown = await checkHome(household);
    await go('#/buy');
    await page.selectOption('#buyer', CONSUMER);
    await page.selectOption('#seller', PRODUCER);
    await page.fill('#amount', '100');
    return shown;
  }
} catch (error) {
  await shot('failure').catch(() => {});
  console.error(`problems: ${JSON.stringify(problems)}; external: ${JSON.stringify(external)}`);
  throw error;
} finally {
  await close();
}
