// Two small SVG charts, drawn here so the console needs nothing from elsewhere: horizontal bars
// (grouped or stacked) for categories and people, and grouped columns for weeks.

import { svg } from "./dom.js";

const BAR = 14;
const GAP = 10;
const LABEL_WIDTH = 240;
const WIDTH = 720;

/** Roughly how wide a label draws: a Chinese character takes about twice a Latin letter's room. */
function textWidth(text) {
  return [...String(text)].reduce((width, char) => width + (char.codePointAt(0) >= 0x2e80 ? 15 : 8), 0);
}

function legend(series, y = 12) {
  let x = LABEL_WIDTH;
  return series.map((one, index) => {
    const item = svg("g", { class: "legend-item" },
      svg("rect", { x, y: y - 10, width: 12, height: 12, class: `series-${one.tone ?? index}` }),
      svg("text", { x: x + 16, y }, one.label),
    );
    x += 24 + textWidth(one.label);
    return item;
  });
}

function clip(text, length = 34) {
  const value = String(text);
  return value.length > length ? `${value.slice(0, length - 1)}…` : value;
}

/**
 * rows: [{label, values: [number|null, …]}]; series: [{label, tone}]; values drawn against `max`
 * (default: the largest value or total), each labelled with `format(value)`.
 */
export function bars({ rows, series, stacked = false, max, format = String, title }) {
  const perRow = stacked ? BAR : BAR * series.length;
  const top = 26;
  const height = top + rows.length * (perRow + GAP) + 4;
  const largest = max ?? Math.max(1, ...rows.map((row) => (stacked
    ? row.values.reduce((sum, value) => sum + (value || 0), 0)
    : Math.max(0, ...row.values.map((value) => value || 0)))));
  const scale = (WIDTH - LABEL_WIDTH - 70) / largest;
  const chart = svg("svg", {
    class: "chart", viewBox: `0 0 ${WIDTH} ${height}`, width: WIDTH, height, role: "img", "aria-label": title,
  }, svg("title", {}, title), legend(series));
  rows.forEach((row, index) => {
    const y = top + index * (perRow + GAP);
    chart.append(svg("text", { x: LABEL_WIDTH - 8, y: y + perRow / 2 + 4, class: "label", "text-anchor": "end" },
      svg("title", {}, row.label), clip(row.label)));
    let x = LABEL_WIDTH;
    row.values.forEach((value, part) => {
      const length = Math.max((value || 0) * scale, value ? 1 : 0);
      const barY = stacked ? y : y + part * BAR;
      chart.append(svg("rect", {
        x, y: barY, width: length, height: BAR - 2, class: `series-${series[part].tone ?? part}`,
      }, svg("title", {}, `${row.label} · ${series[part].label}: ${format(value)}`)));
      if (!stacked) {
        chart.append(svg("text", { x: x + length + 4, y: barY + BAR - 4, class: "value" }, format(value)));
      } else {
        x += length;
      }
    });
    if (stacked) {
      const total = row.values.reduce((sum, value) => sum + (value || 0), 0);
      chart.append(svg("text", { x: x + 4, y: y + BAR - 4, class: "value" }, format(total)));
    }
  });
  return chart;
}

/** Grouped columns, one group per row (e.g. a week), for values between 0 and `max`. */
export function columns({ rows, series, max = 1, format = String, title }) {
  const height = 240;
  const top = 26;
  const bottom = 40;
  const left = 48;
  const group = Math.max(series.length * BAR + GAP * 2, 48);
  const width = Math.max(WIDTH, left + rows.length * group + 10);
  const plot = height - top - bottom;
  const chart = svg("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title,
  }, svg("title", {}, title), legend(series));
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plot - fraction * plot;
    chart.append(
      svg("line", { x1: left, x2: width - 4, y1: y, y2: y, class: "grid" }),
      svg("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "value" }, format(fraction * max)),
    );
  }
  rows.forEach((row, index) => {
    const x0 = left + index * group + GAP;
    row.values.forEach((value, part) => {
      const length = value === null || value === undefined ? 0 : (value / max) * plot;
      chart.append(svg("rect", {
        x: x0 + part * BAR, y: top + plot - length, width: BAR - 2, height: length,
        class: `series-${series[part].tone ?? part}`,
      }, svg("title", {}, `${row.label} · ${series[part].label}: ${format(value)}`)));
    });
    chart.append(svg("text", { x: x0, y: height - bottom + 16, class: "label" }, row.label));
  });
  return chart;
}
