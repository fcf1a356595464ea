// The uncertainty band under the headline: a histogram of the draws, the 50% and 90% bands,
// the point value and the median (POST /api/uncertainty).
import { $, el, niceMax, pct, svgEl, ticks } from "./util.js";

let last = null;

export function showBand(r) {
  last = r;
  const q = r.quantiles;
  const b = { point: r.point, median: r.median, q05: q["0.05"], q25: q["0.25"], q75: q["0.75"],
    q95: q["0.95"], histogram: r.histogram || null };
  const box = $("#band");
  // drawn at the box's width, so the axis keeps its 10px text on a phone
  const W = Math.max(160, Math.min(560, Math.round(box.clientWidth || 440))), left = 8, right = 14;
  const histTop = 2, histH = 30, bandY = 36, bandH = 16;
  const axisY = bandY + bandH + 8, H = axisY + 16;
  const top = Math.max(b.q95 || 0, b.point || 0, b.histogram ? b.histogram.edges.at(-1) : 0);
  const max = niceMax(top * 1.05 || 0.01);
  const x = (p) => left + (W - left - right) * Math.min(1, Math.max(0, p / max));
  const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, width: W, height: H, class: "band-svg",
    role: "img", "aria-label": "90 percent of draws between " + pct(b.q05, 1) + " and " + pct(b.q95, 1) });
  if (b.histogram) {
    const { counts, edges } = b.histogram;
    const most = Math.max(...counts) || 1;
    counts.forEach((c, i) => {
      if (!c) return;
      const x0 = x(edges[i]), x1 = x(edges[i + 1]);
      const h = histH * c / most;
      svg.append(svgEl("rect", { x: x0, y: histTop + histH - h, width: Math.max(0.6, x1 - x0 - 0.6),
        height: h, class: "hist" }));
    });
  }
  svg.append(svgEl("rect", { x: x(b.q05), y: bandY, width: Math.max(1, x(b.q95) - x(b.q05)),
    height: bandH, rx: 3, class: "band-outer" }));
  svg.append(svgEl("rect", { x: x(b.q25), y: bandY, width: Math.max(1, x(b.q75) - x(b.q25)),
    height: bandH, rx: 3, class: "band-inner" }));
  svg.append(svgEl("line", { x1: x(b.median), x2: x(b.median), y1: histTop + 4, y2: bandY + bandH + 2,
    class: "band-median" }));
  const px = x(b.point), py = bandY + bandH / 2;
  svg.append(svgEl("path", { d: `M${px} ${py - 7} L${px + 7} ${py} L${px} ${py + 7} L${px - 7} ${py} Z`,
    class: "band-point" }));
  svg.append(svgEl("line", { x1: left, x2: W - right, y1: axisY, y2: axisY, class: "axis" }));
  const marks = ticks(max, Math.max(3, Math.floor(W / 55)));
  marks.forEach(([p, label], i) => {
    svg.append(svgEl("line", { x1: x(p), x2: x(p), y1: axisY - 3, y2: axisY + 2, class: "axis" }));
    svg.append(svgEl("text", { x: x(p), y: axisY + 13, class: "tick",
      "text-anchor": i === 0 ? "start" : x(p) > W - right - 12 ? "end" : "middle" }, label));
  });
  box.replaceChildren(svg);
  const text = $("#band-text");
  text.replaceChildren(
    el("span", { class: "band-range", "data-low": String(b.q05), "data-high": String(b.q95) },
      "90% band ", el("b", { id: "band-low", text: pct(b.q05, 1) }), " – ",
      el("b", { id: "band-high", text: pct(b.q95, 1) })),
    el("span", { class: "muted", text: " · median " + pct(b.median, 1) + " · " +
      r.samples.toLocaleString("en") + " draws of " + r.inputs.length + " uncertain numbers" }));
  text.title = r.summary || "";
}

export const redrawBand = () => { if (last) showBand(last); };
