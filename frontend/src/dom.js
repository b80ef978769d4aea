// Small DOM helpers. Text from the API always goes in as text, never as HTML.

/** el("div.card", {onclick}, child, "text", ...) */
export function el(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const node = document.createElement(tag || "div");
  if (classes.length) node.className = classes.join(" ");
  if (attrs && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k in node && k !== "list" && typeof v !== "string") node[k] = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A labelled field: the label, the control, and a slot for the server's error about it. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const err = el("div.field-error", { id: `${id}-error`, role: "alert" });
  control.setAttribute("aria-describedby", err.id);
  return el("div.field", el("label", { for: id }, label), control, hint ? el("div.hint", hint) : null, err);
}

export function select(name, options, value) {
  return el(
    "select",
    { name },
    options.map((o) => {
      const [v, text] = Array.isArray(o) ? o : [o, o.replaceAll("_", " ")];
      return el("option", { value: v, selected: v === value }, text);
    }),
  );
}

/**
 * Show an API error next to the fields it names. A pointer such as /volumes/0/time_end is matched to
 * the control whose name (or data-names) holds its deepest segment; the rest go to the form's top.
 */
export function showErrors(form, error) {
  clearErrors(form);
  const top = form.querySelector(".form-error");
  const named = [...form.querySelectorAll("[name]")];
  for (const { pointer, detail } of error.fieldErrors) {
    const segs = (pointer || "").split("/").filter(Boolean).reverse();
    const target = segs
      .map((s) => named.find((n) => n.name === s || (n.dataset.names || "").split(" ").includes(s)))
      .find(Boolean);
    const slot = target && document.getElementById(`${target.id}-error`);
    if (slot) {
      slot.textContent = detail;
      target.setAttribute("aria-invalid", "true");
    } else if (top) {
      top.append(el("div", pointer ? `${pointer}: ${detail}` : detail));
    }
  }
  const first = form.querySelector("[aria-invalid=true]") || top;
  first?.focus?.();
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error, .form-error").forEach((n) => n.replaceChildren());
  form.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
}

/** Run an async action from a form: the button shows it is busy, errors land next to their fields. */
export async function submitting(form, action) {
  const button = form.querySelector("button[type=submit]");
  clearErrors(form);
  button && (button.disabled = true);
  form.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (e) {
    if (e.fieldErrors) showErrors(form, e);
    else throw e;
    return undefined;
  } finally {
    button && (button.disabled = false);
    form.removeAttribute("aria-busy");
  }
}

/** A number field's value for the API: null when empty, so the server names the missing field. */
export function numberOrNull(v) {
  return v === "" ? null : Number(v);
}

/** A button that downloads one of the server's GeoJSON exports; a refusal shows as a toast. */
export function downloadButton(app, path, label, params) {
  return el("button.link", {
    type: "button",
    onclick: () => app.api.download(path, params).catch((e) => app.toast(`Download: ${e.message}`)),
  }, label);
}

/**
 * A button for what cannot be undone, which asks first: the first click arms it and says what the
 * second will do; the second runs ``action``. If that fails, the button works again and ``onError``
 * is told.
 */
export function confirmButton(label, again, action, onError) {
  const button = el("button.danger", { type: "button" }, label);
  button.addEventListener("click", async () => {
    if (!button.dataset.armed) {
      button.dataset.armed = "true";
      button.textContent = again;
      return;
    }
    button.disabled = true;
    try {
      await action();
    } catch (e) {
      button.disabled = false;
      onError(e);
    }
  });
  return button;
}

/** Text as the find boxes compare it: lower case, underscores and runs of white space as one space. */
export const folded = (s) => String(s).toLowerCase().replaceAll("_", " ").replace(/\s+/g, " ").trim();

/**
 * A panel's find box and one choice (a status, a rule), kept on the app under `key` across the live
 * feed's redraws and a visit to another panel. `changed` runs on every edit. `matches(words, choice)`
 * tells whether an item's words (already folded) and its value for the choice pass.
 */
export function findControls(app, key, { find, placeholder, choose, options, initial = "" }, changed) {
  const kept = ((app.finds ||= {})[key] ||= { query: "", choice: initial });
  const query = el("input", { type: "search", name: `${key}-query`, autocomplete: "off", placeholder, value: kept.query });
  const select = el("select", { name: `${key}-choice` },
    options.map(([value, text]) => el("option", { value, selected: value === kept.choice }, text)));
  query.addEventListener("input", () => { kept.query = query.value; changed(); });
  select.addEventListener("change", () => { kept.choice = select.value; changed(); });
  return {
    node: el("div.panel-filters", field(find, query), field(choose, select)),
    matches: (words, value) => (!select.value || value === select.value) && words.includes(folded(query.value)),
  };
}
