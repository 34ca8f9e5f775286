// History: a household's or the whole community's week or month, per day — energy produced and
// consumed, sold and bought and the ether it moved — from the node's daybook (`daisee_days`),
// with the household's readings and trades to export as CSV or JSON.

import { t } from '../i18n.js';
import { call } from '../rpc.js';
import { energy, ether, esc, short } from '../format.js';
import { dailyChart } from '../charts.js';
import * as exporter from '../export.js';

const COMMUNITY = 'community';
let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The date (YYYY-MM-DD) of unix time `s` in time zone `tz`. */
const dateIn = (tz, s) => new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date(s * 1000));

/** `date` moved by `days` (calendar arithmetic, no time zone involved). */
function shift(date, days) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function mount(el, ctx) {
  el.innerHTML = `
    <div class="toolbar">
      <label>${t('history_of')} <select id="history-who"></select></label>
      <label>${t('period')} <select id="history-span">
        <option value="7">${t('week')}</option><option value="30">${t('month')}</option></select></label>
      <label>${t('ending')} <input id="history-end" type="date"></label>
    </div>
    <section class="panel">
      <h2 id="history-title"></h2>
      <div class="legend"><span class="dot prod"></span>${t('production')} <span class="dot cons"></span>${t('consumption')}</div>
      <div id="history-chart" class="chart"></div>
      <div class="scroll"><table data-testid="days"><thead><tr>
        <th>${t('day')}</th><th>${t('production')}</th><th>${t('consumption')}</th>
        <th>${t('sold_day')}</th><th>${t('received')}</th><th>${t('bought_day')}</th><th>${t('paid')}</th><th>${t('readings')}</th>
      </tr></thead><tbody></tbody><tfoot></tfoot></table></div>
      <p class="note" id="history-zone"></p>
    </section>
    <section class="panel" id="export-panel">
      <h2>${t('export_title')}</h2>
      <p>${t('export_help')}</p>
      <button type="button" id="export-csv" data-testid="export-csv">CSV</button>
      <button type="button" id="export-json" data-testid="export-json">JSON</button>
      <span id="export-message" data-testid="export-message"></span>
    </section>`;
  const state = el.historyState = { key: null, ctx };
  const reload = () => ((state.key = null), update(el, ctx));
  el.querySelector('#history-who').addEventListener('change', (e) => {
    if (e.target.value !== COMMUNITY) ctx.household = e.target.value;
    state.who = e.target.value;
    reload();
  });
  el.querySelector('#history-span').addEventListener('change', reload);
  el.querySelector('#history-end').addEventListener('change', (e) => ((state.end = e.target.value || null), reload()));
  el.querySelector('#export-csv').addEventListener('click', () => exportPeriod(el, 'csv'));
  el.querySelector('#export-json').addEventListener('click', () => exportPeriod(el, 'json'));
}

function period(el) {
  const state = el.historyState;
  const span = Number(el.querySelector('#history-span').value);
  const to = state.end || dateIn(zone, state.ctx.model.snapshot.timestamp);
  return { from: shift(to, 1 - span), to };
}

export function update(el, ctx) {
  const state = el.historyState;
  const who = state.who || ctx.household || COMMUNITY;
  const select = el.querySelector('#history-who');
  const options = [`<option value="${COMMUNITY}">${esc(t('whole_community'))}</option>`,
    ...ctx.model.snapshot.meters.map((a) => `<option value="${a}">${esc(ctx.nameOf(a))} · ${short(a)}</option>`)].join('');
  if (select.dataset.options !== options) {
    select.innerHTML = options;
    select.dataset.options = options;
  }
  select.value = who;
  el.querySelector('#export-panel').hidden = who === COMMUNITY;
  const { from, to } = period(el);
  el.querySelector('#history-end').value = to;
  const key = `${who} ${from} ${to} ${ctx.model.snapshot.block}`;
  if (state.key === key) return;
  state.key = key;
  load(el, who, from, to, key).catch((error) => {
    console.warn('history failed:', error);
    el.querySelector('#history-zone').textContent = String(error.message || error);
  });
}

async function load(el, who, from, to, key) {
  const state = el.historyState;
  const answer = await call('daisee_days', [{ ...(who === COMMUNITY ? {} : { meter: who }), from, to }]);
  if (answer.timeZone !== zone && !state.end) {
    // Days are the node's: ask again for the period ending on the head's day in its zone.
    zone = answer.timeZone;
    state.key = null;
    return update(el, state.ctx);
  }
  zone = answer.timeZone;
  if (state.key !== key) return;
  render(el, who, from, to, answer);
}

function render(el, who, from, to, answer) {
  const days = answer.days.map((d) => ({
    date: d.date, produced: BigInt(d.producedWh), consumed: BigInt(d.consumedWh), readings: d.readings,
    soldWh: BigInt(d.soldWh), soldWei: BigInt(d.soldWei), boughtWh: BigInt(d.boughtWh), boughtWei: BigInt(d.boughtWei),
  }));
  const name = who === COMMUNITY ? t('whole_community') : el.historyState.ctx.nameOf(who);
  el.querySelector('#history-title').textContent = `${name}: ${from} → ${to}`;
  const cell = (v, text) => `<td data-value="${v}">${text}</td>`;
  el.querySelector('[data-testid="days"] tbody').innerHTML = days.map((d) => `<tr data-date="${d.date}" data-produced="${d.produced}" data-consumed="${d.consumed}"
      data-sold-wh="${d.soldWh}" data-sold-wei="${d.soldWei}" data-bought-wh="${d.boughtWh}" data-bought-wei="${d.boughtWei}" data-readings="${d.readings}">
      <td>${d.date}</td>${cell(d.produced, energy(d.produced))}${cell(d.consumed, energy(d.consumed))}${cell(d.soldWh, energy(d.soldWh))}
      ${cell(d.soldWei, ether(d.soldWei))}${cell(d.boughtWh, energy(d.boughtWh))}${cell(d.boughtWei, ether(d.boughtWei))}<td>${d.readings}</td></tr>`).join('');
  const sum = (k) => days.reduce((s, d) => s + d[k], 0n);
  el.querySelector('[data-testid="days"] tfoot').innerHTML = `<tr><th>${t('total')}</th><th>${energy(sum('produced'))}</th><th>${energy(sum('consumed'))}</th>
    <th>${energy(sum('soldWh'))}</th><th>${ether(sum('soldWei'))}</th><th>${energy(sum('boughtWh'))}</th><th>${ether(sum('boughtWei'))}</th>
    <th>${days.reduce((s, d) => s + d.readings, 0)}</th></tr>`;
  el.querySelector('#history-zone').textContent = t('days_in_zone', { zone: answer.timeZone, block: Number(answer.indexedBlock ?? 0) });
  dailyChart(el.querySelector('#history-chart'), days, { production: t('production'), consumption: t('consumption') });
  Object.assign(el.dataset, { historyWho: who, historyFrom: from, historyTo: to, historyZone: answer.timeZone });
}

async function exportPeriod(el, format) {
  const who = el.querySelector('#history-who').value;
  const { from, to } = period(el);
  const message = el.querySelector('#export-message');
  message.dataset.state = 'busy';
  message.textContent = t('exporting');
  try {
    const { records, timeZone } = await exporter.records(who, from, to);
    const name = `daisee-${who.slice(2, 10)}-${from}-${to}.${format}`;
    if (format === 'csv') exporter.save(name, 'text/csv', exporter.csv(records));
    else exporter.save(name, 'application/json', exporter.json(who, from, to, timeZone, records));
    message.textContent = t('exported', { n: records.length, name });
    message.dataset.state = 'ok';
  } catch (error) {
    message.textContent = String(error.message || error);
    message.dataset.state = 'error';
  }
}
