// Small DOM helpers and the page's number formats; no state of its own.

export const $ = (sel, root) => (root || document).querySelector(sel);
const SVG_NS = "http://www.w3.org/2000/svg";

/** An HTML element: attributes (class, text, on<event>) and children (nodes or text). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** An SVG element with attributes and optional text. */
export function svgEl(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// gmnet's one number format for people (gmnet/display.py): one decimal, two below 1%;
// digits 0 for rounded reductions and axis ticks
export function pct(p, digits) {
  if (p === null || p === undefined || Number.isNaN(p)) return "–";
  if (digits === 0) return (100 * p).toFixed(0) + "%";
  if (p === 0) return "0%";
  if (Math.abs(p) < 5e-5) return p > 0 ? "<0.01%" : ">-0.01%";
  return (100 * p).toFixed(Math.abs(p) < 0.01 ? 2 : 1) + "%";
}

export function fmtNumber(x) {
  if (x === null || x === undefined) return "–";
  if (Math.abs(x) >= 1000 || (Math.abs(x) < 0.001 && x !== 0)) return x.toExponential(3);
  return String(Number(x.toPrecision(4)));
}

/** Cut an SVG text element (already in the document) to ``px`` pixels, with an ellipsis. */
export function clip(text, px) {
  const full = text.textContent;
  if (!text.getComputedTextLength || text.getComputedTextLength() <= px) return;
  let lo = 1, hi = full.length;
  while (lo < hi) {  // the longest prefix that fits
    const mid = Math.ceil((lo + hi) / 2);
    text.textContent = full.slice(0, mid) + "…";
    if (text.getComputedTextLength() <= px) lo = mid; else hi = mid - 1;
  }
  text.textContent = full.slice(0, lo).trimEnd() + "…";
}

/** The width to draw a chart at: its box's own width, so text keeps its size on a phone. */
export function chartWidth(box) {
  return Math.max(280, Math.min(900, Math.round(box.clientWidth || 720)));
}

/** A round upper end for an axis of probabilities. */
export function niceMax(x) {
  for (const s of [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.8, 1]) if (x <= s) return s;
  return 1;
}

/** Axis ticks at round percentages up to ``max``: [value, label], at most ``most`` of them. */
export function ticks(max, most = 6) {
  const steps = [0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5];
  const step = steps.find((st) => max / st <= most - 0.9999) || 0.5;
  const digits = Math.abs(step * 100 - Math.round(step * 100)) < 1e-9 ? 0 : 1;
  const out = [];
  for (let i = 0; i * step <= max + 1e-12; i++) out.push([i * step, pct(i * step, digits)]);
  return out;
}
