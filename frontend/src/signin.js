// Sign in with a party token; the demo server also offers its parties.
import { el, field, showErrors } from "./dom.js";
import { ApiError } from "./api.js";

export function signIn(app) {
  const token = el("input", { name: "token", type: "password", autocomplete: "off", required: true, spellcheck: false });
  const form = el(
    "form.signin",
    { "aria-labelledby": "signin-title" },
    el("h2", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    el("p", "Sign in with your party's token (as printed by ", el("code", "truceline party add"), ")."),
    el("div.form-error", { role: "alert" }),
    field("Party token", token),
    el("button", { type: "submit" }, "Sign in"),
  );
  const submit = async (value) => {
    form.setAttribute("aria-busy", "true");
    try {
      if (!(await app.tryToken(value))) throw new ApiError(401, { errors: [{ pointer: "/token", detail: "this token is not valid for any party" }] });
      dialog.remove();
    } catch (e) {
      if (e instanceof ApiError) showErrors(form, e);
      else throw e;
    } finally {
      form.removeAttribute("aria-busy");
    }
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submit(token.value.trim());
  });
  const demo = app.config.demo_parties.length
    ? el(
        "section.demo-parties",
        el("h3", "Demo: sign in as"),
        el("ul", app.config.demo_parties.map((p) => el("li", el("button.link", { type: "button", onclick: () => submit(p.token) }, p.name)))),
      )
    : null;
  const dialog = el("div.overlay", el("div.dialog", { role: "dialog", "aria-modal": "true", "aria-labelledby": "signin-title" }, form, demo));
  document.body.append(dialog);
  token.focus();
  return dialog;
}

