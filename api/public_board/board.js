// The public board: the published deadlines and how they were kept, from /public/api/board. Nothing
// personal is in it; the DOM is built with createElement and textContent. Its words are in text.json.

import { languages } from "./languages.js";
import TEXT from "./text.json" with { type: "json" };

const { locale, setLocale, t } = languages("steward.board.locale", TEXT, { missing: "" });

const CATEGORY = {
  plumbing: "水管下水", electrical: "电路灯具", lift: "电梯", security: "安防门禁", cleaning: "保洁",
  general: "综合", noise: "噪音", sanitation: "卫生", staff_conduct: "服务态度", fees: "收费", other: "其他",
  services: "服务", parking: "停车",
};

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== null) element.setAttribute(name, value);
  for (const child of children.flat()) if (child !== null && child !== undefined) element.append(child);
  return element;
}

function rate(value) {
  return value === null || value === undefined ? t("none") : `${(value * 100).toFixed(1)}%`;
}

function category(key) {
  return locale() === "en" ? key : CATEGORY[key] || key;
}

function figure(id, label, value) {
  return h("div", { class: "figure", id }, h("div", { class: "meta" }, label), h("div", { class: "big" }, String(value)));
}

function period(id, title, figures) {
  const satisfaction = Object.fromEntries(figures.satisfaction_by_category.map((row) => [row.key, row]));
  return h("section", { id },
    h("h2", {}, t(title, { since: figures.since, until: figures.until })),
    h("div", { class: "figures" },
      figure(`${id}-cases`, t("cases"), figures.overall.cases),
      figure(`${id}-response`, t("response_rate"), rate(figures.overall.response_rate)),
      figure(`${id}-resolution`, t("resolution_rate"), rate(figures.overall.resolution_rate)),
      figure(`${id}-satisfaction`, t("satisfaction"), rate(figures.satisfaction.rate)),
      figure(`${id}-complaints-received`, t("complaints_received"), figures.complaints_received),
      figure(`${id}-complaints-closed`, t("complaints_closed"), figures.complaints_closed)),
    h("h2", {}, t("by_category")),
    h("table", { id: `${id}-categories` },
      h("thead", {}, h("tr", {}, [t("category"), t("cases"), t("response_rate"), t("resolution_rate"), t("satisfaction")]
        .map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, figures.by_category.map((row) => h("tr", { "data-category": row.key },
        h("th", { scope: "row" }, category(row.key)), h("td", { class: "n" }, String(row.cases)),
        h("td", { class: "n" }, rate(row.response_rate)), h("td", { class: "n" }, rate(row.resolution_rate)),
        h("td", { class: "n" }, rate(satisfaction[row.key]?.rate)))))));
}

function promises(board) {
  return h("section", { id: "promises" }, h("h2", {}, t("promises")),
    h("table", {}, h("thead", {}, h("tr", {}, [t("severity"), t("response"), t("resolution")]
      .map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, board.promises.map((p) => h("tr", { "data-severity": p.severity },
      h("th", { scope: "row" }, t(p.severity)), h("td", {}, t("minutes", { n: p.response_minutes })),
      h("td", {}, t("hours", { n: p.resolution_hours })))))));
}

function when(value) {
  return new Intl.DateTimeFormat(locale(), { timeZone: zone, dateStyle: "medium", timeStyle: "short" })
    .format(new Date(value));
}

function money(amount) {
  return new Intl.NumberFormat(locale(), { style: "currency", currency: "CNY" }).format(Number(amount));
}

function hearings(board) {
  return h("section", { id: "hearings" }, h("h2", {}, t("hearings")),
    board.hearings.length ? board.hearings.map((x) => h("article", { class: "hearing" },
      h("h3", {}, x.title), h("p", { class: "meta" }, t("hearing_at", { time: when(x.hearing_at), place: x.place })),
      h("p", {}, x.reason),
      h("table", {}, h("tbody", {},
        (x.revised_costs || x.costs).map((c) => h("tr", {}, h("th", { scope: "row" }, c.item),
          h("td", { class: "n" }, money(c.amount)))),
        h("tr", {}, h("th", { scope: "row" }, t("total")), h("td", { class: "n" }, money(x.total))))),
      h("p", { class: "decision" }, x.decision
        ? t("decision", { outcome: t(x.decision), reason: x.decision_reason }) : t("pending"))))
      : h("p", {}, t("no_hearings")));
}

function drills(board) {
  return h("section", { id: "drills" }, h("h2", {}, t("drills")),
    board.drills.length ? h("ul", {}, board.drills.map((d) => h("li", {},
      `${when(d.scheduled_at)} · ${t("building", { id: d.building_id })} · ${t(d.drill_type)}`)))
      : h("p", {}, t("no_drills")));
}

let zone = "Asia/Shanghai";

async function show() {
  document.documentElement.lang = locale();
  document.getElementById("board-title").textContent = t("title");
  document.getElementById("language-label").textContent = t("language");
  const main = document.getElementById("board");
  try {
    const response = await fetch(`/public/api/board${location.search}`);
    if (!response.ok) throw new Error(String(response.status));
    const board = await response.json();
    zone = board.timezone;
    main.replaceChildren(promises(board), period("month", "month", board.month), period("year", "year", board.year),
      hearings(board), drills(board));
  } catch {
    main.replaceChildren(h("p", { role: "alert" }, t("failed")));
  }
}

const language = document.getElementById("language");
language.value = locale();
language.addEventListener("change", () => {
  setLocale(language.value);
  show();
});
show();
