// The staff app: sign-in by SMS code, my work, a case page with its actions, notices, and what is
// waiting to be sent. Works offline from the last data seen; actions wait in the outbox.

import { ApiError, getJson, postJson, request, session, signIn, signOut } from "./client.js";
import { field, h } from "./dom.js";
import { locale, refusal, setLocale, setTimeZone, t, time, translate, word } from "./i18n.js";
import { dismiss, enqueue, entries, flush, onChange } from "./outbox.js";
import { residentMayRefresh, residentRoute } from "./resident.js";
import { announce, countdownOf, heading, recalled, remember, render, secondsUntil } from "./view.js";

const WORK_KEY = "steward.app.work";
const CASE_KEY = "steward.app.case.";
const POLL_MS = 10_000;
let poller = null;

// --- network state and the outbox -----------------------------------------------------------

function showNetwork() {
  const banner = document.getElementById("network");
  banner.hidden = navigator.onLine;
  banner.textContent = navigator.onLine ? "" : t("network.offline");
}

async function showWaiting() {
  const waiting = (await entries()).length;
  document.getElementById("waiting").textContent = waiting ? String(waiting) : "";
  if (location.hash === "#/outbox") outboxView();
}

async function sendWaiting() {
  if (!navigator.onLine || !session.token) return [];
  return flush();
}

window.addEventListener("online", () => {
  showNetwork();
  sendWaiting().then(route);
});
window.addEventListener("offline", showNetwork);
onChange(showWaiting);

// --- sign-in ---------------------------------------------------------------------------------

function signInView() {
  document.getElementById("nav").hidden = true;
  const message = h("p", { id: "sign-in-message", class: "message", role: "status" });
  const phone = h("input", { type: "tel", autocomplete: "tel", inputmode: "tel", required: true,
    placeholder: "+86…", "aria-describedby": "phone-help" });
  const code = h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code",
    pattern: "[0-9]{6}", maxlength: "6", required: true });
  const codeForm = h("form", { id: "code-form", hidden: true },
    field("code", t("signin.code"), code),
    h("button", { type: "submit" }, t("signin.submit")),
    h("button", { type: "button", class: "quiet", onclick: () => {
      codeForm.hidden = true;
      phoneForm.hidden = false;
      message.textContent = "";
    } }, t("signin.again")));
  const phoneForm = h("form", { id: "phone-form" },
    field("phone", t("signin.phone"), phone),
    h("p", { id: "phone-help", class: "help" }, t("signin.phone_help")),
    h("button", { type: "submit" }, t("signin.send")));

  function failed(error) {
    message.textContent = error instanceof ApiError && error.status === 429
      ? t("error.rate_limited", { seconds: error.retryAfter || "60" }) : refusal(error.message);
  }

  phoneForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await postJson("/auth/code", { phone: phone.value.trim() }, { auth: false });
      message.textContent = t("signin.sent");
      phoneForm.hidden = true;
      codeForm.hidden = false;
      code.focus();
    } catch (error) {
      failed(error);
    }
  });
  codeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const answer = await postJson("/auth/token", { phone: phone.value.trim(), code: code.value.trim() },
        { auth: false });
      signIn(answer.token, answer.role, answer.subject);
      location.hash = answer.role === "resident" ? "#/mine" : "#/work";
      route();
    } catch (error) {
      failed(error);
    }
  });
  render(h("section", { class: "card" }, heading(t("signin.title")), phoneForm, codeForm, message));
}

function signOutButton() {
  return h("button", { type: "button", class: "quiet", id: "sign-out", onclick: signOut }, t("nav.sign_out"));
}

const residentPages = { render, heading, signOutButton, announce, route: () => route() };

// --- my work ---------------------------------------------------------------------------------

async function workView() {
  let work = null;
  let seenAt = null;
  try {
    work = await getJson("/app/api/work");
    remember(WORK_KEY, work);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const kept = recalled(WORK_KEY);
    work = kept?.value || { as_of: new Date().toISOString(), items: [] };
    seenAt = kept?.at;
  }
  const items = work.items.map((item) => h("li", {},
    h("a", { class: `work-item severity-${item.severity}`, href: `#/case/${encodeURIComponent(item.case_id)}` },
      h("span", { class: "title" }, item.title),
      h("span", { class: "meta" }, `${item.case_id} · ${word("severity", item.severity)} · ${word("status", item.status)}`),
      h("span", { class: "meta" }, t("case.where", { building: item.building_id, unit: item.unit || "—" }),
        " · ", t(`work.why.${item.why}`)),
      h("span", { class: "deadline" }, item.next_deadline_kind ? `${word("deadline", item.next_deadline_kind)}: ` : "",
        countdownOf(seenAt ? secondsUntil(item.next_deadline, new Date().toISOString()) : item.seconds_left)))));
  render(h("section", {}, heading(t("work.title")),
    seenAt ? h("p", { class: "message" }, t("work.as_of", { time: time(seenAt) })) : null,
    items.length ? h("ul", { class: "list", id: "work" }, items) : h("p", {}, t("work.empty")),
    signOutButton()));
}

// --- the case page ---------------------------------------------------------------------------

async function photo(caseId, photoId, label) {
  const image = h("img", { alt: label, class: "photo" });
  try {
    const blob = await (await request(`/requests/${encodeURIComponent(caseId)}/photos/${photoId}`)).blob();
    image.src = URL.createObjectURL(blob);
  } catch {
    image.alt = `${label} (—)`;
  }
  return image;
}

function entryText(entry) {
  const detail = entry.detail || {};
  return detail.note || detail.reason || "";
}

async function timeline(state) {
  const items = [];
  for (const entry of state.timeline) {
    const photos = await Promise.all((entry.detail?.photos || []).map(
      (id, n) => photo(state.case_id, id, t("case.photo", { n: n + 1, event: word("event", entry.event) }))));
    items.push(h("li", { class: "entry", "data-event": entry.event },
      h("span", { class: "when" }, time(entry.at)),
      h("span", { class: "what" }, word("event", entry.event), entry.actor && entry.actor.role !== "system" ? ` · ${entry.actor.id}` : ""),
      entry.device_at ? h("span", { class: "device" }, t("case.device_time", { time: time(entry.device_at) })) : null,
      entryText(entry) ? h("span", { class: "text" }, entryText(entry)) : null,
      photos.length ? h("span", { class: "photos" }, photos) : null));
  }
  return h("ol", { class: "timeline", id: "timeline" }, items);
}

async function act(caseId, action, body, files = []) {
  const id = await enqueue(caseId, action, body, files);
  const name = word("action", action);
  const outcome = (await sendWaiting()).find((sent) => sent.action_id === id);
  if (!outcome) announce(t("sent.queued", { action: name }));
  else if (outcome.ok) announce(t("sent.done", { action: name }));
  else announce(t("sent.refused", { reason: refusal(outcome.reason) }));
  if (outcome) await route();
}

function actionForm(id, title, controls, collect) {
  const form = h("form", { id, class: "action" }, h("h3", {}, title), controls,
    h("button", { type: "submit" }, title));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [action, body, files] = collect(form);
    const photos = [...(files || [])]; // a copy: resetting the form empties the live FileList
    form.reset();
    await act(form.dataset.case, action, body, photos);
  });
  return form;
}

function photoInput(id) {
  return field(id, t("action.photos"), h("input", { type: "file", accept: "image/*", multiple: true }));
}

function actions(state) {
  const open = !["resolved", "callback", "manual_callback", "closed"].includes(state.status) && !state.withdrawn;
  const forms = [];
  if (open && !state.acknowledged_at) {
    forms.push(h("button", { type: "button", id: "acknowledge", class: "primary",
      onclick: () => act(state.case_id, "acknowledge", {}) }, t("action.acknowledge")));
  }
  if (open) {
    forms.push(actionForm("note-form", t("action.note"), [
      field("note-text", t("action.note_text"), h("textarea", { required: true, maxlength: "4000", rows: "3" })),
      photoInput("note-photos")],
      (form) => ["progress", { note: form.elements["note-text"].value }, form.elements["note-photos"].files]));
  }
  if (open && state.acknowledged_at && !state.paused) {
    forms.push(actionForm("pause-form", t("action.pause"), [
      field("pause-reason", t("action.reason"), h("input", { type: "text", required: true, minlength: "3", maxlength: "500" })),
      field("pause-until", t("action.resume_at"), h("input", { type: "datetime-local" }))],
      (form) => {
        const until = form.elements["pause-until"].value;
        return ["pause", { reason: form.elements["pause-reason"].value,
          ...(until ? { resume_at: new Date(until).toISOString() } : {}) }];
      }));
  }
  if (state.paused) {
    forms.push(h("button", { type: "button", id: "resume", onclick: () => act(state.case_id, "resume", {}) },
      t("action.resume")));
  }
  if (open) {
    forms.push(actionForm("resolve-form", t("action.resolve"), [
      field("resolve-note", t("action.resolution"), h("textarea", { required: true, maxlength: "4000", rows: "3" })),
      photoInput("resolve-photos")],
      (form) => ["resolve", { note: form.elements["resolve-note"].value }, form.elements["resolve-photos"].files]));
  }
  if (state.status === "manual_callback") {
    const result = h("select", {}, ["satisfied", "not_satisfied", "unreachable"].map(
      (value) => h("option", { value }, t(`result.${value}`))));
    forms.push(actionForm("callback-form", t("action.callback"), [
      field("callback-result", t("action.result"), result),
      field("callback-note", t("action.note_text"), h("textarea", { required: true, maxlength: "4000", rows: "2" }))],
      (form) => ["callback", { result: form.elements["callback-result"].value, note: form.elements["callback-note"].value }]));
  }
  for (const form of forms) form.dataset.case = state.case_id;
  return forms;
}

async function caseView(caseId) {
  let state = null;
  let asOf = new Date().toISOString();
  try {
    state = await getJson(`/requests/${encodeURIComponent(caseId)}`);
    remember(CASE_KEY + caseId, state);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const kept = recalled(CASE_KEY + caseId);
    if (!kept) {
      render(h("p", {}, t("case.not_seen")), h("a", { href: "#/work" }, t("case.back")));
      return;
    }
    state = kept.value;
    asOf = new Date().toISOString();
  }
  render(h("article", { id: "case", "data-status": state.status },
    h("a", { href: "#/work", class: "back" }, t("case.back")),
    heading(state.title),
    h("p", { class: "meta" }, `${state.case_id} · ${word("severity", state.severity)} · `,
      h("span", { id: "case-status" }, word("status", state.status))),
    h("p", { class: "meta" }, t("case.where", { building: state.building_id, unit: state.unit || "—" })),
    h("h2", {}, t("case.reported")), h("p", { class: "reported" }, state.description || state.title),
    h("h2", {}, t("case.deadlines")),
    h("dl", { class: "deadlines" },
      state.response_due && !state.acknowledged_at ? [h("dt", {}, t("case.response_due")),
        h("dd", {}, time(state.response_due), " · ", countdownOf(secondsUntil(state.response_due, asOf)))] : null,
      h("dt", {}, t("case.resolution_due")),
      h("dd", {}, time(state.resolution_due), " · ", state.resolved_at ? word("status", "resolved")
        : state.paused ? word("event", "paused") : countdownOf(secondsUntil(state.resolution_due, asOf)))),
    h("h2", {}, t("case.actions")), h("div", { class: "actions" }, actions(state)),
    h("h2", {}, t("case.timeline")), await timeline(state)));
}

// --- notices ---------------------------------------------------------------------------------

async function showUnread() {
  try {
    const notices = await getJson("/app/api/notices");
    document.getElementById("unread").textContent = notices.unread ? String(notices.unread) : "";
    return notices;
  } catch {
    return null;
  }
}

async function noticesView() {
  const notices = await showUnread();
  if (!notices) {
    render(heading(t("notices.title")), h("p", {}, t("network.offline")));
    return;
  }
  const items = notices.items.map((notice) => h("li", { class: notice.read_at ? "notice" : "notice unread" },
    h("button", { type: "button", class: "notice-open", "data-key": notice.key, onclick: async () => {
      await postJson(`/app/api/notices/${encodeURIComponent(notice.key)}/read`, {}).catch(() => null);
      location.hash = `#/case/${encodeURIComponent(notice.case_id)}`;
    } },
      h("span", { class: "title" }, word("template", notice.template), " · ", notice.case_id),
      h("span", { class: "text" }, notice.text || ""),
      h("span", { class: "meta" }, time(notice.sent_at), " · ",
        notice.read_at ? t("notices.read", { time: time(notice.read_at) }) : t("notices.unread")),
      h("span", { class: "visually-hidden" }, t("notices.open", { code: notice.case_id })))));
  render(h("section", {}, heading(t("notices.title")),
    items.length ? h("ul", { class: "list", id: "notices" }, items) : h("p", {}, t("notices.empty"))));
}

// --- what is waiting to be sent --------------------------------------------------------------

async function outboxView() {
  const waiting = await entries();
  const items = waiting.map((entry) => h("li", { class: `outbox-item ${entry.state}` },
    h("span", { class: "title" }, word("action", entry.action), " · ", entry.case_id),
    h("span", { class: "meta" }, t("outbox.made", { time: time(entry.occurred_at) }),
      entry.files.length ? ` · ${t("outbox.photos", { n: entry.files.length })}` : ""),
    h("span", { class: "meta" }, entry.state === "refused"
      ? t("outbox.refused", { reason: refusal(entry.reason) }) : t("outbox.waiting")),
    entry.state === "refused"
      ? h("button", { type: "button", class: "quiet", onclick: () => dismiss(entry.seq) }, t("outbox.dismiss")) : null));
  render(h("section", {}, heading(t("outbox.title")),
    items.length ? h("ul", { class: "list", id: "outbox" }, items) : h("p", {}, t("outbox.empty"))));
}

// --- routing ---------------------------------------------------------------------------------

async function whoAmI() {
  if (session.me || !navigator.onLine) return;
  try {
    session.me = await getJson("/app/api/me");
    setTimeZone(session.me.timezone);
  } catch (error) {
    if (error instanceof ApiError) throw error;
  }
}

async function route() {
  translate();
  showNetwork();
  if (!session.token) return signInView();
  try {
    await whoAmI();
    const [, section, id] = location.hash.split("/");
    if (session.role === "resident") return await residentRoute(residentPages, section, id);
    document.getElementById("nav").hidden = false;
    for (const link of document.querySelectorAll("#nav a")) {
      link.toggleAttribute("aria-current", link.dataset.section === (section || "work"));
    }
    showWaiting();
    if (section !== "notices") showUnread();
    if (section === "case" && id) return await caseView(decodeURIComponent(id));
    if (section === "notices") return await noticesView();
    if (section === "outbox") return await outboxView();
    return await workView();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return signInView();
    render(h("p", { class: "message", role: "alert" }, refusal(error.message)));
  }
}

function start() {
  const language = document.getElementById("language");
  language.value = locale();
  document.documentElement.lang = locale();
  language.addEventListener("change", () => {
    setLocale(language.value);
    route();
  });
  session.onSignedOut = () => {
    location.hash = "";
    route();
  };
  window.addEventListener("hashchange", route);
  clearInterval(poller);
  poller = setInterval(() => {
    sendWaiting();
    if (!navigator.onLine || !session.token) return;
    if (session.role === "resident" ? residentMayRefresh() : ["", "#/work", "#/notices"].includes(location.hash)) {
      route();
    }
  }, POLL_MS);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => {});
  sendWaiting();
  route();
}

start();
