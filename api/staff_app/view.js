// What every view of the app shares: the one place views are shown, live countdowns, what was last
// seen kept on the phone, and the screen reader's announcement line.

import { h } from "./dom.js";
import { countdown } from "./i18n.js";

const view = document.getElementById("view");
let ticking = [];

export function announce(text) {
  document.getElementById("announce").textContent = text;
}

export function remember(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify({ at: new Date().toISOString(), value }));
  } catch {
    // storage full: the app still works online
  }
}

export function recalled(key) {
  try {
    return JSON.parse(localStorage.getItem(key));
  } catch {
    return null;
  }
}

/** Live countdowns: seconds left at `as_of` (server time), counted down on this phone's clock. */
function tick() {
  const now = performance.now();
  for (const { element, seconds, since } of ticking) {
    if (element.isConnected) element.textContent = countdown(seconds - Math.floor((now - since) / 1000));
  }
}
setInterval(tick, 1000);

export function countdownOf(seconds) {
  const element = h("span", { class: seconds !== null && seconds < 0 ? "countdown overdue" : "countdown" },
    countdown(seconds));
  if (seconds !== null && seconds !== undefined) ticking.push({ element, seconds, since: performance.now() });
  return element;
}

export function secondsUntil(moment, asOf) {
  return moment ? Math.floor((new Date(moment) - new Date(asOf)) / 1000) : null;
}

let shown = null;

/** Show a view; focus its heading only when the person moved to it (not on a refresh). */
export function render(...children) {
  ticking = [];
  view.replaceChildren(...children);
  if (shown !== location.hash) view.querySelector("h1")?.focus();
  shown = location.hash;
}

export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}
