// The dashboard's shell: routes (#/home, #/community, #/history, #/chain, #/buy), the language switch, the
// live indicator, and one refresh of the model per new head (coalesced: never two at once).

import { Community } from './data.js';
import { watchHeads } from './rpc.js';
import { t, lang, setLang } from './i18n.js';
import { short } from './format.js';
import * as home from './views/home.js';
import * as community from './views/community.js';
import * as chain from './views/chain.js';
import * as buy from './views/buy.js';

const VIEWS = { home, community, chain, buy };
/** Views loaded when first opened, so the first load stays small (History and its exports). */
const LAZY = { history: () => import('./views/history.js') };
const view = document.getElementById('view');
const model = new Community();
let config = { unlockedBuy: false };
let head = -1;
let refreshing = false;
let again = false;
let liveMode = 'poll';
let failed = false;

/** What every view gets. */
const ctx = {
  model,
  get config() {
    return config;
  },
  /** The selected household (remembered in this browser). */
  get household() {
    const meters = model.snapshot ? model.snapshot.meters : [];
    const saved = localStorage.getItem('daisee.household');
    if (saved && meters.includes(saved)) return saved;
    const own = model.snapshot?.own?.[0]?.address?.toLowerCase();
    return own && meters.includes(own) ? own : meters[0];
  },
  set household(address) {
    localStorage.setItem('daisee.household', address.toLowerCase());
    model.follow(address);
    refresh();
  },
  /** A household's name: its meter's name on this board, else its place in the list. */
  nameOf(address) {
    const a = address.toLowerCase();
    const own = model.snapshot?.own?.find((m) => m.address.toLowerCase() === a);
    if (own) return own.name;
    const i = model.snapshot ? model.snapshot.meters.indexOf(a) : -1;
    return i >= 0 ? `${t('household')} ${i + 1}` : short(a);
  },
  rerender: () => render(),
  /** Refreshes the model now (a new page or search), then renders. */
  refreshNow: () => refresh(),
};

/**
 * What the view `name` needs of the model: the Community page, Buy's sellers. Once opened, a view
 * keeps its figures fresh (50 households a head), so coming back to it shows them at once.
 */
function want(name) {
  if (name === 'community' && !model.pageQuery) {
    model.pageQuery = { offset: 0, search: '', sort: 'registration' };
    refresh();
  }
  if (name === 'buy' && !model.wantSellers) {
    model.wantSellers = true;
    refresh();
  }
}

function route() {
  const name = location.hash.replace(/^#\/?/, '') || 'home';
  return VIEWS[name] || LAZY[name] ? name : 'home';
}

function render() {
  const name = route();
  document.querySelectorAll('nav a').forEach((a) => a.classList.toggle('active', a.dataset.route === name));
  if (!model.snapshot) return;
  want(name);
  if (!VIEWS[name]) {
    LAZY[name]()
      .then((loaded) => {
        VIEWS[name] = loaded;
        render();
      })
      .catch((error) => console.error(error));
    return;
  }
  if (view.dataset.view !== name || view.dataset.lang !== lang()) {
    view.dataset.view = name;
    view.dataset.lang = lang();
    view.textContent = '';
    VIEWS[name].mount(view, ctx);
  }
  VIEWS[name].update(view, ctx);
  view.dataset.block = String(model.snapshot.block);
  view.dataset.fromBlock = String(model.fromBlock);
  document.getElementById('block-note').textContent = `${t('as_of_block')} ${model.snapshot.block} · ${short(model.snapshot.hash)}`;
}

async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    do {
      again = false;
      model.follow(ctx.household);
      await model.refresh(head);
      failed = false;
      render();
      // The first answer names the households; the selected one is followed from the next.
      if (ctx.household && !model.followed.has(ctx.household)) again = true;
    } while (again);
  } catch (error) {
    failed = true;
    console.warn('refresh failed, retrying in 5 s:', error);
    // A quiet chain may seal no block for a long while: do not wait for the next head to retry.
    setTimeout(refresh, 5000);
  } finally {
    refreshing = false;
    showLive();
  }
}

function showLive() {
  const live = document.getElementById('live');
  live.textContent = failed ? t('offline') : t(liveMode === 'ws' ? 'live_ws' : 'live_poll');
  live.className = `live ${failed ? 'down' : liveMode}`;
  document.body.dataset.live = liveMode;
}

function translateStatic() {
  document.documentElement.lang = lang();
  document.title = t('title');
  document.querySelectorAll('[data-i18n]').forEach((el) => (el.textContent = t(el.dataset.i18n)));
  document.getElementById('lang').textContent = lang() === 'fr' ? 'EN' : 'FR';
  showLive();
}

document.getElementById('lang').addEventListener('click', () => {
  setLang(lang() === 'fr' ? 'en' : 'fr');
  translateStatic();
  render();
});
window.addEventListener('hashchange', render);
window.addEventListener('resize', () => render());

try {
  config = await (await fetch('/dashboard/config.json')).json();
} catch {
  /* read-only */
}
translateStatic();
watchHeads(
  (n) => {
    head = n;
    refresh();
  },
  (mode) => {
    liveMode = mode;
    showLive();
  },
);
setInterval(() => route() === 'chain' && model.snapshot && chain.tick(view, ctx), 1000);
