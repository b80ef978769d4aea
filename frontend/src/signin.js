// Sign in with a party token; the demo server also offers its parties. A party that registered a
// signing key then reads its private key into the tab, or stays read-only.
import { el, field, showErrors } from "./dom.js";
import { ApiError } from "./api.js";
import { canSign, KeyError, readKey } from "./signing.js";

/** Why the last session ended, if the server ended it (a revoked or expired token); said once. */
function signedOutReason() {
  const reason = sessionStorage.getItem("truceline-signed-out");
  sessionStorage.removeItem("truceline-signed-out");
  return reason ? `Signed out: ${reason}.` : null;
}

export function signIn(app) {
  const token = el("input", { name: "token", type: "password", autocomplete: "off", required: true, spellcheck: false });
  const form = el(
    "form.signin",
    { "aria-labelledby": "signin-title" },
    el("h2", { id: "signin-title", tabindex: "-1" }, "Sign in"),
    el("p", "Sign in with your party's token (as printed by ", el("code", "truceline party add"), ")."),
    el("div.form-error", { role: "alert" }, signedOutReason()),
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


/** Ask for the party's private key (PEM). Resolves to true once read and checked, false if skipped. */
export function askForKey(app) {
  return new Promise((resolve) => {
    const file = el("input", { name: "key", type: "file", accept: ".pem,.key,application/x-pem-file,text/plain" });
    const error = el("div.form-error", { role: "alert" });
    const close = (ok) => {
      dialog.remove();
      resolve(ok);
    };
    const form = el(
      "form.signing-key",
      { "aria-labelledby": "key-title" },
      el("h2", { id: "key-title", tabindex: "-1" }, "Signing key"),
      el(
        "p",
        `${app.me.name} has registered a signing key: every change it sends must be signed with it. `,
        "Choose the private key file (",
        el("code", "truceline keys generate"),
        " wrote it). It is checked against the registered key and kept in this tab only, never sent.",
      ),
      canSign() ? null : el("p.hint", "This browser can sign only over https:// or on this machine's own address."),
      error,
      field("Private key (PEM)", file),
      el("button", { type: "submit" }, "Use this key"),
      " ",
      el("button.link", { type: "button", onclick: () => close(false) }, "Continue read-only"),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      const chosen = file.files[0];
      if (!chosen) {
        error.textContent = "Choose your key file.";
        return;
      }
      try {
        app.api.key = await readKey(await chosen.text(), app.me.public_key);
      } catch (e) {
        if (!(e instanceof KeyError)) throw e;
        error.textContent = `${chosen.name}: ${e.message}.`;
        return;
      }
      close(true);
    });
    const dialog = el("div.overlay", el("div.dialog", { role: "dialog", "aria-modal": "true", "aria-labelledby": "key-title" }, form));
    document.body.append(dialog);
    file.focus();
  });
}
