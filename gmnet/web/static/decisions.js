// gmnet's page, decisions card: the cost-risk frontier of every mitigation portfolio and the
// research ranking (EVPPI), on demand (POST /api/decisions/portfolios and /voi). It reads the
// page's situation (network, scenarios, worldview, context) from window.gmnetPage.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const SEED = 20240601;
  let roles = { network: null, skip: new Set() };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function pct(p) {
    if (p === null || p === undefined) return "–";
    return (100 * p).toFixed(Math.abs(p) < 0.01 && p !== 0 ? 2 : 1) + "%";
  }

  async function post(path, body) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json",
      Accept: "application/json" }, body: JSON.stringify(body) });
    const payload = await r.json().catch(() => null);
    if (!r.ok) throw new Error((payload && payload.error) || ("HTTP " + r.status));
    return payload;
  }

  // the decision sets every mitigation itself, and alarms lie downstream of the mitigations:
  // only context nodes go into the question
  async function skipped(network) {
    if (roles.network === network) return roles.skip;
    const r = await fetch("/api/networks/" + encodeURIComponent(network));
    const desc = await r.json();
    roles = { network, skip: new Set(desc.nodes.filter((n) => n.role === "mitigation" || n.role === "alarm")
      .map((n) => n.name)) };
    return roles.skip;
  }

  async function body() {
    const s = window.gmnetPage.state;
    const skip = await skipped(s.network);
    const keep = (o) => Object.fromEntries(Object.entries(o).filter(([k]) => !skip.has(k)));
    const out = { evidence: keep(s.evidence), do: keep(s.do), network: s.network, seed: SEED };
    if (s.scenario.length) out.scenario = [...s.scenario];
    if (s.worldview) out.worldview = s.worldview;
    const budget = $("#decisions-budget").value.trim();
    if (budget !== "") out.budget = Number(budget);
    return out;
  }

  function showFrontier(r) {
    const box = $("#decisions-frontier");
    const doc = new DOMParser().parseFromString(r.figure_svg, "image/svg+xml");
    const svg = document.importNode(doc.documentElement, true);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    const best = r.best;
    box.replaceChildren(svg, el("p", { class: "hint", id: "decisions-best",
      "data-p": String(best.p_harm) },
      "Best" + (r.budget === null ? "" : " within budget " + r.budget) + ": " +
      (best.mitigations.join(" + ") || "no mitigation") + " (cost " + best.cost + ", " +
      pct(best.p_harm) + (best.p_best === null ? "" : ", best in " + Math.round(100 * best.p_best) +
      "% of draws") + ")."), el("p", { class: "hint" }, r.caption));
  }

  function showRanking(r) {
    const rows = r.parameters.filter((p) => p.evppi > 0).slice(0, 8).map((p) =>
      el("tr", {}, el("td", {}, p.name), el("td", { class: "num" }, (100 * p.evppi).toFixed(3)),
        el("td", { class: "num" }, Math.round(100 * p.share_of_evpi) + "%"),
        el("td", {}, p.document_priority || "")));
    const head = el("tr", {}, ...["number or Critical Unknown", "EVPPI (points)", "of EVPI",
      "the document's research priority"].map((t) => el("th", {}, t)));
    const table = rows.length ? el("div", { class: "table-scroll" }, el("table", { id: "decisions-voi", class: "values-table" },
      el("thead", {}, head), el("tbody", {}, ...rows))) :
      el("p", { class: "muted" }, "No uncertain number changes the choice.");
    $("#decisions-ranking").replaceChildren(el("p", { class: "hint" },
      "What knowing each number would save on this choice (percentage points of P(harm)); " +
      "all of them together (EVPI): " + (100 * r.evpi).toFixed(3) + " points, " + r.samples +
      " draws."), table);
  }

  async function run() {
    const button = $("#decisions-run");
    button.disabled = true;
    $("#decisions-frontier").replaceChildren(el("p", { class: "muted" }, "computing…"));
    $("#decisions-ranking").replaceChildren();
    try {
      const b = await body();
      const [front, voi] = await Promise.all([
        post("/api/decisions/portfolios", { ...b, samples: 500, figure: true }),
        post("/api/decisions/voi", { ...b, samples: 2000 })]);
      showFrontier(front);
      showRanking(voi);
    } catch (err) {
      $("#decisions-frontier").replaceChildren(el("p", { class: "error" }, String(err.message)));
    } finally {
      button.disabled = false;
      document.body.dataset.decisions = String(Number(document.body.dataset.decisions || 0) + 1);
    }
  }

  window.addEventListener("DOMContentLoaded", () => {
    const button = $("#decisions-run");
    if (button) button.addEventListener("click", run);
  });
})();
