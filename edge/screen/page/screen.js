// The visitor screen: renders each state the gate pushes; keeps nothing beyond the current one.
"use strict";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function render(state) {
  const body = document.body;
  body.dataset.phase = state.phase;
  body.dataset.colour = state.colour || "";
  document.getElementById("temperature").textContent =
    state.temperature_c === null ? "" : state.temperature_c.toFixed(1) + " °C";
  document.getElementById("name").textContent = state.name || "";
  const blocks = state.languages.map((language) => {
    const block = element("section", "lang" + (language.vertical ? " vertical" : ""));
    block.lang = language.tag;
    block.dataset.tag = language.tag;
    block.appendChild(element("h1", "headline", language.headline));
    for (const text of language.next) block.appendChild(element("p", "next", text));
    for (const text of language.notes) block.appendChild(element("p", "note", text));
    return block;
  });
  document.getElementById("languages").replaceChildren(...blocks);
  body.dataset.seq = String(state.seq);
  const decidedAt = state.decided_at === null ? "" : String(state.decided_at);
  if (body.dataset.decidedAt !== decidedAt) {
    // When this decision first appeared (for the push latency; kept only while it is shown).
    body.dataset.decidedAt = decidedAt;
    body.dataset.shownAt = String(Date.now());
  }
}

const stream = new EventSource("/events");
stream.onmessage = (message) => render(JSON.parse(message.data));
