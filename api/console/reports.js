// Reports from /reports/...: a period, charts, the figures as tables, and the same report as CSV.

import { bars, columns } from "./charts.js";
import { download, getJson, session } from "./client.js";
import { clear, h } from "./dom.js";
import { percent, span, t, when } from "./i18n.js";
import { personName } from "./people.js";

const REPORTS = ["sla", "hotspots", "satisfaction", "staff"];
const PARAMS = ["since", "until", "building", "min_cases"];

export function showReports(view, name, query) {
  const report = REPORTS.includes(name) ? name : "sla";
  const params = new URLSearchParams(PARAMS.filter((key) => query.get(key)).map((key) => [key, query.get(key)]));
  const body = h("div", { class: "report", id: `report-${report}` }, h("p", {}, t("case.loading")));
  const status = h("p", { class: "status", id: "report-status", role: "status" });
  view.append(
    h("h1", {}, t("reports.title")),
    h("nav", { class: "tabs" }, REPORTS.map((one) => h("a", {
      href: `#/reports/${one}${params.size ? `?${params}` : ""}`, class: one === report ? "current" : null,
      id: `tab-${one}`,
    }, t(`report.${one}`)))),
    periodForm(report, params),
    status,
    body,
  );
  let stopped = false;
  getJson(`/reports/${report}?${params}`).then((data) => {
    if (stopped) return;
    status.textContent = t("reports.period", data);
    for (const key of ["since", "until"]) {
      const input = document.getElementById(`period-${key}`);
      if (input && !input.value) input.value = data[key];
    }
    clear(body).append(...RENDER[report](data));
  }).catch((error) => {
    if (stopped) return;
    status.textContent = error.message;
    status.classList.add("error");
    clear(body);
  });
  return () => { stopped = true; };
}

function periodForm(report, params) {
  const input = (key, attributes) => h("label", {}, h("span", {}, t(`field.${key}`)),
    h("input", { id: `period-${key}`, name: key, value: params.get(key) || "", ...attributes }));
  const building = h("label", {}, h("span", {}, t("field.building")),
    h("select", { id: "period-building", name: "building" },
      h("option", { value: "" }, t("filter.any")),
      session.info.buildings.map((one) => h("option", { value: one.id, selected: params.get("building") === one.id },
        `${one.id} · ${one.name}`))));
  const csv = h("button", { type: "button", id: "download-csv", class: "quiet" }, t("reports.csv"));
  csv.addEventListener("click", async () => {
    const wanted = new URLSearchParams(params);
    wanted.set("format", "csv");
    try {
      await download(`/reports/${report}?${wanted}`);
    } catch (error) {
      const status = document.getElementById("report-status");
      status.textContent = error.message;
      status.classList.add("error");
    }
  });
  const form = h("form", { class: "filters", id: "period" },
    input("since", { type: "date" }),
    input("until", { type: "date" }),
    building,
    report === "hotspots" ? input("min_cases", { type: "number", min: 2, max: 1000, placeholder: "2" }) : null,
    h("button", { type: "submit" }, t("reports.show")),
    csv,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams([...new FormData(form).entries()].filter(([, value]) => value));
    location.hash = `#/reports/${report}${chosen.size ? `?${chosen}` : ""}`;
  });
  return form;
}

// --- tables -----------------------------------------------------------------------------------

/**
 * A table whose cells carry the figure itself (data-value) besides its text, and whose rows carry
 * their key (data-key), so a reader or a test can find "plumbing, response missed" exactly.
 * A column is [name, how to show its value, where its value is (default: the row's field `name`)].
 */
function figures(id, caption, rows, columnsOf, keyOf) {
  if (!rows.length) return h("p", { class: "empty", id }, t("reports.empty"));
  return h("table", { class: "figures", id },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columnsOf.map(([column]) => h("th", { scope: "col" }, t(`col.${column}`))))),
    h("tbody", {}, rows.map((row) => h("tr", { dataset: { key: keyOf(row) } },
      columnsOf.map(([column, show = plain, valueOf = (one) => one[column]]) => {
        const value = valueOf(row);
        return h("td", { dataset: { col: column, value } }, show(value, row));
      })))),
  );
}

const key = (row) => row.key;

const plain = (value) => (value === null || value === undefined ? t("time.none") : String(value));

function section(title, ...content) {
  return h("section", { class: "panel wide" }, h("h2", {}, title), ...content);
}

// --- the four reports -------------------------------------------------------------------------

const COMPLIANCE = [
  ["cases"], ["response_met"], ["response_missed"], ["response_rate", percent],
  ["resolution_met"], ["resolution_missed"], ["resolution_rate", percent],
];
const RATE_SERIES = () => [{ label: t("chart.response"), tone: 0 }, { label: t("chart.resolution"), tone: 1 }];

function sla(data) {
  const byWeek = data.by_week.map((week) => ({
    label: week.key.slice(5), values: [week.response_rate, week.resolution_rate],
  }));
  const byCategory = data.by_category.map((row) => ({
    label: row.key, values: [row.response_rate, row.resolution_rate],
  }));
  return [
    section(t("sla.overall"), figures("sla-overall", t("sla.overall"), [data.overall], COMPLIANCE, key)),
    section(t("sla.by_week"),
      columns({ rows: byWeek, series: RATE_SERIES(), max: 1, format: percent, title: t("sla.by_week") }),
      figures("sla-by-week", t("sla.by_week"), data.by_week, [["week", plain, key], ...COMPLIANCE], key)),
    section(t("sla.by_category"),
      byCategory.length ? bars({ rows: byCategory, series: RATE_SERIES(), max: 1, format: percent,
        title: t("sla.by_category") }) : null,
      figures("sla-by-category", t("sla.by_category"), data.by_category,
        [["category", plain, key], ...COMPLIANCE], key)),
  ];
}

function hotspotLabel(item) {
  const place = item.building_name ? `${item.building_id} ${item.building_name}` : item.building_id;
  if (item.level === "unit") return `${item.building_id} · ${item.unit}`;
  if (item.level === "category") return `${item.building_id} · ${item.category}`;
  return place;
}

function hotspots(data) {
  const rows = data.items.map((item) => ({ label: `${t(`level.${item.level}`)}: ${hotspotLabel(item)}`,
    values: [item.cases] }));
  return [section(t("hotspots.list"),
    rows.length ? bars({ rows, series: [{ label: t("chart.cases"), tone: 2 }], title: t("hotspots.list") }) : null,
    figures("hotspots", t("hotspots.list"), data.items, [
      ["level", (level) => t(`level.${level}`)], ["building", plain, (row) => row.building_id],
      ["unit"], ["category"], ["cases"], ["open"], ["breached"], ["reopened"],
      ["last", (moment) => when(moment), (row) => row.last_submitted_at],
    ], (item) => `${item.level}/${item.building_id}/${item.unit || item.category || ""}`),
  )];
}

const SATISFACTION = [
  ["callbacks"], ["satisfied"], ["not_satisfied"], ["unreachable"], ["rate", percent],
];

function satisfactionChart(rows, labelOf, title) {
  if (!rows.length) return null;
  return bars({
    rows: rows.map((row) => ({ label: labelOf(row), values: [row.satisfied, row.not_satisfied, row.unreachable] })),
    series: [
      { label: t("col.satisfied"), tone: 0 }, { label: t("col.not_satisfied"), tone: 3 },
      { label: t("col.unreachable"), tone: 4 },
    ],
    stacked: true, title,
  });
}

function satisfaction(data) {
  return [
    section(t("satisfaction.overall"),
      figures("satisfaction-overall", t("satisfaction.overall"), [data.overall], SATISFACTION, key)),
    section(t("satisfaction.by_category"),
      satisfactionChart(data.by_category, (row) => row.key, t("satisfaction.by_category")),
      figures("satisfaction-by-category", t("satisfaction.by_category"), data.by_category,
        [["category", plain, key], ...SATISFACTION], key)),
    section(t("satisfaction.by_staff"),
      satisfactionChart(data.by_staff, (row) => personName(row.key), t("satisfaction.by_staff")),
      figures("satisfaction-by-staff", t("satisfaction.by_staff"), data.by_staff,
        [["staff", personName, key], ...SATISFACTION], key)),
  ];
}

function staff(data) {
  const rows = data.items.map((item) => ({
    label: personName(item.staff_id),
    values: [item.median_response_seconds === null ? null : item.median_response_seconds / 60],
  }));
  return [section(t("staff.list"),
    rows.length ? bars({ rows, series: [{ label: t("chart.median_minutes"), tone: 1 }],
      format: (minutes) => (minutes === null ? t("time.none") : minutes.toFixed(1)), title: t("staff.list") }) : null,
    figures("staff", t("staff.list"), data.items, [
      ["staff", personName, (row) => row.staff_id], ["owned"], ["open"], ["resolved"], ["breaches"],
      ["reopened"], ["reopen_rate", percent], ["median_response", span, (row) => row.median_response_seconds],
    ], (item) => item.staff_id),
  )];
}

const RENDER = { sla, hotspots, satisfaction, staff };
