// The dashboard on a month-old chain (node/tests/it/history.rs), in Chromium set to the node's
// time zone, checked against JSON-RPC read on its own with ethers: Home and Community open with no
// console error although their 24-hour window starts thousands of blocks back (the node keeps the
// state of its last 128 blocks only), purchases are priced at the rate in force when they happened
// (the rate changed inside the window), the History view's week and month per day equal the
// readings and trades in the logs, and the CSV the page saves equals, line for line, what the
// logs say — and what `daisee records` writes.
//
// Usage: node history.mjs <http://127.0.0.1:port/> <output folder> <path to the daisee binary>

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { DAISEE, daisee, hex, openBrowser, router, rpcClient } from './common.mjs';

const [url, out, daiseeBin] = process.argv.slice(2);
if (!url || !out || !daiseeBin) throw new Error('usage: node history.mjs <url> <output folder> <daisee binary>');
mkdirSync(out, { recursive: true });
const ZONE = 'Europe/Paris';
const PRODUCER = '0x14dc79964da2c08b23698b3d3cc7ca32193d9955'; // dev account 7
const CONSUMER = '0x23618e81e3f5cdf7f54c3d65f7fbc0abf5b21e8f'; // dev account 8
const TIMEOUT = 120_000;

// ------------------------------------------------------------------ JSON-RPC, independently

const { rpc, view } = rpcClient(url);
/** Every log of the contract up to `to`, decoded, in chain order (250 blocks per request: an
 * hourly block of the sparse month holds 12 readings, each a Reading and an OutsideMarket log). */
async function allLogs(to) {
  const found = [];
  for (let from = 0; from <= to; from += 250) {
    const part = await rpc('eth_getLogs', [{ address: DAISEE, fromBlock: hex(from), toBlock: hex(Math.min(to, from + 249)) }]);
    found.push(...part);
  }
  return found.map((l) => {
    const parsed = daisee.parseLog(l);
    return parsed && { name: parsed.name, ...parsed.args.toObject(), block: Number(l.blockNumber), index: Number(l.logIndex) };
  }).filter(Boolean);
}
const dateIn = (s) => new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(s * 1000));
function shift(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// ------------------------------------------------------------------ what the chain says

const head = Number(await rpc('eth_blockNumber'));
const logs = await allLogs(head);
const rateNow = await view('getRate', [], head);
const changes = logs.filter((l) => l.name === 'RateChanged');
assert.ok(changes.length >= 2, 'the history changed the rate');
/** The rate in force at a log: what the first later change replaced, else the rate now. */
const rateAt = (block, index) => {
  const later = changes.find((c) => c.block > block || (c.block === block && c.index > index));
  return later ? later.previousRate : rateNow;
};
const times = new Map();
for (const b of [...new Set(logs.filter((l) => l.name === 'Buy').map((l) => l.block))]) {
  times.set(b, Number((await rpc('eth_getBlockByNumber', [hex(b), false])).timestamp));
}
const readings = logs.filter((l) => l.name === 'Reading').map((l) => ({ ...l, meter: l.meter.toLowerCase(), end: Number(l.intervalEnd) }));
const trades = logs.filter((l) => l.name === 'Buy').map((l) => ({ ...l, buyer: l.buyer.toLowerCase(), seller: l.seller.toLowerCase(),
  paid: l.energy * rateAt(l.block, l.index), time: times.get(l.block) }));

/** Per day of `from..to`: what the logs say `meter` (or the community, when null) did. */
function expectedDays(meter, from, to) {
  const days = [];
  for (let d = from; d <= to; d = shift(d, 1)) days.push(d);
  return days.map((date) => {
    const rs = readings.filter((r) => dateIn(r.end - 1) === date && (!meter || r.meter === meter));
    const ts = trades.filter((t) => dateIn(t.time) === date);
    const sold = ts.filter((t) => !meter || t.seller === meter);
    const bought = ts.filter((t) => !meter || t.buyer === meter);
    const sum = (list, k) => list.reduce((s, x) => s + x[k], 0n);
    return { date, produced: String(sum(rs, 'producedWh')), consumed: String(sum(rs, 'consumedWh')), readings: String(rs.length),
      soldWh: String(sum(sold, 'energy')), soldWei: String(sum(sold, 'paid')), boughtWh: String(sum(bought, 'energy')), boughtWei: String(sum(bought, 'paid')) };
  });
}

/** The CSV lines the logs give for `meter` over `from..to`, in the daybook's order. */
function expectedCsv(meter, from, to) {
  const inPeriod = (s) => dateIn(s) >= from && dateIn(s) <= to;
  const rows = [];
  const iso = (s) => new Date(s * 1000).toISOString().replace('.000Z', 'Z');
  for (const r of readings.filter((r) => r.meter === meter && inPeriod(r.end - 1))) {
    rows.push({ key: [r.end - 1, r.block, r.index, 0], line: `reading,${iso(r.end)},${r.end},${r.block},${r.index},${r.producedWh},${r.consumedWh},,,,` });
  }
  for (const t of trades.filter((t) => inPeriod(t.time))) {
    if (t.seller === meter) rows.push({ key: [t.time, t.block, t.index, 1], line: `sold,${iso(t.time)},${t.time},${t.block},${t.index},,,${t.energy},${t.paid},${t.buyer},purchase` });
    if (t.buyer === meter) rows.push({ key: [t.time, t.block, t.index, 2], line: `bought,${iso(t.time)},${t.time},${t.block},${t.index},,,${t.energy},${t.paid},${t.seller},purchase` });
  }
  rows.sort((a, b) => { for (let i = 0; i < 4; i++) if (a.key[i] !== b.key[i]) return a.key[i] - b.key[i]; return 0; });
  return rows.map((r) => r.line);
}

// ------------------------------------------------------------------ the browser

const { page, external, problems, close } = await openBrowser(url, { timezoneId: ZONE, acceptDownloads: true,
  protocols: ['data:', 'blob:'], consoleTypes: ['error', 'warning'] });
const shot = (name) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
const go = router(page, TIMEOUT);

const report = { head, logs: logs.length, rateChanges: changes.length };
try {
  const started = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById('view').dataset.block, null, { timeout: TIMEOUT });
  report.firstLoadMs = Date.now() - started;
  assert.notEqual(await page.getAttribute('#live', 'class'), 'live down', 'the node is reachable');

  // Home: the producer's day and 24 hours, the window starting thousands of blocks back.
  await page.selectOption('#household', PRODUCER);
  await page.waitForFunction((h) => document.getElementById('view').dataset.household === h, PRODUCER);
  await page.waitForFunction(() => Number(document.querySelector('#home-chart')?.dataset.points) >= 3, null, { timeout: TIMEOUT });
  const home = await page.evaluate(() => {
    const v = document.getElementById('view');
    const value = (id) => v.querySelector(`[data-testid="${id}"]`).dataset.value;
    return { block: Number(v.dataset.block), from: Number(v.dataset.fromBlock), dayStart: Number(v.dataset.dayStart),
      ...Object.fromEntries(['produced-today', 'sold-wh', 'sold-wei', 'total-produced'].map((i) => [i, value(i)])) };
  });
  report.windowStartsBlocksBack = home.block - home.from;
  assert.ok(home.block - home.from > 1000, `the 24-hour window starts ${home.block - home.from} blocks back`);
  assert.equal(home.block, head);
  assert.equal(BigInt(home['total-produced']), await view('productionOf', [PRODUCER], home.block));
  const latest = readings.reduce((m, r) => Math.max(m, r.end), 0);
  assert.equal(dateIn(home.dayStart), dateIn(latest - 1), 'today is the Paris day of the newest interval');
  assert.notEqual(dateIn(home.dayStart - 1), dateIn(home.dayStart), 'and starts at a Paris midnight');
  const today = readings.filter((r) => r.meter === PRODUCER && r.end > home.dayStart && r.block <= home.block);
  assert.equal(BigInt(home['produced-today']), today.reduce((s, r) => s + r.producedWh, 0n), 'produced today');
  const windowTrades = trades.filter((t) => t.block >= home.from && t.block <= home.block && t.seller === PRODUCER);
  assert.ok(windowTrades.some((t) => rateAt(t.block, t.index) !== rateNow), 'the window holds purchases at an earlier rate');
  assert.equal(BigInt(home['sold-wh']), windowTrades.reduce((s, t) => s + t.energy, 0n), 'sold in 24 h');
  assert.equal(BigInt(home['sold-wei']), windowTrades.reduce((s, t) => s + t.paid, 0n), 'received in 24 h, at the rate of each purchase');
  await shot('home');

  // Community: every purchase in the table at the rate in force in its block.
  await go('#/community');
  await page.waitForSelector('[data-testid="trades"] tbody tr[data-tx]', { timeout: TIMEOUT });
  const rows = await page.$$eval('[data-testid="trades"] tbody tr[data-tx]', (trs) => trs.map((r) => ({ ...r.dataset })));
  assert.ok(rows.length > 0);
  for (const row of rows) {
    const t = trades.find((x) => x.block === Number(row.block) && x.buyer === row.buyer && String(x.energy) === row.energy);
    assert.ok(t, `trade in block ${row.block} is in the logs`);
    assert.equal(row.price, String(t.paid), `price of the purchase in block ${row.block}`);
  }
  await shot('community');

  // History: the producer's week and month, the community's month, against the logs.
  const to = dateIn(Number((await rpc('eth_getBlockByNumber', [hex(head), false])).timestamp));
  const readDays = () => page.$$eval('[data-testid="days"] tbody tr', (trs) => trs.map((r) => ({ date: r.dataset.date,
    produced: r.dataset.produced, consumed: r.dataset.consumed, readings: r.dataset.readings, soldWh: r.dataset.soldWh,
    soldWei: r.dataset.soldWei, boughtWh: r.dataset.boughtWh, boughtWei: r.dataset.boughtWei })));
  const shown = (who, from) => page.waitForFunction(([w, f, t]) => {
    const v = document.getElementById('view');
    return v.dataset.historyWho === w && v.dataset.historyFrom === f && v.dataset.historyTo === t;
  }, [who, from, to], { timeout: TIMEOUT });
  await go('#/history');
  await page.selectOption('#history-who', PRODUCER);
  const weekFrom = shift(to, -6);
  await shown(PRODUCER, weekFrom);
  assert.equal(await page.getAttribute('#view', 'data-history-zone'), ZONE);
  const week = await readDays();
  assert.deepEqual(week, expectedDays(PRODUCER, weekFrom, to), 'the producer’s week');
  // (today may have just begun, before sunrise: six full days of sun at least)
  assert.ok(week.filter((d) => BigInt(d.produced) > 0n).length >= 6, 'the producer produced on the week’s days');
  await shot('history-week');
  await page.selectOption('#history-span', '30');
  const monthFrom = shift(to, -29);
  await shown(PRODUCER, monthFrom);
  assert.deepEqual(await readDays(), expectedDays(PRODUCER, monthFrom, to), 'the producer’s month');
  await shot('history-month');

  // The week's export, as the page saves it, equals the logs line for line, and `daisee records`.
  await page.selectOption('#history-span', '7');
  await shown(PRODUCER, weekFrom);
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), page.click('[data-testid="export-csv"]')]);
  const csv = readFileSync(await download.path(), 'utf8');
  const [header, ...lines] = csv.trimEnd().split('\n');
  assert.equal(header, 'type,time_utc,unix_time_s,block,log_index,produced_Wh,consumed_Wh,energy_Wh,amount_wei,counterparty,via');
  assert.deepEqual(lines, expectedCsv(PRODUCER, weekFrom, to), 'the CSV export');
  report.exportedLines = lines.length;
  assert.match(download.suggestedFilename(), new RegExp(`^daisee-${PRODUCER.slice(2, 10)}-${weekFrom}-${to}\\.csv$`));
  const cli = execFileSync(daiseeBin, ['records', url, '--meter', PRODUCER, '--from', weekFrom, '--to', to], { encoding: 'utf8' });
  assert.equal(cli, csv, '`daisee records` writes the same file');
  const [jsonDownload] = await Promise.all([page.waitForEvent('download', { timeout: TIMEOUT }), page.click('[data-testid="export-json"]')]);
  const doc = JSON.parse(readFileSync(await jsonDownload.path(), 'utf8'));
  assert.equal(doc.timeZone, ZONE);
  assert.equal(doc.units.amount_wei, 'wei');
  assert.equal(doc.records.length, lines.length);
  const cliJson = JSON.parse(execFileSync(daiseeBin, ['records', url, '--meter', PRODUCER, '--from', weekFrom, '--to', to, '--format', 'json'], { encoding: 'utf8' }));
  assert.deepEqual(cliJson.records, doc.records, 'the JSON exports agree');

  await page.selectOption('#history-who', 'community');
  await page.selectOption('#history-span', '30');
  await shown('community', monthFrom);
  assert.deepEqual(await readDays(), expectedDays(null, monthFrom, to), 'the community’s month');
  await shot('history-community');

  // The consumer's month: bought every day, paid at the rate of the day.
  await page.selectOption('#history-who', CONSUMER);
  await shown(CONSUMER, monthFrom);
  assert.deepEqual(await readDays(), expectedDays(CONSUMER, monthFrom, to), 'the consumer’s month');

  // Sensor notices, from statuses as `daisee_meters` gives them (the module the page runs).
  const notices = await page.evaluate(async () => {
    const { sensorNotices } = await import('/dashboard/views/home.js');
    const sensor = (over) => ({ direction: 'production', lastSampleAgeMs: 1000, batteryMv: 3100, stats: { accepted: 100, corrupt: 0 }, ...over });
    const meter = (over) => ({ interval: 300, outbox: 0, gaps: 0, sensors: [sensor({})], ...over });
    const kinds = (m) => sensorNotices(m).map((n) => n.kind);
    return {
      healthy: kinds(meter({})),
      none: kinds(undefined),
      silent: sensorNotices(meter({ sensors: [sensor({ lastSampleAgeMs: 1_000_000 })] })).map((n) => n.text),
      neverHeard: kinds(meter({ gaps: 3, sensors: [sensor({ lastSampleAgeMs: null })] })),
      starting: kinds(meter({ gaps: 0, sensors: [sensor({ lastSampleAgeMs: null })] })),
      battery: kinds(meter({ sensors: [sensor({ batteryMv: 2600 })] })),
      corrupt: kinds(meter({ sensors: [sensor({ stats: { accepted: 100, corrupt: 40 } })] })),
      fewCorrupt: kinds(meter({ sensors: [sensor({ stats: { accepted: 1000, corrupt: 40 } })] })),
      outbox: sensorNotices(meter({ outbox: 5, lastError: 'nonce too low' })).map((n) => n.text),
      unreachable: sensorNotices(meter({ sensors: [sensor({ source: 'modbus', batteryMv: null, stats: { accepted: 2, timeouts: 5, refused: 1 } })] })).map((n) => n.text),
      meterCorrupt: sensorNotices(meter({ sensors: [sensor({ source: 'tic', batteryMv: null, stats: { accepted: 10, corrupt: 30 } })] })).map((n) => n.text),
      meterSilent: sensorNotices(meter({ sensors: [sensor({ source: 'p1', batteryMv: null, lastSampleAgeMs: 1_000_000 })] })).map((n) => n.text),
      fewFailures: kinds(meter({ sensors: [sensor({ source: 'shelly', stats: { accepted: 100, timeouts: 4 } })] })),
      rebased: kinds(meter({ rebases: 2 })),
      unsettleable: sensorNotices(meter({ market: { unsettleable: 2, lastUnsettleable: { intervalEnd: 1_800_000_000, reason: 'Panic(0x11)' } } })).map((n) => n.text),
      settledFine: kinds(meter({ market: { unsettleable: 0, lastUnsettleable: null } })),
    };
  });
  assert.deepEqual([notices.healthy, notices.none, notices.starting, notices.fewCorrupt], [[], [], [], []], 'nothing to say');
  assert.match(notices.silent[0], /production sensor has been silent for 17 min: check its battery/);
  assert.deepEqual([notices.neverHeard, notices.battery, notices.corrupt], [['silent'], ['battery'], ['corrupt']]);
  assert.match(notices.outbox[0], /5 readings are waiting to be sent \(nonce too low\)/);
  assert.match(notices.unreachable[0], /production meter \(modbus\) failed to answer 6 times/);
  assert.match(notices.meterCorrupt[0], /30 frames or answers from the production meter \(tic\) could not be read/);
  assert.match(notices.meterSilent[0], /production meter \(p1\) has been silent for 17 min: check its cable/);
  assert.deepEqual([notices.fewFailures, notices.rebased, notices.settledFine], [[], ['rebased'], []]);
  assert.match(notices.unsettleable[0], /could not settle 2 interval\(s\), the last ending 2027-01-15 08:00 UTC \(Panic\(0x11\)\)/);

  report.weight = await page.evaluate(() => {
    const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
      .filter((e) => !['fetch', 'xmlhttprequest'].includes(e.initiatorType));
    return { files: entries.length, transferred: entries.reduce((s, e) => s + e.transferSize, 0) };
  });
  assert.deepEqual(external, [], 'no request leaves for anywhere but the node');
  assert.deepEqual(problems, [], 'no console error or warning');
  console.log(JSON.stringify(report));
} catch (error) {
  await shot('failure').catch(() => {});
  console.error(`problems: ${JSON.stringify(problems)}; external: ${JSON.stringify(external)}; report: ${JSON.stringify(report)}`);
  throw error;
} finally {
  await close();
}
