// Community: every registered household with its totals, production (stacked per household)
// against consumption over the last 24 h, the trades of the last 24 h (Buy events, priced at the
// rate in force in their block, or at the clearing price for automatic settlements), and the rate.

import { t } from '../i18n.js';
import { energy, ether, rate, time, esc, short } from '../format.js';
import { communityChart } from '../charts.js';
import { figure } from './home.js';

const TRADES_SHOWN = 50;

export function mount(el) {
  el.innerHTML = `
    <div class="cards small">
      <div class="card"><h3>${t('rate')}</h3><p class="big" data-testid="rate"></p></div>
      <div class="card"><h3>${t('meters')}</h3><p class="big" data-testid="meter-count"></p></div>
    </div>
    <section class="panel">
      <h2>${t('community_chart')}</h2>
      <div id="community-chart" class="chart" data-testid="community-chart"></div>
    </section>
    <section class="panel">
      <h2>${t('meters')}</h2>
      <div class="scroll"><table data-testid="meters">
        <thead><tr><th>${t('address')}</th><th class="num">${t('total_produced')}</th><th class="num">${t('total_consumed')}</th><th class="num">${t('net')}</th></tr></thead>
        <tbody></tbody>
      </table></div>
    </section>
    <section class="panel">
      <h2>${t('trades')}</h2>
      <div class="scroll"><table data-testid="trades">
        <thead><tr><th>${t('time')}</th><th>${t('buyer')}</th><th>${t('seller')}</th><th class="num">${t('energy')}</th><th class="num">${t('price_paid')}</th><th>${t('how')}</th><th class="num">${t('block')}</th></tr></thead>
        <tbody></tbody>
      </table></div>
      <p class="empty" id="no-trades" hidden>${t('no_trades')}</p>
    </section>`;
}

export function update(el, ctx) {
  const { model } = ctx;
  const snap = model.snapshot;
  figure(el, 'rate', rate(snap.rate), snap.rate);
  figure(el, 'meter-count', String(snap.households.length), snap.households.length);
  const who = (a) => `<span title="${a}">${esc(ctx.nameOf(a))}</span> <code>${short(a)}</code>`;
  el.querySelector('[data-testid="meters"] tbody').innerHTML = snap.households
    .map((h) => `<tr data-address="${h.address}" data-produced="${h.produced}" data-consumed="${h.consumed}" data-net="${h.net}">
        <td>${who(h.address)}</td><td class="num">${energy(h.produced)}</td><td class="num">${energy(h.consumed)}</td>
        <td class="num ${h.net > 0n ? 'good' : h.net < 0n ? 'bad' : ''}">${energy(h.net)}</td></tr>`)
    .join('');
  const trades = model.trades.slice(-TRADES_SHOWN).reverse().map((tr) => model.priced(tr));
  el.querySelector('[data-testid="trades"] tbody').innerHTML = trades
    .map((tr) => `<tr data-tx="${tr.tx}" data-kind="${tr.paid === undefined ? 'buy' : 'settled'}" data-buyer="${tr.buyer}" data-seller="${tr.seller}" data-energy="${tr.energy}" data-price="${tr.price}" data-block="${tr.block}">
        <td>${tr.time ? time(tr.time) : ''}</td><td>${who(tr.buyer)}</td><td>${who(tr.seller)}</td>
        <td class="num">${energy(tr.energy)}</td><td class="num">${ether(tr.price)}</td>
        <td>${tr.paid === undefined ? t('by_hand') : t('settled')}</td><td class="num">${tr.block}</td></tr>`)
    .join('');
  el.querySelector('#no-trades').hidden = trades.length > 0;
  const series = model.communitySeries();
  communityChart(el.querySelector('#community-chart'), series, series.meters.map((a) => ctx.nameOf(a)), { consumption: t('consumption') });
}
