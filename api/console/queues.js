// Queues for people: manual callbacks awaiting someone, SMS no case took (attach one to a case here),
// app notices nobody opened in time. Read when opened, after an action, and on "Refresh".

import { announce, api, getJson } from "./client.js";
import { h } from "./dom.js";
import { t, when } from "./i18n.js";
import { personName } from "./people.js";
import { refreshingView } from "./refreshing.js";

function section(id, caption, columns, items, row) {
  const content = items.length
    ? h("table", { class: "cases" },
      h("thead", {}, h("tr", {}, columns.map((column) => h("th", { scope: "col" }, t(`queue.${column}`))))),
      h("tbody", {}, items.map(row)))
    : h("p", { class: "empty" }, t("duties.none"));
  return h("section", { id }, h("h2", {}, caption), content);
}

function assignForm(message, shown) {
  const input = h("input", { name: "case", id: `assign-${message.sid}`, required: true, size: 14,
    pattern: "(RP|CP)-[A-Z2-7]{10}", placeholder: "RP-…" });
  const form = h("form", { class: "assign", dataset: { sid: message.sid } },
    h("label", { for: `assign-${message.sid}` }, t("queue.assign_to")), input,
    h("button", { type: "submit" }, t("queue.assign")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/inbound-messages/${encodeURIComponent(message.sid)}/assign/${encodeURIComponent(input.value.trim())}`,
        { method: "POST" });
      announce(t("queue.assigned", { case: input.value.trim() }));
      await shown.load();
    } catch (error) {
      shown.status.textContent = error.message;
    }
  });
  return form;
}

function read() {
  return Promise.all([
    getJson("/queues/manual-callbacks?limit=200"), getJson("/inbound-messages?limit=200"),
    getJson("/queues/unread-notices?limit=200")]);
}

function draw([manual, sms, unread], shown) {
  return [
    section("queue-manual", `${t("queues.manual")} (${manual.total})`,
      ["case", "what", "place", "owner", "tier", "deadline"], manual.items, (item) =>
        h("tr", { dataset: { case: item.case_id } },
          h("td", {}, h("a", { href: `#/case/${encodeURIComponent(item.case_id)}` }, item.case_id)),
          h("td", {}, item.title), h("td", {}, item.unit ? `${item.building_id} · ${item.unit}` : item.building_id),
          h("td", {}, personName(item.owner_id)), h("td", {}, item.tier), h("td", {}, when(item.next_deadline)))),
    section("queue-sms", t("queues.sms"), ["from", "text", "received", "outcome", "action"], sms.items,
      (item) => h("tr", { dataset: { sid: item.sid } },
        h("td", {}, item.from_number), h("td", {}, item.body), h("td", {}, when(item.received_at)),
        h("td", {}, t(`sms.${item.outcome}`)), h("td", {}, assignForm(item, shown)))),
    section("queue-unread", t("queues.unread", { minutes: unread.window_minutes }),
      ["recipient", "case", "notice", "sent", "unread"], unread.items, (item) =>
        h("tr", { dataset: { notice: item.key } },
          h("td", {}, personName(item.recipient_id)), h("td", {}, item.case_id), h("td", {}, item.template),
          h("td", {}, when(item.created_at)), h("td", {}, t("queue.minutes", { minutes: item.minutes_unread })))),
  ];
}

export function showQueues(view) {
  return refreshingView(view, { id: "queues", title: t("queues.title"), alert: true }, read, draw).stop;
}
