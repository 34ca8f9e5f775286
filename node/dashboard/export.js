// A household's records for a period, from the node's daybook (`daisee_records`, page by page),
// as CSV or JSON with units in the header — saved by the browser, nothing leaves the LAN.

import { call } from './rpc.js';

/** Every record of `meter` from `from` to `to` (YYYY-MM-DD, the node's days). */
export async function records(meter, from, to) {
  const all = [];
  let after = null;
  let zone = null;
  do {
    const page = await call('daisee_records', [{ meter, from, to, ...(after ? { after } : {}) }]);
    zone = page.timeZone;
    all.push(...page.records);
    after = page.next;
  } while (after);
  return { records: all, timeZone: zone };
}

export const CSV_HEADER = 'type,time_utc,unix_time_s,block,log_index,produced_Wh,consumed_Wh,energy_Wh,amount_wei,counterparty,via';

const dec = (hex) => (hex == null ? '' : BigInt(hex).toString());

/** One record as decimal fields (the time of a reading is the end of its interval). */
export function row(r) {
  return {
    type: r.type,
    time_utc: new Date(r.time * 1000).toISOString().replace('.000Z', 'Z'),
    unix_time_s: r.time,
    block: Number(r.block),
    log_index: Number(r.logIndex),
    produced_Wh: dec(r.producedWh),
    consumed_Wh: dec(r.consumedWh),
    energy_Wh: dec(r.energyWh),
    amount_wei: dec(r.wei),
    counterparty: (r.counterparty ?? '').toLowerCase(),
    via: r.via ?? '',
  };
}

export function csv(list) {
  const lines = list.map((r) => Object.values(row(r)).join(','));
  return [CSV_HEADER, ...lines].join('\n') + '\n';
}

export function json(meter, from, to, timeZone, list) {
  const units = { time_utc: 'ISO 8601, UTC', unix_time_s: 's', produced_Wh: 'Wh', consumed_Wh: 'Wh', energy_Wh: 'Wh', amount_wei: 'wei' };
  const records = list.map((r) => Object.fromEntries(Object.entries(row(r)).map(([k, v]) => [k, String(v)])));
  return JSON.stringify({ meter, from, to, timeZone, units, records }, null, 2) + '\n';
}

/** Hands `text` to the browser as a file download. */
export function save(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
