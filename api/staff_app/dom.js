// Building the page from plain data with createElement and textContent, never from HTML strings.

/** An element: h("button", {type: "button", onclick}, "Acknowledge"). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A labelled control: the label names it for every reader. */
export function field(id, label, control) {
  control.id = id;
  control.name = control.name || id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}
