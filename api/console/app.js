// The console's shell: sign-in, the header, and which view the address (#/board, #/case/ID,
// #/reports/NAME) shows. Each view returns a function that stops its timers when it is left.

import { showBoard } from "./board.js";
import { showCase } from "./case.js";
import { showDrills, showHearings } from "./duties.js";
import { showQueues } from "./queues.js";
import { ApiError, checkToken, session, signIn, signOut } from "./client.js";
import { clear, h } from "./dom.js";
import { locale, setLocale, setVocabulary, t, translate } from "./i18n.js";
import { phoneSignIn } from "./phone_sign_in.js";
import { showReports } from "./reports.js";

const view = document.getElementById("view");
let leaveView = () => {};

function route() {
  const [section = "board", ...rest] = location.hash.replace(/^#\/?/, "").split("?")[0].split("/");
  return { section, rest: rest.map(decodeURIComponent), query: new URLSearchParams(location.hash.split("?")[1] || "") };
}

function header() {
  const signedIn = Boolean(session.info);
  document.getElementById("nav").hidden = !signedIn;
  document.getElementById("sign-out").hidden = !signedIn;
  const who = session.info ? `${session.info.name || session.info.staff_id} (${session.info.staff_id})` : "";
  document.getElementById("who").textContent = who;
  const { section } = route();
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("current", link.dataset.section === section);
  }
  translate();
}

function show() {
  leaveView();
  leaveView = () => {};
  clear(view);
  header();
  if (!session.info) {
    showSignIn();
    return;
  }
  const { section, rest, query } = route();
  if (section === "case" && rest[0]) {
    leaveView = showCase(view, rest[0]);
  } else if (section === "hearings") {
    leaveView = showHearings(view);
  } else if (section === "drills") {
    leaveView = showDrills(view);
  } else if (section === "queues") {
    leaveView = showQueues(view);
  } else if (section === "reports") {
    leaveView = showReports(view, rest[0] || "sla", query);
  } else {
    leaveView = showBoard(view, query);
  }
}

function showSignIn(message = "") {
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", required: true, spellcheck: "false",
  });
  const error = h("p", { class: "error", id: "sign-in-error", role: "alert" }, message);
  const form = h("form", { class: "sign-in", id: "sign-in" },
    h("h1", {}, t("login.title")),
    h("label", { for: "token" }, t("login.token")),
    input,
    h("p", { class: "help" }, t("login.help")),
    h("button", { type: "submit" }, t("login.submit")),
    error,
  );
  async function useToken(token) {
    try {
      const info = await checkToken(token);
      signIn(token, info);
      setVocabulary(info.words, info.timezone);
      if (!location.hash || location.hash.startsWith("#/login")) location.hash = "#/board";
      show();
    } catch (failure) {
      error.textContent = refusal(failure);
    }
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.textContent = "";
    useToken(input.value.trim());
  });
  view.append(form, phoneSignIn(useToken));
  input.focus();
}

function refusal(failure) {
  if (failure instanceof ApiError && failure.status === 403) return t("login.refused");
  if (failure instanceof ApiError && failure.status === 401) return t("login.unknown");
  return t("login.failed", { message: failure.message });
}

async function start() {
  setLocale(locale());
  const chooser = document.getElementById("language");
  chooser.value = locale();
  chooser.addEventListener("change", () => {
    setLocale(chooser.value);
    show();
  });
  document.getElementById("sign-out").addEventListener("click", signOut);
  session.onSignedOut = show;
  window.addEventListener("hashchange", show);
  if (session.token) {
    try {
      session.info = await checkToken(session.token);
      setVocabulary(session.info.words, session.info.timezone);
    } catch {
      signOut();
      return;
    }
  }
  show();
}

start();
