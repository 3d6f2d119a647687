// The fleet page: polls /api/fleet, draws the table, a gate's detail and its hourly chart.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
let selected = null;
let refreshMs = 5000;

function when(ms) {
  if (ms === null || ms === undefined) return "-";
  return new Date(ms).toLocaleString();
}

function days(value) {
  return value === null || value === undefined ? "-" : value.toFixed(1) + " d";
}

function list(version, left) {
  if (version === null || version === undefined) return "-";
  return "v" + version + (left === null || left === undefined ? "" : " (" + days(left) + ")");
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function drawFleet(data) {
  refreshMs = Math.max(250, data.refresh_s * 1000);
  const body = document.querySelector("#gates tbody");
  body.replaceChildren();
  let faulted = 0, offline = 0;
  for (const gate of data.gates) {
    const row = document.createElement("tr");
    const faults = Object.keys(gate.faults).sort();
    row.dataset.gate = gate.site + "/" + gate.gate;
    row.dataset.state = gate.state;
    if (faults.length) { row.className = "faulted"; faulted += 1; }
    else if (gate.state !== "online") { row.className = gate.state; offline += 1; }
    cell(row, gate.site);
    cell(row, gate.gate);
    cell(row, gate.state, "state");
    cell(row, when(gate.since_ms));
    const faultCell = cell(row, faults.join(", ") || "-", "faults");
    faultCell.title = faults.map((name) => name + ": " + gate.faults[name]).join("\n");
    cell(row, list(gate.trust_list_version, gate.trust_list_days_left),
      gate.trust_list_days_left !== null && gate.trust_list_days_left < 7 ? "warn" : "");
    cell(row, list(gate.denylist_version, gate.denylist_days_left),
      gate.denylist_days_left !== null && gate.denylist_days_left < 7 ? "warn" : "");
    cell(row, gate.outbox_backlog === null ? "-" : String(gate.outbox_backlog));
    const missing = cell(row, String(gate.missing_events), gate.missing_events > 0 ? "warn" : "");
    missing.title = "dropped by the gate's outbox bound: " + (gate.dropped_events ?? "unknown");
    cell(row, when(gate.last_event_ms));
    cell(row, String(gate.passes_today));
    cell(row, String(gate.denies_today));
    cell(row, days(gate.certificate_days_left),
      gate.certificate_days_left !== null && gate.certificate_days_left < 30 ? "warn" : "");
    cell(row, gate.version || "-");
    row.addEventListener("click", () => { selected = [gate.site, gate.gate]; refreshDetail(); });
    body.appendChild(row);
  }
  document.getElementById("summary").textContent =
    data.gates.length + " gates, " + faulted + " faulted, " + offline + " offline or unknown" +
    " · updated " + new Date(data.now_ms).toLocaleTimeString();
}

function drawChart(hours) {
  const svg = document.getElementById("chart");
  svg.replaceChildren();
  const width = 720, height = 180, bottom = 160, top = 10;
  const most = Math.max(1, ...hours.map((h) => Math.max(h.passes, h.denies)));
  const slot = width / hours.length;
  hours.forEach((hour, index) => {
    const x = index * slot;
    for (const [value, colour, offset] of [[hour.passes, "#2e8540", 2], [hour.denies, "#c62828", slot / 2]]) {
      const bar = document.createElementNS(SVG, "rect");
      const h = (value / most) * (bottom - top);
      bar.setAttribute("x", String(x + offset));
      bar.setAttribute("y", String(bottom - h));
      bar.setAttribute("width", String(slot / 2 - 3));
      bar.setAttribute("height", String(h));
      bar.setAttribute("fill", colour);
      bar.setAttribute("class", colour === "#2e8540" ? "passes" : "denies");
      const title = document.createElementNS(SVG, "title");
      title.textContent = new Date(hour.hour_ms).getHours() + ":00 · " + value;
      bar.appendChild(title);
      svg.appendChild(bar);
    }
    if (index % 3 === 0) {
      const label = document.createElementNS(SVG, "text");
      label.setAttribute("x", String(x + 2));
      label.setAttribute("y", String(height - 4));
      label.setAttribute("font-size", "11");
      label.textContent = new Date(hour.hour_ms).getHours() + ":00";
      svg.appendChild(label);
    }
  });
  const axis = document.createElementNS(SVG, "line");
  axis.setAttribute("x1", "0"); axis.setAttribute("x2", String(width));
  axis.setAttribute("y1", String(bottom)); axis.setAttribute("y2", String(bottom));
  axis.setAttribute("stroke", "#888");
  svg.appendChild(axis);
}

function drawDetail(data) {
  const section = document.getElementById("detail");
  section.hidden = false;
  const gate = data.gate;
  document.getElementById("detail-title").textContent =
    gate.site + " / " + gate.gate + " · " + gate.state + " since " + when(gate.since_ms);
  drawChart(data.hourly);
  const body = document.querySelector("#decisions tbody");
  body.replaceChildren();
  for (const decision of data.decisions) {
    const row = document.createElement("tr");
    cell(row, when(decision.ts_ms));
    cell(row, decision.decision || "-");
    cell(row, decision.reasons.join(", ") || "-");
    cell(row, decision.method || "-");
    cell(row, decision.colour || "-");
    body.appendChild(row);
  }
  const commands = document.querySelector("#commands tbody");
  commands.replaceChildren();
  for (const result of data.commands) {
    const row = document.createElement("tr");
    cell(row, when(result.ts_ms));
    cell(row, result.command || "-");
    cell(row, result.outcome, result.outcome === "refused" ? "warn" : "");
    cell(row, result.reason || "-");
    cell(row, result.command_id);
    commands.appendChild(row);
  }
}

async function fetchJson(url) {
  const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (response.status === 401) { window.location.assign("/login"); throw new Error("logged out"); }
  if (!response.ok) throw new Error(url + ": " + response.status);
  return response.json();
}

async function refreshDetail() {
  if (!selected) return;
  drawDetail(await fetchJson("/api/gates/" + encodeURIComponent(selected[0]) + "/" + encodeURIComponent(selected[1])));
}

async function tick() {
  try {
    drawFleet(await fetchJson("/api/fleet"));
    await refreshDetail();
  } catch (error) {
    document.getElementById("summary").textContent = "not updated: " + error.message;
  }
  window.setTimeout(tick, refreshMs);
}

if (document.body.classList.contains("fleet")) {
  tick();
} else if (new URLSearchParams(window.location.search).has("failed")) {
  document.getElementById("failed").hidden = false;
}
