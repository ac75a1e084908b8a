// Hearings and drills from the read model (GET /hearings, GET /drills): what is due next, objections
// awaiting answers, drills nobody started, reports overdue. Read when opened and on "Refresh".

import { getJson } from "./client.js";
import { h } from "./dom.js";
import { t, total, when, word } from "./i18n.js";
import { refreshingView } from "./refreshing.js";

function deadlineCell(item) {
  return h("td", { class: "deadline" }, item.next_deadline
    ? [word("deadline", item.next_deadline_kind), h("br"), h("small", {}, when(item.next_deadline))]
    : t("time.none"));
}

function table(id, caption, columns, items, row) {
  if (!items.length) return h("section", { id }, h("h2", {}, caption), h("p", { class: "empty" }, t("duties.none")));
  return h("section", { id }, h("table", { class: "cases" },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, t(`duty.${column}`))))),
    h("tbody", {}, items.map(row)),
  ));
}

function hearingRow(item) {
  return h("tr", { dataset: { hearing: item.hearing_id } },
    h("td", {}, item.hearing_id),
    h("td", {}, item.title),
    h("td", {}, when(item.hearing_at)),
    h("td", { class: "objections" }, `${item.objections_open} / ${item.objections}`),
    h("td", { class: "answer-due" }, when(item.next_answer_due)),
    deadlineCell(item),
    h("td", {}, t(`hearing.${item.status}`)),
    h("td", {}, item.outcome ? t(`outcome.${item.outcome}`) : t("time.none")),
  );
}

function drillRow(item) {
  return h("tr", { dataset: { drill: item.drill_id } },
    h("td", {}, item.code),
    h("td", {}, `${t(`drill.${item.drill_type}`)} · ${item.building_id}`),
    h("td", {}, when(item.scheduled_at)),
    h("td", { class: "start-due" }, when(item.start_due)),
    h("td", {}, t(`drill.${item.status}`)),
    h("td", {}, `${item.steps_done} / ${item.steps_total}`),
    h("td", {}, item.participation ?? t("time.none")),
    h("td", {}, item.findings),
    h("td", { class: "report-due" }, when(item.report_due)),
    h("td", {}, `${item.survey_heard} / ${item.survey_not_heard}`),
    deadlineCell(item),
  );
}

function showList(view, title, sections) {
  const shown = refreshingView(view, { id: "duties", title },
    () => Promise.all(sections.map((section) => getJson(section.path))),
    (pages) => sections.map((section, index) =>
      table(section.id, `${section.caption} (${total(pages[index])})`, section.columns, pages[index].items,
        section.row)));
  return shown.stop;
}

const HEARING_COLUMNS = ["hearing", "title", "date", "objections", "answer_due", "deadline", "status", "outcome"];
const DRILL_COLUMNS = ["drill", "type", "date", "start_due", "status", "steps", "participation", "findings",
  "report_due", "survey", "deadline"];

export function showHearings(view) {
  return showList(view, t("hearings.title"), [
    { id: "hearings-awaiting", caption: t("hearings.awaiting"), path: "/hearings?awaiting_answers=true&limit=200",
      columns: HEARING_COLUMNS, row: hearingRow },
    { id: "hearings-all", caption: t("hearings.all"), path: "/hearings?limit=200", columns: HEARING_COLUMNS,
      row: hearingRow },
  ]);
}

export function showDrills(view) {
  return showList(view, t("drills.title"), [
    { id: "drills-not-started", caption: t("drills.not_started"), path: "/drills?not_started=true&limit=200",
      columns: DRILL_COLUMNS, row: drillRow },
    { id: "drills-report-overdue", caption: t("drills.report_overdue"),
      path: "/drills?report_overdue=true&limit=200", columns: DRILL_COLUMNS, row: drillRow },
    { id: "drills-all", caption: t("drills.all"), path: "/drills?limit=200", columns: DRILL_COLUMNS,
      row: drillRow },
  ]);
}
