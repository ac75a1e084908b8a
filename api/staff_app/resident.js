// The resident pages: report (repair, complaint, question), my cases, one case with what happens next
// and the answer to its callback. Plain words, large controls; every change goes through the published
// endpoints while online (a resident acts rarely; nothing waits in an outbox).

import { ApiError, getJson, postJson, request } from "./client.js";
import { field, h } from "./dom.js";
import CATEGORIES from "./categories.json" with { type: "json" };
import { locale, refusal, t, time, word } from "./i18n.js";

const REPORT_KEY = "steward.app.report.key";
const MAX_PHOTOS = 4;
const SEVERITIES = ["emergency", "urgent", "normal", "low"];

function randomKey() {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The key of the report being written: kept until it is sent, so a retried send never makes two cases. */
function reportKey() {
  let key = sessionStorage.getItem(REPORT_KEY);
  if (!key) {
    key = randomKey();
    sessionStorage.setItem(REPORT_KEY, key);
  }
  return key;
}

function residentNav(current) {
  return h("nav", { class: "tabs resident-tabs", id: "resident-nav" },
    [["mine", "#/mine"], ["report", "#/report"], ["hearings", "#/hearings"]].map(([name, href]) =>
      h("a", { href, "aria-current": name === current ? "page" : null }, t(`r.nav.${name}`))));
}

function choices(name, legend, options, checked) {
  return h("fieldset", { class: "choices", id: `${name}-choices` }, h("legend", {}, legend),
    options.map(([value, label]) => h("label", { class: "choice" },
      h("input", { type: "radio", name, value, checked: value === checked, required: true }), h("span", {}, label))));
}

function categoryOptions(kind) {
  const english = locale() === "en";
  return Object.entries(CATEGORIES[kind]).map(([value, [en, zh]]) => h("option", { value }, english ? en : zh));
}

// --- report --------------------------------------------------------------------------------------

async function reportView(ui) {
  const home = await getJson("/app/api/home");
  const message = h("p", { id: "report-message", class: "message", role: "status" });
  const category = h("select", { required: true }, categoryOptions("repair"));
  const emergency = h("section", { id: "emergency", class: "emergency", hidden: true, role: "alert" },
    h("h2", {}, t("r.emergency.title")), h("p", {}, t("r.emergency.body")),
    h("a", { class: "call", href: `tel:${home.service_phone.replace(/\s/g, "")}` }, home.service_phone),
    h("p", {}, t("r.emergency.after")));
  const severity = choices("severity", t("r.severity"),
    SEVERITIES.map((value) => [value, t(`r.severity.${value}`)]), "normal");
  const photos = h("input", { type: "file", accept: "image/*", multiple: true });
  const form = h("form", { id: "report-form", class: "card" },
    h("p", { id: "emergency-first", class: "message" }, t("r.emergency.first"), " ",
      h("a", { href: `tel:${home.service_phone.replace(/\s/g, "")}` }, home.service_phone)),
    choices("kind", t("r.kind"), ["repair", "complaint", "question"].map((k) => [k, t(`r.kind.${k}`)]), "repair"),
    field("category", t("r.category"), category),
    severity, emergency,
    choices("where", t("r.where"), [["home", t("r.where.home", { unit: home.unit })], ["common", t("r.where.common")]],
      "home"),
    field("title", t("r.title"), h("input", { type: "text", required: true, maxlength: "200" })),
    field("description", t("r.description"), h("textarea", { required: true, maxlength: "4000", rows: "4" })),
    field("photos", t("r.photos"), photos),
    h("button", { type: "submit", class: "primary" }, t("r.submit")), message);

  form.addEventListener("change", (event) => {
    if (event.target.name === "kind") {
      const kind = form.elements.kind.value;
      category.replaceChildren(...categoryOptions(kind));
      severity.hidden = kind === "question";
      if (kind === "question") emergency.hidden = true;
    }
    if (event.target.name === "severity") emergency.hidden = form.elements.severity.value !== "emergency";
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...photos.files];
    if (files.length > MAX_PHOTOS) {
      message.textContent = t("r.photos.too_many");
      return;
    }
    const kind = form.elements.kind.value;
    const body = {
      kind, category: category.value, title: form.elements.title.value.trim(),
      description: form.elements.description.value.trim(), building_id: home.building_id,
      severity: kind === "question" ? "normal" : form.elements.severity.value,
      ...(form.elements.where.value === "home" ? { unit: home.unit } : {}),
    };
    message.textContent = t("r.sending");
    let submitted;
    try {
      submitted = await postJson("/requests", body, { headers: { "Idempotency-Key": reportKey() } });
    } catch (error) {
      message.textContent = error instanceof ApiError ? t("r.refused", { reason: refusal(error.message) }) : t("r.offline");
      return;
    }
    sessionStorage.removeItem(REPORT_KEY);
    const caseId = submitted.case_id;
    try {
      const ids = [];
      for (const file of files) {
        const stored = await (await request(`/requests/${encodeURIComponent(caseId)}/photos`,
          { method: "POST", body: file, contentType: file.type || "image/jpeg" })).json();
        ids.push(stored.photo_id);
      }
      if (ids.length) await postJson(`/requests/${encodeURIComponent(caseId)}/photos-added`, { photos: ids });
    } catch (error) {
      ui.announce(t("r.photos.failed", { reason: refusal(error.message) }));
    }
    ui.announce(t("r.sent", { code: caseId }));
    location.hash = `#/mine/${encodeURIComponent(caseId)}`;
  });
  ui.render(residentNav("report"), h("section", { id: "report" }, ui.heading(t("r.report.title")), form));
}

// --- my cases ------------------------------------------------------------------------------------

async function mineView(ui) {
  const cases = await getJson("/app/api/my-cases");
  const items = cases.map((item) => h("li", {},
    h("a", { class: `work-item severity-${item.severity}`, href: `#/mine/${encodeURIComponent(item.case_id)}` },
      h("span", { class: "title" }, `${t(`r.kind.${item.kind}`)} · ${item.case_id}`),
      h("span", { class: "meta" }, word("status", item.status)),
      h("span", { class: "meta" }, `${t("r.resolution_due")}: ${time(item.resolution_due)}`))));
  ui.render(residentNav("mine"), h("section", { id: "my-cases" }, ui.heading(t("r.mine.title")),
    items.length ? h("ul", { class: "list" }, items) : h("p", {}, t("r.mine.empty")),
    ui.signOutButton()));
}

// --- one case ------------------------------------------------------------------------------------

async function photo(caseId, photoId) {
  const image = h("img", { alt: t("r.event.photos_added"), class: "photo" });
  try {
    const blob = await (await request(`/requests/${encodeURIComponent(caseId)}/photos/${photoId}`)).blob();
    image.src = URL.createObjectURL(blob);
  } catch {
    image.alt = `${t("r.event.photos_added")} (—)`;
  }
  return image;
}

function eventName(event) {
  const own = t(`r.event.${event}`);
  return own === `r.event.${event}` ? word("event", event) : own;
}

function entryText(entry) {
  const d = entry.detail;
  if (d.satisfied !== undefined) return [t(`r.satisfied.${d.satisfied}`), d.comment].filter(Boolean).join(": ");
  return d.answer || d.note || d.plan || d.reason || d.text || "";
}

async function timeline(state) {
  const items = [];
  for (const entry of state.timeline) {
    const photos = await Promise.all((entry.detail.photos || []).map((id) => photo(state.case_id, id)));
    items.push(h("li", { class: "entry", "data-event": entry.event },
      h("span", { class: "when" }, time(entry.at)),
      h("span", { class: "what" }, `${eventName(entry.event)} · ${t(`r.by.${entry.by}`)}`),
      entryText(entry) ? h("span", { class: "text" }, entryText(entry)) : null,
      photos.length ? h("span", { class: "photos" }, photos) : null));
  }
  return h("ol", { class: "timeline", id: "timeline" }, items);
}

async function act(ui, caseId, action, body, send = null) {
  try {
    await (send ? send() : postJson(`/requests/${encodeURIComponent(caseId)}/${action}`, body));
    ui.announce(t("r.done"));
  } catch (error) {
    ui.announce(error instanceof ApiError ? t("r.refused", { reason: refusal(error.message) }) : t("r.offline"));
  }
  await ui.route();
}

function answerForm(ui, state) {
  const comment = h("textarea", { maxlength: "1000", rows: "2" });
  const send = (satisfied) => () => act(ui, state.case_id, "answer",
    { satisfied, ...(comment.value.trim() ? { comment: comment.value.trim() } : {}) });
  return h("section", { id: "answer", class: "card" }, h("h2", {}, t("r.answer.title")),
    field("answer-comment", t("r.answer.comment"), comment),
    h("button", { type: "button", id: "satisfied", class: "primary", onclick: send(true) }, t("r.answer.yes")),
    h("button", { type: "button", id: "not-satisfied", class: "primary quiet", onclick: send(false) },
      t("r.answer.no")));
}

function nextStep(state) {
  return t(`r.next.${state.next_step}`, { response: time(state.response_due), resolution: time(state.resolution_due),
    reason: state.pause_reason || "" });
}

async function caseView(ui, caseId) {
  const state = await getJson(`/app/api/my-cases/${encodeURIComponent(caseId)}`);
  const open = ["respond", "resolve", "paused"].includes(state.next_step);
  ui.render(residentNav("mine"), h("article", { id: "my-case", "data-status": state.status },
    h("a", { href: "#/mine", class: "back" }, t("r.case.back")),
    ui.heading(state.title),
    h("p", { class: "meta" }, `${t(`r.kind.${state.kind}`)} · ${state.case_id} · `,
      h("span", { id: "case-status" }, word("status", state.status))),
    h("h2", {}, t("r.case.next")), h("p", { id: "next-step", class: "message" }, nextStep(state)),
    state.may_answer ? answerForm(ui, state) : null,
    h("h2", {}, t("r.deadlines")),
    h("dl", { class: "deadlines", id: "deadlines" },
      state.response_due ? [h("dt", {}, t("r.response_due")), h("dd", { id: "response-due" }, time(state.response_due),
        state.acknowledged_at ? ` · ${t("r.met")}` : "")] : null,
      h("dt", {}, t("r.resolution_due")), h("dd", { id: "resolution-due" }, time(state.resolution_due))),
    h("h2", {}, t("r.who")),
    h("p", { id: "who" }, state.helpers.length
      ? state.helpers.map((p) => `${p.first_name} (${t(`r.role.${p.role}`)})`).join(", ") : t("r.who.nobody")),
    state.paused ? h("button", { type: "button", id: "resume", onclick: () => act(ui, state.case_id, "resume", {}) },
      t("r.resume")) : null,
    open ? h("button", { type: "button", id: "withdraw", class: "quiet",
      onclick: () => act(ui, state.case_id, "withdraw", {}) }, t("r.withdraw")) : null,
    h("h2", {}, t("r.timeline")), await timeline(state)));
}

// --- hearings and drills that concern me --------------------------------------------------------

function money(amount) {
  return new Intl.NumberFormat(locale(), { style: "currency", currency: "CNY" }).format(Number(amount));
}

function objectionForm(ui, hearing) {
  const text = h("textarea", { required: true, maxlength: "1000", rows: "3" });
  const form = h("form", { class: "action", id: `object-${hearing.hearing_id}` },
    field(`objection-${hearing.hearing_id}`, t("r.hearing.object"), text),
    h("button", { type: "submit" }, t("r.hearing.send")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await act(ui, null, null, null, () => postJson(`/hearings/${encodeURIComponent(hearing.hearing_id)}/objections`,
      { text: text.value.trim() }));
  });
  return form;
}

function hearingCard(ui, hearing) {
  const decision = hearing.decision;
  return h("article", { class: "card hearing", id: hearing.hearing_id },
    h("h2", {}, hearing.title),
    h("p", { class: "meta" }, t("r.hearing.when", { time: time(hearing.hearing_at), place: hearing.place })),
    h("p", {}, hearing.reason),
    h("table", { class: "costs" }, h("tbody", {},
      hearing.costs.map((c) => h("tr", {}, h("th", { scope: "row" }, c.item), h("td", { class: "n" }, money(c.amount)))),
      h("tr", { class: "total" }, h("th", { scope: "row" }, t("r.hearing.total")), h("td", { class: "n" }, money(hearing.total))))),
    hearing.objections.length ? h("h3", {}, t("r.hearing.mine")) : null,
    h("ul", { class: "list objections" }, hearing.objections.map((o) => h("li", { class: "objection" },
      h("span", { class: "text" }, o.text),
      h("span", { class: "answer" }, o.answer ? t("r.hearing.answer", { answer: o.answer })
        : t("r.hearing.answer_due", { time: time(o.answer_due) }))))),
    decision ? h("p", { class: "decision message" }, t("r.hearing.decision",
      { outcome: t(`r.outcome.${decision.outcome}`), reason: decision.reason })) : null,
    hearing.may_object ? objectionForm(ui, hearing) : null);
}

/** The alarm survey answered here, under the rule of the SMS and keypad answers (the first one counts). */
function surveyForm(ui, drill) {
  const send = (heard) => () => act(ui, null, null, null,
    () => postJson(`/drills/${encodeURIComponent(drill.drill_id)}/survey`, { heard }));
  return h("div", { class: "survey", id: `survey-${drill.drill_id}` },
    h("p", { class: "message" }, t("r.drill.survey")),
    h("button", { type: "button", class: "primary heard", onclick: send(true) }, t("r.drill.heard")),
    h("button", { type: "button", class: "primary quiet not-heard", onclick: send(false) }, t("r.drill.not_heard")));
}

function drillCard(ui, drill) {
  let survey = null;
  if (drill.survey_answered) survey = h("p", { class: "message answered" }, t("r.drill.answered"));
  else if (drill.survey_open) survey = surveyForm(ui, drill);
  return h("article", { class: "card drill", id: drill.drill_id },
    h("h2", {}, drill.title || t(`r.drill.type.${drill.drill_type}`)),
    h("p", {}, t("r.drill.when", { time: time(drill.scheduled_at) }), " · ", t(`r.drill.${drill.status}`)),
    survey);
}

async function hearingsView(ui) {
  const both = await getJson("/app/api/hearings-and-drills");
  ui.render(residentNav("hearings"), h("section", { id: "hearings-and-drills" },
    ui.heading(t("r.nav.hearings")),
    h("h2", {}, t("r.hearings")),
    both.hearings.length ? both.hearings.map((x) => hearingCard(ui, x)) : h("p", {}, t("r.hearings.none")),
    h("h2", {}, t("r.drills")),
    both.drills.length ? both.drills.map((x) => drillCard(ui, x)) : h("p", {}, t("r.drills.none"))));
}

/** My cases and a case page refresh themselves while nothing typed would be lost (the callback's
 * question appears without the resident having to reload). */
export function residentMayRefresh() {
  if (!(location.hash === "#/mine" || location.hash.startsWith("#/mine/"))) return false;
  return ![...document.querySelectorAll("#view textarea, #view input")].some((field) => field.value);
}

/** The resident's section of the app: `#/mine`, `#/mine/<case>`, `#/report`. */
export async function residentRoute(ui, section, id) {
  document.getElementById("nav").hidden = true;
  if (section === "report") return reportView(ui);
  if (section === "hearings") return hearingsView(ui);
  if (section === "mine" && id) return caseView(ui, decodeURIComponent(id));
  return mineView(ui);
}
