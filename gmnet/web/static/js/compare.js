// "Mitigations compared": P(target) with no mitigation, each alone, each layer and all
// (POST /api/compare), whiskers from paired draws, the current selection highlighted.
import { $, chartWidth, clip, el, niceMax, pct, svgEl, ticks } from "./util.js";
import { mitigationNames, state } from "./state.js";
import { showNode } from "./sheet.js";

let comparison = null;
const capital = (s) => s.replace(/^./, (c) => c.toUpperCase());

function labelOf(r, p) {
  if (p.kind === "none") return "No mitigation";
  if (p.kind === "all") return "All mitigations";
  if (p.kind === "mitigation") {
    const m = r.mitigations.find((x) => x.name === p.name);
    return m ? m.label : p.name;
  }
  if (p.kind === "layer") return capital(p.name) + " layer";
  return capital(p.name);
}

function layerOf(r, p) {
  if (p.kind === "mitigation") { const m = r.mitigations.find((x) => x.name === p.name); return m ? m.layer : ""; }
  return p.kind === "layer" ? p.name : "";
}

export function showCompare(r) {
  comparison = r;
  drawCompare();
}

export const redrawCompare = () => { if (comparison) drawCompare(); };
export const forgetCompare = () => { comparison = null; };

/** Instead of bars: why there is nothing to compare. */
export function explainCompare(text) {
  comparison = null;
  $("#compare").replaceChildren(el("p", { class: "muted compare-note", text }));
}

const activeMitigations = () => mitigationNames().filter((m) => state.do[m] === "on").sort();

function drawCompare() {
  const r = comparison;
  const box = $("#compare");
  const probabilities = r.portfolios.map((p) => p.probability);
  if (Math.max(...probabilities) - Math.min(...probabilities) < 1e-12) {
    explainCompare("Every portfolio gives P(" + r.target + "=" + r.state + ") = " +
      pct(probabilities[0]) + ": the mitigations do not change it in this question.");
    comparison = r;
    return;
  }
  const intervals = (r.uncertainty && r.uncertainty.portfolios) || {};
  const rows = r.portfolios.map((p) => ({ label: labelOf(r, p), p: p.probability,
    kind: p.kind, layer: layerOf(r, p), on: [...p.members].sort().join(","),
    reduction: p.relative_reduction, low: (intervals[p.name] || [])[0],
    high: (intervals[p.name] || [])[1] }));
  const now = activeMitigations().join(",");
  const observedMitigation = mitigationNames().some((m) => m in state.evidence || !(m in state.do));
  if (!observedMitigation && !rows.some((row) => row.on === now) && r.all_portfolios) {
    const mine = r.all_portfolios.find((x) => [...x.on].sort().join(",") === now);
    if (mine) {
      rows.push({ label: "Your selection (" + mine.on.length + ")", p: mine.probability, kind: "mine",
        layer: "", on: now, reduction: r.baseline > 0 ? (r.baseline - mine.probability) / r.baseline : null });
    }
  }
  // drawn at the card's own width, so the text keeps its size on a phone; on a narrow card
  // each label sits on its own line above its bar
  const W = chartWidth(box), narrow = W < 560;
  const labelW = narrow ? 6 : Math.min(250, Math.round(W * 0.36));
  const rowH = narrow ? 38 : 23, top = 4, right = narrow ? 64 : 110;
  const barY = narrow ? 19 : 4, barH = narrow ? 14 : 15;
  const H = top + rows.length * rowH + 24;
  const max = niceMax(Math.max(...rows.map((row) => Math.max(row.p, row.high || 0))) * 1.02 || 0.01);
  const x = (p) => labelW + (W - labelW - right) * Math.min(1, Math.max(0, p / max));
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "compare-svg",
    role: "img", "aria-label": "P(" + r.target + "=" + r.state + ") for each mitigation portfolio" });
  const labels = [];
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    const current = !observedMitigation && row.on === now;
    const g = svgEl("g", { class: "row-group kind-" + row.kind.replace(/ /g, "-") +
      (row.layer ? " layer-" + row.layer : "") + (current ? " current" : ""), "data-on": row.on,
      "data-kind": row.kind });
    g.append(svgEl("title", {}, row.label + ": P = " + pct(row.p) +
      (row.reduction ? ", " + pct(row.reduction, 1) + " less than with no mitigation" : "") +
      (row.low !== undefined ? "; 90% of draws " + pct(row.low, 1) + " – " + pct(row.high, 1) : "")));
    g.append(svgEl("rect", { x: 0, y, width: W, height: rowH, class: "row-bg" }));
    const label = svgEl("text", narrow ? { x: labelW, y: y + 14, class: "row-label" }
      : { x: labelW - 10, y: y + rowH / 2 + 4, "text-anchor": "end", class: "row-label" },
    (current ? "▸ " : "") + row.label);
    labels.push(label);
    g.append(label);
    g.append(svgEl("rect", { x: labelW, y: y + barY, width: Math.max(1.5, x(row.p) - labelW),
      height: barH, rx: 2, class: "bar" }));
    const mid = y + barY + barH / 2;
    if (row.low !== undefined) {
      g.append(svgEl("line", { x1: x(row.low), x2: x(row.high), y1: mid, y2: mid, class: "whisker" }));
      for (const v of [row.low, row.high]) {
        g.append(svgEl("line", { x1: x(v), x2: x(v), y1: mid - 4, y2: mid + 4, class: "whisker" }));
      }
    }
    const value = svgEl("text", { x: Math.max(x(row.p), row.high !== undefined ? x(row.high) : 0) + 6,
      y: mid + 4, class: "row-value", "data-value": String(row.p) });
    value.append(svgEl("tspan", { class: "v" }, pct(row.p, 1)));
    if (row.reduction && row.kind !== "none" && W >= 420) {
      value.append(svgEl("tspan", { class: "reduction", dx: "6" }, "−" + pct(row.reduction, 0)));
    }
    g.append(value);
    if (row.kind === "mitigation") {
      const name = row.on;
      g.classList.add("clickable");
      g.addEventListener("click", () => showNode(name));
    }
    svg.append(g);
  });
  const axisY = top + rows.length * rowH + 4;
  svg.append(svgEl("line", { x1: labelW, x2: W - right, y1: axisY, y2: axisY, class: "axis" }));
  for (const [p, label] of ticks(max, Math.max(3, Math.floor((W - labelW - right) / 55)))) {
    svg.append(svgEl("line", { x1: x(p), x2: x(p), y1: axisY, y2: axisY + 3, class: "axis" }));
    const anchor = x(p) < 16 ? "start" : x(p) > W - 16 ? "end" : "middle";
    svg.append(svgEl("text", { x: x(p), y: axisY + 14, "text-anchor": anchor, class: "tick" }, label));
  }
  box.replaceChildren(svg, valueTable(r));
  for (const label of labels) clip(label, narrow ? W - 12 : labelW - 14);
}

function reduction(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Math.abs(x) < 0.005 ? "≈0%" : "−" + pct(x, 0);
}

function valueTable(r) {
  const rows = r.mitigations.map((m) => el("tr", {},
    el("td", {}, el("a", { href: "#", text: m.label,
      onclick: (e) => { e.preventDefault(); showNode(m.name); } })),
    el("td", { class: "num", title: "relative reduction with this mitigation alone",
      text: reduction(m.alone_relative) }),
    el("td", { class: "num", title: "reduction of P in percentage points when added last, every other mitigation on",
      text: Math.abs(m.marginal) < 0.00005 ? "≈0" : "−" + (100 * m.marginal).toFixed(2) + " pt" }),
    el("td", { class: "num", title: "Shapley share of the all-on reduction", text: pct(m.shapley_share, 0) }),
    el("td", { class: "doc", text: m.document_reduction }),
    el("td", { class: "doc", text: m.cost })));
  return el("details", { class: "values" },
    el("summary", { text: "What each mitigation is worth (alone, added last, Shapley share)" }),
    el("div", { class: "table-scroll" }, el("table", { class: "params values-table" },
      el("thead", {}, el("tr", {}, el("th", { text: "mitigation" }), el("th", { text: "alone" }),
        el("th", { text: "added last" }), el("th", { text: "Shapley share" }),
        el("th", { text: "document: reduction" }), el("th", { text: "document: cost" }))),
      el("tbody", {}, rows))),
    el("p", { class: "hint", text: "All relative to P = " + pct(r.baseline) + " with no mitigation; " +
      "every mitigation on gives " + pct(r.all_on) + ". As adopted (the network's adoption rates): " +
      pct(r.as_adopted) + "." }));
}
