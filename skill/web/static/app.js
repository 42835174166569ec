"use strict";
// The coach's page: live state over server-sent events, controls posted as commands,
// history and routines fetched as JSON. Text is always set with textContent; only the
// server's own SVG charts are inserted as markup.
const csrf = document.querySelector('meta[name="csrf"]').content;
const $ = (id) => document.getElementById(id);
let routinesLoaded = null;
const NOTICE_MS = 6000; // long enough to read from the floor
let noticeTimer = 0;
// When a session ends, the start buttons take the place of its controls under the same
// finger: a tap meant for Next as the closing words ended would start another routine.
// A start tapped this soon after the session's view went away waits for a second tap.
const SETTLE_MS = 2000;
let sessionShown = false;
let endedAt = -Infinity;

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

async function command(name, routine) {
  const body = routine ? { name, routine } : { name };
  const response = await fetch("/api/command", {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  if (response.status === 401) location.reload();
  else if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    notice(data.error || "the coach refused that");
  }
}

// Why a tap did nothing (a start while a routine runs, say): only the coach would have said
// so, out loud. Fixed at the bottom, so it is seen on any tab and at any scroll; a tap on it
// clears it from the buttons it covers.
function notice(text) {
  $("notice").textContent = text;
  $("notice").hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => { $("notice").hidden = true; }, NOTICE_MS);
}

function clock(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 60) return String(seconds);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

function where(ex) {
  const parts = [`exercise ${ex.number} of ${ex.of}`];
  if (ex.side) parts.push(`${ex.side} side`);
  if (ex.sets > 1) parts.push(`set ${ex.set} of ${ex.sets}`);
  if (ex.reps > 1) parts.push(`rep ${ex.rep} of ${ex.reps}`);
  return parts.join(" · ");
}

function render(view) {
  document.body.dataset.mode = view.mode;
  const active = Boolean(view.routine);
  if (sessionShown && !active) endedAt = Date.now();
  sessionShown = active;
  $("idle").hidden = active;
  $("active").hidden = !active;
  if (!active) {
    offer(view.resumable);
    return;
  }
  $("routine").textContent = view.routine.name;
  $("mode").textContent = view.mode === "paused" ? "paused" : "running";
  $("mode").className = `chip ${view.mode}`;
  const ex = view.exercise;
  $("exercise").textContent = ex ? ex.name : view.routine.name;
  $("where").textContent = ex ? where(ex) : "";
  $("countdown").textContent = view.timed ? clock(view.remaining_s) : "…";
  $("doing").textContent = view.mode === "paused" ? "on a break" : view.doing;
  $("progress").style.width = `${Math.round(view.progress * 100)}%`;
  $("next").textContent = view.next;
  const pause = $("pause");
  const main = view.mode === "paused" ? "resume" : view.waiting ? "ready" : "pause";
  pause.dataset.command = main;
  pause.textContent = { resume: "Resume", ready: "Ready", pause: "Pause" }[main];
  const cautions = $("cautions");
  cautions.replaceChildren(...(ex ? ex.cautions : []).map((c) => el("li", c)));
  $("easier").textContent = ex && ex.easier ? `Easier: ${ex.easier}` : "";
  $("care").hidden = !ex || (!ex.cautions.length && !ex.easier);
}

// A session cut off (a power cut, say) that "resume" picks up: the coach offers it aloud at
// start-up, and the page must too, since a start from here would begin afresh.
function offer(resumable) {
  $("offer").hidden = !resumable;
  if (!resumable) return;
  const at = resumable.exercise ? `, at ${resumable.exercise}` : "";
  $("interrupted").textContent = `Interrupted: ${resumable.name}${at}`;
}

function listen() {
  const source = new EventSource("/events");
  source.onopen = () => { $("link").textContent = "live"; $("link").className = "link live"; };
  source.onmessage = (event) => render(JSON.parse(event.data));
  source.onerror = async () => {
    $("link").textContent = "reconnecting to the coach…";
    $("link").className = "link lost";
    // A browser the coach forgot (`web --forget`) must pair again rather than retry forever.
    const probe = await fetch("/api/routines", { method: "HEAD" }).catch(() => null);
    if (probe && probe.status === 401) location.reload();
  };
}

async function loadRoutines() {
  const response = await fetch("/api/routines");
  const routines = await response.json();
  const starts = $("starts");
  const list = $("routine-list");
  starts.replaceChildren();
  list.replaceChildren();
  for (const r of routines) {
    const start = el("button", `${r.name} · ${r.minutes} min`, `big${r.default ? " primary" : ""}`);
    start.dataset.command = "start";
    start.dataset.routine = r.id;
    starts.append(start);
    list.append(routineCard(r));
  }
}

function routineCard(r) {
  const card = el("article", null, "card");
  card.append(el("h2", r.name));
  const facts = `${r.minutes} min · ${r.exercises.length} exercises` +
    (r.props.length ? ` · props: ${r.props.join(", ")}` : " · no props");
  card.append(el("p", facts, "facts"), el("p", r.description));
  for (const ex of r.exercises) {
    const details = el("details");
    const where = ex.sides ? `${ex.position}, ${ex.sides}` : ex.position;
    details.append(el("summary", `${ex.name} (${where})`));
    const steps = el("ol");
    steps.append(...[...ex.setup, ...ex.steps].map((s) => el("li", s)));
    details.append(steps);
    for (const c of ex.cautions) details.append(el("p", `Caution: ${c}`, "caution"));
    if (ex.easier) details.append(el("p", `Easier: ${ex.easier}`));
    if (ex.harder) details.append(el("p", `Harder: ${ex.harder}`));
    card.append(details);
  }
  const start = el("button", `Start ${r.name}`, "big primary");
  start.dataset.command = "start";
  start.dataset.routine = r.id;
  card.append(start);
  return card;
}

async function loadHistory() {
  const response = await fetch("/api/history");
  const h = await response.json();
  $("streak").textContent = h.streak_days;
  $("streak-unit").textContent = h.streak_days === 1 ? "day in a row" : "days in a row";
  $("today").textContent = h.today_done ? "You stretched today." : "Not yet today.";
  $("calendar").innerHTML = h.calendar_svg;
  $("weeks").innerHTML = h.weeks_svg;
  const list = $("sessions");
  list.replaceChildren();
  if (!h.sessions.length) list.append(el("li", "No sessions yet."));
  for (const s of h.sessions.slice(0, 50)) {
    const item = el("li", null, s.finished ? "finished" : "stopped");
    item.append(el("span", `${s.date} ${s.time}`, "when"), el("span", s.name, "name"));
    const outcome = s.finished ? "finished" : `stopped (${s.steps_done ?? "?"} of ${s.steps_total ?? "?"})`;
    const note = s.note ? ` · the clock looked wrong (${s.note})` : "";
    item.append(el("span", `${s.minutes} min · ${outcome}${note}`, "what"));
    list.append(item);
  }
}

function show(wanted) {
  const tab = ["now", "history", "routines"].includes(wanted) ? wanted : "now";
  for (const section of document.querySelectorAll(".tab")) section.hidden = section.id !== tab;
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("on", a.dataset.tab === tab);
  if (tab === "history") loadHistory();
  if (tab === "routines" && !routinesLoaded) routinesLoaded = loadRoutines();
}

$("notice").addEventListener("click", () => { $("notice").hidden = true; });
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-command]");
  if (!button) return;
  if (button.dataset.command === "start" && Date.now() - endedAt < SETTLE_MS) {
    notice("That session just ended. Tap again to start a new one.");
    endedAt = -Infinity;
    return;
  }
  command(button.dataset.command, button.dataset.routine);
  if (button.dataset.command === "start") location.hash = "#now";
});
window.addEventListener("hashchange", () => show(location.hash.slice(1) || "now"));
routinesLoaded = loadRoutines();
show(location.hash.slice(1) || "now");
listen();
