// The console's two languages: its own labels from text.json, the domain's words (statuses, severities…) from
// the server, the same the case history uses. Times are shown in the community's time zone.

import { languages } from "./languages.js";
import TEXT from "./text.json" with { type: "json" };

export const { locale, setLocale, t, translate } = languages("steward.console.locale", TEXT);

let vocabulary = {};
let timeZone = "Asia/Shanghai";

/** The words of the domain and the community's time zone, from /console/api/session. */
export function setVocabulary(words, zone) {
  vocabulary = words || {};
  timeZone = zone || timeZone;
}

export function communityTimeZone() {
  return timeZone;
}

/** A first page's `total`: "10,000+" when the count stopped at its bound (`total_at_least`). */
export function total(page) {
  if (page.total === null || page.total === undefined) return t("time.none");
  const number = new Intl.NumberFormat(locale()).format(page.total);
  return page.total_at_least ? `${number}+` : number;
}

/** A word of the domain (a status, severity, channel…), as the case history says it. */
export function word(group, value) {
  if (value === null || value === undefined || value === "") return t("time.none");
  return vocabulary[group]?.[String(value)]?.[locale()] ?? String(value);
}

function formatter(options) {
  return new Intl.DateTimeFormat(locale() === "en" ? "en-GB" : "zh-CN", { timeZone, hour12: false, ...options });
}

/** A moment in community time, e.g. 2026/11/26 10:03. */
export function when(iso, { seconds = false } = {}) {
  if (!iso) return t("time.none");
  return formatter({
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    second: seconds ? "2-digit" : undefined,
  }).format(new Date(iso));
}

/** A span of time, e.g. 3h 05m or 3小时05分; `null` reads as a dash. */
export function span(totalSeconds) {
  if (totalSeconds === null || totalSeconds === undefined) return t("time.none");
  let left = Math.round(Math.abs(totalSeconds));
  const days = Math.floor(left / 86400);
  left -= days * 86400;
  const hours = Math.floor(left / 3600);
  left -= hours * 3600;
  const minutes = Math.floor(left / 60);
  const secs = left - minutes * 60;
  const two = (n) => String(n).padStart(2, "0");
  const [d, h, m, s] = ["unit.d", "unit.h", "unit.m", "unit.s"].map((key) => t(key));
  const gap = locale() === "en" ? " " : "";
  if (days) return `${days}${d}${gap}${hours}${h}`;
  if (hours) return `${hours}${h}${gap}${two(minutes)}${m}`;
  return `${minutes}${m}${gap}${two(secs)}${s}`;
}

/** Time left to a deadline; past it, how long overdue. */
export function countdown(secondsLeft) {
  if (secondsLeft === null || secondsLeft === undefined) return t("time.none");
  return secondsLeft < 0 ? t("time.overdue", { time: span(secondsLeft) }) : span(secondsLeft);
}

export function percent(rate) {
  if (rate === null || rate === undefined) return t("time.none");
  return `${(rate * 100).toFixed(1)}%`;
}
