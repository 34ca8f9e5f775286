// Community: how many households and what they produced and consumed in all, the community's
// production against its consumption per interval over the last 24 h (the node's daybook), the
// households a page at a time — searched by address, sorted by production, consumption or surplus
// (the node's `daisee_community`, so a town of 1,000 costs the page one question) — the latest
// trades (purchases at the rate in force in their block, settlements at their clearing price),
// and the rate.

import { t } from '../i18n.js';
import { energy, ether, rate, time, clock, esc, short } from '../format.js';
import { communityChart } from '../charts.js';
import { figure } from './home.js';
import { PAGE } from '../data.js';

const TRADES_SHOWN = 50;
const SORTS = ['registration', 'produced', 'consumed', 'net'];

export function mount(el, ctx) {
  el.innerHTML = `
    <div class="cards small">
      <div class="card"><h3>${t('rate')}</h3><p class="big" data-testid="rate"></p></div>
      <div class="card"><h3>${t('meters')}</h3><p class="big" data-testid="meter-count"></p></div>
      <div class="card"><h3>${t('total_produced')}</h3><p class="big" data-testid="community-produced"></p></div>
      <div class="card"><h3>${t('total_consumed')}</h3><p class="big" data-testid="community-consumed"></p></div>
      <div class="card"><h3>${t('sellers_now')}</h3><p class="big" data-testid="sellers"></p></div>
    </div>
    <section class="panel">
      <h2>${t('community_chart')}</h2>
      <div id="community-chart" class="chart" data-testid="community-chart"></div>
    </section>
    <section class="panel">
      <h2>${t('meters')}</h2>
      <div class="toolbar">
        <input id="search" type="search" maxlength="42" spellcheck="false" autocomplete="off" placeholder="${t('search_address')}" data-testid="search">
        <label>${t('sort_by')} <select id="sort" data-testid="sort">${SORTS.map((s) => `<option value="${s}">${t(`sort_${s}`)}</option>`).join('')}</select></label>
        <button id="previous" data-testid="previous">${t('previous')}</button>
        <span id="shown" data-testid="shown"></span>
        <button id="next" data-testid="next">${t('next')}</button>
      </div>
      <div class="scroll"><table data-testid="meters">
        <thead><tr><th>${t('address')}</th><th class="num">${t('total_produced')}</th><th class="num">${t('total_consumed')}</th><th class="num">${t('net')}</th><th>${t('last_interval_col')}</th></tr></thead>
        <tbody></tbody>
      </table></div>
      <p class="empty" id="no-match" hidden>${t('none_found')}</p>
    </section>
    <section class="panel">
      <h2>${t('trades')}</h2>
      <div class="scroll"><table data-testid="trades">
        <thead><tr><th>${t('time')}</th><th>${t('buyer')}</th><th>${t('seller')}</th><th class="num">${t('energy')}</th><th class="num">${t('price_paid')}</th><th>${t('how')}</th><th class="num">${t('block')}</th></tr></thead>
        <tbody></tbody>
      </table></div>
      <p class="empty" id="no-trades" hidden>${t('no_trades')}</p>
    </section>`;
  const ask = (change) => {
    ctx.model.pageQuery = { ...(ctx.model.pageQuery || { offset: 0, search: '', sort: 'registration' }), ...change };
    ctx.refreshNow();
  };
  const search = el.querySelector('#search');
  search.value = ctx.model.pageQuery?.search || '';
  search.addEventListener('input', () => {
    const digits = search.value.trim().replace(/^0x/i, '');
    search.setCustomValidity(/^[0-9a-fA-F]{0,40}$/.test(digits) ? '' : t('search_address'));
    if (search.validity.valid) ask({ search: digits, offset: 0 });
  });
  const sort = el.querySelector('#sort');
  sort.value = ctx.model.pageQuery?.sort || 'registration';
  sort.addEventListener('change', () => ask({ sort: sort.value, offset: 0 }));
  el.querySelector('#previous').addEventListener('click', () => ask({ offset: Math.max(0, (ctx.model.pageQuery?.offset || 0) - PAGE) }));
  el.querySelector('#next').addEventListener('click', () => ask({ offset: (ctx.model.pageQuery?.offset || 0) + PAGE }));
}

export function update(el, ctx) {
  const { model } = ctx;
  const snap = model.snapshot;
  figure(el, 'rate', rate(snap.rate), snap.rate);
  figure(el, 'meter-count', String(snap.count), snap.count);
  figure(el, 'community-produced', energy(BigInt(snap.totals.producedWh)), snap.totals.producedWh);
  figure(el, 'community-consumed', energy(BigInt(snap.totals.consumedWh)), snap.totals.consumedWh);
  figure(el, 'sellers', String(snap.totals.sellers), snap.totals.sellers);
  const who = (a) => `<span title="${a}">${esc(ctx.nameOf(a))}</span> <code>${short(a)}</code>`;
  const page = snap.page;
  const table = el.querySelector('[data-testid="meters"]');
  if (page) {
    const rows = page.rows;
    table.dataset.offset = String(page.offset);
    table.dataset.matching = String(page.matching);
    table.querySelector('tbody').innerHTML = rows
      .map((h) => `<tr data-address="${h.address}" data-index="${h.index}" data-produced="${h.produced}" data-consumed="${h.consumed}" data-net="${h.net}" data-last-interval="${h.lastInterval}">
          <td>${who(h.address)}</td><td class="num">${energy(h.produced)}</td><td class="num">${energy(h.consumed)}</td>
          <td class="num ${h.net > 0n ? 'good' : h.net < 0n ? 'bad' : ''}">${energy(h.net)}</td><td>${h.lastInterval ? clock(h.lastInterval) : '—'}</td></tr>`)
      .join('');
    const from = rows.length ? page.offset + 1 : 0;
    el.querySelector('#shown').textContent = t('shown_of', { from, to: page.offset + rows.length, n: page.matching });
    el.querySelector('#previous').disabled = page.offset === 0;
    el.querySelector('#next').disabled = page.offset + rows.length >= page.matching;
    el.querySelector('#no-match').hidden = page.matching > 0;
  }
  const trades = model.trades.slice(-TRADES_SHOWN).reverse().map((tr) => model.priced(tr));
  el.querySelector('[data-testid="trades"] tbody').innerHTML = trades
    .map((tr) => `<tr data-tx="${tr.tx}" data-kind="${tr.paid === undefined ? 'buy' : 'settled'}" data-buyer="${tr.buyer}" data-seller="${tr.seller}" data-energy="${tr.energy}" data-price="${tr.price}" data-block="${tr.block}">
        <td>${tr.time ? time(tr.time) : ''}</td><td>${who(tr.buyer)}</td><td>${who(tr.seller)}</td>
        <td class="num">${energy(tr.energy)}</td><td class="num">${ether(tr.price)}</td>
        <td>${tr.paid === undefined ? t('by_hand') : t('settled')}</td><td class="num">${tr.block}</td></tr>`)
    .join('');
  el.querySelector('#no-trades').hidden = trades.length > 0;
  communityChart(el.querySelector('#community-chart'), model.communitySeries(), { production: t('production'), consumption: t('consumption') });
}
