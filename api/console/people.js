// Names for staff ids, and a case's deadline state as a badge, shared by the board and the case page.

import { session } from "./client.js";
import { h } from "./dom.js";
import { t, word } from "./i18n.js";

export function staffMember(id) {
  return session.info?.staff.find((person) => person.id === id);
}

/** "Wang Wei (S001)" for a staff id; the id itself for anyone else (a resident, steward). */
export function personName(id) {
  if (!id) return t("time.none");
  const person = staffMember(id);
  return person ? `${person.name} (${id})` : id;
}

export function stateBadge(state) {
  return h("span", { class: `badge state-${state}`, dataset: { state } }, t(`state.${state}`));
}

export function tierName(tier) {
  return `${tier} · ${word("tier", tier)}`;
}
