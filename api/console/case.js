// One case: its state and deadlines (workflow query), its timeline and messages (the history the API
// builds from Temporal's event history), its callback, and the supervisor's actions — each a call to
// the same endpoints any other client uses, so the workflow accepts or refuses it with its reason.

import { getJson, postJson, session } from "./client.js";
import { clear, h } from "./dom.js";
import { countdown, span, t, when, word } from "./i18n.js";
import { personName, stateBadge, tierName } from "./people.js";

const REFRESH_SECONDS = 5;
const CALLING_BACK = ["callback", "manual_callback"];

export function showCase(view, caseId) {
  const path = `/requests/${encodeURIComponent(caseId)}`;
  const top = h("div", { class: "case-top" }, h("p", {}, t("case.loading")));
  const facts = h("section", { class: "panel", id: "case-facts" });
  const callback = h("section", { class: "panel", id: "case-callback" });
  const actions = h("section", { class: "panel", id: "case-actions" });
  const messages = h("section", { class: "panel wide", id: "case-messages" });
  const timeline = h("section", { class: "panel wide", id: "case-timeline" });
  const status = h("p", { class: "status", id: "case-status", role: "status" });
  view.append(
    h("a", { href: "#/board", class: "back" }, t("case.back")),
    top, status,
    h("div", { class: "case-grid" }, facts, h("div", { class: "stack" }, callback, actions), messages, timeline),
  );

  let stopped = false;
  let next = null;
  let formsFor = null;

  async function refresh() {
    try {
      const [state, history] = await Promise.all([getJson(path), getJson(`${path}/history`)]);
      if (stopped) return;
      renderTop(top, state, history);
      renderFacts(facts, state);
      renderCallback(callback, state);
      renderMessages(messages, history.entries.filter((entry) => entry.event === "message"));
      renderTimeline(timeline, history.entries.filter((entry) => entry.event !== "message"));
      const formsKey = `${state.status}`;
      if (formsFor !== formsKey) {
        formsFor = formsKey;
        renderActions(actions, path, state, refresh);
      }
      status.classList.remove("error");
    } catch (error) {
      if (stopped) return;
      status.textContent = error.message;
      status.classList.add("error");
    } finally {
      clearTimeout(next);
      if (!stopped && session.info) next = setTimeout(refresh, REFRESH_SECONDS * 1000);
    }
  }

  refresh();
  return () => {
    stopped = true;
    clearTimeout(next);
  };
}

/** The colour of a case as the board shows it: a missed deadline first, then a pause, then a warning. */
function deadlineState(state) {
  if (state.response_breached || state.resolution_breached) return "breached";
  if (state.paused) return "paused";
  return state.warned ? "warning" : "on_time";
}

function renderTop(top, state, history) {
  clear(top).append(
    h("h1", {}, state.case_id, " ", stateBadge(deadlineState(state))),
    h("p", { class: "title" }, state.title),
    h("a", { href: history.temporal_url, target: "_blank", rel: "noopener", id: "temporal-link" }, t("case.temporal")),
  );
}

function fact(key, ...value) {
  return [h("dt", {}, t(`fact.${key}`)), h("dd", { dataset: { fact: key } }, ...value)];
}

function flag(text, kind) {
  return h("span", { class: `flag flag-${kind}` }, text);
}

function renderFacts(panel, state) {
  const responseFlag = state.response_breached ? flag(t("flag.missed"), "bad")
    : state.acknowledged_at ? flag(t("flag.met"), "good") : null;
  const resolutionFlags = [
    state.resolution_breached ? flag(t("flag.missed"), "bad") : state.resolved_at ? flag(t("flag.met"), "good") : null,
    state.warned && !state.resolution_breached ? flag(t("flag.warned"), "warn") : null,
    state.paused ? flag(t("flag.paused"), "pause") : null,
  ];
  const left = state.next_deadline ? (new Date(state.next_deadline).getTime() - Date.now()) / 1000 : null;
  clear(panel).append(
    h("h2", {}, t("case.facts")),
    h("dl", { class: "facts" },
      fact("status", word("status", state.status)),
      fact("kind", word("kind", state.kind)),
      fact("severity", word("severity", state.severity)),
      fact("category", state.category),
      fact("place", state.unit ? `${state.building_id} · ${state.unit}` : state.building_id),
      fact("resident", state.resident_id),
      fact("owner", personName(state.owner_id)),
      fact("handler", personName(state.handler_id)),
      fact("tier", tierName(state.tier)),
      fact("escalations", String(state.escalations)),
      fact("reopened", String(state.reopen_count)),
    ),
    h("h2", {}, t("case.deadlines")),
    h("dl", { class: "facts" },
      fact("submitted", when(state.submitted_at)),
      fact("response_due", when(state.response_due), " ", responseFlag),
      fact("resolution_due", when(state.resolution_due), " ", resolutionFlags),
      fact("next_deadline", state.next_deadline
        ? `${word("deadline", state.next_deadline_kind)} · ${when(state.next_deadline)} (${countdown(left)})`
        : t("time.none")),
      fact("paused_total", span(durationSeconds(state.paused_total))),
    ),
  );
}

/** Seconds in a pydantic timedelta as JSON: ISO 8601 (PT1H2M3S, P1DT2H) or a number of seconds. */
function durationSeconds(value) {
  if (typeof value === "number") return value;
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?)?$/.exec(value || "");
  if (!match) return null;
  const [, d = 0, hours = 0, m = 0, s = 0] = match;
  return Number(d) * 86400 + Number(hours) * 3600 + Number(m) * 60 + Number(s);
}

function renderCallback(panel, state) {
  const record = state.callback;
  let body;
  if (record) {
    body = [
      h("p", { id: "callback-outcome", dataset: { result: record.result } }, t("callback.outcome", {
        result: word("result", record.result), channel: word("channel", record.channel),
        attempts: record.attempts, by: personName(record.recorded_by.id), at: when(record.at),
      })),
      record.note ? h("p", {}, t("callback.note", { note: record.note })) : null,
    ];
  } else if (CALLING_BACK.includes(state.status)) {
    body = h("p", { id: "callback-outcome" }, word("status", state.status), " — ",
      t("callback.attempt", { attempt: state.callback_attempt }));
  } else {
    body = h("p", { id: "callback-outcome" }, t("callback.none"));
  }
  clear(panel).append(h("h2", {}, t("case.callback")), ...[body].flat().filter(Boolean));
}

function renderMessages(panel, entries) {
  clear(panel).append(h("h2", {}, t("case.messages")));
  if (!entries.length) {
    panel.append(h("p", { class: "empty" }, t("case.no_messages")));
    return;
  }
  panel.append(h("table", { class: "messages", id: "messages" },
    h("thead", {}, h("tr", {}, ["time", "channel", "to", "text", "delivery"].map((c) => h("th", {}, t(`col.${c}`))))),
    h("tbody", {}, entries.map((entry) => {
      const delivery = entry.delivery?.status || "pending";
      return h("tr", { dataset: { template: entry.detail.template, delivery } },
        h("td", {}, when(entry.at, { seconds: true })),
        h("td", {}, word("channel", entry.detail.channel)),
        h("td", {}, personName(entry.detail.recipient)),
        h("td", { class: "text" }, entry.text),
        h("td", {}, h("span", { class: `delivery delivery-${delivery}` }, deliveryLabel(delivery),
          entry.delivery?.error_code ? ` (${entry.delivery.error_code})` : "")),
      );
    })),
  ));
}

/** Twilio's status in the reader's language; a status Twilio adds later reads as Twilio says it. */
function deliveryLabel(status) {
  const label = t(`delivery.${status}`);
  return label === `delivery.${status}` ? status : label;
}

function renderTimeline(panel, entries) {
  clear(panel).append(
    h("h2", {}, t("case.timeline")),
    h("ol", { class: "timeline", id: "timeline" }, entries.map((entry) => h("li", { dataset: { event: entry.event } },
      h("time", { datetime: entry.at }, when(entry.at, { seconds: true })),
      h("span", { class: "actor" }, entry.actor ? personName(entry.actor) : "Steward"),
      h("span", { class: "text" }, entry.text),
      entry.device_at ? h("small", {}, `${t("col.device")}: ${when(entry.device_at, { seconds: true })}`) : null,
    ))),
  );
}

// --- actions ---------------------------------------------------------------------------------

function renderActions(panel, path, state, refresh) {
  clear(panel).append(h("h2", {}, t("case.actions")));
  if (state.status === "closed") {
    panel.append(h("p", { class: "empty" }, t("case.closed")));
    return;
  }
  const staff = session.info.staff;
  const reason = (id) => h("input", { id, name: "reason", minlength: 3, maxlength: 500 });
  panel.append(
    actionForm("reassign", t("action.reassign"), [
      field(t("field.handler"), h("select", { id: "reassign-handler", name: "handler_id", required: true },
        staff.map((person) => h("option", { value: person.id, selected: person.id === state.handler_id },
          `${person.name} (${person.id}) · ${word("tier", person.tier)}${person.on_duty ? "" : " ✕"}`)))),
      field(t("field.reason"), reason("reassign-reason")),
    ], (values) => postJson(`${path}/reassign`, { handler_id: values.handler_id, reason: values.reason }), refresh),
    actionForm("severity", t("action.severity"), [
      field(t("field.severity"), h("select", { id: "severity-value", name: "severity" },
        ["emergency", "urgent", "normal", "low"].map((severity) =>
          h("option", { value: severity, selected: severity === state.severity }, word("severity", severity))))),
      field(t("field.reason"), reason("severity-reason")),
    ], (values) => postJson(`${path}/severity`, { severity: values.severity, reason: values.reason || null }),
    refresh),
    actionForm("extend", t("action.extend"), [
      field(t("field.hours"), h("input", { id: "extend-hours", name: "hours", type: "number", min: 1, max: 720,
        value: 24, required: true })),
      field(t("field.reason"), reason("extend-reason")),
    ], (values) => postJson(`${path}/extend`, {
      resolution_due: new Date(new Date(state.resolution_due).getTime() + Number(values.hours) * 3_600_000)
        .toISOString(),
      reason: values.reason || null,
    }), refresh),
    actionForm("callback", t("action.callback"), [
      CALLING_BACK.includes(state.status) ? null : h("p", { class: "help" }, t("action.callback_only")),
      field(t("field.result"), h("select", { id: "callback-result", name: "result" },
        ["satisfied", "not_satisfied", "unreachable"].map((result) =>
          h("option", { value: result }, word("result", result))))),
      field(t("field.reached_by"), h("select", { id: "callback-reached-by", name: "reached_by" },
        ["phone", "visit"].map((how) => h("option", { value: how }, t(`reached.${how}`))))),
      field(t("field.note"), h("input", { id: "callback-note", name: "note", required: true, maxlength: 4000 })),
      field(t("field.callback_reason"), reason("callback-reason")),
    ], (values) => postJson(`${path}/callback`, {
      result: values.result, note: values.note, reached_by: values.reached_by, reason: values.reason || null,
    }), refresh),
  );
}

function field(label, control) {
  return h("label", {}, h("span", {}, label), control);
}

function actionForm(name, title, fields, send, refresh) {
  const message = h("p", { class: "result", id: `${name}-result`, role: "status" });
  const button = h("button", { type: "submit" }, t("action.submit"));
  const form = h("form", { class: "action", id: `action-${name}` }, h("h3", {}, title), fields, button, message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(
      [...new FormData(form).entries()].map(([key, value]) => [key, String(value).trim()]),
    );
    button.disabled = true;
    message.className = "result";
    message.textContent = t("action.working");
    try {
      await send(values);
      message.textContent = t("action.done", { action: title });
      message.classList.add("ok");
      await refresh();
    } catch (error) {
      message.textContent = error.message;
      message.classList.add("error");
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
