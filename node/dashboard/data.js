// The page's model of the community (readings, trades bought by hand or settled automatically),
// refreshed at each new head: every figure comes from one
// block (the snapshot's `block`), so what is shown is consistent and can be checked against
// JSON-RPC at that block. Logs (readings, trades, rate changes) are fetched incrementally over a
// window of ~26 h of blocks, in ranges the node serves (at most 10,000 blocks per eth_getLogs).
// Nothing here reads state older than the head: the node keeps the state of its last 128 blocks
// only. Longer periods (weeks, months, exports) come from the node's daybook (history.js).

import { call, batch, batchResults } from './rpc.js';
import * as abi from './abi.js';

const LOG_RANGE = 5000;
const WINDOW_S = 26 * 3600;
const DAY_S = 86400;
const REORG_DEPTH = 64;
/** Calls per JSON-RPC batch (the node takes at most 1,000). */
const BATCH = 500;
const hex = (n) => '0x' + n.toString(16);

/** batchResults in batches the node accepts, however many households there are. */
async function chunked(calls) {
  const out = [];
  for (let i = 0; i < calls.length; i += BATCH) out.push(...(await batchResults(calls.slice(i, i + BATCH))));
  return out;
}

export class Community {
  constructor() {
    this.readings = [];
    this.trades = [];
    this.rateChanges = [];
    this.fromBlock = null;
    this.scannedTo = null;
    this.scannedHash = null;
    this.rateBefore = null;
    this.timestamps = new Map();
    this.snapshot = null;
  }

  /**
   * Brings the model to block `head`. Everything new is gathered aside and put in place at once,
   * so a render in between never mixes one block's state with another block's logs.
   */
  async refresh(head) {
    const header = await call('eth_getBlockByNumber', [hex(head), false]);
    if (!header) return;
    if (this.fromBlock === null) await this.start(header);
    const next = { readings: [...this.readings], trades: [...this.trades], rateChanges: [...this.rateChanges], scannedTo: this.scannedTo };
    await this.checkReorg(next);
    await this.scanLogs(next, head);
    const snapshot = await this.readState(header);
    await this.timestampsOf(next.trades.slice(-50).map((t) => t.block));
    // The rate before the window, without reading state older than the node keeps: the first
    // change in the window says what it replaced; with no change, the rate now was the rate then.
    const rateBefore = next.rateChanges.length > 0 ? next.rateChanges[0].previous : snapshot.rate;
    Object.assign(this, next, { snapshot, rateBefore, scannedHash: header.hash });
    this.prune();
  }

  /** The first block of the window: the first whose time is within WINDOW_S of the head. */
  async start(header) {
    const since = Number(header.timestamp) - WINDOW_S;
    let lo = 0;
    let hi = Number(header.number);
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const block = await call('eth_getBlockByNumber', [hex(mid), false]);
      if (Number(block.timestamp) < since) lo = mid + 1;
      else hi = mid;
    }
    this.fromBlock = lo;
    this.scannedTo = lo - 1;
  }

  /** Forgets the last blocks scanned if the chain reorganised under them. */
  async checkReorg(next) {
    if (next.scannedTo < this.fromBlock || !this.scannedHash) return;
    const block = await call('eth_getBlockByNumber', [hex(next.scannedTo), false]);
    if (block && block.hash === this.scannedHash) return;
    const keep = Math.max(this.fromBlock - 1, next.scannedTo - REORG_DEPTH);
    const recent = (x) => x.block <= keep;
    next.readings = next.readings.filter(recent);
    next.trades = next.trades.filter(recent);
    next.rateChanges = next.rateChanges.filter(recent);
    next.scannedTo = keep;
  }

  async scanLogs(next, head) {
    const topics = [[abi.TOPICS.Reading, abi.TOPICS.Buy, abi.TOPICS.Matched, abi.TOPICS.RateChanged]];
    for (let from = next.scannedTo + 1; from <= head; from += LOG_RANGE) {
      const to = Math.min(head, from + LOG_RANGE - 1);
      const logs = await call('eth_getLogs', [{ address: abi.DAISEE, fromBlock: hex(from), toBlock: hex(to), topics }]);
      for (const log of logs) {
        if (log.removed) continue;
        if (log.topics[0] === abi.TOPICS.Reading) next.readings.push(abi.decodeReading(log));
        else if (log.topics[0] === abi.TOPICS.Buy) next.trades.push(abi.decodeBuy(log));
        else if (log.topics[0] === abi.TOPICS.Matched) next.trades.push(abi.decodeMatched(log));
        else next.rateChanges.push(abi.decodeRateChanged(log));
      }
      next.scannedTo = to;
    }
  }

  /** Contract state, the node's own meters and accounts, all at the head `header`. */
  async readState(header) {
    const tag = header.number;
    const ethCall = (data) => ['eth_call', [{ to: abi.DAISEE, data }, tag]];
    const [metersHex, rateHex] = await batchResults([ethCall(abi.encodeCall('getMeters')), ethCall(abi.encodeCall('getRate'))]);
    const meters = abi.decodeAddresses(metersHex);
    const perMeter = await chunked(meters.flatMap((m) => [
      ethCall(abi.encodeCall('productionOf', m)),
      ethCall(abi.encodeCall('consumptionOf', m)),
      ethCall(abi.encodeCall('netBalanceOf', m)),
      ethCall(abi.encodeCall('lastIntervalOf', m)),
      ethCall(abi.encodeCall('escrowOf', m)),
    ]));
    const [own, accounts] = await batch([['daisee_meters', []], ['eth_accounts', []]]);
    const households = meters.map((address, i) => {
      const [produced, consumed, net, lastInterval, escrow] = perMeter.slice(i * 5, i * 5 + 5).map((h) => abi.words(h)[0]);
      return {
        address,
        produced: abi.toUint(produced),
        consumed: abi.toUint(consumed),
        net: abi.toInt(net),
        lastInterval: Number(abi.toUint(lastInterval)),
        escrow: abi.toUint(escrow),
      };
    });
    return {
      block: Number(header.number),
      hash: header.hash,
      timestamp: Number(header.timestamp),
      rate: abi.toUint(abi.words(rateHex)[0]),
      households,
      own: own.result || [],
      accounts: (accounts.result || []).map((a) => a.toLowerCase()),
    };
  }

  async timestampsOf(blocks) {
    const missing = [...new Set(blocks)].filter((b) => !this.timestamps.has(b));
    if (missing.length === 0) return;
    const headers = await chunked(missing.map((b) => ['eth_getBlockByNumber', [hex(b), false]]));
    headers.forEach((h, i) => h && this.timestamps.set(missing[i], Number(h.timestamp)));
  }

  prune() {
    const latest = this.latestIntervalEnd();
    this.readings = this.readings.filter((r) => r.intervalEnd > latest - 2 * DAY_S);
    if (this.trades.length > 5000) this.trades = this.trades.slice(-5000);
  }

  /** The community's clock: the end of the newest interval any meter reported. */
  latestIntervalEnd() {
    return this.readings.reduce((m, r) => Math.max(m, r.intervalEnd), 0);
  }

  /** Start (unix s, local midnight) of the day the newest interval belongs to. */
  dayStart() {
    const latest = this.latestIntervalEnd();
    if (!latest) return 0;
    const d = new Date((latest - 1) * 1000);
    d.setHours(0, 0, 0, 0);
    return Math.floor(d.getTime() / 1000);
  }

  /** The rate in force for a log at (block, index): the last change before it, else the rate before the window. */
  rateAt(block, index) {
    let rate = this.rateBefore ?? 0n;
    for (const c of this.rateChanges) {
      if (c.block < block || (c.block === block && c.index < index)) rate = c.next;
    }
    return rate;
  }

  /**
   * A trade with its price in wei: what settlement paid (`Matched`), or the energy at the rate in
   * force in its block (`Buy`, which pays the rate).
   */
  priced(trade) {
    const price = trade.paid ?? trade.energy * this.rateAt(trade.block, trade.index);
    return { ...trade, price, time: this.timestamps.get(trade.block) };
  }

  /** What one household did: today's and the last 24 h's readings, sales and purchases. */
  household(address) {
    const a = address.toLowerCase();
    const state = this.snapshot.households.find((h) => h.address === a);
    const latest = this.latestIntervalEnd();
    const dayStart = this.dayStart();
    const mine = this.readings.filter((r) => r.meter === a).sort((x, y) => x.intervalEnd - y.intervalEnd);
    const today = mine.filter((r) => r.intervalEnd > dayStart);
    const sum = (list, key) => list.reduce((s, x) => s + x[key], 0n);
    const sales = this.trades.filter((t) => t.seller === a).map((t) => this.priced(t));
    const purchases = this.trades.filter((t) => t.buyer === a).map((t) => this.priced(t));
    return {
      address: a,
      state,
      own: this.snapshot.own.find((m) => m.address.toLowerCase() === a),
      dayStart,
      producedToday: sum(today, 'produced'),
      consumedToday: sum(today, 'consumed'),
      series: mine.filter((r) => r.intervalEnd > latest - DAY_S),
      soldWh: sum(sales, 'energy'),
      soldWei: sum(sales, 'price'),
      boughtWh: sum(purchases, 'energy'),
      boughtWei: sum(purchases, 'price'),
    };
  }

  /** The community's production per household and total consumption, per interval, last 24 h. */
  communitySeries() {
    const latest = this.latestIntervalEnd();
    const recent = this.readings.filter((r) => r.intervalEnd > latest - DAY_S);
    const ends = [...new Set(recent.map((r) => r.intervalEnd))].sort((x, y) => x - y);
    const index = new Map(ends.map((e, i) => [e, i]));
    const meters = this.snapshot.households.map((h) => h.address);
    const produced = meters.map(() => ends.map(() => 0));
    const consumed = ends.map(() => 0);
    for (const r of recent) {
      const m = meters.indexOf(r.meter);
      const i = index.get(r.intervalEnd);
      if (m >= 0) produced[m][i] += Number(r.produced);
      consumed[i] += Number(r.consumed);
    }
    const producers = meters.map((_, m) => m).filter((m) => produced[m].some((v) => v > 0));
    return { ends, meters: producers.map((m) => meters[m]), produced: producers.map((m) => produced[m]), consumed };
  }
}
