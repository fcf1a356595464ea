// gmnet's page: controls -> JSON API -> diagram, P(target) with its band, mitigation chart.
// Plain JavaScript, no build step, nothing fetched from anywhere but this server.
// The page's state lives in the URL's query string, so a view can be shared as a link.
"use strict";

(function () {
  const $ = (sel, root) => (root || document).querySelector(sel);
  const SVG_NS = "http://www.w3.org/2000/svg";
  const BAND_SAMPLES = 2000;
  const BAND_SEED = 20240601;
  const COMPARE_SAMPLES = 1000;
  const LAYERS = ["prevention", "detection", "response"];

  // ------------------------------------------------------------------ state
  const state = {
    network: null, target: null, targetState: null,
    scenario: [], worldview: null, evidence: {}, do: {}, context: "baseline",
  };
  let desc = null;            // the network's description (GET /api/networks/{name})
  let catalogue = { scenarios: [], worldviews: [] };
  let marginals = null;       // every node's distribution under the current question
  let seq = 0;                // guards against answers to stale questions
  let inflight = [];
  let lastCompareKey = null;
  let timer = null;
  let lastTornado = null;     // the last sensitivity answer (redrawn when the width changes)

  const nodeOf = (name) => desc && desc.nodes.find((n) => n.name === name);
  const nodesWithRole = (role) => (desc ? desc.nodes.filter((n) => n.role === role) : []);
  const mitigationNames = () => nodesWithRole("mitigation").map((n) => n.name);

  // ------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
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

  function svgEl(tag, attrs, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // gmnet's one number format (gmnet/display.py): one decimal, two below 1%; digits 0 for
  // the rounded reductions on the chart
  function pct(p, digits) {
    if (p === null || p === undefined || Number.isNaN(p)) return "–";
    if (digits === 0) return (100 * p).toFixed(0) + "%";
    if (p === 0) return "0%";
    if (Math.abs(p) < 5e-5) return p > 0 ? "<0.01%" : ">-0.01%";
    return (100 * p).toFixed(Math.abs(p) < 0.01 ? 2 : 1) + "%";
  }

  function fmtNumber(x) {
    if (x === null || x === undefined) return "–";
    if (Math.abs(x) >= 1000 || (Math.abs(x) < 0.001 && x !== 0)) return x.toExponential(3);
    return String(Number(x.toPrecision(4)));
  }

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || ("HTTP " + status));
      this.status = status;
      this.field = body && body.field;
    }
  }

  async function call(method, path, body, signal, as) {
    const init = { method, signal, headers: { Accept: as === "text" ? "image/svg+xml" : "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (!response.ok) {
      let payload = null;
      try { payload = await response.json(); } catch (e) { payload = null; }
      throw new ApiError(response.status, payload);
    }
    return as === "text" ? response.text() : response.json();
  }

  // ------------------------------------------------------------------ URL <-> state
  function readURL() {
    const q = new URLSearchParams(window.location.search);
    state.network = q.get("network");
    state.target = q.get("target");
    state.targetState = q.get("state");
    state.scenario = q.getAll("scenario").flatMap((s) => s.split(",")).filter(Boolean);
    state.worldview = q.get("worldview") || null;
    state.context = q.get("context") === "prior" ? "prior" : "baseline";
    state.evidence = {};
    state.do = {};
    for (const [key, value] of q.entries()) {
      if (key.startsWith("e.")) state.evidence[key.slice(2)] = value;
      else if (key.startsWith("do.")) state.do[key.slice(3)] = value;
    }
  }

  function writeURL() {
    const q = new URLSearchParams();
    if (state.network && desc && state.network !== defaultNetwork) q.set("network", state.network);
    if (desc && state.target && state.target !== desc.default_target) q.set("target", state.target);
    if (desc && state.targetState && !(state.target === desc.default_target
        && state.targetState === desc.default_state)) q.set("state", state.targetState);
    for (const s of state.scenario) q.append("scenario", s);
    if (state.worldview) q.set("worldview", state.worldview);
    if (state.context !== "baseline") q.set("context", state.context);
    for (const [k, v] of Object.entries(state.evidence)) q.set("e." + k, v);
    const mitigations = new Set(mitigationNames());
    for (const [k, v] of Object.entries(state.do)) {
      if (mitigations.has(k) && v === "off") continue; // off is the default for a mitigation
      q.set("do." + k, v);
    }
    const text = q.toString();
    history.replaceState(null, "", text ? "?" + text : window.location.pathname);
  }

  // mitigations the URL does not switch on are switched off: do(m=off)
  function normaliseMitigations() {
    for (const m of mitigationNames()) {
      if (!(m in state.do) && !(m in state.evidence)) state.do[m] = "off";
    }
  }

  function situation() {
    const body = { evidence: { ...state.evidence }, do: { ...state.do }, context: state.context };
    if (state.network) body.network = state.network;
    if (state.scenario.length) body.scenario = [...state.scenario];
    if (state.worldview) body.worldview = state.worldview;
    return body;
  }

  function question() {
    return { ...situation(), target: state.target, state: state.targetState };
  }

  // ------------------------------------------------------------------ controls
  let defaultNetwork = null;

  function buildControls() {
    $("#title").textContent = desc.title;
    document.title = "gmnet: " + desc.title;
    buildTarget();
    buildScenarios();
    buildWorldviews();
    buildContext();
    buildMitigations();
    buildObservations();
    $("#context-policy").value = state.context;
  }

  function buildTarget() {
    const target = $("#target");
    target.replaceChildren(...desc.nodes.map((n) => el("option", { value: n.name, text: n.label })));
    if (!state.target || !nodeOf(state.target)) state.target = desc.default_target;
    target.value = state.target;
    fillTargetStates();
  }

  function fillTargetStates() {
    const node = nodeOf(state.target);
    const select = $("#target-state");
    select.replaceChildren(...node.states.map((s) => el("option", { value: s, text: s })));
    if (!state.targetState || !node.states.includes(state.targetState)) {
      state.targetState = node.name === desc.default_target ? desc.default_state
        : (node.states.includes("yes") ? "yes" : node.states[0]);
    }
    select.value = state.targetState;
  }

  function buildScenarios() {
    const box = $("#scenarios");
    const list = catalogue.scenarios;
    if (!list.length) {
      $("#scenario-field").hidden = true;
      return;
    }
    $("#scenario-field").hidden = false;
    const groups = new Map();
    for (const s of list) {
      const kind = s.kind || "scenario";
      if (!groups.has(kind)) groups.set(kind, []);
      groups.get(kind).push(s);
    }
    const blocks = [];
    for (const [kind, items] of groups) {
      const id = "scenario-" + kind.replace(/[^A-Za-z0-9_-]/g, "_");
      const select = el("select", { id, "data-kind": kind, "aria-label": kind },
        el("option", { value: "", text: "—" }),
        items.map((s) => el("option", { value: s.name, title: s.description || "",
          text: s.label || s.name })));
      const chosen = items.find((s) => state.scenario.includes(s.name));
      select.value = chosen ? chosen.name : "";
      select.addEventListener("change", () => {
        const names = new Set(items.map((s) => s.name));
        state.scenario = state.scenario.filter((n) => !names.has(n));
        if (select.value) state.scenario.push(select.value);
        describeScenarios();
        changed();
      });
      blocks.push(el("label", { class: "scenario-kind", for: id },
        el("span", { text: kindLabel(kind) }), select));
    }
    box.replaceChildren(...blocks, el("div", { id: "scenario-note", class: "hint" }));
    describeScenarios();
  }

  function describeScenarios() {
    const note = $("#scenario-note");
    if (!note) return;
    const chosen = catalogue.scenarios.filter((s) => state.scenario.includes(s.name));
    note.replaceChildren(...chosen.map((s) => el("p", { class: "scenario-summary" },
      el("b", { text: (s.label || s.name) + ": " }), s.summary || s.description || "",
      s.source ? el("span", { class: "source", text: " (" + s.source + ")" }) : null)));
  }

  function kindLabel(kind) {
    const labels = { domain: "Application domain", period: "Period", shift: "Example shift",
      example_shift: "Example shift", scenario: "Scenario" };
    return labels[kind] || kind.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
  }

  function buildWorldviews() {
    const select = $("#worldview");
    const list = catalogue.worldviews;
    const fallback = catalogue.defaultWorldview;
    $("#worldview-field").hidden = !list.length;
    const options = list.map((w) => el("option", { value: w.name === fallback ? "" : w.name,
      text: w.label || w.name, title: w.description || "" }));
    if (!fallback) options.unshift(el("option", { value: "", text: "the network's own numbers" }));
    select.replaceChildren(...options);
    if (state.worldview === fallback) state.worldview = null;
    select.value = state.worldview || "";
    describeWorldview();
  }

  function describeWorldview() {
    const w = catalogue.worldviews.find((x) => x.name === (state.worldview || catalogue.defaultWorldview));
    $("#worldview-note").textContent = w ? (w.description || "") : "";
  }

  function modeOf(name) {
    if (name in state.do) return "do";
    if (name in state.evidence) return "observe";
    return null;
  }

  function buildContext() {
    const box = $("#context");
    const nodes = nodesWithRole("context");
    const list = nodes.length ? nodes : desc.nodes.filter((n) => !n.parents.length);
    $("#panel-context").hidden = !list.length;
    box.replaceChildren(...list.map(contextRow));
  }

  function contextRow(node) {
    const id = "ctx-" + node.name;
    const current = state.do[node.name] || state.evidence[node.name] || "";
    const select = el("select", { id, "data-node": node.name },
      el("option", { value: "", text: openLabel(node) }),
      node.states.map((s) => el("option", { value: s, text: s.replace(/_/g, " ") })));
    select.value = current;
    const mode = modeOf(node.name) || "do";
    const group = el("div", { class: "seg", role: "group", "aria-label": node.label + ": observe or set" });
    for (const [value, text, tip] of [["observe", "observe", "condition on it: P(… | x)"],
      ["do", "set", "intervene: P(… | do(x))"]]) {
      group.append(el("button", { type: "button", class: "seg-btn", "data-mode": value,
        "aria-pressed": String(mode === value), title: tip, text,
        onclick: () => {
          group.querySelectorAll(".seg-btn").forEach((b) =>
            b.setAttribute("aria-pressed", String(b.dataset.mode === value)));
          setContext(node.name, select.value, value);
        } }));
    }
    select.addEventListener("change", () => {
      const chosen = group.querySelector('[aria-pressed="true"]');
      setContext(node.name, select.value, chosen ? chosen.dataset.mode : "do");
    });
    return el("div", { class: "ctx", "data-node": node.name },
      el("div", { class: "ctx-head" },
        el("label", { for: id, text: node.label }),
        infoButton(node.name)),
      el("div", { class: "row" }, select, group));
  }

  // what a context node the question leaves open does: held at the baseline, or its prior
  function openLabel(node) {
    const neutral = (desc && desc.neutral_context) || {};
    if (state.context === "baseline" && neutral[node.name]) {
      return "— baseline: " + neutral[node.name].replace(/_/g, " ") + " —";
    }
    return "— prior —";
  }

  function setContext(name, value, mode) {
    delete state.evidence[name];
    delete state.do[name];
    if (value) (mode === "observe" ? state.evidence : state.do)[name] = value;
    changed();
  }

  function infoButton(name) {
    return el("button", { type: "button", class: "info", "data-node": name,
      "aria-label": "numbers and sources of " + name, text: "i",
      onclick: () => showNode(name) });
  }

  function buildMitigations() {
    const box = $("#mitigations");
    const nodes = nodesWithRole("mitigation");
    $("#panel-mitigations").hidden = !nodes.length;
    const byLayer = new Map();
    for (const n of nodes) {
      const layer = LAYERS.includes(n.phase) ? n.phase : "other";
      if (!byLayer.has(layer)) byLayer.set(layer, []);
      byLayer.get(layer).push(n);
    }
    const blocks = [];
    for (const layer of [...LAYERS, "other"]) {
      if (!byLayer.has(layer)) continue;
      blocks.push(el("div", { class: "layer layer-" + layer },
        el("p", { class: "layer-name", text: layer === "other" ? "other" : layer + " layer" }),
        byLayer.get(layer).map(mitigationRow)));
    }
    box.replaceChildren(...blocks);
  }

  function mitigationRow(node) {
    const id = "mit-" + node.name;
    const on = state.do[node.name] === "on";
    const input = el("input", { type: "checkbox", id, role: "switch", "data-node": node.name,
      checked: on, "aria-checked": String(on) });
    input.addEventListener("change", () => {
      input.setAttribute("aria-checked", String(input.checked));
      delete state.evidence[node.name];
      state.do[node.name] = input.checked ? "on" : "off";
      changed();
    });
    return el("div", { class: "mit" },
      el("label", { class: "switch", for: id }, input, el("span", { class: "track" }),
        el("span", { class: "mit-label", text: node.label })),
      infoButton(node.name));
  }

  function buildObservations() {
    const nodes = nodesWithRole("alarm");
    $("#panel-observations").hidden = !nodes.length;
    $("#observations").replaceChildren(...nodes.map((node) => {
      const id = "obs-" + node.name;
      const select = el("select", { id, "data-node": node.name },
        el("option", { value: "", text: "— not observed —" }),
        node.states.map((s) => el("option", { value: s, text: s })));
      select.value = state.evidence[node.name] || "";
      select.addEventListener("change", () => {
        delete state.evidence[node.name];
        delete state.do[node.name];
        if (select.value) state.evidence[node.name] = select.value;
        changed();
      });
      return el("div", { class: "ctx" },
        el("div", { class: "ctx-head" }, el("label", { for: id, text: node.label }),
          infoButton(node.name)),
        select);
    }));
  }

  function syncControls() {
    // after a programmatic change (buttons): make the controls show the state
    $("#context-policy").value = state.context;
    for (const select of document.querySelectorAll("#context select")) {
      const name = select.dataset.node;
      select.value = state.do[name] || state.evidence[name] || "";
      const mode = modeOf(name);
      if (mode) {
        select.parentElement.querySelectorAll(".seg-btn").forEach((b) =>
          b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
      }
    }
    for (const input of document.querySelectorAll("#mitigations input")) {
      input.checked = state.do[input.dataset.node] === "on";
      input.setAttribute("aria-checked", String(input.checked));
    }
    for (const select of document.querySelectorAll("#observations select")) {
      select.value = state.evidence[select.dataset.node] || "";
    }
  }

  // ------------------------------------------------------------------ refreshing
  function changed() {
    writeURL();
    clearTimeout(timer);
    timer = setTimeout(refresh, 120);
  }

  function compareKey() {
    return JSON.stringify(compareBody());
  }

  // the numbers and sources shown on click follow the worldview and scenarios in use
  let descKey = "";

  async function refreshDescription(signal) {
    const key = JSON.stringify([state.worldview, state.scenario]);
    if (key === descKey) return;
    const q = new URLSearchParams();
    if (state.worldview) q.set("worldview", state.worldview);
    for (const s of state.scenario) q.append("scenario", s);
    const fresh = await call("GET", "/api/networks/" + encodeURIComponent(state.network) + "?" + q, undefined, signal);
    desc.parameters = fresh.parameters;
    for (const n of fresh.nodes) {
      const mine = nodeOf(n.name);
      if (mine) { mine.source = n.source; mine.parameters = n.parameters; }
    }
    descKey = key;
  }

  async function refresh() {
    const my = ++seq;
    for (const c of inflight) c.abort();
    inflight = [];
    const controller = () => { const c = new AbortController(); inflight.push(c); return c.signal; };
    document.body.classList.add("busy");
    showError(null);
    const q = question();
    const label = "P(" + state.target + " = " + state.targetState + ")";
    $("#p-label").textContent = label;

    const jobs = [];
    jobs.push(refreshDescription(controller()));
    jobs.push(call("POST", "/api/query", q, controller()).then((r) => {
      if (my !== seq) return;
      const out = $("#p-value");
      out.textContent = pct(r.probability);
      out.dataset.value = String(r.probability);
      const text = $("#query-text");
      text.textContent = compactQuery(r);
      text.title = r.query;
      text.dataset.query = r.query;
      $("#assumptions").replaceChildren(...(r.assumptions || []).map((a) => el("li", { text: a })));
    }));
    jobs.push(call("POST", "/api/marginals", situation(), controller()).then((r) => {
      if (my !== seq) return;
      marginals = r.marginals;
    }));
    jobs.push(call("POST", "/api/diagram", { ...q, title: compactQuery(null) }, controller(), "text").then((svg) => {
      if (my !== seq) return;
      showDiagram(svg);
    }, (err) => {
      if (my !== seq || err.name === "AbortError") throw err;
      if (err.status === 503) { showDiagramFallback(err.message); return; }
      throw err;
    }));
    jobs.push(call("POST", "/api/uncertainty", { ...q, samples: BAND_SAMPLES, seed: BAND_SEED, bins: 40 },
      controller()).then((r) => { if (my === seq) showBand(r); },
      (err) => { if (my === seq) unavailable("#band", err); }));
    jobs.push(call("POST", "/api/sensitivity", { ...q, method: "tornado" }, controller())
      .then((r) => { if (my === seq) showTornado(r); },
        (err) => { if (my === seq) unavailable("#sensitivity", err); }));
    const key = compareKey();
    if (key !== lastCompareKey && mitigationNames().length) {
      jobs.push(call("POST", "/api/compare", compareBody(), controller()).then((r) => {
        if (my !== seq) return;
        lastCompareKey = key;
        showCompare(r);
      }, (err) => { if (my === seq) unavailable("#compare", err); }));
    } else if (lastCompareKey !== null) {
      highlightCompare();
    }
    $("#compare-card").hidden = !mitigationNames().length;

    const results = await Promise.allSettled(jobs);
    if (my !== seq) return;
    document.body.classList.remove("busy");
    const failed = results.find((r) => r.status === "rejected" && r.reason.name !== "AbortError");
    if (failed) {
      showError(failed.reason);
      $("#p-value").textContent = "–";
      $("#p-value").dataset.value = "";
    }
    document.body.dataset.ready = "true";
    document.body.dataset.seq = String(my);
  }

  // the question in query syntax, with the mitigations summarised (the full text is the tooltip)
  function compactQuery(r) {
    const mitigations = mitigationNames();
    const isMitigation = new Set(mitigations);
    const evidence = r ? r.evidence : state.evidence;
    const parts = Object.entries(evidence).filter(([k]) => !isMitigation.has(k))
      .map(([k, v]) => k + "=" + v);
    const dos = Object.entries(state.do).filter(([k]) => !isMitigation.has(k)).map(([k, v]) => k + "=" + v);
    const on = mitigations.filter((m) => state.do[m] === "on");
    const off = mitigations.filter((m) => state.do[m] === "off");
    for (const m of mitigations) if (m in evidence) parts.push(m + "=" + evidence[m]);
    if (on.length && !off.length) dos.push("every mitigation on");
    else {
      dos.push(...on.map((m) => m + "=on"));
      if (off.length) dos.push(on.length ? "other mitigations off" : "every mitigation off");
    }
    if (dos.length) parts.push("do(" + dos.join(", ") + ")");
    let text = "P(" + state.target + "=" + state.targetState + (parts.length ? " | " + parts.join(", ") : "") + ")";
    const extra = [];
    if (state.scenario.length) extra.push("scenario " + state.scenario.join(" + "));
    if (state.worldview) extra.push("worldview " + state.worldview);
    if (extra.length) text += "  ·  " + extra.join(", ");
    return text;
  }

  function unavailable(selector, err) {
    if (err && err.name === "AbortError") return;
    $(selector).replaceChildren(el("p", { class: "muted",
      text: err && err.status === 404 && !err.field ? "not available on this server"
        : "could not compute: " + (err ? err.message : "") }));
  }

  function showError(err) {
    const box = $("#error");
    document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
    if (!err) { box.hidden = true; box.textContent = ""; return; }
    box.hidden = false;
    box.textContent = err.message + (err.field ? " (" + err.field + ")" : "");
    if (err.field) {
      const name = err.field.split(".").slice(1).join(".") || err.field;
      const control = document.querySelector('[data-node="' + CSS.escape(name) + '"]');
      if (control) control.classList.add("invalid");
    }
  }

  // ------------------------------------------------------------------ the diagram
  function showDiagram(text) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const svg = doc.documentElement;
    if (!svg || svg.nodeName.toLowerCase() !== "svg") return;
    svg.querySelectorAll("script, foreignObject").forEach((n) => n.remove());
    const width = parseFloat(svg.getAttribute("width"));
    const height = parseFloat(svg.getAttribute("height"));
    svg.dataset.width = String(width);
    svg.dataset.height = String(height);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "causal pathway diagram with probabilities");
    const imported = document.importNode(svg, true);
    for (const g of imported.querySelectorAll("g.node")) {
      const title = g.querySelector("title");
      if (!title) continue;
      const name = title.textContent.trim();
      g.dataset.node = name;
      g.setAttribute("tabindex", "0");
      g.classList.add("clickable");
    }
    const box = $("#diagram");
    box.replaceChildren(imported);
    sizeDiagram();
  }

  function sizeDiagram() {
    const svg = $("#diagram svg");
    if (!svg) return;
    const full = $("#diagram").classList.contains("full");
    // points -> CSS pixels at full size; fit mode scales to the card's width
    svg.style.width = full ? (parseFloat(svg.dataset.width) * 4 / 3) + "px" : "";
  }

  function showDiagramFallback(message) {
    const rows = [];
    if (marginals) {
      for (const n of desc.nodes) {
        const dist = marginals[n.name];
        rows.push(el("li", { "data-node": n.name, class: "clickable" },
          el("b", { text: n.label + ": " }),
          Object.entries(dist).map(([s, p]) => s + " " + pct(p, 1)).join(", ")));
      }
    }
    $("#diagram").replaceChildren(el("p", { class: "muted", text: message }),
      el("ul", { class: "marginals" }, rows));
  }

  // ------------------------------------------------------------------ the band
  function bandOf(r) {
    // the uncertainty result (POST /api/uncertainty): quantiles of P(target=state) over draws
    const q = r.quantiles;
    return { point: r.point, mean: r.mean, median: r.median, q05: q["0.05"], q25: q["0.25"],
      q75: q["0.75"], q95: q["0.95"], samples: r.samples, seed: r.seed,
      histogram: r.histogram || null, summary: r.summary, inputs: r.inputs.length };
  }

  // axis ticks at round percentages: [value, label] up to ``max``
  function ticks(max) {
    const steps = [0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25];
    const step = steps.find((st) => max / st <= 5.0001) || 0.25;
    const digits = Math.abs(step * 100 - Math.round(step * 100)) < 1e-9 ? 0 : 1;
    const out = [];
    for (let i = 0; i * step <= max + 1e-12; i++) out.push([i * step, pct(i * step, digits)]);
    return out;
  }

  function niceMax(x) {
    const steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.6, 0.8, 1];
    for (const s of steps) if (x <= s) return s;
    return 1;
  }

  function showBand(r) {
    const b = bandOf(r);
    const box = $("#band");
    // a histogram of the draws above, the 50% and 90% bands below it, then the axis
    const W = 440, left = 8, right = 12, histTop = 2, histH = 30, bandY = 36, bandH = 16;
    const axisY = bandY + bandH + 8, H = axisY + 16;
    const max = niceMax(Math.max(b.q95 || 0, b.point || 0, (b.histogram ? b.histogram.edges.at(-1) : 0)) * 1.05 || 0.01);
    const x = (p) => left + (W - left - right) * Math.min(1, Math.max(0, p / max));
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, class: "band-svg", role: "img",
      "aria-label": "90 percent of draws between " + pct(b.q05, 1) + " and " + pct(b.q95, 1) });
    if (b.histogram) {
      const counts = b.histogram.counts, edges = b.histogram.edges;
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
    const marks = ticks(max);
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
      el("span", { class: "muted", text: " · median " + pct(b.median, 1) +
        " · " + b.samples.toLocaleString("en") + " draws of " + b.inputs + " uncertain numbers" }));
    text.title = b.summary || "";
  }

  // ------------------------------------------------------------------ the mitigation chart
  let comparison = null;

  function portfolioLabel(p) {
    if (p.kind === "none") return "No mitigation";
    if (p.kind === "all") return "All mitigations";
    if (p.kind === "mitigation") { const n = nodeOf(p.name); return n ? n.label : p.name; }
    if (p.kind === "layer") return p.name.replace(/^./, (c) => c.toUpperCase()) + " layer";
    if (p.kind === "layer pair") return p.name.replace(/^./, (c) => c.toUpperCase());
    return p.name;
  }

  function layerOf(p) {
    if (p.kind === "mitigation") { const n = nodeOf(p.name); return n ? n.phase : ""; }
    if (p.kind === "layer") return p.name;
    return "";
  }

  function compareBody() {
    // the context only: compare sets every mitigation itself, and observations downstream of
    // the mitigations (alarms) would not compare like with like
    const isContext = new Set(desc.nodes.filter((n) => n.role !== "mitigation" && n.role !== "alarm")
      .map((n) => n.name));
    const body = situation();
    body.evidence = Object.fromEntries(Object.entries(body.evidence).filter(([k]) => isContext.has(k)));
    body.do = Object.fromEntries(Object.entries(body.do).filter(([k]) => isContext.has(k)));
    return { ...body, target: state.target, state: state.targetState, context: state.context,
      all_portfolios: true, samples: COMPARE_SAMPLES, seed: BAND_SEED };
  }

  function showCompare(r) {
    comparison = r;
    drawCompare();
  }

  function activeMitigations() {
    return mitigationNames().filter((m) => state.do[m] === "on").sort();
  }

  function highlightCompare() {
    if (comparison) drawCompare();
  }

  function drawCompare() {
    const r = comparison;
    const box = $("#compare");
    const intervals = (r.uncertainty && r.uncertainty.portfolios) || {};
    const rows = r.portfolios.map((p) => ({ label: portfolioLabel(p), p: p.probability,
      kind: p.kind, layer: layerOf(p), on: [...p.members].sort().join(","),
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
    // drawn at the card's own width, so the text keeps its size on a phone
    const W = chartWidth(box), labelW = Math.min(250, Math.round(W * 0.4));
    const rowH = 23, top = 4, right = W < 500 ? 78 : 110;
    const H = top + rows.length * rowH + 24;
    const max = niceMax(Math.max(...rows.map((row) => Math.max(row.p, row.high || 0))) * 1.02 || 0.01);
    const x = (p) => labelW + (W - labelW - right) * Math.min(1, Math.max(0, p / max));
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "compare-svg", role: "img",
      "aria-label": "P(" + r.target + "=" + r.state + ") for each mitigation portfolio" });
    rows.forEach((row, i) => {
      const y = top + i * rowH;
      const current = !observedMitigation && row.on === now;
      const g = svgEl("g", { class: "row-group kind-" + row.kind.replace(/ /g, "-") +
        (row.layer ? " layer-" + row.layer : "") + (current ? " current" : ""), "data-on": row.on,
        "data-kind": row.kind });
      g.append(svgEl("title", {}, row.label + ": P = " + pct(row.p) +
        (row.reduction ? ", " + pct(row.reduction, 1) + " less than with no mitigation" : "") +
        (row.low !== undefined ? "; 90% of draws " + pct(row.low, 1) + " – " + pct(row.high, 1) : "")));
      g.append(svgEl("rect", { x: 0, y: y, width: W, height: rowH, class: "row-bg" }));
      g.append(svgEl("text", { x: labelW - 10, y: y + rowH / 2 + 4, "text-anchor": "end",
        class: "row-label" }, fit((current ? "▸ " : "") + row.label, labelW - 12)));
      g.append(svgEl("rect", { x: labelW, y: y + 4, width: Math.max(1.5, x(row.p) - labelW),
        height: rowH - 8, rx: 2, class: "bar" }));
      if (row.low !== undefined) {
        const mid = y + rowH / 2;
        g.append(svgEl("line", { x1: x(row.low), x2: x(row.high), y1: mid, y2: mid, class: "whisker" }));
        for (const v of [row.low, row.high]) {
          g.append(svgEl("line", { x1: x(v), x2: x(v), y1: mid - 4, y2: mid + 4, class: "whisker" }));
        }
      }
      const value = svgEl("text", { x: Math.max(x(row.p), row.high !== undefined ? x(row.high) : 0) + 6,
        y: y + rowH / 2 + 4, class: "row-value", "data-value": String(row.p) });
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
    for (const [p, label] of ticks(max)) {
      svg.append(svgEl("line", { x1: x(p), x2: x(p), y1: axisY, y2: axisY + 3, class: "axis" }));
      svg.append(svgEl("text", { x: x(p), y: axisY + 14, "text-anchor": "middle", class: "tick" }, label));
    }
    box.replaceChildren(svg, valueTable(r));
  }

  function chartWidth(box) {
    return Math.max(320, Math.min(860, Math.round(box.clientWidth || 720)));
  }

  // a label cut to about ``px`` pixels of 12px text (the full text is in the row's tooltip)
  function fit(text, px) {
    const chars = Math.floor(px / 7.3);
    return text.length <= chars ? text : text.slice(0, Math.max(1, chars - 1)) + "…";
  }

  function reduction(x) {
    if (x === null || x === undefined || Number.isNaN(x)) return "–";
    return Math.abs(x) < 0.005 ? "≈0%" : "−" + pct(x, 0);
  }

  function valueTable(r) {
    const rows = r.mitigations.map((m) => el("tr", {},
      el("td", {}, el("a", { href: "#", text: m.label, onclick: (e) => { e.preventDefault(); showNode(m.name); } })),
      el("td", { class: "num", title: "relative reduction with this mitigation alone", text: reduction(m.alone_relative) }),
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

  // ------------------------------------------------------------------ sensitivity
  function tornadoRows(r) {
    // POST /api/sensitivity: every uncertain input; those that reach the answer, widest first
    return r.inputs.filter((row) => row.reaches_target && row.swing > 1e-12)
      .sort((a, b) => b.swing - a.swing)
      .map((row) => ({ name: row.name, label: row.label, low: row.output_low,
        high: row.output_high, swing: row.swing, row }));
  }

  function showTornado(r) {
    lastTornado = r;
    const rows = tornadoRows(r).slice(0, 10);
    const box = $("#sensitivity");
    if (!rows.length) {
      box.replaceChildren(el("p", { class: "muted", text: r.summary }));
      return;
    }
    const base = r.point;
    const W = chartWidth(box), labelW = Math.min(290, Math.round(W * 0.42));
    const rowH = 22, top = 6, right = 58;
    const lo = Math.min(base, ...rows.map((x) => Math.min(x.low, x.high)));
    const hi = Math.max(base, ...rows.map((x) => Math.max(x.low, x.high)));
    const pad = (hi - lo) * 0.04 || 0.01;
    const x = (p) => labelW + (W - labelW - right) * (p - (lo - pad)) / ((hi + pad) - (lo - pad));
    const H = top + rows.length * rowH + 24;
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "tornado-svg", role: "img",
      "aria-label": "tornado: the answer with each uncertain number at the ends of its range" });
    rows.forEach((row, i) => {
      const y = top + i * rowH;
      const g = svgEl("g", { class: "param", "data-param": row.name });
      g.append(svgEl("title", {}, row.label + ": " + pct(row.low, 1) + " at its low end (" +
        fmtNumber(row.row.low) + "), " + pct(row.high, 1) + " at its high end (" +
        fmtNumber(row.row.high) + ")"));
      g.append(svgEl("rect", { x: 0, y: y, width: W, height: rowH, class: "row-bg" }));
      g.append(svgEl("text", { x: labelW - 8, y: y + rowH / 2 + 4, "text-anchor": "end",
        class: "row-label" }, fit(row.label, labelW - 10)));
      g.append(svgEl("rect", { x: Math.min(x(base), x(row.low)), y: y + 4,
        width: Math.max(1, Math.abs(x(row.low) - x(base))), height: rowH - 8, class: "t-low" }));
      g.append(svgEl("rect", { x: Math.min(x(base), x(row.high)), y: y + 4,
        width: Math.max(1, Math.abs(x(row.high) - x(base))), height: rowH - 8, class: "t-high" }));
      g.append(svgEl("text", { x: x(Math.max(row.low, row.high)) + 5, y: y + rowH / 2 + 4,
        class: "row-value" }, "±" + pct(row.swing / 2, 1)));
      g.addEventListener("click", () => showInput(row.row));
      svg.append(g);
    });
    svg.append(svgEl("line", { x1: x(base), x2: x(base), y1: top, y2: top + rows.length * rowH,
      class: "base-line" }));
    svg.append(svgEl("text", { x: x(base), y: top + rows.length * rowH + 16, "text-anchor": "middle",
      class: "tick" }, "point value " + pct(base, 1)));
    box.replaceChildren(el("p", { class: "summary", text: r.summary }), svg,
      el("p", { class: "legend" },
        el("span", { class: "key t-low-key" }), " number at the low end of its range ",
        el("span", { class: "key t-high-key" }), " at the high end · click a bar for its source"));
  }

  function showInput(row) {
    if (desc.parameters.some((p) => p.name === row.name)) { showParameter(row.name); return; }
    // a Critical Unknown: not a number of the network, a multiplier on several of them
    openSheet(row.label,
      el("p", { class: "meta" }, el("code", { text: row.name }), " · " + row.distribution +
        (row.critical_unknown ? " · Critical Unknown (a labelled assumption)" : "")),
      el("p", { text: "Range " + fmtNumber(row.low) + " – " + fmtNumber(row.high) + ", point " +
        fmtNumber(row.point) + ". With it at the low end the answer is " + pct(row.output_low, 2) +
        ", at the high end " + pct(row.output_high, 2) + "." }));
  }

  // ------------------------------------------------------------------ sources
  function openSheet(title, ...content) {
    $("#details-title").textContent = title;
    $("#details-body").replaceChildren(...content);
    $("#details").hidden = false;
    $("#details-close").focus({ preventScroll: true });
  }

  function parameterTable(names) {
    const params = desc.parameters.filter((p) => names.includes(p.name));
    if (!params.length) return el("p", { class: "muted", text: "No numbers of its own." });
    return el("table", { class: "params" },
      el("thead", {}, el("tr", {}, el("th", { text: "number" }), el("th", { text: "value" }),
        el("th", { text: "range" }), el("th", { text: "source" }))),
      el("tbody", {}, params.map((p) => el("tr", { class: p.assumption ? "assumption" : "" },
        el("td", {}, el("code", { text: p.name })),
        el("td", { class: "num", text: fmtNumber(p.value) }),
        el("td", { class: "num", text: p.range ? fmtNumber(p.range[0]) + " – " + fmtNumber(p.range[1]) : "–" }),
        el("td", {}, p.assumption ? el("span", { class: "badge", text: "assumption" }) : null,
          p.source)))));
  }

  function showNode(name) {
    const node = nodeOf(name);
    if (!node) return;
    const dist = marginals && marginals[name];
    const how = state.do[name] ? "set by do(" + state.do[name] + ")"
      : state.evidence[name] ? "observed: " + state.evidence[name] : null;
    openSheet(node.label,
      el("p", { class: "meta" }, el("code", { text: node.name }), " · " + node.role + " · " + node.phase),
      node.description ? el("p", { text: node.description }) : null,
      dist ? el("div", { class: "dist" }, el("p", { class: "label", text: how ? "Now (" + how + ")" : "Now" }),
        Object.entries(dist).map(([s, p]) => el("div", { class: "dist-row" },
          el("span", { class: "dist-state", text: s }),
          el("span", { class: "dist-bar" }, el("span", { style: "width:" + (100 * p).toFixed(1) + "%" })),
          el("span", { class: "dist-p", text: pct(p, 1) })))) : null,
      el("p", { class: "label", text: "Where its table comes from" }),
      el("p", {}, el("span", { class: "badge kind", text: node.cpt_kind }), " ", node.source || "—"),
      node.parents.length ? el("p", { class: "meta", text: "Parents: " + node.parents.join(", ") }) : null,
      el("p", { class: "label", text: "Its numbers" }),
      parameterTable(node.parameters));
  }

  function showParameter(name) {
    const p = desc.parameters.find((x) => x.name === name);
    if (!p) return;
    const users = desc.nodes.filter((n) => n.parameters.includes(name));
    openSheet(name,
      p.description ? el("p", { text: p.description }) : null,
      parameterTable([name]),
      users.length ? el("p", { class: "meta" }, "Used by: ",
        users.map((n, i) => [i ? ", " : "", el("a", { href: "#", text: n.label,
          onclick: (e) => { e.preventDefault(); showNode(n.name); } })])) : null);
  }

  const INFO = {
    scenarios: ["Scenarios", "A scenario is a named setting from the source document (an application " +
      "domain, a period of the timeline, an example shift). It sets evidence or changes the context's " +
      "distributions. A domain and a period can be combined."],
    worldviews: ["Worldviews", "A worldview is a named set of numbers that replaces some of the " +
      "network's own, e.g. the table note's 50–70% for P(harm | failure) or one study of the " +
      "meta-analysis, without editing the network."],
    band: ["The uncertainty band", "Every number with a range in the source document is drawn from a " +
      "distribution over that range; the band shows where P(" + "target) falls in 90% (light) and " +
      "50% (dark) of " + BAND_SAMPLES + " draws (fixed seed). The diamond is the point value, " +
      "the line the median."],
  };

  function showInfo(key) {
    const [title, text] = INFO[key];
    openSheet(title, el("p", { text }));
  }

  // ------------------------------------------------------------------ start
  async function loadNetwork() {
    desc = await call("GET", "/api/networks/" + encodeURIComponent(state.network));
    const [scenarios, worldviews] = await Promise.all([
      call("GET", "/api/scenarios?network=" + encodeURIComponent(state.network)).catch(() => []),
      call("GET", "/api/worldviews?network=" + encodeURIComponent(state.network)).catch(() => []),
    ]);
    catalogue = { scenarios: listOf(scenarios, "scenarios"), worldviews: listOf(worldviews, "worldviews"),
      defaultWorldview: (worldviews && worldviews.default) || null };
    descKey = JSON.stringify([null, []]);
    normaliseMitigations();
    buildControls();
    lastCompareKey = null;
  }

  function listOf(payload, key) {
    if (Array.isArray(payload)) return payload;
    if (payload && Array.isArray(payload[key])) return payload[key];
    return [];
  }

  function wire() {
    $("#target").addEventListener("change", (e) => {
      state.target = e.target.value;
      state.targetState = null;
      fillTargetStates();
      changed();
    });
    $("#target-state").addEventListener("change", (e) => { state.targetState = e.target.value; changed(); });
    $("#worldview").addEventListener("change", (e) => {
      state.worldview = e.target.value || null;
      describeWorldview();
      changed();
    });
    $("#network").addEventListener("change", async (e) => {
      state.network = e.target.value;
      state.target = null; state.targetState = null;
      state.scenario = []; state.worldview = null; state.evidence = {}; state.do = {};
      await loadNetwork();
      changed();
    });
    $("#context-policy").addEventListener("change", (e) => {
      state.context = e.target.value === "prior" ? "prior" : "baseline";
      buildContext();
      changed();
    });
    $("#neutral").addEventListener("click", () => {
      for (const [k, v] of Object.entries(desc.neutral_context || {})) {
        const node = nodeOf(k);
        if (!node || node.role === "mitigation") continue;
        delete state.evidence[k];
        state.do[k] = v;
      }
      syncControls();
      changed();
    });
    $("#clear-context").addEventListener("click", () => {
      for (const n of document.querySelectorAll("#context select")) {
        delete state.evidence[n.dataset.node];
        delete state.do[n.dataset.node];
      }
      syncControls();
      changed();
    });
    $("#all-on").addEventListener("click", () => {
      for (const m of mitigationNames()) { delete state.evidence[m]; state.do[m] = "on"; }
      syncControls();
      changed();
    });
    $("#all-off").addEventListener("click", () => {
      for (const m of mitigationNames()) { delete state.evidence[m]; state.do[m] = "off"; }
      syncControls();
      changed();
    });
    $("#reset").addEventListener("click", async () => {
      state.target = null; state.targetState = null; state.scenario = [];
      state.worldview = null; state.evidence = {}; state.do = {};
      normaliseMitigations();
      buildControls();
      changed();
    });
    $("#share").addEventListener("click", async () => {
      const button = $("#share");
      try {
        await navigator.clipboard.writeText(window.location.href);
        button.textContent = "Link copied";
      } catch (e) {
        window.prompt("Copy this link:", window.location.href);
      }
      setTimeout(() => { button.textContent = "Copy link to this view"; }, 1800);
    });
    $("#details-close").addEventListener("click", () => { $("#details").hidden = true; });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") $("#details").hidden = true;
      if ((e.key === "Enter" || e.key === " ") && e.target.closest && e.target.closest("#diagram g.node")) {
        e.preventDefault();
        showNode(e.target.closest("g.node").dataset.node);
      }
    });
    $("#diagram").addEventListener("click", (e) => {
      const g = e.target.closest("g.node, li[data-node]");
      if (g) showNode(g.dataset.node);
    });
    document.querySelectorAll("[data-info]").forEach((b) =>
      b.addEventListener("click", () => showInfo(b.dataset.info)));
    for (const [id, full] of [["#zoom-fit", false], ["#zoom-full", true]]) {
      $(id).addEventListener("click", () => {
        $("#diagram").classList.toggle("full", full);
        $("#diagram").classList.toggle("fit", !full);
        $("#zoom-fit").setAttribute("aria-pressed", String(!full));
        $("#zoom-full").setAttribute("aria-pressed", String(full));
        sizeDiagram();
      });
    }
  }

  async function start() {
    readURL();
    wire();
    try {
      const networks = await call("GET", "/api/networks");
      defaultNetwork = networks[0].name;
      const pick = $("#network");
      pick.replaceChildren(...networks.map((n) => el("option", { value: n.name, text: n.title })));
      $("#network-pick").hidden = networks.length < 2;
      if (!state.network || !networks.some((n) => n.name === state.network)) state.network = defaultNetwork;
      pick.value = state.network;
      await loadNetwork();
      writeURL();
      await refresh();
    } catch (err) {
      showError(err);
    }
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (comparison) drawCompare();
      if (lastTornado) showTornado(lastTornado);
    }, 150);
  });

  window.gmnetPage = { state, refresh };
  start();
})();
