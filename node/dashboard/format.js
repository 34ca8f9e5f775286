// Units people read: energy in Wh / kWh / MWh, ether with a sensible number of decimals, the
// community rate as ether per kWh (the contract counts wei per Wh), ages, short addresses.

import { lang } from './i18n.js';

const WEI_PER_ETH = 10n ** 18n;

const number = (value, digits) =>
  new Intl.NumberFormat(lang(), { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);

/** Energy from Wh (BigInt or number): "850 Wh", "12.4 kWh", "3.21 MWh". */
export function energy(wh) {
  const value = Number(wh);
  const sign = value < 0 ? '−' : '';
  const abs = Math.abs(value);
  if (abs < 1000) return `${sign}${number(abs, 0)} Wh`;
  if (abs < 1e6) return `${sign}${number(abs / 1e3, abs < 1e4 ? 2 : 1)} kWh`;
  return `${sign}${number(abs / 1e6, 2)} MWh`;
}

/** Ether from wei (BigInt): up to 6 decimals, never rounded to zero when not zero. */
export function ether(wei) {
  const negative = wei < 0n;
  const abs = negative ? -wei : wei;
  const whole = abs / WEI_PER_ETH;
  const fraction = abs % WEI_PER_ETH;
  let digits = 6;
  let text = fraction.toString().padStart(18, '0').slice(0, digits);
  while (/^0+$/.test(text) && fraction > 0n && digits < 18) {
    digits += 3;
    text = fraction.toString().padStart(18, '0').slice(0, digits);
  }
  text = text.replace(/0+$/, '');
  const sep = number(1.5, 1).includes(',') ? ',' : '.';
  const wholeText = new Intl.NumberFormat(lang()).format(whole);
  return `${negative ? '−' : ''}${wholeText}${text ? sep + text : ''} ETH`;
}

/** The rate (wei per Wh) as ether per kWh, the "€/kWh" way energy prices are read. */
export function rate(weiPerWh) {
  return `${ether(weiPerWh * 1000n).replace(' ETH', '')} ETH/kWh`;
}

/** "12 s", "4 min", "3 h", "2 d". */
export function age(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

/** Local date and time of a unix time (s). */
export function time(unix) {
  return new Date(unix * 1000).toLocaleString(lang(), { dateStyle: 'short', timeStyle: 'short' });
}

/** Local hour and minute. */
export function clock(unix) {
  return new Date(unix * 1000).toLocaleTimeString(lang(), { hour: '2-digit', minute: '2-digit' });
}

/** 0x1234…abcd. */
export const short = (address) => `${address.slice(0, 6)}…${address.slice(-4)}`;

/** Escapes text for HTML. */
export function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
