// Chain: the head (number, hash, age), block time, peers (who, which signer, how far), pending
// transactions, the Clique signers and their share of recent blocks; red when the head is stale (no block for four
// average block times and at least a minute, or transactions waiting for half a minute).

import { t } from '../i18n.js';
import { age, esc, short } from '../format.js';
import { batch } from '../rpc.js';
import { figure } from './home.js';

const RECENT = 20;
const hex = (n) => '0x' + n.toString(16);
let extra = { blockTime: 0, pending: 0 };
/** The node's clock against the chain's and its peers' (`daisee_status`). */
let clockReport = null;
let upgradeReport = null;
let storageProblem = null;

export function mount(el) {
  el.innerHTML = `
    <div id="health" class="health" data-testid="health"></div>
    <div class="cards">
      <div class="card"><h3>${t('head')}</h3><p class="big" data-testid="head-number"></p><p><code data-testid="head-hash"></code></p></div>
      <div class="card"><h3>${t('age')}</h3><p class="big" data-testid="head-age"></p></div>
      <div class="card"><h3>${t('block_time')}</h3><p class="big" data-testid="block-time"></p></div>
      <div class="card"><h3>${t('peers')}</h3><p class="big" data-testid="peers"></p></div>
      <div class="card"><h3>${t('pending')}</h3><p class="big" data-testid="pending"></p></div>
    </div>
    <section class="panel">
      <h2>${t('signers')}</h2>
      <table data-testid="signers"><thead><tr><th>${t('signer')}</th><th class="num">${t('share')}</th></tr></thead><tbody></tbody></table>
      <p id="in-turn"></p>
    </section>
    <section class="panel">
      <h2>${t('peers')}</h2>
      <table data-testid="peer-list"><thead><tr><th>${t('peer')}</th><th>${t('signer')}</th><th class="num">${t('head')}</th><th>${t('direction')}</th></tr></thead><tbody></tbody></table>
    </section>`;
}

export async function update(el, ctx) {
  const snap = ctx.model.snapshot;
  figure(el, 'head-number', String(snap.block), snap.block);
  figure(el, 'head-hash', snap.hash, snap.hash);
  const first = Math.max(0, snap.block - RECENT);
  const calls = [
    ['net_peerCount', []],
    ['txpool_status', []],
    ['eth_getBlockTransactionCountByNumber', ['pending']],
    ['clique_getSigners', [hex(snap.block)]],
    ['clique_status', []],
    ['eth_getBlockByNumber', [hex(first), false]],
    ['daisee_peers', []],
    ['daisee_status', []],
  ];
  const [peers, pool, pendingCount, signers, status, older, peerList, board] = await batch(calls);
  if (ctx.model.snapshot !== snap) return;
  clockReport = board.result?.clock ?? null;
  upgradeReport = board.result?.upgrade ?? null;
  storageProblem = board.result?.storage?.problem ?? null;
  const pending = pool.result ? Number(pool.result.pending) : Number(pendingCount.result ?? 0);
  const span = older.result ? snap.timestamp - Number(older.result.timestamp) : 0;
  extra = { blockTime: snap.block > first ? span / (snap.block - first) : 0, pending };
  figure(el, 'peers', peers.result ? String(Number(peers.result)) : '—', peers.result ? Number(peers.result) : '');
  figure(el, 'pending', String(pending), pending);
  figure(el, 'block-time', extra.blockTime ? `${extra.blockTime.toFixed(1)} s` : '—', extra.blockTime);
  const activity = status.result?.sealerActivity || {};
  const total = Object.values(activity).reduce((s, n) => s + n, 0);
  const list = signers.result || Object.keys(activity);
  el.querySelector('[data-testid="signers"] tbody').innerHTML = list.length
    ? list
        .map((a) => {
          const n = Object.entries(activity).find(([k]) => k.toLowerCase() === a.toLowerCase())?.[1] ?? 0;
          const share = total ? Math.round((100 * n) / total) : 0;
          return `<tr data-signer="${a.toLowerCase()}" data-blocks="${n}"><td>${esc(ctx.nameOf(a))} <code>${short(a)}</code></td>
            <td class="num"><meter min="0" max="100" value="${share}"></meter> ${share} % (${n})</td></tr>`;
        })
        .join('')
    : `<tr><td colspan="2">${t('unavailable')}</td></tr>`;
  const connected = peerList.result || [];
  el.querySelector('[data-testid="peer-list"] tbody').innerHTML = connected.length
    ? connected
        .map((p) => `<tr data-peer="${esc(p.id)}"><td><code>${esc(p.id.slice(0, 8))}…${esc(p.id.slice(-6))}</code></td>
          <td>${p.signer ? `${esc(ctx.nameOf(p.signer))} <code>${short(p.signer)}</code>` : '—'}</td>
          <td class="num">${p.head ?? '—'}</td><td>${t(p.inbound ? 'inbound' : 'outbound')}</td></tr>`)
        .join('')
    : `<tr><td colspan="4">${t(peerList.result ? 'no_peers' : 'unavailable')}</td></tr>`;
  el.querySelector('#in-turn').textContent = status.result ? `${t('in_turn')}: ${status.result.inturnPercent} %` : '';
  tick(el, ctx);
}

/** Updates the head's age and the health banner (every second). */
export function tick(el, ctx) {
  const snap = ctx.model.snapshot;
  const seconds = Date.now() / 1000 - snap.timestamp;
  const ageNode = el.querySelector('[data-testid="head-age"]');
  if (!ageNode) return;
  ageNode.textContent = age(seconds);
  const limit = Math.max(60, 4 * extra.blockTime);
  const stale = seconds > limit || (extra.pending > 0 && seconds > 30);
  const health = el.querySelector('#health');
  health.textContent = stale ? `${t('stale')} ${age(seconds)}` : t('healthy');
  health.className = `health ${stale ? 'stale' : 'ok'}`;
  health.dataset.stale = String(stale);
  // A board whose clock is off says so first: it explains a stale head or a board not sealing.
  const clock = clockReport;
  health.dataset.clock = String(Boolean(clock?.problem));
  if (clock?.problem) {
    const ahead = (clock.peersOffset ?? 0) < 0;
    const off = ahead ? -clock.peersOffset : Math.max(clock.behindHead, clock.peersOffset ?? 0);
    health.textContent = t(ahead ? 'clock_ahead' : 'clock_behind', { age: age(off) });
    health.className = 'health stale';
  }
  health.dataset.storage = String(Boolean(storageProblem));
  if (storageProblem) {
    health.textContent = t('storage_failed');
    health.className = 'health stale';
  }
  // A board that lacks the community's upgrade stops sealing at it: that comes before all else.
  const upgrade = upgradeReport;
  health.dataset.upgrade = String(Boolean(upgrade?.problem));
  if (upgrade?.problem) {
    health.textContent = t(upgrade.stopped ? 'upgrade_stopped' : 'upgrade_scheduled');
    health.className = 'health stale';
  }
}
