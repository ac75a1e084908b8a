// The board: every open case, the at-risk ones first, each counting down to its next deadline and
// coloured by its state. It asks the server every few seconds with the last ETag (a 304 costs
// nothing and redraws nothing), keeps the keyboard where it was when it does redraw, ticks the
// countdowns every second without announcing them, and says when the picture cannot be believed.

import { announce, getIfChanged, getJson, session } from "./client.js";
import { clear, h } from "./dom.js";
import { countdown, t, total, when, word } from "./i18n.js";
import { personName, stateBadge, tierName } from "./people.js";

const FILTERS = ["kind", "severity", "building", "tier", "owner"];
const STATES = ["on_time", "warning", "breached", "paused"];

export function showBoard(view, query) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  const status = h("p", { class: "status", id: "board-status" });
  const picture = h("div", { id: "board-picture", class: "picture", hidden: true });
  const body = h("div", { id: "board" });
  const more = h("button", { type: "button", id: "board-more", class: "quiet", hidden: true }, t("board.more"));
  view.append(h("section", { class: "board" },
    h("div", { class: "heading" }, h("h1", {}, t("board.title")), legend()),
    filterBar(filters),
    picture,
    status,
    body,
    more,
  ));

  let serverOffset = 0;
  let stopped = false;
  let next = null;
  let etag = null;
  let pages = 1;
  let items = [];
  let following = null;

  const params = (token) => new URLSearchParams([
    ...Object.entries(filters).filter(([, value]) => value),
    ...(token ? [["page_token", token]] : []),
  ]);

  /** The pages shown so far, read again; only when the first page says something changed. */
  async function reload(first) {
    let board = first;
    let shown = [...first.items];
    for (let page = 1; page < pages && board.next_page_token; page += 1) {
      board = await getJson(`/console/api/board?${params(board.next_page_token)}`);
      shown = shown.concat(board.items);
    }
    items = shown;
    following = board.next_page_token;
    return first;
  }

  async function refresh() {
    try {
      const fresh = await getIfChanged(`/console/api/board?${params()}`, etag);
      if (stopped) return;
      if (fresh) {
        etag = fresh.etag;
        const board = await reload(fresh.body);
        if (stopped) return;
        serverOffset = new Date(board.as_of).getTime() - Date.now();
        draw(board);
      }
      status.textContent = t("board.updated", { time: when(new Date(Date.now() + serverOffset).toISOString(),
        { seconds: true }) });
      status.classList.remove("error");
    } catch (error) {
      if (stopped) return;
      status.textContent = t("board.unreachable", { message: error.message });
      status.classList.add("error");
    } finally {
      if (!stopped && session.info) next = setTimeout(refresh, session.info.poll_seconds * 1000);
    }
  }

  function draw(board) {
    keepingFocus(body, () => render(body, items));
    showPicture(picture, board.picture);
    more.hidden = !following;
    status.dataset.total = board.total;
    const breached = items.filter((item) => item.state === "breached").length;
    announce(t("board.summary", { total: total(board), breached }) +
      (board.picture.trustworthy ? "" : ` ${t("picture.untrustworthy")}`));
  }

  more.addEventListener("click", async () => {
    if (!following) return;
    const page = await getJson(`/console/api/board?${params(following)}`);
    pages += 1;
    items = items.concat(page.items);
    following = page.next_page_token;
    keepingFocus(body, () => render(body, items));
    more.hidden = !following;
    if (!following) more.blur();
  });

  function tick() {
    const now = Date.now() + serverOffset;
    for (const cell of body.querySelectorAll("[data-deadline]")) {
      cell.textContent = countdown(Math.round((new Date(cell.dataset.deadline).getTime() - now) / 1000));
    }
  }

  refresh();
  const ticker = setInterval(tick, 1000);
  return () => {
    stopped = true;
    clearTimeout(next);
    clearInterval(ticker);
  };
}

/** Redraw without losing the keyboard: the focused link (by its case) is focused again after. */
function keepingFocus(container, redraw) {
  const focused = document.activeElement;
  const row = focused && container.contains(focused) ? focused.closest("tr")?.dataset.case : null;
  redraw();
  if (row) container.querySelector(`tr[data-case="${CSS.escape(row)}"] a`)?.focus();
}

/** Says plainly when the board cannot be believed: no worker, the read model behind, deadlines unacted. */
export function showPicture(element, picture) {
  clear(element);
  element.hidden = picture.trustworthy;
  element.dataset.problems = picture.problems.join(" ");
  if (picture.trustworthy) return;
  element.append(h("strong", {}, t("picture.untrustworthy")),
    h("ul", {}, picture.problems.map((problem) => h("li", { dataset: { problem } }, t(`picture.${problem}`)))));
}

function legend() {
  return h("div", { class: "legend" }, STATES.map(stateBadge));
}

function filterBar(filters) {
  const info = session.info;
  const choices = {
    kind: ["repair", "complaint", "question"].map((kind) => [kind, word("kind", kind)]),
    severity: ["emergency", "urgent", "normal", "low"].map((severity) => [severity, word("severity", severity)]),
    building: info.buildings.map((building) => [building.id, `${building.id} · ${building.name}`]),
    tier: ["0", "1", "2", "3"].map((tier) => [tier, tierName(tier)]),
    owner: info.staff.map((person) => [person.id, `${person.name} (${person.id})`]),
  };
  const apply = () => {
    const params = new URLSearchParams(Object.entries(filters).filter(([, value]) => value));
    location.hash = `#/board${params.size ? `?${params}` : ""}`;
  };
  const selects = FILTERS.map((name) => {
    const select = h("select", { id: `filter-${name}`, name },
      h("option", { value: "" }, t("filter.any")),
      choices[name].map(([value, label]) => h("option", { value, selected: filters[name] === value }, label)),
    );
    select.addEventListener("change", () => {
      filters[name] = select.value;
      apply();
    });
    return h("label", {}, h("span", {}, t(`filter.${name}`)), select);
  });
  const reset = h("button", { type: "button", class: "quiet" }, t("filter.clear"));
  reset.addEventListener("click", () => {
    FILTERS.forEach((name) => { filters[name] = ""; });
    apply();
  });
  return h("form", { class: "filters", id: "filters" }, selects, reset);
}

function render(container, items) {
  clear(container);
  if (!items.length) {
    container.append(h("p", { class: "empty" }, t("board.empty")));
    return;
  }
  const atRisk = items.filter((item) => item.at_risk);
  const others = items.filter((item) => !item.at_risk);
  if (atRisk.length) container.append(table("at-risk", t("board.at_risk"), atRisk));
  if (others.length) container.append(table("others", t("board.others"), others));
}

function table(id, caption, items) {
  const columns = ["state", "deadline", "left", "case", "what", "severity", "place", "status", "tier", "owner",
    "handler"];
  return h("table", { class: "cases", id: `board-${id}` },
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, t(`col.${column}`))))),
    h("tbody", {}, items.map(row)),
  );
}

function row(item) {
  return h("tr", { class: `state-${item.state}`, dataset: { case: item.case_id, state: item.state } },
    h("td", {}, stateBadge(item.state)),
    h("td", {}, item.next_deadline
      ? [word("deadline", item.next_deadline_kind), h("br"), h("small", {}, when(item.next_deadline))]
      : t("time.none")),
    h("td", { class: "countdown", "aria-hidden": "true", dataset: { deadline: item.next_deadline } },
      countdown(item.seconds_left)),
    h("td", {}, h("a", { href: `#/case/${encodeURIComponent(item.case_id)}`, class: "case-link" }, item.case_id)),
    h("td", {}, `${word("kind", item.kind)} · ${item.category}`, h("div", { class: "muted" }, item.title)),
    h("td", {}, word("severity", item.severity)),
    h("td", {}, item.unit ? `${item.building_id} · ${item.unit}` : item.building_id),
    h("td", {}, word("status", item.status)),
    h("td", {}, tierName(item.tier)),
    h("td", { class: "owner" }, personName(item.owner_id)),
    h("td", { class: "handler" }, personName(item.handler_id)),
  );
}
