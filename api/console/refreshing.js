// A view of lists read when it opens and again on "Refresh" (the queues, hearings and drills): a heading
// with the button, a status line that says when the server could not be reached, and the body drawn
// from what was read. Answers that arrive after the view was left are dropped.

import { clear, h } from "./dom.js";
import { t } from "./i18n.js";

/** Shows `title` in `view` under `id`; `read()` fetches, `draw(data, view)` returns the body's parts.
 * Returns `{ load, status, stop }`: reload (after an action), the status line, and the view's cleanup. */
export function refreshingView(view, { id, title, alert = false }, read, draw) {
  const body = h("div", { id });
  const refresh = h("button", { type: "button", class: "quiet", id: `${id}-refresh` }, t("duties.refresh"));
  const status = h("p", { class: "status", id: `${id}-status`, role: alert ? "alert" : null });
  view.append(h("section", { class: id }, h("div", { class: "heading" }, h("h1", {}, title), refresh),
    status, body));
  let stopped = false;
  const shown = { status, stop: () => { stopped = true; } };

  shown.load = async function load() {
    try {
      const data = await read();
      if (stopped) return;
      clear(body);
      body.append(...draw(data, shown));
      status.textContent = "";
    } catch (error) {
      if (!stopped) status.textContent = t("board.unreachable", { message: error.message });
    }
  };

  refresh.addEventListener("click", shown.load);
  shown.load();
  return shown;
}
