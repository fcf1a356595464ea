// The controls on the left: target, scenarios, worldview, context, mitigations, observations.
// They change the state and call changed(); labelOpenNodes() shows what the answer held.
import { $, el } from "./util.js";
import { changed, clearQuestion, mitigationNames, nodeOf, nodesWithRole, normaliseMitigations,
  page, state } from "./state.js";
import { showNode } from "./sheet.js";

const pretty = (s) => s.replace(/_/g, " ");
const capital = (s) => s.replace(/^./, (c) => c.toUpperCase());

export function buildControls() {
  const desc = page.desc;
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

// ------------------------------------------------------------------ target
function buildTarget() {
  const target = $("#target");
  target.replaceChildren(...page.desc.nodes.map((n) => el("option", { value: n.name, text: n.label })));
  if (!state.target || !nodeOf(state.target)) state.target = page.desc.default_target;
  target.value = state.target;
  fillTargetStates();
}

function fillTargetStates() {
  const node = nodeOf(state.target);
  const select = $("#target-state");
  select.replaceChildren(...node.states.map((s) => el("option", { value: s, text: s })));
  if (!state.targetState || !node.states.includes(state.targetState)) {
    state.targetState = node.name === page.desc.default_target ? page.desc.default_state
      : (node.states.includes("yes") ? "yes" : node.states[0]);
  }
  select.value = state.targetState;
}

// ------------------------------------------------------------------ scenarios, worldviews
const KIND_LABELS = { domain: "Application domain", period: "Period", example_shift: "Example shift" };

function buildScenarios() {
  const list = page.catalogue.scenarios;
  $("#scenario-field").hidden = !list.length;
  if (!list.length) return;
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
      el("span", { text: KIND_LABELS[kind] || capital(pretty(kind)) }), select));
  }
  $("#scenarios").replaceChildren(...blocks, el("div", { id: "scenario-note", class: "hint" }));
  describeScenarios();
}

const chosenScenarios = () => page.catalogue.scenarios.filter((s) => state.scenario.includes(s.name));

function describeScenarios() {
  const note = $("#scenario-note");
  if (!note) return;
  note.replaceChildren(...chosenScenarios().map((s) => el("p", { class: "scenario-summary" },
    el("b", { text: (s.label || s.name) + ": " }), s.summary || s.description || "",
    s.source ? el("span", { class: "source", text: " (" + s.source + ")" }) : null)));
}

function buildWorldviews() {
  const select = $("#worldview");
  const { worldviews: list, defaultWorldview: fallback } = page.catalogue;
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
  const { worldviews, defaultWorldview } = page.catalogue;
  const w = worldviews.find((x) => x.name === (state.worldview || defaultWorldview));
  $("#worldview-note").textContent = w ? (w.description || "") : "";
}

// ------------------------------------------------------------------ context
function modeOf(name) {
  if (name in state.do) return "do";
  if (name in state.evidence) return "observe";
  return null;
}

export function buildContext() {
  const nodes = nodesWithRole("context");
  const list = nodes.length ? nodes : page.desc.nodes.filter((n) => !n.parents.length);
  $("#panel-context").hidden = !list.length;
  $("#context").replaceChildren(...list.map(contextRow));
  labelOpenNodes();
}

function contextRow(node) {
  const id = "ctx-" + node.name;
  const select = el("select", { id, "data-node": node.name },
    el("option", { value: "", text: "—" }),
    node.states.map((s) => el("option", { value: s, text: pretty(s) })));
  select.value = state.do[node.name] || state.evidence[node.name] || "";
  const mode = modeOf(node.name) || "do";
  const group = el("div", { class: "seg", role: "group", "aria-label": node.label + ": observe or set" });
  for (const [value, text, tip] of [["observe", "observe", "condition on it: P(… | x)"],
    ["do", "set", "intervene: P(… | do(x))"]]) {
    group.append(el("button", { type: "button", class: "seg-btn", "data-mode": value,
      "aria-pressed": String(mode === value), title: tip, text,
      onclick: () => {
        group.querySelectorAll(".seg-btn").forEach((b) =>
          b.setAttribute("aria-pressed", String(b.dataset.mode === value)));
        setNode(node.name, select.value, value);
      } }));
  }
  select.addEventListener("change", () => {
    const chosen = group.querySelector('[aria-pressed="true"]');
    setNode(node.name, select.value, chosen ? chosen.dataset.mode : "do");
  });
  return el("div", { class: "ctx", "data-node": node.name },
    el("div", { class: "ctx-head" }, el("label", { for: id, text: node.label }), infoButton(node.name)),
    el("div", { class: "row" }, select, group),
    el("p", { class: "ctx-note", hidden: true }));
}

function setNode(name, value, mode) {
  delete state.evidence[name];
  delete state.do[name];
  if (value) (mode === "observe" ? state.evidence : state.do)[name] = value;
  changed();
}

/** What the question does with a node it leaves open, as the last answer says: observed or
 * restricted by a scenario, held at the document's baseline, or following its prior. */
function openState(name) {
  const r = page.answer;
  const scenarios = chosenScenarios();
  const by = (pick) => scenarios.filter(pick).map((s) => s.label || s.name).join(" + ");
  const observed = r ? r.evidence && r.evidence[name] : null;
  if (observed && !(name in state.evidence)) {
    return { text: "scenario: " + pretty(observed), note: by((s) => s.evidence && s.evidence[name]) +
      " observes " + pretty(observed) };
  }
  const within = scenarios.find((s) => s.within && s.within[name]);
  if (within) {
    const states = within.within[name].map(pretty).join(" or ");
    return { text: "scenario: " + states, note: (within.label || within.name) + " keeps it to " + states };
  }
  const prior = scenarios.find((s) => s.prior && s.prior[name]);
  if (prior) return { text: "scenario's distribution", note: (prior.label || prior.name) +
    " gives it its own distribution" };
  const held = r ? r.held && r.held[name]
    : state.context === "baseline" && (page.desc.neutral_context || {})[name];
  if (held) return { text: "baseline: " + pretty(held), note: null };
  return { text: "prior", note: null };
}

export function labelOpenNodes() {
  for (const row of document.querySelectorAll("#context .ctx, #observations .ctx")) {
    const name = row.dataset.node;
    const open = openState(name);
    const option = row.querySelector("select option[value='']");
    const mine = name in state.do || name in state.evidence;
    if (option && row.closest("#context")) option.textContent = "— " + open.text + " —";
    if (option && row.closest("#observations")) {
      option.textContent = open.note ? "— " + open.text + " —" : "— not observed —";
    }
    row.classList.toggle("by-scenario", Boolean(open.note) && !mine);
    const note = row.querySelector(".ctx-note");
    note.hidden = !open.note || mine;
    note.textContent = open.note || "";
  }
}

function infoButton(name) {
  return el("button", { type: "button", class: "info", "data-node": name,
    "aria-label": "numbers and sources of " + name, text: "i", onclick: () => showNode(name) });
}

// ------------------------------------------------------------------ mitigations
function byPhase(nodes) {
  const groups = new Map(); // in the description's order
  for (const n of nodes) {
    const phase = n.phase || "other";
    if (!groups.has(phase)) groups.set(phase, []);
    groups.get(phase).push(n);
  }
  return groups;
}

function buildMitigations() {
  const nodes = nodesWithRole("mitigation");
  $("#panel-mitigations").hidden = !nodes.length;
  $("#mitigations").replaceChildren(...[...byPhase(nodes)].map(([layer, items]) =>
    el("div", { class: "layer layer-" + layer },
      el("p", { class: "layer-name", text: layer + " layer" }), items.map(mitigationRow))));
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

// ------------------------------------------------------------------ observations
// everything downstream that can be seen: the pathway, the alarms, the outcomes (e.g. "given
// harm, how likely was the shift extreme?")
function buildObservations() {
  const nodes = page.desc.nodes.filter((n) => n.role !== "context" && n.role !== "mitigation"
    && n.parents.length);
  $("#panel-observations").hidden = !nodes.length;
  if (nodes.some((n) => n.name in state.evidence)) $("#panel-observations").open = true;
  $("#observations").replaceChildren(...[...byPhase(nodes)].map(([phase, items]) =>
    el("div", { class: "layer" }, el("p", { class: "layer-name", text: phase }),
      items.map(observationRow))));
}

function observationRow(node) {
  const id = "obs-" + node.name;
  const select = el("select", { id, "data-node": node.name },
    el("option", { value: "", text: "— not observed —" }),
    node.states.map((s) => el("option", { value: s, text: pretty(s) })));
  select.value = state.evidence[node.name] || "";
  select.addEventListener("change", () => setNode(node.name, select.value, "observe"));
  return el("div", { class: "ctx", "data-node": node.name },
    el("div", { class: "ctx-head" }, el("label", { for: id, text: node.label }), infoButton(node.name)),
    select, el("p", { class: "ctx-note", hidden: true }));
}

/** After a programmatic change (buttons, a repaired link): the controls show the state. */
export function syncControls() {
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
  for (const select of document.querySelectorAll("#scenarios select")) {
    const chosen = page.catalogue.scenarios.find((s) => s.kind === select.dataset.kind
      && state.scenario.includes(s.name));
    select.value = chosen ? chosen.name : "";
  }
  describeScenarios();
  $("#worldview").value = state.worldview || "";
  describeWorldview();
  if (nodeOf(state.target)) { $("#target").value = state.target; fillTargetStates(); }
  labelOpenNodes();
}

// ------------------------------------------------------------------ wiring
/** The controls' events; ``onNetwork`` and ``onReset`` reload what depends on the network. */
export function wireControls({ onNetwork }) {
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
    clearQuestion();
    state.network = e.target.value;
    await onNetwork();
    changed();
  });
  $("#context-policy").addEventListener("change", (e) => {
    state.context = e.target.value === "prior" ? "prior" : "baseline";
    page.answer = null;
    buildContext();
    changed();
  });
  const setAll = (names, value) => {
    for (const [k, v] of names) {
      delete state.evidence[k];
      delete state.do[k];
      if (value !== null) state.do[k] = value === undefined ? v : value;
    }
    syncControls();
    changed();
  };
  $("#neutral").addEventListener("click", () => setAll(Object.entries(page.desc.neutral_context || {})
    .filter(([k]) => nodeOf(k) && nodeOf(k).role !== "mitigation")));
  $("#clear-context").addEventListener("click", () => setAll(
    [...document.querySelectorAll("#context select")].map((n) => [n.dataset.node]), null));
  $("#all-on").addEventListener("click", () => setAll(mitigationNames().map((m) => [m]), "on"));
  $("#all-off").addEventListener("click", () => setAll(mitigationNames().map((m) => [m]), "off"));
  $("#reset").addEventListener("click", () => {
    const network = state.network;
    clearQuestion();
    state.network = network;
    state.context = "baseline";
    normaliseMitigations();
    page.answer = null;
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
}
