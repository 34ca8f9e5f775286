// Home: one household at a glance — today's production and consumption, surplus or deficit now,
// what it sold and bought in the last 24 h and for how much, its sensor, and a chart per interval.

import { t } from '../i18n.js';
import { energy, ether, age, clock, esc, short } from '../format.js';
import { householdChart } from '../charts.js';

export function mount(el, ctx) {
  el.innerHTML = `
    <div class="toolbar">
      <label>${t('household')} <select id="household" data-testid="household"></select></label>
      <code id="household-address"></code>
    </div>
    <ul class="notices" id="notices" data-testid="notices" hidden></ul>
    <div class="cards">
      <div class="card prod"><h3>${t('produced_today')}</h3><p class="big" data-testid="produced-today"></p></div>
      <div class="card cons"><h3>${t('consumed_today')}</h3><p class="big" data-testid="consumed-today"></p></div>
      <div class="card"><h3 id="net-label"></h3><p class="big" data-testid="net"></p></div>
      <div class="card"><h3>${t('sold')}</h3><p class="big" data-testid="sold-wh"></p><p data-testid="sold-wei"></p></div>
      <div class="card"><h3>${t('bought')}</h3><p class="big" data-testid="bought-wh"></p><p data-testid="bought-wei"></p></div>
      <div class="card"><h3>${t('last_reading')}</h3><p class="big" data-testid="last-reading"></p><p data-testid="last-interval"></p><p data-testid="battery"></p></div>
    </div>
    <section class="panel">
      <h2>${t('last_24h')}</h2>
      <div class="legend"><span class="dot prod"></span>${t('production')} <span class="dot cons"></span>${t('consumption')}</div>
      <div id="home-chart" class="chart" data-testid="home-chart"></div>
      <p class="empty" id="home-empty" hidden>${t('no_readings')}</p>
    </section>
    <section class="panel" id="sources-panel" hidden>
      <h2>${t('meter_sources')}</h2>
      <div class="scroll"><table data-testid="sources"><thead><tr><th>${t('sensor_source')}</th><th>${t('sensor_direction')}</th><th>${t('sensor_read')}</th><th>${t('sensor_unread')}</th><th>${t('last_reading')}</th></tr></thead><tbody></tbody></table></div>
    </section>
    <div class="cards small">
      <div class="card"><h3>${t('total_produced')}</h3><p data-testid="total-produced"></p></div>
      <div class="card"><h3>${t('total_consumed')}</h3><p data-testid="total-consumed"></p></div>
      <div class="card"><h3>${t('escrow')}</h3><p data-testid="escrow"></p></div>
    </div>`;
  el.querySelector('#household').addEventListener('change', (e) => {
    ctx.household = e.target.value;
    ctx.rerender();
  });
}

/** Sets the text and the raw value (for tests and copy-paste) of one figure. */
export function figure(el, id, text, raw) {
  const node = el.querySelector(`[data-testid="${id}"]`);
  node.textContent = text;
  node.dataset.value = String(raw);
}

export function update(el, ctx) {
  const { model } = ctx;
  const selected = ctx.household;
  const select = el.querySelector('#household');
  const options = model.snapshot.meters
    .map((a) => `<option value="${a}" ${a === selected ? 'selected' : ''}>${esc(ctx.nameOf(a))} · ${short(a)}</option>`)
    .join('');
  if (select.dataset.options !== options) {
    select.innerHTML = options;
    select.dataset.options = options;
  }
  if (!selected) return;
  select.value = selected;
  const h = model.household(selected);
  el.querySelector('#household-address').textContent = selected;
  if (!h) {
    el.dataset.household = '';
    return; // followed from the next refresh
  }
  el.dataset.household = selected;
  el.dataset.dayStart = String(h.dayStart);
  figure(el, 'produced-today', energy(h.producedToday), h.producedToday);
  figure(el, 'consumed-today', energy(h.consumedToday), h.consumedToday);
  const net = h.state.net;
  el.querySelector('#net-label').textContent = net > 0n ? t('surplus') : net < 0n ? t('deficit') : t('balanced');
  const netCard = el.querySelector('[data-testid="net"]');
  netCard.classList.toggle('good', net > 0n);
  netCard.classList.toggle('bad', net < 0n);
  figure(el, 'net', energy(net < 0n ? -net : net), net);
  figure(el, 'sold-wh', energy(h.soldWh), h.soldWh);
  figure(el, 'sold-wei', `${ether(h.soldWei)} ${t('received')}`, h.soldWei);
  figure(el, 'bought-wh', energy(h.boughtWh), h.boughtWh);
  figure(el, 'bought-wei', `${ether(h.boughtWei)} ${t('paid')}`, h.boughtWei);
  figure(el, 'total-produced', energy(h.state.produced), h.state.produced);
  figure(el, 'total-consumed', energy(h.state.consumed), h.state.consumed);
  figure(el, 'escrow', ether(h.state.escrow), h.state.escrow);
  lastReading(el, h);
  sources(el, h.own);
  const notices = sensorNotices(h.own);
  const list = el.querySelector('#notices');
  list.hidden = notices.length === 0;
  list.innerHTML = notices.map((n) => `<li data-kind="${n.kind}">${esc(n.text)}</li>`).join('');
  el.querySelector('#home-empty').hidden = h.series.length > 0;
  householdChart(el.querySelector('#home-chart'), h.series, { production: t('production'), consumption: t('consumption') });
}

function lastReading(el, h) {
  const ages = (h.own?.sensors || []).map((s) => s.lastSampleAgeMs).filter((a) => a != null);
  const batteries = (h.own?.sensors || []).map((s) => s.batteryMv).filter(Boolean);
  const interval = h.state.lastInterval ? `${t('interval_end')} ${clock(h.state.lastInterval)}` : '—';
  figure(el, 'last-interval', interval, h.state.lastInterval);
  const newest = ages.length ? Math.min(...ages) : null;
  figure(el, 'last-reading', newest === null ? '—' : `${age(newest / 1000)}`, newest ?? '');
  const battery = batteries.length ? `${t('battery')}: ${(Math.min(...batteries) / 1000).toFixed(2)} V` : h.own ? '' : t('not_this_board');
  figure(el, 'battery', battery, batteries.length ? Math.min(...batteries) : '');
}

/** Counters of what a sensor's source dropped, by kind, that are not zero. */
function unread(stats = {}) {
  const kinds = ['corrupt', 'implausible', 'duplicates', 'overruns', 'timeouts', 'refused'];
  return kinds.filter((k) => stats[k] > 0).map((k) => `${t(`unread_${k}`)} ${stats[k]}`).join(', ') || '—';
}

/** The board's own sensors: where each reads from, what it read and what it dropped. */
function sources(el, own) {
  const panel = el.querySelector('#sources-panel');
  panel.hidden = !own?.sensors?.length;
  if (panel.hidden) return;
  panel.querySelector('tbody').innerHTML = own.sensors
    .map((s) => `<tr data-source="${esc(s.source)}"><td>${esc(s.source)}</td><td>${t(`${s.direction}_sensor`)}</td>`
      + `<td data-kind="accepted">${s.stats?.accepted ?? 0}</td><td data-kind="unread">${esc(unread(s.stats))}</td>`
      + `<td>${s.lastSampleAgeMs == null ? '—' : age(s.lastSampleAgeMs / 1000)}</td></tr>`)
    .join('');
}

/** Sources that read a utility meter (wired or on the network) rather than a CitizenWatt sensor. */
const METER_SOURCES = ['tic', 'p1', 'modbus', 'shelly', 'mqtt'];

/** Battery below this (mV) is low: CitizenWatt boards run 2.8–3.4 V and brown out at 2.7 V. */
const LOW_BATTERY_MV = 2700;
/** Silent for this many intervals, a sensor is worth a look. */
const SILENT_INTERVALS = 3;

/**
 * What the household should check about this board's meter (`daisee_meters`): a sensor silent for
 * a few intervals, a low battery, many corrupt frames, readings stuck in the outbox.
 */
export function sensorNotices(own) {
  if (!own) return [];
  const out = [];
  for (const s of own.sensors || []) {
    const direction = t(`${s.direction}_sensor`);
    // A utility meter has no battery or radio: what to check is its cable, address or network.
    const meter = METER_SOURCES.includes(s.source);
    const source = esc(s.source || '');
    const silentMs = SILENT_INTERVALS * own.interval * 1000;
    // Never heard: worth saying once the meter has closed a few intervals without samples.
    const never = s.lastSampleAgeMs == null && own.gaps >= SILENT_INTERVALS;
    if (never || s.lastSampleAgeMs > silentMs) {
      const silent = never ? t('never') : age(s.lastSampleAgeMs / 1000);
      out.push({ kind: 'silent', text: t(meter ? 'notice_silent_meter' : 'notice_silent', { direction, source, age: silent }) });
    }
    if (s.batteryMv && s.batteryMv < LOW_BATTERY_MV) {
      out.push({ kind: 'battery', text: t('notice_battery', { direction, volts: (s.batteryMv / 1000).toFixed(2) }) });
    }
    const { corrupt = 0, accepted = 0, timeouts = 0, refused = 0 } = s.stats || {};
    if (corrupt >= 20 && corrupt * 10 > accepted + corrupt) {
      out.push({ kind: 'corrupt', text: t(meter ? 'notice_corrupt_meter' : 'notice_corrupt', { direction, source, n: corrupt }) });
    }
    // A polled meter that mostly fails to answer (or refuses): say so before it goes silent.
    const failed = timeouts + refused;
    if (failed >= 3 && failed * 2 > accepted + failed) {
      out.push({ kind: 'unreachable', text: t('notice_unreachable', { direction, source, n: failed }) });
    }
  }
  if (own.rebases > 0) {
    out.push({ kind: 'rebased', text: t('notice_rebased', { n: own.rebases }) });
  }
  if (own.outbox > SILENT_INTERVALS) {
    const error = own.lastError ? ` (${own.lastError})` : '';
    out.push({ kind: 'outbox', text: t('notice_outbox', { n: own.outbox, error }) });
  }
  // An interval the community's market cannot settle (settle reverts): say which and why.
  const market = own.market;
  if (market?.unsettleable > 0 && market.lastUnsettleable) {
    const { intervalEnd, reason } = market.lastUnsettleable;
    out.push({ kind: 'unsettleable', text: t('notice_unsettleable', { n: market.unsettleable, time: new Date(intervalEnd * 1000).toISOString().slice(0, 16).replace('T', ' '), reason }) });
  }
  return out;
}
