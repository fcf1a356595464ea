// The page's one way to the server: JSON in, JSON (or SVG text) out, errors as ApiError.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || ("HTTP " + status));
    this.status = status;
    this.field = (body && body.field) || null;
  }

  /** A problem with the question itself (a 4xx), not with the server. */
  get aboutQuestion() {
    return this.status >= 400 && this.status < 500 && (this.status !== 404 || Boolean(this.field));
  }
}

export async function call(method, path, body, signal, as) {
  const init = { method, signal,
    headers: { Accept: as === "text" ? "image/svg+xml" : "application/json" } };
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

export const isAbort = (err) => Boolean(err && err.name === "AbortError");

const get = (path, signal) => call("GET", path, undefined, signal);
const post = (path, body, signal, as) => call("POST", path, body, signal, as);
const net = (name) => encodeURIComponent(name);

export const api = {
  networks: () => get("/api/networks"),
  network: (name, query, signal) => get("/api/networks/" + net(name) + (query ? "?" + query : ""),
    signal),
  scenarios: (name) => get("/api/scenarios?network=" + net(name)),
  worldviews: (name) => get("/api/worldviews?network=" + net(name)),
  query: (body, signal) => post("/api/query", body, signal),
  marginals: (body, signal) => post("/api/marginals", body, signal),
  diagram: (body, signal) => post("/api/diagram", body, signal, "text"),
  uncertainty: (body, signal) => post("/api/uncertainty", body, signal),
  sensitivity: (body, signal) => post("/api/sensitivity", body, signal),
  compare: (body, signal) => post("/api/compare", body, signal),
};
