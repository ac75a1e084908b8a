// Sign-in by phone number and SMS code (the staff app's /auth/code and /auth/token): a supervisor's
// phone gets a supervisor's token, which then goes through the same check as a pasted one.

import { h } from "./dom.js";
import { t } from "./i18n.js";

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), cache: "no-store",
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.error?.message || response.statusText);
  return answer;
}

/** The form; `useToken(token)` signs in with the token the code bought. */
export function phoneSignIn(useToken) {
  const phone = h("input", { id: "phone", name: "phone", type: "tel", autocomplete: "tel", required: true });
  const code = h("input", { id: "code", name: "code", inputmode: "numeric", autocomplete: "one-time-code",
    pattern: "[0-9]{6}", maxlength: "6" });
  const message = h("p", { class: "help", id: "phone-sign-in-message", role: "status" });
  const codeRow = h("div", { hidden: true }, h("label", { for: "code" }, t("login.code")), code);
  const button = h("button", { type: "submit" }, t("login.send_code"));
  const form = h("form", { class: "sign-in", id: "phone-sign-in" },
    h("h2", {}, t("login.by_phone")), h("label", { for: "phone" }, t("login.phone")), phone, codeRow, button, message);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    try {
      if (codeRow.hidden) {
        await post("/auth/code", { phone: phone.value.trim() });
        codeRow.hidden = false;
        code.required = true;
        button.textContent = t("login.submit");
        message.textContent = t("login.code_sent");
        code.focus();
      } else {
        await useToken((await post("/auth/token", { phone: phone.value.trim(), code: code.value.trim() })).token);
      }
    } catch (failure) {
      message.textContent = t("login.failed", { message: failure.message });
    }
  });
  return form;
}
