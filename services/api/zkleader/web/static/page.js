// The live cluster page: polls /cluster every 0.5 s and /cluster/terms every
// second from the instance that served it, and says what it cannot see.
"use strict";

const CLUSTER_EVERY_MS = 500;
const TERMS_EVERY_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const TIMELINE_SECONDS = 600;

const $ = (id) => document.getElementById(id);
let lastCluster = null;   // last body of /cluster
let lastOkAt = null;      // Date.now() of the last answer
let fetchError = null;    // why the last /cluster request failed
const colours = new Map();

function colourOf(instance) {
  if (!colours.has(instance)) colours.set(instance, `c${colours.size % 5}`);
  return colours.get(instance);
}

function clock(unixSeconds) {
  if (unixSeconds == null) return "–";
  return new Date(unixSeconds * 1000).toLocaleTimeString([], { hour12: false });
}

function el(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

async function getJson(path) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch(path, { cache: "no-store", signal: abort.signal });
    const body = await response.json();  // 503s carry a full body too
    return body;
  } finally {
    clearTimeout(timer);
  }
}

function roleOf(member) {
  if (member.reachable === null) return "unknown";
  if (!member.reachable) return member.inElection ? "unreachable" : "gone";
  return member.state || "unknown";
}

function renderCluster() {
  const body = lastCluster;
  const warnings = [];
  if (fetchError) {
    const age = lastOkAt ? `${((Date.now() - lastOkAt) / 1000).toFixed(0)} s ago` : "never";
    warnings.push(`the instance serving this page does not answer (${fetchError}); last answer ${age}`);
  }
  $("updated").textContent = lastOkAt ? new Date(lastOkAt).toLocaleTimeString([], { hour12: false }) : "never";
  if (!body) {
    renderWarnings(warnings);
    return;
  }
  warnings.push(...(body.warnings || []));
  $("observer").textContent = body.observer;

  const leader = body.leader;
  const leaderNode = $("leader-instance");
  leaderNode.dataset.instance = leader ? leader.instance : "";
  leaderNode.className = leader ? "" : "none";
  leaderNode.textContent = leader
    ? leader.instance + (leader.reachable === false ? " (not answering)" : "")
    : "none";
  $("leader-epoch").textContent = leader ? String(leader.epoch) : "–";
  $("leader-lease").textContent =
    leader && leader.leaseRemaining != null ? `${leader.leaseRemaining.toFixed(1)} s` : "–";
  const claimants = body.claimants || [];
  $("claimants").textContent = claimants.length ? claimants.join(", ") : "none";
  if (body.leaderlessSince) warnings.push(`no instance has claimed leadership since ${clock(body.leaderlessSince)}`);

  const rows = $("members").tBodies[0];
  rows.replaceChildren();
  for (const m of body.members || []) {
    const role = roleOf(m);
    const tr = el("tr", { "data-instance": m.instance, "data-role": role, "data-reachable": String(m.reachable) });
    const name = el("td", {}, m.instance + (m.self ? " (this page)" : ""));
    const roleCell = el("td");
    roleCell.append(el("span", { class: `role ${role}` }, role));
    const word = el("td", {}, m.reachable ? (m.isLeader ? "I lead" : `leader is ${m.leader || "unknown"}`) : m.error || "no answer");
    const epoch = el("td", {}, m.epoch == null ? "–" : String(m.epoch));
    const zk = el("td", {}, m.inElection ? (m.zkLeader ? "lowest node" : "member") : "not a member");
    tr.append(name, roleCell, word, epoch, zk);
    rows.append(tr);
  }
  renderWarnings(warnings);
}

function renderWarnings(warnings) {
  $("problems").hidden = warnings.length === 0;
  $("warnings").replaceChildren(...warnings.map((w) => el("li", {}, w)));
}

function renderTerms(body) {
  const terms = body.terms || [];
  $("terms-error").hidden = !body.error;
  $("terms-error").textContent = body.error ? `term log: ${body.error}` : "";
  const now = Date.now() / 1000;
  const start = Math.max(now - TIMELINE_SECONDS, terms.length ? terms[0].electedAt : now - 60);
  const span = Math.max(now - start, 1);
  const bars = [];
  terms.forEach((t, i) => {
    const next = terms[i + 1];
    const end = t.endedAt ?? (next ? next.electedAt : now);
    if (end < start) return;
    const left = ((Math.max(t.electedAt, start) - start) / span) * 100;
    const width = Math.max(((end - Math.max(t.electedAt, start)) / span) * 100, 0.5);
    const bar = el("div", {
      class: `term ${colourOf(t.instance)}${t.endedAt == null && !next ? " open" : ""}`,
      style: `left:${left.toFixed(2)}%;width:${width.toFixed(2)}%`,
      title: `${t.instance} epoch ${t.epoch}`,
    }, t.instance);
    bars.push(bar);
  });
  $("timeline").replaceChildren(...bars);
  const items = terms.slice(-20).reverse().map((t) => {
    const ended = t.endedAt != null ? `ended ${clock(t.endedAt)} (${t.reason})` : "no clean end recorded";
    return el("li", { "data-epoch": String(t.epoch) }, `${t.instance} · epoch ${t.epoch} · elected ${clock(t.electedAt)} · ${ended}`);
  });
  $("terms").replaceChildren(...items);
}

async function pollCluster() {
  try {
    lastCluster = await getJson("/cluster");
    lastOkAt = Date.now();
    fetchError = null;
  } catch (err) {
    fetchError = err.name === "AbortError" ? "timed out" : String(err.message || err);
  }
  renderCluster();
  setTimeout(pollCluster, CLUSTER_EVERY_MS);
}

async function pollTerms() {
  try {
    renderTerms(await getJson("/cluster/terms"));
  } catch (err) {
    $("terms-error").hidden = false;
    $("terms-error").textContent = `term log not visible: ${err.message || err}`;
  }
  setTimeout(pollTerms, TERMS_EVERY_MS);
}

pollCluster();
pollTerms();
