// gmnet's page: controls -> JSON API -> the answer, its band, the diagram, the charts.
// Plain JavaScript modules, no build step, nothing fetched from anywhere but this server.
import { $, el, pct } from "./util.js";
import { ApiError, api, isAbort } from "./api.js";
import { DRAWS, changedByMitigations, mitigationNames, nodeOf, normaliseMitigations, onChange,
  page, question, readURL, situation, state, writeURL } from "./state.js";
import { buildControls, labelOpenNodes, syncControls, wireControls } from "./controls.js";
import { resizeDiagram, showDiagram, showDiagramFallback, showDiagramPlaceholder, wireDiagram }
  from "./diagram.js";
import { redrawBand, showBand } from "./band.js";
import { redrawTornado, showTornado } from "./tornado.js";
import { explainCompare, forgetCompare, redrawCompare, showCompare } from "./compare.js";
import { closeSheet, openSheet, showInfo } from "./sheet.js";

let seq = 0;                // guards against answers to stale questions
let inflight = [];
let lastCompareKey = null;
let descKey = "";
let linkNote = null;        // what a shared link asked for that could not be answered
let timer = null;

// ------------------------------------------------------------------ the network
async function loadNetwork() {
  page.desc = await api.network(state.network);
  const [scenarios, worldviews] = await Promise.all([
    api.scenarios(state.network).catch(() => ({})),
    api.worldviews(state.network).catch(() => ({})),
  ]);
  page.catalogue = { scenarios: scenarios.scenarios || [], worldviews: worldviews.worldviews || [],
    defaultWorldview: worldviews.default || null };
  page.answer = null;
  descKey = JSON.stringify([null, []]);
  normaliseMitigations();
  buildControls();
  lastCompareKey = null;
}

// the numbers and sources shown on click follow the worldview and scenarios in use
async function refreshDescription(signal) {
  const key = JSON.stringify([state.worldview, state.scenario]);
  if (key === descKey) return;
  const q = new URLSearchParams();
  if (state.worldview) q.set("worldview", state.worldview);
  for (const s of state.scenario) q.append("scenario", s);
  const fresh = await api.network(state.network, q.toString(), signal);
  page.desc.parameters = fresh.parameters;
  for (const n of fresh.nodes) {
    const mine = nodeOf(n.name);
    if (mine) { mine.source = n.source; mine.parameters = n.parameters; }
  }
  descKey = key;
}

// ------------------------------------------------------------------ a link's bad parts
/** The part of the question the server's error names, left out (a scenario, a state, a
 * worldview this network does not have): the part in words, or null if it is not one. */
function dropPart(field) {
  if (!field) return null;
  if (field === "scenario" && state.scenario.length) {
    const known = new Set(page.catalogue.scenarios.map((s) => s.name));
    const unknown = state.scenario.filter((s) => !known.has(s));
    const dropped = unknown.length ? unknown : [state.scenario.at(-1)];
    state.scenario = state.scenario.filter((s) => !dropped.includes(s));
    return dropped.map((s) => "scenario=" + s).join(", ");
  }
  if (field === "worldview" && state.worldview) {
    const part = "worldview=" + state.worldview;
    state.worldview = null;
    return part;
  }
  const [kind, ...rest] = field.split(".");
  const name = rest.join(".");
  const where = kind === "evidence" ? state.evidence : kind === "do" ? state.do : null;
  if (where && name in where) {
    const part = (kind === "evidence" ? "e." : "do.") + name + "=" + where[name];
    delete where[name];
    if (mitigationNames().includes(name)) state.do[name] = "off";
    return part;
  }
  if ((field === "target" || field === "state") && page.desc) {
    const part = "target=" + state.target + ", state=" + state.targetState;
    state.target = page.desc.default_target;
    state.targetState = page.desc.default_state;
    return part;
  }
  return null;
}

// ------------------------------------------------------------------ messages
function showError(err) {
  const box = $("#error");
  document.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  if (!err && linkNote) {
    box.hidden = false;
    box.replaceChildren(el("b", { text: "This link asked for what the page cannot answer; " +
      "it shows the rest. Left out:" }), el("ul", {}, linkNote.map(([part, why]) =>
      el("li", {}, el("code", { text: part }), ": " + why))),
    el("button", { type: "button", class: "close dismiss", "aria-label": "dismiss the message",
      text: "×", onclick: () => { linkNote = null; showError(null); } }));
    return;
  }
  if (!err) { box.hidden = true; box.textContent = ""; return; }
  box.hidden = false;
  box.textContent = err.message + (err.field ? " (" + err.field + ")" : "");
  if (err.field) {
    const name = err.field.split(".").slice(1).join(".") || err.field;
    const control = document.querySelector('[data-node="' + CSS.escape(name) + '"]');
    if (control) control.classList.add("invalid");
  }
}

function unavailable(selector, err) {
  if (isAbort(err)) return;
  $(selector).replaceChildren(el("p", { class: "muted",
    text: err && err.status === 404 && !err.field ? "not available on this server"
      : "could not compute: " + (err ? err.message : "") }));
}

/** The question has no answer: one message at the top, the panels say there is nothing. */
function noAnswer(err) {
  showError(err);
  const out = $("#p-value");
  out.textContent = "–";
  out.dataset.value = "";
  $("#query-text").textContent = "";
  $("#assumptions").replaceChildren();
  $("#band-text").replaceChildren();
  const text = "Nothing to show until the question above can be answered.";
  showDiagramPlaceholder(text);
  for (const id of ["#band", "#sensitivity", "#compare"]) {
    $(id).replaceChildren(el("p", { class: "muted placeholder", text: id === "#band" ? "–" : text }));
  }
  lastCompareKey = null;
  forgetCompare();
}

// ------------------------------------------------------------------ refreshing
function compareBody() {
  // the context only: compare sets every mitigation itself, and an observation of what the
  // mitigations change (an alarm, the pathway, harm) would not compare like with like
  const changed = changedByMitigations();
  const mitigations = new Set(mitigationNames());
  const body = situation();
  body.evidence = Object.fromEntries(Object.entries(body.evidence)
    .filter(([k]) => !changed.has(k) && !mitigations.has(k)));
  body.do = Object.fromEntries(Object.entries(body.do).filter(([k]) => !mitigations.has(k)));
  return { ...body, target: state.target, state: state.targetState,
    all_portfolios: true, samples: DRAWS.compare, seed: DRAWS.seed };
}

function settle(my) {
  document.body.classList.remove("busy");
  document.body.dataset.ready = "true";
  document.body.dataset.seq = String(my);
}

async function refresh(repair = false) {
  const my = ++seq;
  for (const c of inflight) c.abort();
  inflight = [];
  const signal = () => { const c = new AbortController(); inflight.push(c); return c.signal; };
  document.body.classList.add("busy");
  const label = () => { $("#p-label").textContent = "P(" + state.target + " = " + state.targetState + ")"; };
  label();
  // the answer first: if the question cannot be answered, nothing else is asked. A link's
  // first question loses the parts the server does not know, each named once in linkNote
  let r;
  for (;;) {
    try {
      r = await api.query(question(), signal());
      break;
    } catch (err) {
      if (my !== seq || isAbort(err)) return;
      const part = repair && err instanceof ApiError && err.aboutQuestion && (linkNote || []).length < 8
        ? dropPart(err.field) : null;
      if (!part) {
        noAnswer(err);
        settle(my);
        return;
      }
      linkNote = [...(linkNote || []), [part, err.message + (err.field ? " (" + err.field + ")" : "")]];
      syncControls();
      writeURL();
    }
  }
  if (my !== seq) return;
  const q = question();
  label();
  showError(null);
  page.answer = r;
  const out = $("#p-value");
  out.textContent = pct(r.probability);
  out.dataset.value = String(r.probability);
  const text = $("#query-text");
  text.textContent = r.query;
  text.title = r.statement;
  text.dataset.query = r.query;
  $("#assumptions").replaceChildren(...(r.assumptions || []).map((a) => el("li", { text: a })));
  labelOpenNodes();

  const extra = [];
  if (r.scenario && r.scenario.length) extra.push("scenario " + r.scenario.join(" + "));
  if (state.worldview) extra.push("worldview " + state.worldview);
  const title = (r.query + (extra.length ? "  ·  " + extra.join(", ") : "")).slice(0, 300);
  const jobs = [
    refreshDescription(signal()).catch(() => null),
    api.marginals(situation(), signal()).then((m) => { if (my === seq) page.marginals = m.marginals; }),
    api.diagram({ ...q, title }, signal()).then((svg) => { if (my === seq) showDiagram(svg, state.target); },
      (err) => {
        if (my !== seq || isAbort(err)) return;
        if (err.status === 503) showDiagramFallback(err.message);
        else showDiagramPlaceholder("could not draw the diagram: " + err.message);
      }),
    api.uncertainty({ ...q, samples: DRAWS.band, seed: DRAWS.seed, bins: 40 }, signal())
      .then((u) => { if (my === seq) showBand(u); }, (err) => { if (my === seq) unavailable("#band", err); }),
    api.sensitivity({ ...q, method: "tornado" }, signal())
      .then((s) => { if (my === seq) showTornado(s); },
        (err) => { if (my === seq) unavailable("#sensitivity", err); }),
  ];
  $("#compare-card").hidden = !mitigationNames().length;
  if (mitigationNames().length && !changedByMitigations().has(state.target)) {
    lastCompareKey = null;
    const node = nodeOf(state.target);
    const name = node ? node.label : state.target;
    const seen = Object.keys(state.evidence).filter((k) => changedByMitigations().has(k));
    explainCompare(name + " is not downstream of any mitigation in the network. " + (seen.length
      ? "The mitigations change it only through what is observed downstream (" +
        seen.map((k) => k + "=" + state.evidence[k]).join(", ") + "), and the comparison " +
        "leaves such observations out, so there is nothing to compare."
      : "No mitigation can change it, so there is nothing to compare.") +
      " Ask about harm (or another node downstream) to compare the mitigations.");
  } else if (mitigationNames().length) {
    const body = compareBody();
    const key = JSON.stringify(body);
    if (key !== lastCompareKey) {
      jobs.push(api.compare(body, signal()).then((c) => {
        if (my !== seq) return;
        lastCompareKey = key;
        showCompare(c);
      }, (err) => { if (my === seq) unavailable("#compare", err); }));
    } else {
      redrawCompare(); // the highlighted row follows the switches
    }
  }
  await Promise.allSettled(jobs);
  if (my !== seq) return;
  settle(my);
}

function scheduleRefresh() {
  linkNote = null; // the person has moved on from the link
  clearTimeout(timer);
  timer = setTimeout(refresh, 120);
}

// ------------------------------------------------------------------ start
async function start() {
  readURL();
  onChange(scheduleRefresh);
  wireControls({ onNetwork: loadNetwork });
  wireDiagram();
  document.querySelectorAll("[data-info]").forEach((b) =>
    b.addEventListener("click", () => showInfo(b.dataset.info)));
  $("#details-close").addEventListener("click", closeSheet);
  // on a phone the headline keeps one line of what it assumed: a tap shows all of it
  $("#assumptions").addEventListener("click", () => {
    const r = page.answer;
    if (!r) return;
    openSheet("What this number assumed", el("p", {}, el("code", { text: r.statement })),
      el("ul", { class: "assumptions-full" }, (r.assumptions || []).map((a) => el("li", { text: a }))));
  });
  document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeSheet(); });
  try {
    const networks = await api.networks();
    page.defaultNetwork = networks[0].name;
    const pick = $("#network");
    pick.replaceChildren(...networks.map((n) => el("option", { value: n.name, text: n.title })));
    $("#network-pick").hidden = networks.length < 2;
    if (!state.network || !networks.some((n) => n.name === state.network)) state.network = page.defaultNetwork;
    pick.value = state.network;
    await loadNetwork();
    writeURL();
    await refresh(true);
  } catch (err) {
    noAnswer(err);
    settle(seq);
  }
}

let resizeTimer = null;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    redrawCompare();
    redrawTornado();
    redrawBand();
    resizeDiagram();
  }, 150);
});

window.gmnetPage = { state, refresh: () => refresh() };
start();
