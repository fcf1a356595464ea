// The details sheet: a node's numbers and their sources, one number, a Critical Unknown,
// or a short explanation.
import { $, el, fmtNumber, pct } from "./util.js";
import { DRAWS, nodeOf, page, state } from "./state.js";

export function openSheet(title, ...content) {
  $("#details-title").textContent = title;
  $("#details-body").replaceChildren(...content);
  $("#details").hidden = false;
  $("#details-close").focus({ preventScroll: true });
}

export function closeSheet() {
  $("#details").hidden = true;
}

function parameterTable(names) {
  const params = page.desc.parameters.filter((p) => names.includes(p.name));
  if (!params.length) return el("p", { class: "muted", text: "No numbers of its own." });
  return el("table", { class: "params" },
    el("thead", {}, el("tr", {}, el("th", { text: "number" }), el("th", { text: "value" }),
      el("th", { text: "range" }), el("th", { text: "source" }))),
    el("tbody", {}, params.map((p) => el("tr", { class: p.assumption ? "assumption" : "" },
      el("td", { class: "name", "data-label": "number" }, el("code", { text: p.name })),
      el("td", { class: "num", "data-label": "value", text: fmtNumber(p.value) }),
      el("td", { class: "num", "data-label": "range",
        text: p.range ? fmtNumber(p.range[0]) + " – " + fmtNumber(p.range[1]) : "–" }),
      el("td", { class: "src", "data-label": "source" },
        p.assumption ? el("span", { class: "badge", text: "assumption" }) : null, p.source)))));
}

/** How the question treats ``name``: set, observed (by you or a scenario), held, or open. */
export function howSet(name) {
  if (state.do[name]) return "set by do(" + state.do[name] + ")";
  if (state.evidence[name]) return "observed: " + state.evidence[name];
  const r = page.answer;
  if (r && r.evidence && r.evidence[name]) return "observed by the scenario: " + r.evidence[name];
  if (r && r.held && r.held[name]) return "held at the baseline: " + r.held[name];
  return null;
}

export function showNode(name) {
  const node = nodeOf(name);
  if (!node) return;
  const dist = page.marginals && page.marginals[name];
  const how = howSet(name);
  openSheet(node.label,
    el("p", { class: "meta" }, el("code", { text: node.name }), " · " + node.role + " · " + node.phase),
    node.description ? el("p", { text: node.description }) : null,
    dist ? el("div", { class: "dist" },
      el("p", { class: "label", text: how ? "Now (" + how + ")" : "Now" }),
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

export function showParameter(name) {
  const p = page.desc.parameters.find((x) => x.name === name);
  if (!p) return;
  const users = page.desc.nodes.filter((n) => n.parameters.includes(name));
  openSheet(name,
    p.description ? el("p", { text: p.description }) : null,
    parameterTable([name]),
    users.length ? el("p", { class: "meta" }, "Used by: ",
      users.map((n, i) => [i ? ", " : "", el("a", { href: "#", text: n.label,
        onclick: (e) => { e.preventDefault(); showNode(n.name); } })])) : null);
}

/** One row of the sensitivity answer: a number of the network, or a Critical Unknown. */
export function showInput(row) {
  if (page.desc.parameters.some((p) => p.name === row.name)) { showParameter(row.name); return; }
  openSheet(row.label,
    el("p", { class: "meta" }, el("code", { text: row.name }), " · " + row.distribution +
      (row.critical_unknown ? " · Critical Unknown (a labelled assumption)" : "")),
    el("p", { text: "Range " + fmtNumber(row.low) + " – " + fmtNumber(row.high) + ", point " +
      fmtNumber(row.point) + ". With it at the low end the answer is " + pct(row.output_low, 2) +
      ", at the high end " + pct(row.output_high, 2) + "." }));
}

const INFO = {
  scenarios: ["Scenarios", "A scenario is a named setting from the source document (an application " +
    "domain, a period of the timeline, an example shift). It sets evidence or changes the context's " +
    "distributions. A domain and a period can be combined."],
  worldviews: ["Worldviews", "A worldview is a named set of numbers that replaces some of the " +
    "network's own, e.g. the table note's 50–70% for P(harm | failure) or one study of the " +
    "meta-analysis, without editing the network."],
  band: ["The uncertainty band", "Every number with a range in the source document is drawn from a " +
    "distribution over that range; the band shows where P(target) falls in 90% (light) and " +
    "50% (dark) of " + DRAWS.band.toLocaleString("en") + " draws (fixed seed " + DRAWS.seed +
    "). The diamond is the point value, the line the median."],
  diagram: ["Reading the diagram", "Fit draws the diagram as wide as the card, but never so small " +
    "that its text drops below 10 pixels: drag it (or swipe) to move around. Whole shows all of " +
    "it at once, to see its shape; − and + zoom. Click or tap a node for its numbers and sources."],
};

export function showInfo(key) {
  const [title, text] = INFO[key];
  openSheet(title, el("p", { text }));
}
