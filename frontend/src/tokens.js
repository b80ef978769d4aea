// Your party's bearer tokens: one per officer, desk or script. Issue one (shown once, to hand over),
// see which are active, expired or revoked, and revoke one that is lost without locking out the rest.
import { confirmButton, el, field, submitting } from "./dom.js";
import { entryItem, historyToggle } from "./history.js";
import { human } from "./time.js";

export function tokensPanel(app) {
  const list = el("ul.cards");
  const issued = el("div");
  const node = el("section.panel-body",
    el("h2", { tabindex: -1 }, "Tokens"),
    el("p.hint", `${app.me.name}'s bearer tokens. Give each officer, desk or script its own, so that one lost is revoked alone.`),
    issued, issueForm(app, issued, () => refresh()), el("h3", "Held"), list);

  async function refresh() {
    const tokens = await app.api.get("/v1/parties/me/tokens");
    list.replaceChildren(...tokens.map((t) => el("li.card", { dataset: { token: t.id } },
      el("div.card-head", el("strong", t.label), el(`span.badge.state-${t.state}`, t.state),
        t.id === app.me.token?.id ? el("span.badge.now", "this page's") : null),
      el("p.meta", `issued ${human(t.created_at)}`, t.expires_at ? ` · expires ${human(t.expires_at)}` : "",
        t.revoked_at ? ` · revoked ${human(t.revoked_at)}` : ""),
      lastUse(t),
      whatItDid(app, t),
      t.state === "active" && t.id !== app.me.token?.id ? revokeButton(app, t, refresh) : null)));
  }
  refresh().catch((e) => app.toast(`Tokens: ${e.message}`));
  return { node };
}

// When and from where it was last used (to the minute). A revoked token still being tried is the
// one thing here that needs someone to act, so it says so.
function lastUse(t) {
  if (!t.last_used_at) return el("p.meta.last-use", "never used");
  const where = t.last_used_from ? ` from ${t.last_used_from}` : "";
  if (t.tried_after_revocation) {
    return el("p.last-use.tried", { role: "status" },
      `Tried after it was revoked: ${human(t.last_used_at)}${where}. Someone still holds this token.`);
  }
  return el("p.meta.last-use", `last used ${human(t.last_used_at)}${where}`);
}

function issueForm(app, issued, done) {
  const label = el("input", { name: "label", required: true, maxlength: 100, autocomplete: "off" });
  const expires = el("input", { name: "expires_at", type: "datetime-local" });
  const form = el("form", { novalidate: true },
    el("h3", "Issue a token"), el("div.form-error", { role: "alert" }),
    field("Who holds it", label, "an officer, a desk or a script"),
    field("Expires (UTC, optional)", expires),
    el("button", { type: "submit" }, "Issue"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { label: label.value };
    if (expires.value) body.expires_at = `${expires.value}${expires.value.length === 16 ? ":00" : ""}Z`;
    const made = await submitting(form, () => app.api.post("/v1/parties/me/tokens", body));
    if (!made) return;
    form.reset();
    // Shown this once: the server keeps only its digest.
    const value = el("input.token", { readonly: true, value: made.token, "aria-label": `Token for ${made.label}` });
    issued.replaceChildren(el("div.notice", { role: "status" },
      el("p", `Token for ${made.label}: copy it now, it is not shown again.`), value,
      el("button", { type: "button", onclick: () => navigator.clipboard?.writeText(made.token).then(() => app.toast("Copied")) }, "Copy"),
      el("button.link", { type: "button", onclick: () => issued.replaceChildren() }, "Done")));
    value.select();
    await done();
  });
  return form;
}

// What a token did: its changes in the audit log, newest first (a lost laptop: what did it do?).
function whatItDid(app, t) {
  const { button, list } = historyToggle(app, { token_id: t.id }, `What ${t.label} did`,
    { text: "What it did", item: (e) => entryItem({ ...e, token: null }) });
  return el("div", button, list);
}

// Revoking takes two clicks: the first asks, the second does it.
function revokeButton(app, t, done) {
  const revoke = async () => {
    await app.api.post(`/v1/parties/me/tokens/${t.id}/revoke`);
    app.toast(`Revoked: ${t.label}`);
    await done();
  };
  const again = `Click again to revoke ${t.label}'s token`;
  return el("p", confirmButton("Revoke", again, revoke, (e) => app.toast(`Revoke: ${e.message}`)));
}
