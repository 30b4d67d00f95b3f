// @ts-check
// A hand-drawn SVG line chart of daily counts: a few dozen lines, no chart library to ship.

const NS = "http://www.w3.org/2000/svg";

/** @param {string} tag @param {Record<string, string | number>} attrs @param {...(Element | string)} children */
function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(c);
  return el;
}

/** The top of the axis: 4 ticks of 1, 2 or 5 × 10^n each, at or above `n`. @param {number} n */
export function axisMax(n) {
  const step = Math.max(1, n / 4);
  const p = 10 ** Math.floor(Math.log10(step));
  const nice = [1, 2, 5, 10].map((m) => m * p).find((m) => m >= step) ?? 10 * p;
  return 4 * nice;
}

/**
 * Daily counts of a few series (joins, leaves, …) as an SVG line chart with a point per day; each
 * point names its day and value in a tooltip.
 * @param {string[]} days YYYY-MM-DD, one per point
 * @param {{ key: string, name: string, color: string, values: number[] }[]} series
 * @param {number} [width] px the chart may take (its box's width); the drawing is made that wide,
 *   so its 11 px labels stay 11 px on a phone instead of being scaled down with a 900-wide drawing
 * @param {(day: string) => string} [label] the axis label of a point (default: MM-DD of a YYYY-MM-DD day)
 * @param {number} [top] the axis' top when it is known (100 for percentages), else from the values
 * @returns {HTMLElement}
 */
export function dailyChart(days, series, width = 900, label = (d) => d.slice(5), top) {
  const W = Math.round(Math.min(900, Math.max(300, width)));
  const H = W < 600 ? 200 : 240;
  const pad = { l: 44, r: 14, t: 12, b: 30 };
  const max = top ?? axisMax(Math.max(0, ...series.flatMap((x) => x.values)));
  const innerW = W - pad.l - pad.r;
  const innerH = H - pad.t - pad.b;
  const x = (/** @type {number} */ i) => pad.l + (days.length <= 1 ? innerW / 2 : (i * innerW) / (days.length - 1));
  const y = (/** @type {number} */ v) => pad.t + innerH * (1 - v / max);

  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${series.map((x) => x.name).join(", ")} per day` });
  const grid = s("g", { class: "grid axis" });
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    grid.append(s("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v) }), s("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end" }, String(Math.round(v))));
  }
  // A "MM-DD" label is about 35 px wide at 11 px: one every 56 px of axis at most.
  const every = Math.max(1, Math.ceil(days.length / Math.max(2, Math.floor(innerW / 56))));
  days.forEach((d, i) => {
    const anchor = days.length > 1 && i === days.length - 1 ? "end" : i === 0 && days.length > 1 ? "start" : "middle"; // the edge labels stay inside
    const last = days.length - 1;
    // Every `every`-th day and the last one, but not a regular one so close to the last that they would overlap.
    if (i === last || (i % every === 0 && last - i >= every)) grid.append(s("text", { x: x(i), y: H - 8, "text-anchor": anchor }, label(d)));
  });
  svg.append(grid);

  for (const line of series) {
    const g = s("g", { class: "series", "data-series": line.key, stroke: line.color, fill: line.color });
    const points = line.values.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    if (line.values.length > 1) g.append(s("path", { d: points, fill: "none", "stroke-width": 2 }));
    line.values.forEach((v, i) => {
      g.append(s("circle", { cx: x(i), cy: y(v), r: 3.5, "data-day": days[i] ?? "", "data-value": v }, s("title", {}, `${days[i]}: ${v} ${line.name.toLowerCase()}`)));
    });
    svg.append(g);
  }

  const legend = document.createElement("div");
  legend.className = "legend";
  for (const line of series) {
    const item = document.createElement("span");
    item.style.color = line.color;
    item.textContent = line.name;
    legend.append(item);
  }
  const box = document.createElement("div");
  box.className = "chart card";
  box.append(svg, legend);
  return box;
}
