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

let last = null;

// The gate stopped answering: out of service (nothing of the last visitor stays on show) until
// the stream reconnects, which EventSource does on its own.
function offline() {
  if (last === null) return;
  render({...last, phase: "out_of_service", colour: null, verdict: null, temperature_c: null,
          name: null, decided_at: null, reasons: [],
          languages: last.languages.map((language) => ({...language, headline: language.offline,
                                                        next: [], notes: []}))});
}

const stream = new EventSource("/events");
stream.onmessage = (message) => {
  last = JSON.parse(message.data);
  render(last);
};
stream.onerror = offline;
