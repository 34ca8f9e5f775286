// The page's model of the community, refreshed at each new head, sized for a town: the figures
// of every household come from the node's summary (`daisee_community`: counts, totals, a page of
// households, the ones the page needs by address, the community's production and consumption per
// interval over 24 h), never from one call per household. Logs are fetched incrementally over a
// window of ~26 h of blocks, in ranges the node serves, and only what the page shows: the
// readings and trades of the households it follows (this board's meters and the one selected),
// purchases and rate changes of everyone, and everyone's settled trades over the last blocks (the
// community's latest trades). Nothing here reads state older than the head (the node keeps 128
// blocks of state); longer periods come from the node's daybook (history.js).

import { call, batch, batchResults } from './rpc.js';
import * as abi from './abi.js';

const LOG_RANGE = 5000;
const WINDOW_S = 26 * 3600;
const DAY_S = 86400;
const REORG_DEPTH = 64;
/** Blocks whose settled trades of everyone are listed (a town settles ~500 matches a block). */
const RECENT_BLOCKS = 600;
/** Trades kept in memory at most. */
const MAX_TRADES = 5000;
/** Households of the Community view's page, and sellers offered by Buy. */
export const PAGE = 50;
const hex = (n) => '0x' + n.toString(16);
const topic = (address) => '0x' + address.slice(2).toLowerCase().padStart(64, '0');

/** A household row of `daisee_community`, with its figures as BigInt. */
function household(row) {
  return {
    index: row.index,
    address: row.address.toLowerCase(),
    produced: BigInt(row.producedWh),
    consumed: BigInt(row.consumedWh),
    net: BigInt(row.netWh),
    lastInterval: row.lastInterval,
    escrow: BigInt(row.escrowWei),
  };
}

export class Community {
  constructor() {
    this.readings = [];
    this.trades = [];
    this.rateChanges = [];
    this.fromBlock = null;
    /** How far each log scan has read: `rare`, `recent`, and per followed meter. */
    this.cursors = new Map();
    this.scannedHash = null;
    this.scannedTo = null;
    this.rateBefore = null;
    this.timestamps = new Map();
    this.snapshot = null;
    /** Households followed besides this board's meters (the one selected, a seller chosen). */
    this.followed = new Set();
    /** The Community view's page: `{ offset, search, sort }`, or null when not shown. */
    this.pageQuery = null;
    /** Whether Buy is shown (it lists the households with the most surplus). */
    this.wantSellers = false;
    this.metersStale = true;
  }

  /** Follows `address` too (its readings and trades are fetched from the next refresh). */
  follow(address) {
    if (address) this.followed.add(address.toLowerCase());
  }

  /**
   * Brings the model to block `head`. Everything new is gathered aside and put in place at once,
   * so a render in between never mixes one block's state with another block's logs.
   */
  async refresh(head) {
    if (this.fromBlock === null) {
      const header = await call('eth_getBlockByNumber', [hex(head), false]);
      if (!header) return;
      await this.start(header);
    }
    // The node's summary is of its head when it answers (the head or later): logs are read to
    // that very block.
    const snapshot = await this.readState();
    const to = snapshot.block;
    const next = {
      readings: [...this.readings],
      trades: [...this.trades],
      rateChanges: [...this.rateChanges],
      cursors: new Map(this.cursors),
    };
    await this.checkReorg(next);
    const meters = [...new Set([...snapshot.own.map((m) => m.address.toLowerCase()), ...this.followed])];
    await this.scanLogs(next, to, meters);
    if (next.metersChanged) this.metersStale = true;
    next.trades = dedupe(next.trades);
    await this.timestampsOf(next.trades.slice(-50).map((t) => t.block));
    // The rate before the window, without reading state older than the node keeps: the first
    // change in the window says what it replaced; with no change, the rate now was the rate then.
    const rateBefore = next.rateChanges.length > 0 ? next.rateChanges[0].previous : snapshot.rate;
    Object.assign(this, { readings: next.readings, trades: next.trades, rateChanges: next.rateChanges, cursors: next.cursors });
    Object.assign(this, { snapshot, rateBefore, scannedHash: snapshot.hash, scannedTo: to });
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
    this.recentFrom = Math.max(lo, Number(header.number) - RECENT_BLOCKS);
  }

  /** Forgets the last blocks scanned if the chain reorganised under them. */
  async checkReorg(next) {
    if (this.scannedTo === null || this.scannedTo < this.fromBlock || !this.scannedHash) return;
    const block = await call('eth_getBlockByNumber', [hex(this.scannedTo), false]);
    if (block && block.hash === this.scannedHash) return;
    const keep = Math.max(this.fromBlock - 1, this.scannedTo - REORG_DEPTH);
    const recent = (x) => x.block <= keep;
    next.readings = next.readings.filter(recent);
    next.trades = next.trades.filter(recent);
    next.rateChanges = next.rateChanges.filter(recent);
    for (const [key, to] of next.cursors) next.cursors.set(key, Math.min(to, keep));
  }

  /**
   * Reads the logs the page needs up to `head`, each scan from where it stopped: purchases, rate
   * changes and meter registrations of everyone (`rare`); everyone's settled trades over the last
   * blocks (`recent`); and the readings, sales and purchases of each followed meter.
   */
  async scanLogs(next, head, meters) {
    const T = abi.TOPICS;
    const scans = [
      { key: 'rare', from: this.fromBlock, topics: [[T.Buy, T.RateChanged, T.MeterAdded, T.MeterRemoved]] },
      { key: 'recent', from: this.recentFrom, topics: [[T.Matched]] },
      ...meters.flatMap((m) => [
        { key: `reading:${m}`, from: this.fromBlock, topics: [[T.Reading], [topic(m)]] },
        { key: `sold:${m}`, from: this.fromBlock, topics: [[T.Matched], null, [topic(m)]] },
        { key: `bought:${m}`, from: this.fromBlock, topics: [[T.Matched], null, null, [topic(m)]] },
      ]),
    ];
    for (;;) {
      const due = [];
      for (const scan of scans) {
        const from = (next.cursors.get(scan.key) ?? scan.from - 1) + 1;
        if (from <= head) due.push({ ...scan, from: from, to: Math.min(head, from + LOG_RANGE - 1) });
      }
      if (due.length === 0) return;
      const answers = await batchResults(due.map((s) => ['eth_getLogs', [{ address: abi.DAISEE, fromBlock: hex(s.from), toBlock: hex(s.to), topics: s.topics }]]));
      due.forEach((scan, i) => {
        for (const log of answers[i]) {
          if (!log.removed) this.take(next, log);
        }
        next.cursors.set(scan.key, scan.to);
      });
    }
  }

  take(next, log) {
    const T = abi.TOPICS;
    const kind = log.topics[0];
    if (kind === T.Reading) next.readings.push(abi.decodeReading(log));
    else if (kind === T.Buy) next.trades.push(abi.decodeBuy(log));
    else if (kind === T.Matched) next.trades.push(abi.decodeMatched(log));
    else if (kind === T.RateChanged) next.rateChanges.push(abi.decodeRateChanged(log));
    else next.metersChanged = true;
  }

  /**
   * The community at the head (`daisee_community`, one answer per question, all at one block),
   * this board's meters and accounts, and the registered households' addresses (read again when
   * their number or the registrations change).
   */
  async readState() {
    const [own, accounts] = await batch([['daisee_meters', []], ['eth_accounts', []]]);
    const ownMeters = (own.result || []).map((m) => m.address.toLowerCase());
    const accountList = (accounts.result || []).map((a) => a.toLowerCase());
    const wanted = [...new Set([...ownMeters, ...accountList, ...this.followed])];
    const questions = [['daisee_community', [{ addresses: wanted, limit: 0 }]]];
    if (this.wantSellers) questions.push(['daisee_community', [{ sort: 'net', limit: PAGE }]]);
    if (this.pageQuery) questions.push(['daisee_community', [{ ...this.pageQuery, limit: PAGE }]]);
    let answers;
    for (let attempt = 0; attempt < 3; attempt++) {
      answers = await batchResults(questions);
      // A block sealed between two answers: ask again, so every figure is of one block.
      if (answers.every((a) => a.hash === answers[0].hash)) break;
    }
    const [mine, sellers, page] = [answers[0], this.wantSellers ? answers[1] : null, this.pageQuery ? answers[answers.length - 1] : null];
    const block = Number(mine.block);
    let meters = this.snapshot?.meters;
    if (!meters || this.metersStale || meters.length !== mine.households) {
      const data = abi.encodeCall('getMeters');
      meters = abi.decodeAddresses(await call('eth_call', [{ to: abi.DAISEE, data }, hex(block)]));
      this.metersStale = false;
    }
    return {
      block,
      hash: mine.hash,
      timestamp: Number(mine.timestamp),
      rate: BigInt(mine.rate),
      count: mine.households,
      totals: mine.totals,
      meters,
      households: mine.page.map(household),
      sellers: sellers ? sellers.page.map(household).filter((h) => h.net > 0n) : [],
      page: page ? { ...page, rows: page.page.map(household) } : null,
      intervals: mine.intervals || [],
      own: own.result || [],
      accounts: accountList,
    };
  }

  /** The household `address` at the snapshot's block, if the model has it yet. */
  stateOf(address) {
    const a = address.toLowerCase();
    const s = this.snapshot;
    return s.households.find((h) => h.address === a) || s.sellers.find((h) => h.address === a) || s.page?.rows.find((h) => h.address === a);
  }

  async timestampsOf(blocks) {
    const missing = [...new Set(blocks)].filter((b) => !this.timestamps.has(b));
    if (missing.length === 0) return;
    const headers = await batchResults(missing.map((b) => ['eth_getBlockByNumber', [hex(b), false]]));
    headers.forEach((h, i) => h && this.timestamps.set(missing[i], Number(h.timestamp)));
  }

  prune() {
    const latest = this.latestIntervalEnd();
    this.readings = this.readings.filter((r) => r.intervalEnd > latest - 2 * DAY_S);
    if (this.trades.length > MAX_TRADES) this.trades = this.trades.slice(-MAX_TRADES);
  }

  /** The community's clock: the end of the newest interval reported (daybook, or followed meters). */
  latestIntervalEnd() {
    const intervals = this.snapshot?.intervals || [];
    const indexed = intervals.length ? intervals[intervals.length - 1].end : 0;
    return this.readings.reduce((m, r) => Math.max(m, r.intervalEnd), indexed);
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

  /** What one followed household did: today's and the last 24 h's readings, sales and purchases; null until the model has it. */
  household(address) {
    const a = address.toLowerCase();
    const state = this.stateOf(a);
    if (!state || !this.cursors.has(`reading:${a}`)) return null;
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

  /** The community's production and consumption per interval over the last 24 h (the node's daybook). */
  communitySeries() {
    const intervals = this.snapshot.intervals;
    return {
      ends: intervals.map((i) => i.end),
      produced: intervals.map((i) => Number(i.producedWh)),
      consumed: intervals.map((i) => Number(i.consumedWh)),
    };
  }
}

/** Trades in chain order, each once (a followed household's trade is also everyone's). */
function dedupe(trades) {
  const byLog = new Map(trades.map((t) => [`${t.block}:${t.index}`, t]));
  return [...byLog.values()].sort((x, y) => x.block - y.block || x.index - y.index);
}
