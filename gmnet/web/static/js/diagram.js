// The causal pathway diagram (SVG from the server): zoom that keeps the text legible, drag to
// pan, a node list where the server cannot draw, a placeholder where there is no answer.
import { $, el, pct } from "./util.js";
import { page } from "./state.js";
import { showInfo, showNode } from "./sheet.js";

export const LEGIBLE_PX = 10;   // the smallest text Fit allows, in CSS pixels
const FULL = 4 / 3;             // the server's points -> CSS pixels at full size
let mode = "fit";               // fit | whole | full | zoom
let scale = null;               // CSS pixels per SVG unit when mode is "zoom"
let focused = null;             // the target the view was last centred on

/** Show the server's SVG; centre the view on ``target`` when it is a new one. */
export function showDiagram(text, target) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName.toLowerCase() !== "svg") return;
  svg.querySelectorAll("script, foreignObject").forEach((n) => n.remove());
  const box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
  const width = box.length === 4 && box[2] > 0 ? box[2] : parseFloat(svg.getAttribute("width"));
  const sizes = [...svg.querySelectorAll("text")].map((t) => parseFloat(t.getAttribute("font-size")))
    .filter((x) => x > 0);
  svg.dataset.width = String(width);
  svg.dataset.minFont = String(sizes.length ? Math.min(...sizes) : 14);
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "causal pathway diagram with probabilities");
  const imported = document.importNode(svg, true);
  for (const g of imported.querySelectorAll("g.node")) {
    const title = g.querySelector("title");
    if (!title) continue;
    g.dataset.node = title.textContent.trim();
    g.setAttribute("tabindex", "0");
    g.classList.add("clickable");
  }
  $("#diagram").replaceChildren(imported);
  sizeDiagram();
  if (target !== focused) {
    focused = target;
    centreOn(target);
  }
}

/** Scroll the diagram's box so that node ``name`` is in the middle of the view. */
export function centreOn(name) {
  const box = $("#diagram");
  const g = box.querySelector('g.node[data-node="' + CSS.escape(name || "") + '"]');
  if (!g) return;
  const r = g.getBoundingClientRect(), b = box.getBoundingClientRect();
  box.scrollLeft += r.left - b.left - (box.clientWidth - r.width) / 2;
  box.scrollTop += r.top - b.top - (box.clientHeight - r.height) / 2;
}

/** CSS pixels per SVG unit for a mode, in the box of width ``room``. */
function scaleFor(svg, which, room) {
  const width = parseFloat(svg.dataset.width);
  const whole = room / width;
  if (which === "whole") return whole;
  if (which === "full") return FULL;
  if (which === "zoom") return scale;
  return Math.max(whole, LEGIBLE_PX / parseFloat(svg.dataset.minFont)); // fit: legible
}

/** Size the diagram for the box's width (after a resize: centred on the target again). */
export function resizeDiagram() {
  sizeDiagram();
  if (mode !== "whole") centreOn(focused);
}

export function sizeDiagram() {
  const svg = $("#diagram svg");
  if (!svg) return;
  const box = $("#diagram");
  const room = box.clientWidth - 2;
  const k = scaleFor(svg, mode, room);
  svg.style.width = Math.ceil(parseFloat(svg.dataset.width) * k) + "px";
  svg.style.maxWidth = "none";
  box.dataset.mode = mode;
  box.dataset.textPx = (k * parseFloat(svg.dataset.minFont)).toFixed(1);
  for (const b of document.querySelectorAll("#diagram-card .zoom [aria-pressed]")) {
    b.setAttribute("aria-pressed", String(b.dataset.zoom === mode));
  }
}

function zoomBy(factor) {
  const svg = $("#diagram svg");
  if (!svg) return;
  const box = $("#diagram");
  const room = box.clientWidth - 2;
  const before = scaleFor(svg, mode, room);
  const min = scaleFor(svg, "whole", room), max = FULL * 3;
  scale = Math.min(max, Math.max(min, before * factor));
  // keep the middle of the view where it was
  const cx = (box.scrollLeft + box.clientWidth / 2) / before;
  const cy = (box.scrollTop + box.clientHeight / 2) / before;
  mode = "zoom";
  sizeDiagram();
  box.scrollLeft = cx * scale - box.clientWidth / 2;
  box.scrollTop = cy * scale - box.clientHeight / 2;
}

export function showDiagramFallback(message) {
  const rows = [];
  if (page.marginals) {
    for (const n of page.desc.nodes) {
      const dist = page.marginals[n.name];
      rows.push(el("li", { "data-node": n.name, class: "clickable" },
        el("b", { text: n.label + ": " }),
        Object.entries(dist).map(([s, p]) => s + " " + pct(p, 1)).join(", ")));
    }
  }
  $("#diagram").replaceChildren(el("p", { class: "muted", text: message }),
    el("ul", { class: "marginals" }, rows));
}

/** No diagram for this question (it could not be answered): say so instead of "drawing…". */
export function showDiagramPlaceholder(text) {
  $("#diagram").replaceChildren(el("p", { class: "muted placeholder", text }));
}

// ------------------------------------------------------------------ wiring
export function wireDiagram() {
  const box = $("#diagram");
  for (const b of document.querySelectorAll("#diagram-card .zoom [data-zoom]")) {
    b.addEventListener("click", () => {
      const z = b.dataset.zoom;
      if (z === "in" || z === "out") { zoomBy(z === "in" ? 1.25 : 0.8); return; }
      mode = z;
      sizeDiagram();
      if (z !== "whole") centreOn(focused);
    });
  }
  $("#diagram-help").addEventListener("click", () => showInfo("diagram"));
  // drag to pan with a mouse (touch screens scroll the box natively)
  let drag = null, moved = false;
  box.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "mouse" || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, left: box.scrollLeft, top: box.scrollTop };
    moved = false;
  });
  window.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!moved && Math.hypot(dx, dy) < 5) return;
    moved = true;
    box.classList.add("dragging");
    box.scrollLeft = drag.left - dx;
    box.scrollTop = drag.top - dy;
  });
  window.addEventListener("pointerup", () => {
    drag = null;
    box.classList.remove("dragging");
  });
  box.addEventListener("click", (e) => {
    if (moved) { moved = false; return; } // the end of a drag is not a click
    const g = e.target.closest("g.node, li[data-node]");
    if (g) showNode(g.dataset.node);
  });
  document.addEventListener("keydown", (e) => {
    if ((e.key === "Enter" || e.key === " ") && e.target.closest && e.target.closest("#diagram g.node")) {
      e.preventDefault();
      showNode(e.target.closest("g.node").dataset.node);
    }
  });
}
