// localwhisk's dashboard: plain JavaScript, no dependencies, served by localwhisk itself.
// Every call goes to this server's REST API (/api/v1) or the dashboard's data
// (/dashboard/api) with the namespace key as Basic auth, which the tab keeps in
// sessionStorage only; requests omit cookies. Everything shown comes from actions and
// their callers, so it is written with textContent and never parsed as HTML.
"use strict";

const KEY_SLOT = "localwhisk.key";
const ROW_HEIGHT = 24;
const TIMELINE_ROWS = 80;
const TL_ROW = 22;
const TL_LEFT = 200;
const FAILED = new Set(["application error", "action developer error", "whisk internal error"]);

const state = {
  key: null,
  namespace: null,
  rows: new Map(),      // activation id -> summary row from the server
  order: [],            // ids, newest start first
  shown: [],            // order after the filters
  oldest: null,         // start of the oldest row loaded (for "Load older")
  stream: null,         // AbortController of the event stream
  follow: null,         // activation id whose live logs the stream carries
  view: null,
  dirty: false,
  liveLines: 0,
  unpainted: [],        // ids of rows that ended, not yet painted
  stats: { firstRows: null, seen: {} }, // read by the browser test and the bench
};
window.lwStats = state.stats;

// -- DOM helpers: text only ------------------------------------------------------------
const $ = (id) => document.getElementById(id);
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "class") node.className = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else if (name === "href") node.setAttribute("href", internalHref(value));
    else node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}
function internalHref(value) {
  // Links point inside the page only: an activation name can never become a javascript: URL.
  return typeof value === "string" && value.startsWith("#/") ? value : "#/";
}
function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
function pretty(value) {
  if (value === undefined || value === null) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}
function clock(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}
function span(ms) {
  if (ms === undefined || ms === null) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}
function statusClass(status) {
  return status === "success" ? "st-success" : status === "running" ? "st-running" : "st-fail";
}

// -- API -------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
function authHeader() { return "Basic " + btoa(state.key); }
async function api(path, options = {}) {
  const headers = { Authorization: authHeader(), Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method: options.method || "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: "omit",
    cache: "no-store",
    signal: options.signal,
  });
  const text = await response.text();
  let value = null;
  try { value = text ? JSON.parse(text) : null; } catch (_) { value = text; }
  if (!response.ok && response.status !== 202) {
    const message = value && value.error ? value.error : `HTTP ${response.status}`;
    if (response.status === 401) signOut(message);
    throw new ApiError(response.status, message);
  }
  return value;
}
const ns = () => encodeURIComponent(state.namespace);
const dash = (rest) => `/dashboard/api/namespaces/${ns()}${rest}`;
const rest = (rest) => `/api/v1/namespaces/${ns()}${rest}`;
function entityPath(name) { return name.split("/").map(encodeURIComponent).join("/"); }

// -- sign-in ---------------------------------------------------------------------------
async function signIn(key) {
  state.key = key;
  const found = await api("/api/v1/namespaces");
  state.namespace = Array.isArray(found) && found.length ? found[0] : "_";
  sessionStorage.setItem(KEY_SLOT, key);
  $("who").textContent = `namespace ${state.namespace}`;
  $("nav").hidden = false;
  $("signout").hidden = false;
  connect(); // subscribed before the list is read, so nothing ends unseen in between
  await loadRecent();
  route();
}
function signOut(message) {
  sessionStorage.removeItem(KEY_SLOT);
  if (state.stream) state.stream.abort();
  state.stream = null;
  state.key = null;
  state.rows.clear();
  state.order = [];
  $("nav").hidden = true;
  $("signout").hidden = true;
  $("who").textContent = "";
  setLive(false);
  show("signin");
  $("signin-error").textContent = message || "";
}
async function prefill() {
  try {
    const response = await fetch("/dashboard/signin.json", { credentials: "omit", cache: "no-store" });
    const found = await response.json();
    if (found && typeof found.key === "string" && !$("key").value) $("key").value = found.key;
  } catch (_) { /* nothing to pre-fill */ }
}

// -- activations: data -----------------------------------------------------------------
function upsert(row) {
  const known = state.rows.get(row.id);
  if (known && known.status !== "running" && row.status === "running") return; // an older state
  state.rows.set(row.id, row);
  if (!known) insertOrdered(row);
  else if (known.start !== row.start) { // a run's start moves once its process is ready
    state.order.splice(state.order.indexOf(row.id), 1);
    insertOrdered(row);
  }
  if (row.status !== "running" && !(row.id in state.stats.seen)) {
    state.stats.seen[row.id] = null;
    state.unpainted.push(row.id);
  }
}
function insertOrdered(row) {
  const order = state.order;
  let lo = 0, hi = order.length;
  while (lo < hi) { // newest first
    const mid = (lo + hi) >> 1;
    if (state.rows.get(order[mid]).start >= row.start) lo = mid + 1; else hi = mid;
  }
  order.splice(lo, 0, row.id);
}
async function loadRecent(older) {
  const query = older && state.oldest ? `?upto=${state.oldest - 1}` : "";
  const found = await api(dash(`/activations${query}`));
  for (const row of found.activations) upsert(row);
  for (const row of found.activations) if (!state.oldest || row.start < state.oldest) state.oldest = row.start;
  changed();
}
function changed() {
  if (state.dirty) return;
  state.dirty = true;
  requestAnimationFrame(() => { state.dirty = false; render(); });
}
function render() {
  if (state.view === "activations") renderRows(true);
  else if (state.view === "timeline") renderTimeline();
  else if (state.view === "detail" && state.follow) refreshDetailFromRow();
  // Rows that ended are "seen" once painted in whichever view is open.
  const now = Date.now();
  for (const id of state.unpainted) state.stats.seen[id] = now;
  state.unpainted = [];
}

// -- activations: the list, rendering only the rows in view ----------------------------
function filtered() {
  const name = $("filter-name").value.trim().toLowerCase();
  const status = $("filter-status").value;
  if (!name && !status) return state.order;
  return state.order.filter((id) => {
    const row = state.rows.get(id);
    if (status && row.status !== status) return false;
    return !name || row.name.toLowerCase().includes(name) || row.path.toLowerCase().includes(name);
  });
}
function renderRows(refilter) {
  if (refilter) state.shown = filtered();
  const box = $("rows");
  const shown = state.shown;
  $("rows-spacer").style.height = `${shown.length * ROW_HEIGHT}px`;
  $("count").textContent = `${shown.length} of ${state.order.length} loaded`;
  const first = Math.max(0, Math.floor(box.scrollTop / ROW_HEIGHT) - 5);
  const last = Math.min(shown.length, first + Math.ceil(box.clientHeight / ROW_HEIGHT) + 10);
  for (const node of [...box.querySelectorAll(".row")]) node.remove();
  const frag = document.createDocumentFragment();
  for (let i = first; i < last; i++) {
    const row = state.rows.get(shown[i]);
    const line = el("div", { class: "row", "data-id": row.id, "data-status": row.status, title: row.path },
      el("span", { text: row.name }),
      el("span", { text: row.kind }),
      el("span", { class: statusClass(row.status), text: row.status }),
      el("span", { text: clock(row.start) }),
      el("span", { text: span(row.duration) }),
      el("span", { text: row.cold === undefined ? "" : row.cold ? "cold" : "warm" }),
      el("span", { text: causeText(row) }));
    line.style.top = `${i * ROW_HEIGHT}px`;
    line.addEventListener("click", () => { location.hash = `#/activation/${row.id}`; });
    frag.append(line);
  }
  box.append(frag);
  if (shown.length && state.stats.firstRows === null) {
    state.stats.firstRows = performance.now();
    performance.mark("lw-first-rows");
  }
}

function causeText(row) {
  if (!row.by) return "";
  const cause = state.rows.get(row.by);
  const what = row.via === "rule" ? `rule ${row.rule}` : row.via;
  return `${cause ? cause.name : row.by.slice(0, 8) + "…"} (${what})`;
}

// -- timeline --------------------------------------------------------------------------
function renderTimeline() {
  const box = $("tl");
  clear(box);
  const now = Date.now();
  const windowMs = Number($("tl-window").value);
  const from = now - windowMs;
  const picked = [];
  const ids = new Set();
  for (const id of state.order) {
    const row = state.rows.get(id);
    if ((row.end || now) < from) continue;
    picked.push(row); ids.add(id);
    if (picked.length >= TIMELINE_ROWS) break;
  }
  for (const row of [...picked]) { // a cause that started before the window is drawn too
    if (row.by && !ids.has(row.by) && state.rows.has(row.by)) { picked.push(state.rows.get(row.by)); ids.add(row.by); }
  }
  picked.sort((a, b) => a.start - b.start);
  const start = Math.min(from, ...picked.map((r) => r.start));
  const width = Math.max(400, box.clientWidth - TL_LEFT - 20);
  const x = (ms) => TL_LEFT + ((ms - start) / Math.max(1, now - start)) * width;
  const height = 24 + picked.length * TL_ROW + 10;
  box.style.height = `${height}px`;
  const axis = el("div", { class: "axis" });
  for (let i = 0; i <= 4; i++) {
    const at = start + ((now - start) * i) / 4;
    const tick = el("span", { class: "tick", text: i === 4 ? "now" : clock(at) });
    tick.style.left = `${x(at)}px`;
    axis.append(tick);
  }
  box.append(axis);
  const place = new Map();
  picked.forEach((row, i) => {
    const top = 24 + i * TL_ROW;
    const label = el("div", { class: "label", text: `${row.name} ${span(row.duration)}`, title: row.path });
    label.style.top = `${top}px`;
    const cls = row.status === "running" ? "running" : FAILED.has(row.status) ? "fail" : row.kind === "trigger" ? "trigger" : "";
    const bar = el("div", {
      class: `bar ${cls}`, "data-id": row.id, "data-status": row.status, "data-by": row.by,
      title: `${row.name}: ${row.status}, ${span(row.duration) || "running"}`,
    });
    const left = x(row.start);
    const right = row.status === "running" ? x(now) : x(row.end || row.start);
    bar.style.left = `${left}px`;
    bar.style.width = `${Math.max(3, right - left)}px`;
    bar.style.top = `${top + 3}px`;
    bar.addEventListener("click", () => { location.hash = `#/activation/${row.id}`; });
    box.append(label, bar);
    place.set(row.id, { left, right, mid: top + 10 });
  });
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("width", String(TL_LEFT + width + 20));
  svg.setAttribute("height", String(height));
  for (const row of picked) {
    const from_ = row.by && place.get(row.by);
    const to = place.get(row.id);
    if (!from_ || !to) continue;
    const path = document.createElementNS(NS, "path");
    const sx = Math.min(from_.left + 2, to.left);
    path.setAttribute("d", `M${sx},${from_.mid + 7} C${sx},${to.mid} ${sx},${to.mid} ${to.left},${to.mid}`);
    path.setAttribute("data-from", row.by);
    path.setAttribute("data-to", row.id);
    path.setAttribute("class", "link");
    const title = document.createElementNS(NS, "title");
    title.textContent = row.via === "rule" ? `rule ${row.rule}` : row.via || "";
    path.append(title);
    svg.append(path);
    if (row.via === "rule" && row.rule) {
      const text = document.createElementNS(NS, "text");
      text.setAttribute("x", String(to.left + 4));
      text.setAttribute("y", String(to.mid - 8));
      text.textContent = `rule ${row.rule}`;
      svg.append(text);
    }
  }
  box.append(svg);
}

// -- one activation --------------------------------------------------------------------
let detailId = null;
function link(row) {
  return el("a", { href: `#/activation/${row.id}`, text: `${row.name} (${row.status})` });
}
async function showDetail(id) {
  detailId = id;
  followLogs(id);
  let found;
  try {
    found = await api(dash(`/activations/${encodeURIComponent(id)}`));
  } catch (err) {
    $("d-title").textContent = `activation ${id}: ${err.message}`;
    return;
  }
  if (detailId !== id) return;
  const row = found.summary;
  upsert(row);
  $("d-title").textContent = `${row.path} — ${row.status}`;
  const facts = $("d-facts");
  clear(facts);
  const record = found.record || {};
  const pairs = [
    ["activation id", row.id], ["kind", row.kind], ["status", row.status],
    ["start", new Date(row.start).toISOString()], ["duration", span(row.duration) || "running"],
    ["start type", row.cold === undefined ? "" : row.cold ? "cold" : "warm"],
  ];
  for (const [name, value] of pairs) facts.append(el("dt", { text: name }), el("dd", { text: value }));
  const by = $("d-by");
  clear(by);
  if (row.by) {
    const cause = state.rows.get(row.by);
    by.append(cause ? link(cause) : el("a", { href: `#/activation/${row.by}`, text: row.by }));
    by.append(el("span", { class: "muted", text: ` via ${row.via}${row.rule ? " " + row.rule : ""}` }));
  } else by.append(el("span", { class: "muted", text: "nothing recorded (a client outside localwhisk's actions)" }));
  const caused = $("d-caused");
  clear(caused);
  for (const child of found.caused) { upsert(child); caused.append(link(child)); }
  if (!found.caused.length) caused.append(el("span", { class: "muted", text: "nothing" }));
  const response = record.response || {};
  $("d-result").textContent = found.record ? pretty(response.result) : "(running)";
  $("d-params").textContent = pretty(found.params) || "(none recorded)";
  const limits = (record.annotations || []).find((a) => a.key === "limits");
  $("d-limits").textContent = limits ? pretty(limits.value) : "";
  if (found.record) $("d-logs").textContent = (record.logs || []).join("\n");
  else { $("d-logs").textContent = (found.logs || []).join("\n"); state.liveLines = (found.logs || []).length; }
}
function refreshDetailFromRow() {
  const row = state.rows.get(detailId);
  if (row && row.status !== "running" && $("d-result").textContent === "(running)") {
    state.follow = null;
    showDetail(detailId);
  }
}
function followLogs(id) {
  if (state.follow === id) return;
  state.follow = id;
  state.liveLines = 0;
  connect();
}
function liveLogs(event) {
  if (event.id !== detailId) return;
  if (event.from < state.liveLines) event.lines = event.lines.slice(state.liveLines - event.from);
  if (!event.lines.length) return;
  const logs = $("d-logs");
  logs.textContent += (logs.textContent ? "\n" : "") + event.lines.join("\n");
  state.liveLines += event.lines.length;
}

// -- entities --------------------------------------------------------------------------
function annotation(entity, key) {
  const found = (entity.annotations || []).find((a) => a.key === key);
  return found ? found.value : undefined;
}
function fullName(entity) {
  const parts = String(entity.namespace || "").split("/");
  return parts.length > 1 ? `${parts.slice(1).join("/")}/${entity.name}` : entity.name;
}
function table(headers, rows) {
  const head = el("tr", {}, ...headers.map((h) => el("th", { text: h })));
  return el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows));
}
function parseJson(text, where) {
  if (!text.trim()) return {};
  let value;
  try { value = JSON.parse(text); } catch (err) { throw new Error(`${where}: not JSON (${err.message})`); }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new Error(`${where}: expected a JSON object like {"name": "value"}`);
  return value;
}
function runner(label, target, send) {
  const input = el("textarea", { placeholder: '{"duration_ms": 2000}', spellcheck: "false", "aria-label": `${label} parameters` });
  const out = el("div", { class: "result" });
  const button = el("button", { type: "button", text: label, "data-target": target });
  button.addEventListener("click", async () => {
    clear(out);
    try {
      const params = parseJson(input.value, `parameters of ${target}`);
      const answer = await send(params);
      const id = answer && answer.activationId;
      out.append(id ? el("a", { href: `#/activation/${id}`, text: `activation ${id.slice(0, 12)}…` }) : el("span", { text: "nothing ran (no active rule)" }));
    } catch (err) { out.append(el("span", { class: "error", text: err.message })); }
  });
  return [input, button, out];
}
async function renderEntities() {
  $("e-error").textContent = "";
  let actions, packages, triggers, rules;
  try {
    [actions, packages, triggers, rules] = await Promise.all(
      ["actions", "packages", "triggers", "rules"].map((c) => api(rest(`/${c}?limit=200`))));
  } catch (err) { $("e-error").textContent = err.message; return; }
  const actionRows = actions.map((a) => {
    const name = fullName(a);
    const web = annotation(a, "web-export") === true;
    const parts = String(a.namespace).split("/");
    const url = web ? `${location.origin}/api/v1/web/${encodeURIComponent(parts[0])}/${encodeURIComponent(parts[1] || "default")}/${encodeURIComponent(a.name)}` : "";
    const copy = web ? el("button", { type: "button", text: "copy", "data-url": url }) : null;
    if (copy) copy.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(url); copy.textContent = "copied"; }
      catch (_) { copy.textContent = "select and copy"; }
    });
    const limits = a.limits || {};
    const [input, button, out] = runner("invoke", name, (params) =>
      api(rest(`/actions/${entityPath(name)}?blocking=false`), { method: "POST", body: params }));
    return el("tr", { "data-action": name },
      el("td", { text: name }),
      el("td", { text: (a.exec && a.exec.kind) || annotation(a, "exec") || "" }),
      el("td", { text: `timeout ${limits.timeout} ms, memory ${limits.memory} MB, logs ${limits.logs} MB, concurrency ${limits.concurrency ?? 1}` }),
      el("td", {}, web ? el("span", { class: "url", text: url }) : el("span", { class: "muted", text: "not a web action" }), " ", copy),
      el("td", {}, input, button, out));
  });
  const e = (id, node) => { clear($(id)); $(id).append(node); };
  e("e-actions", table(["name", "kind", "limits", "web URL", "invoke with JSON parameters"], actionRows));
  e("e-packages", table(["name", "binding", "shared"], packages.map((p) =>
    el("tr", {}, el("td", { text: p.name }), el("td", { text: p.binding && p.binding.name ? `${p.binding.namespace}/${p.binding.name}` : "" }), el("td", { text: p.publish ? "yes" : "no" })))));
  e("e-triggers", table(["name", "fire with JSON parameters"], triggers.map((t) => {
    const [input, button, out] = runner("fire", t.name, (params) =>
      api(rest(`/triggers/${encodeURIComponent(t.name)}`), { method: "POST", body: params }));
    return el("tr", { "data-trigger": t.name }, el("td", { text: t.name }), el("td", {}, input, button, out));
  })));
  const ruleRows = await Promise.all(rules.map(async (r) => {
    let rule = r;
    if (!r.trigger || !r.status) { try { rule = await api(rest(`/rules/${encodeURIComponent(r.name)}`)); } catch (_) { /* keep the summary */ } }
    const path = (p) => (p && typeof p === "object" ? `${p.path}/${p.name}` : p || "");
    return el("tr", { "data-rule": r.name }, el("td", { text: r.name }), el("td", { text: path(rule.trigger) }), el("td", { text: path(rule.action) }),
      el("td", { class: rule.status === "active" ? "st-success" : "muted", text: rule.status || "" }));
  }));
  e("e-rules", table(["name", "trigger", "action", "status"], ruleRows));
}

// -- the event stream: fetch with the key in a header, read as it arrives ----------------
function setLive(on, why) {
  // Why the stream is down (the server's own error, e.g. too many open streams), as text.
  $("live").textContent = on ? "live" : why ? `offline: ${why}` : "offline";
  $("live").title = on || !why ? "live updates" : why;
  $("live").className = on ? "live on" : "live off";
}
// Reconnecting waits 0.5 s, doubling to 30 s (longer if the server says Retry-After),
// with jitter so that many tabs refused together do not all come back together.
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30000;
let retryMs = RETRY_MIN_MS;
class StreamRefused extends Error {
  constructor(message, afterMs) { super(message); this.afterMs = afterMs; }
}
async function refusal(response) {
  let message = `HTTP ${response.status}`;
  try {
    const value = JSON.parse(await response.text());
    if (value && typeof value.error === "string") message = value.error;
  } catch (_) { /* not JSON: the status says it */ }
  const after = Number(response.headers.get("Retry-After"));
  return new StreamRefused(message, Number.isFinite(after) && after > 0 ? after * 1000 : 0);
}
async function connect() {
  if (state.stream) state.stream.abort();
  if (!state.key) return;
  const control = new AbortController();
  state.stream = control;
  const query = state.follow ? `?follow=${encodeURIComponent(state.follow)}` : "";
  let why = "";
  let waitMs = retryMs;
  try {
    const response = await fetch(dash(`/events${query}`), {
      headers: { Authorization: authHeader(), Accept: "text/event-stream" },
      credentials: "omit", cache: "no-store", signal: control.signal,
    });
    if (response.status === 401) { signOut("The key was refused."); return; }
    if (!response.ok || !response.body) throw await refusal(response);
    setLive(true);
    retryMs = RETRY_MIN_MS;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        dispatch(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (err) {
    if (control.signal.aborted) return;
    if (err instanceof StreamRefused) { why = err.message; waitMs = Math.max(waitMs, err.afterMs); }
  }
  if (state.stream !== control) return;
  setLive(false, why);
  waitMs = Math.round(waitMs * (0.75 + Math.random() / 2));
  setTimeout(() => { if (state.stream === control) { connect(); loadRecent().catch(() => {}); } }, waitMs);
  retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
}
function dispatch(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) name = line.slice(7);
    else if (line.startsWith("data: ")) data.push(line.slice(6));
  }
  if (!data.length) return;
  let value;
  try { value = JSON.parse(data.join("\n")); } catch (_) { return; }
  if (name === "activations") { for (const row of value) upsert(row); changed(); }
  else if (name === "logs") liveLogs(value);
  else if (name === "reload") loadRecent().catch(() => {});
}

// -- views and routing -----------------------------------------------------------------
function show(view) {
  state.view = view;
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== view;
  for (const a of document.querySelectorAll("#nav a")) a.className = a.dataset.view === view ? "on" : "";
}
function route() {
  if (!state.key) { show("signin"); return; }
  const hash = location.hash || "#/activations";
  const detail = hash.match(/^#\/activation\/([0-9a-f]{32})$/);
  if (detail) { show("detail"); showDetail(detail[1]); return; }
  if (state.follow) { state.follow = null; connect(); }
  if (hash === "#/timeline") { show("timeline"); renderTimeline(); }
  else if (hash === "#/entities") { show("entities"); renderEntities(); }
  else { show("activations"); renderRows(true); }
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    const key = $("key").value.trim();
    if (!/^[^:\s]+:\S+$/.test(key)) { $("signin-error").textContent = "A key is uuid:key, with a colon between the two parts."; return; }
    try { await signIn(key); } catch (err) { state.key = null; $("signin-error").textContent = `Sign-in failed: ${err.message}`; }
  });
  $("signout").addEventListener("click", () => signOut(""));
  $("filter-name").addEventListener("input", () => renderRows(true));
  $("filter-status").addEventListener("change", () => renderRows(true));
  $("rows").addEventListener("scroll", () => renderRows(false));
  $("older").addEventListener("click", () => loadRecent(true).catch(() => {}));
  $("tl-window").addEventListener("change", renderTimeline);
  window.addEventListener("hashchange", route);
  // Running bars grow with time while the timeline is open.
  setInterval(() => { if (state.view === "timeline") changed(); }, 1000);
  const saved = sessionStorage.getItem(KEY_SLOT);
  if (saved) signIn(saved).catch((err) => signOut(`Sign-in failed: ${err.message}`));
  else { show("signin"); prefill(); }
});
