// Buy: pick a neighbour with surplus and an amount, see the price, pay — with an injected wallet
// (EIP-1193, e.g. MetaMask) when the browser has one, else with the node's unlocked account when
// the node allows it (dev, or --dashboard.buy); read-only otherwise. Every failure is said in
// words: not enough surplus, not enough funds, rejected in the wallet, reverted.

import { t } from '../i18n.js';
import { energy, ether, rate, esc, short } from '../format.js';
import { call } from '../rpc.js';
import * as abi from '../abi.js';

const hex = (n) => '0x' + BigInt(n).toString(16);
const wallet = () => globalThis.ethereum;

function mode(ctx) {
  if (wallet()) return 'wallet';
  return ctx.config.unlockedBuy && ctx.model.snapshot.accounts.length ? 'node' : 'read-only';
}

export function mount(el, ctx) {
  const how = mode(ctx);
  if (how === 'read-only') {
    el.innerHTML = `<section class="panel"><h2>${t('buy_title')}</h2><p class="note" data-testid="read-only">${t('read_only')}</p></section>`;
    return;
  }
  el.innerHTML = `
    <section class="panel buy">
      <h2>${t('buy_title')}</h2>
      <form id="buy-form" novalidate>
        <label>${t('buy_as')} <select id="buyer" data-testid="buyer"></select></label>
        <label>${t('buy_from')} <select id="seller" data-testid="seller"></select></label>
        <label>${t('amount')} <input id="amount" data-testid="amount" type="number" inputmode="numeric" min="1" step="1" value="100"></label>
        <p>${t('price')}: <strong data-testid="price"></strong> <span class="muted" data-testid="rate"></span></p>
        <button type="submit" data-testid="pay">${t('pay')}</button>
        <span class="muted">${how === 'wallet' ? t('with_wallet') : t('with_node')}</span>
      </form>
      <p id="buy-message" data-testid="buy-message" role="status"></p>
      <p class="empty" id="no-sellers" hidden>${t('no_sellers')}</p>
    </section>`;
  const form = el.querySelector('#buy-form');
  form.addEventListener('input', () => update(el, ctx));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    pay(el, ctx).catch((error) => say(el, 'error', t('err_failed', { reason: error.message })));
  });
}

function fillSelect(select, options, preferred) {
  const html = options.map(([value, label]) => `<option value="${value}">${esc(label)}</option>`).join('');
  const keep = select.value || preferred;
  if (select.dataset.options !== html) {
    select.innerHTML = html;
    select.dataset.options = html;
  }
  if (options.some(([v]) => v === keep)) select.value = keep;
}

export function update(el, ctx) {
  const buyer = el.querySelector('#buyer');
  if (!buyer) return;
  const snap = ctx.model.snapshot;
  const accounts = mode(ctx) === 'wallet' ? [] : snap.accounts;
  const buyers = mode(ctx) === 'wallet' ? [['wallet', t('with_wallet')]] : accounts.map((a) => [a, `${ctx.nameOf(a)} · ${short(a)}`]);
  fillSelect(buyer, buyers, ctx.household);
  const sellers = snap.sellers
    .filter((h) => h.address !== buyer.value)
    .map((h) => [h.address, `${ctx.nameOf(h.address)} · ${short(h.address)} · ${energy(h.net)}`]);
  fillSelect(el.querySelector('#seller'), sellers);
  el.querySelector('#no-sellers').hidden = sellers.length > 0;
  const amount = parseAmount(el);
  const price = amount === null ? null : amount * snap.rate;
  const priceNode = el.querySelector('[data-testid="price"]');
  priceNode.textContent = price === null ? '—' : ether(price);
  priceNode.dataset.value = price === null ? '' : String(price);
  el.querySelector('[data-testid="rate"]').textContent = `(${rate(snap.rate)})`;
}

function parseAmount(el) {
  const text = el.querySelector('#amount').value.trim();
  return /^[0-9]+$/.test(text) && BigInt(text) > 0n ? BigInt(text) : null;
}

function say(el, state, text) {
  const message = el.querySelector('#buy-message');
  message.textContent = text;
  message.dataset.state = state;
}

async function pay(el, ctx) {
  const snap = ctx.model.snapshot;
  const amount = parseAmount(el);
  if (amount === null) return say(el, 'error', t('err_amount'));
  const seller = el.querySelector('#seller').value;
  const household = ctx.model.stateOf(seller);
  if (!household) return say(el, 'error', t('no_sellers'));
  const available = household.net > 0n ? household.net : 0n;
  const names = { seller: ctx.nameOf(seller) };
  if (amount > available) return say(el, 'error', t('err_surplus', { ...names, available: energy(available) }));
  const button = el.querySelector('[data-testid="pay"]');
  button.disabled = true;
  try {
    say(el, 'busy', t('paying'));
    const viaWallet = mode(ctx) === 'wallet';
    const from = viaWallet ? await walletAccount(snap) : el.querySelector('#buyer').value;
    const price = amount * snap.rate;
    const tx = { from, to: abi.DAISEE, data: abi.encodeCall('buyEnergy', seller, amount), value: hex(price) };
    const [balance, gasPrice] = (await Promise.all([call('eth_getBalance', [from, 'latest']), call('eth_gasPrice')])).map(BigInt);
    const lacking = (needed) => say(el, 'error', t('err_funds', { buyer: ctx.nameOf(from), balance: ether(balance), needed: ether(needed) }));
    if (balance < price) return lacking(price);
    const gas = await call('eth_estimateGas', [tx]);
    const needed = price + BigInt(gas) * gasPrice;
    if (balance < needed) return lacking(needed);
    const request = { ...tx, gas: hex(BigInt(gas) + BigInt(gas) / 5n) };
    const hash = viaWallet
      ? await wallet().request({ method: 'eth_sendTransaction', params: [request] })
      : await call('eth_sendTransaction', [request]);
    say(el, 'busy', t('waiting'));
    const receipt = await waitReceipt(hash);
    const block = Number(receipt.blockNumber);
    if (receipt.status !== '0x1') return say(el, 'error', t('err_reverted', { block }));
    say(el, 'ok', t('bought_ok', { energy: energy(amount), seller: names.seller, price: ether(price), block }));
    el.querySelector('#buy-message').dataset.tx = hash;
  } catch (error) {
    say(el, 'error', failure(error, names));
  } finally {
    button.disabled = false;
  }
}

async function walletAccount(snap) {
  const [account] = await wallet().request({ method: 'eth_requestAccounts' });
  const chainId = Number(await wallet().request({ method: 'eth_chainId' }));
  const nodeChain = Number(await call('eth_chainId'));
  if (chainId !== nodeChain) throw Object.assign(new Error('chain'), { wrongChain: { wallet: chainId, node: nodeChain } });
  return account.toLowerCase();
}

/** Words for what went wrong. */
function failure(error, names) {
  if (error.wrongChain) return t('err_wrong_chain', error.wrongChain);
  if (error.code === 4001) return t('err_rejected');
  const revert = abi.decodeError(error.data);
  if (revert?.name === 'InsufficientEnergy') {
    return t('err_surplus', { ...names, available: energy(abi.toUint(revert.args[1])) });
  }
  if (revert?.name === 'NotMeter') return t('err_not_meter');
  if (/insufficient funds/i.test(error.message)) return t('err_funds', { buyer: '', balance: '—', needed: '—' });
  return t('err_failed', { reason: error.message || String(error) });
}

async function waitReceipt(hash) {
  for (let i = 0; i < 240; i++) {
    const receipt = await call('eth_getTransactionReceipt', [hash]);
    if (receipt) return receipt;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no receipt for ${hash} after 2 minutes`);
}
