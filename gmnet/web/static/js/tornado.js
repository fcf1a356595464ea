// "Which numbers matter most": the one-way swings of POST /api/sensitivity as a tornado,
// each row's label on its own line above its bars so labels stay whole on a phone.
import { $, chartWidth, clip, el, fmtNumber, pct, svgEl } from "./util.js";
import { page } from "./state.js";
import { showInput } from "./sheet.js";

let last = null;
const pretty = (s) => s.replace(/_/g, " ");

/** A person's label for an uncertain input: the server's own if it gave one, else the
 * number's description (first sentence) led by the state it is for. */
export function inputLabel(row) {
  if (row.label && row.label !== row.name) return row.label;
  const p = page.desc && page.desc.parameters.find((x) => x.name === row.name);
  if (!p || !p.description) return row.name;
  const short = p.description.split(/\.\s/)[0].replace(/\.$/, "");
  const dot = row.name.indexOf(".");
  return dot > 0 ? pretty(row.name.slice(dot + 1)) + " · " + short : short;
}

function tornadoRows(r) {
  // every uncertain input that reaches the answer, widest swing first
  const rows = r.inputs.filter((row) => row.reaches_target && row.swing > 1e-12)
    .sort((a, b) => b.swing - a.swing).slice(0, 10)
    .map((row) => ({ name: row.name, label: inputLabel(row), low: row.output_low,
      high: row.output_high, swing: row.swing, row }));
  const seen = new Map();
  for (const row of rows) seen.set(row.label, (seen.get(row.label) || 0) + 1);
  for (const row of rows) if (seen.get(row.label) > 1) row.label += " (" + row.name + ")";
  return rows;
}

export function showTornado(r) {
  last = r;
  const rows = tornadoRows(r);
  const box = $("#sensitivity");
  if (!rows.length) {
    box.replaceChildren(el("p", { class: "muted", text: r.summary }));
    return;
  }
  const base = r.point;
  const W = chartWidth(box), left = 6, right = 62, rowH = 42, top = 4;
  const lo = Math.min(base, ...rows.map((x) => Math.min(x.low, x.high)));
  const hi = Math.max(base, ...rows.map((x) => Math.max(x.low, x.high)));
  const pad = (hi - lo) * 0.04 || 0.01;
  const x = (p) => left + (W - left - right) * (p - (lo - pad)) / ((hi + pad) - (lo - pad));
  const H = top + rows.length * rowH + 24;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "tornado-svg",
    role: "img", "aria-label": "tornado: the answer with each uncertain number at the ends of its range" });
  const labels = [];
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    const g = svgEl("g", { class: "param row-group", "data-param": row.name });
    g.append(svgEl("title", {}, row.label + " (" + row.name + "): " + pct(row.low, 1) +
      " at its low end (" + fmtNumber(row.row.low) + "), " + pct(row.high, 1) +
      " at its high end (" + fmtNumber(row.row.high) + ")"));
    g.append(svgEl("rect", { x: 0, y, width: W, height: rowH, class: "row-bg" }));
    const label = svgEl("text", { x: left, y: y + 15, class: "row-label" }, row.label);
    labels.push(label);
    g.append(label);
    const barY = y + 21, barH = 14;
    g.append(svgEl("rect", { x: Math.min(x(base), x(row.low)), y: barY,
      width: Math.max(1, Math.abs(x(row.low) - x(base))), height: barH, class: "t-low" }));
    g.append(svgEl("rect", { x: Math.min(x(base), x(row.high)), y: barY,
      width: Math.max(1, Math.abs(x(row.high) - x(base))), height: barH, class: "t-high" }));
    g.append(svgEl("text", { x: x(Math.max(row.low, row.high)) + 5, y: barY + barH - 3,
      class: "row-value" }, "±" + pct(row.swing / 2, 1)));
    g.append(svgEl("line", { x1: x(base), x2: x(base), y1: barY - 2, y2: barY + barH + 2,
      class: "base-line" }));
    g.addEventListener("click", () => showInput(row.row));
    svg.append(g);
  });
  const end = top + rows.length * rowH;
  const anchor = x(base) < 70 ? "start" : x(base) > W - 70 ? "end" : "middle";
  svg.append(svgEl("text", { x: x(base), y: end + 16, "text-anchor": anchor, class: "tick" },
    "point value " + pct(base, 1)));
  box.replaceChildren(el("p", { class: "summary", text: r.summary }), svg,
    el("p", { class: "legend" },
      el("span", { class: "key t-low-key" }), " number at the low end of its range ",
      el("span", { class: "key t-high-key" }), " at the high end · click a row for its source"));
  for (const label of labels) clip(label, W - left - 4); // whole unless wider than the chart
}

export const redrawTornado = () => { if (last) showTornado(last); };
