// The question the page asks (kept in the URL's query string, so a view is a shareable link)
// and what the server told the page about the network. Other modules read these; only the
// controls and main.js change them, and every change goes through changed().

export const state = {
  network: null, target: null, targetState: null,
  scenario: [], worldview: null, evidence: {}, do: {}, context: "baseline",
};

// what the server said: the network's description (GET /api/networks/{name}), its scenarios
// and worldviews, every node's distribution and the last answer (POST /api/query)
export const page = {
  defaultNetwork: null, desc: null,
  catalogue: { scenarios: [], worldviews: [], defaultWorldview: null },
  marginals: null, answer: null,
};

export const nodeOf = (name) => page.desc && page.desc.nodes.find((n) => n.name === name);
export const nodesWithRole = (role) =>
  (page.desc ? page.desc.nodes.filter((n) => n.role === role) : []);
export const mitigationNames = () => nodesWithRole("mitigation").map((n) => n.name);

/** Every node ``name`` depends on, through its parents (from the description). */
export function ancestorsOf(name) {
  const seen = new Set();
  const todo = [...((nodeOf(name) || {}).parents || [])];
  while (todo.length) {
    const n = todo.pop();
    if (seen.has(n)) continue;
    seen.add(n);
    todo.push(...((nodeOf(n) || {}).parents || []));
  }
  return seen;
}

/** Nodes a mitigation can change (its descendants). */
export function changedByMitigations() {
  const mitigations = new Set(mitigationNames());
  const out = new Set();
  if (!page.desc) return out;
  for (const n of page.desc.nodes) {
    if ([...ancestorsOf(n.name)].some((a) => mitigations.has(a))) out.add(n.name);
  }
  return out;
}

// ------------------------------------------------------------------ URL <-> state
export function readURL() {
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

export function writeURL() {
  const q = new URLSearchParams();
  const desc = page.desc;
  if (state.network && desc && state.network !== page.defaultNetwork) q.set("network", state.network);
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

/** Mitigations the URL does not switch on are switched off: do(m=off). */
export function normaliseMitigations() {
  for (const m of mitigationNames()) {
    if (!(m in state.do) && !(m in state.evidence)) state.do[m] = "off";
  }
}

/** Forget the question (a new network, or Reset). */
export function clearQuestion() {
  state.target = null; state.targetState = null; state.scenario = [];
  state.worldview = null; state.evidence = {}; state.do = {};
}

/** The situation as the API takes it. The baseline context holds every unmentioned
 * mitigation off already, so a switched-off mitigation is left to it (the question then
 * reads as the command line's); the prior context needs the do(off) said. */
export function situation() {
  const dos = { ...state.do };
  if (state.context === "baseline") {
    for (const m of mitigationNames()) if (dos[m] === "off") delete dos[m];
  }
  const body = { evidence: { ...state.evidence }, do: dos, context: state.context };
  if (state.network) body.network = state.network;
  if (state.scenario.length) body.scenario = [...state.scenario];
  if (state.worldview) body.worldview = state.worldview;
  return body;
}

export function question() {
  return { ...situation(), target: state.target, state: state.targetState };
}

// ------------------------------------------------------------------ change notices
const listeners = [];
export const onChange = (fn) => listeners.push(fn);

/** The question changed (by a control): rewrite the link and tell the listeners. */
export function changed() {
  writeURL();
  for (const fn of listeners) fn();
}

// the page's draws of the uncertain numbers: fixed seed, so the same link shows the same band
export const DRAWS = { band: 2000, compare: 1000, seed: 20240601 };
