// Charts with uPlot (vendored, pinned: vendor/uplot-1.6.32): created once per container and fed
// new data at each refresh, sized to their container (phones included).

import { clock } from './format.js';

const uPlot = globalThis.uPlot;
const charts = new WeakMap();

export const PRODUCTION = '#2e9d5b';
export const CONSUMPTION = '#e0662d';

const width = (el) => Math.max(260, el.clientWidth || 600);

function draw(el, options, data) {
  let chart = charts.get(el);
  const key = JSON.stringify(options.series.map((s) => s.label)) + document.documentElement.lang;
  if (chart && chart.key === key) {
    chart.plot.setData(data);
    if (chart.plot.width !== width(el)) chart.plot.setSize({ width: width(el), height: options.height });
    return;
  }
  if (chart) chart.plot.destroy();
  el.textContent = '';
  const plot = new uPlot({ ...options, width: width(el) }, data, el);
  charts.set(el, { plot, key });
}

const bars = (size) => uPlot.paths.bars({ size: [size, 60], align: 0 });
const timeAxis = { space: 80, values: (u, ticks) => ticks.map((v) => clock(v)) };
// Consumption is drawn below the axis: the labels say how much, without a sign.
const whAxis = {
  values: (u, ticks) => ticks.map((v) => (Math.abs(v) >= 1000 ? `${(Math.abs(v) / 1000).toFixed(1)} kWh` : `${Math.abs(v)} Wh`)),
  size: 64,
};

/** Production and consumption of one household, as bars per interval. */
export function householdChart(el, series, labels) {
  const xs = series.map((r) => r.intervalEnd);
  const step = xs.length > 1 ? xs[xs.length - 1] - xs[xs.length - 2] : 300;
  draw(el, {
    height: 220,
    scales: { x: { time: true, range: (u, min, max) => [min - step, max + step] } },
    series: [
      {},
      { label: labels.production, stroke: PRODUCTION, fill: PRODUCTION + 'aa', paths: bars(0.45), points: { show: false } },
      { label: labels.consumption, stroke: CONSUMPTION, fill: CONSUMPTION + 'aa', paths: bars(0.45), points: { show: false } },
    ],
    axes: [timeAxis, whAxis],
    legend: { show: false },
  }, [xs, series.map((r) => Number(r.produced)), series.map((r) => -Number(r.consumed))]);
  el.dataset.points = String(xs.length);
}

/** The community: its production (an area) and consumption (a line) per interval. */
export function communityChart(el, community, labels) {
  const { ends, produced, consumed } = community;
  draw(el, {
    height: 260,
    series: [
      {},
      { label: labels.production, stroke: PRODUCTION, fill: PRODUCTION + '55', points: { show: false } },
      { label: labels.consumption, stroke: CONSUMPTION, width: 2, points: { show: false } },
    ],
    axes: [timeAxis, whAxis],
    legend: { live: false },
  }, [ends, produced, consumed]);
  el.dataset.points = String(ends.length);
}

/** Production and consumption per day (dates YYYY-MM-DD), as bars. */
export function dailyChart(el, days, labels) {
  const xs = days.map((d) => Date.parse(`${d.date}T12:00:00Z`) / 1000);
  draw(el, {
    height: 220,
    scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] } },
    series: [
      {},
      { label: labels.production, stroke: PRODUCTION, fill: PRODUCTION + 'aa', paths: bars(0.45), points: { show: false } },
      { label: labels.consumption, stroke: CONSUMPTION, fill: CONSUMPTION + 'aa', paths: bars(0.45), points: { show: false } },
    ],
    axes: [{ space: 60, values: (u, ticks) => ticks.map((v) => new Date(v * 1000).toISOString().slice(5, 10)) }, whAxis],
    legend: { show: false },
  }, [xs, days.map((d) => Number(d.produced)), days.map((d) => -Number(d.consumed))]);
  el.dataset.points = String(xs.length);
}
