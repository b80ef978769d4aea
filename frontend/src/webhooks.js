// Your party's webhooks: its live-feed events POSTed to its own systems (a message-handling system, an
// alerting desk taking CAP), each signed with a secret shown once. Register one, read each delivery
// (attempts, the receiver's answer, the next try), send one again after the receiver was down, and
// remove a webhook (its log is kept).
import { confirmButton, el, field, submitting } from "./dom.js";
import { human } from "./time.js";

const FORMATS = [
  ["json", "Live-feed events as JSON"],
  ["cap", "Hotline messages as CAP 1.2 alerts"],
];
const DELIVERIES_SHOWN = 20;

export function webhooksPanel(app) {
  const list = el("ul.cards.webhooks");
  const made = el("div");
  const node = el("section.panel-body",
    el("h2", { tabindex: -1 }, "Webhooks"),
    el("p.hint", `${app.me.name}'s live-feed events, sent to your own systems as they happen. Each delivery is a POST signed with the webhook's secret (the Truceline-Webhook-Signature header: t=<unix time>, v1=HMAC-SHA256 of "<t>." and the body). A receiver that fails is tried again, waiting longer each time.`),
    made, registerForm(app, made, () => refresh()), el("h3", "Registered"), list);

  async function refresh() {
    const hooks = await app.api.get("/v1/webhooks");
    if (!hooks.length) {
      list.replaceChildren(el("li.empty", "None registered."));
      return;
    }
    list.replaceChildren(...hooks.map((h) => hookCard(app, h, refresh)));
  }
  refresh().catch((e) => app.toast(`Webhooks: ${e.message}`));
  return { node };
}

function registerForm(app, made, done) {
  const url = el("input", { name: "url", type: "url", required: true, placeholder: "https://ops.example.org/truceline", autocomplete: "off" });
  const format = el("select", { name: "format" }, FORMATS.map(([v, text]) => el("option", { value: v }, text)));
  const events = el("fieldset.checks", { name: "event_types" }, el("legend", "Events (none ticked: every one)"));
  const fill = () => {
    const types = format.value === "cap" ? app.config.cap_event_types : app.config.feed_event_types;
    events.replaceChildren(el("legend", "Events (none ticked: every one)"),
      ...types.map((t) => el("label", el("input", { type: "checkbox", value: t }), t)));
  };
  format.addEventListener("change", fill);
  fill();
  const form = el("form.register-webhook", { novalidate: true },
    el("h3", "Register a webhook"), el("div.form-error", { role: "alert" }),
    field("Receiver URL", url, "http or https; no credentials in it: the signature authenticates each delivery."),
    field("What it receives", format),
    events,
    el("button", { type: "submit" }, "Register"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { url: url.value, format: format.value, event_types: [...events.querySelectorAll("input:checked")].map((i) => i.value) };
    const h = await submitting(form, () => app.api.post("/v1/webhooks", body));
    if (!h) return;
    form.reset();
    fill();
    // Shown this once: the receiver needs it to check each delivery's signature.
    const secret = el("input.token", { readonly: true, value: h.secret, "aria-label": `Secret for ${h.url}` });
    made.replaceChildren(el("div.notice", { role: "status" },
      el("p", `Registered ${h.url}. Its secret: copy it to the receiver now, it is not shown again.`), secret,
      el("button", { type: "button", onclick: () => navigator.clipboard?.writeText(h.secret).then(() => app.toast("Copied")) }, "Copy"),
      el("button.link", { type: "button", onclick: () => made.replaceChildren() }, "Done")));
    secret.select();
    await done();
  });
  return form;
}

/** "3 delivered · 1 failed · 2 pending" */
function counts(stats) {
  const parts = ["delivered", "pending", "failed"].filter((k) => stats[k]).map((k) => `${stats[k]} ${k}`);
  return parts.join(" · ") || "nothing sent yet";
}

function hookCard(app, h, refresh) {
  const deliveries = el("ol.plain.deliveries", { hidden: true });
  const show = el("button.link", { type: "button" }, "Deliveries");
  const load = async () => {
    const items = await app.api.get(`/v1/webhooks/${h.id}/deliveries`, { limit: DELIVERIES_SHOWN });
    deliveries.replaceChildren(...(items.length
      ? items.map((d) => deliveryItem(app, h, d, load))
      : [el("li.empty", "Nothing sent to it yet.")]));
    deliveries.hidden = false;
    show.textContent = "Read again";
  };
  show.addEventListener("click", () => load().catch((e) => app.toast(`Deliveries: ${e.message}`)));
  return el("li.card", { dataset: { webhook: h.id } },
    el("div.card-head", el("strong", h.url), el(`span.badge.${h.active ? "state-active" : "state-revoked"}`, h.active ? "active" : "removed")),
    el("p.meta", `${h.format === "cap" ? "CAP 1.2 alerts" : "JSON"} · ${h.event_types.length ? h.event_types.join(", ") : "every event"} · registered ${human(h.created_at)}`),
    el("p.meta.delivery-counts", counts(h.deliveries)),
    el("div.buttons", show,
      h.active ? confirmButton("Remove", "Click again to stop its deliveries (its log is kept)", async () => {
        await app.api.request("DELETE", `/v1/webhooks/${h.id}`);
        app.toast(`Removed: ${h.url}`);
        await refresh();
      }, (e) => app.toast(`Remove: ${e.message}`)) : null),
    deliveries);
}

/** One delivery: the event, where it stands, the receiver's last answer, and Send again. */
function deliveryItem(app, h, d, reload) {
  const answer = d.last_status_code ? `HTTP ${d.last_status_code}` : d.last_error || "";
  const when = d.status === "delivered"
    ? `delivered ${human(d.delivered_at)}`
    : d.status === "pending" && d.next_attempt_at ? `next try ${human(d.next_attempt_at)}` : "";
  const again = async () => {
    try {
      await app.api.post(`/v1/webhooks/${h.id}/deliveries/${d.id}/replay`);
      app.toast(`Sent again: ${d.event_type} (event ${d.event_id})`);
      await reload();
    } catch (e) {
      app.toast(`Send again: ${e.message}`);
    }
  };
  return el("li", { class: `delivery ${d.status}` },
    el("span.badge", { class: `badge delivery-${d.status}` }, d.status), " ",
    `${d.event_type} (event ${d.event_id}) · ${human(d.created_at)} · ${d.attempts} ${d.attempts === 1 ? "try" : "tries"}`,
    answer ? ` · ${answer}` : "", when ? ` · ${when}` : "", d.replay_of ? " · sent again by hand" : "",
    h.active ? el("button.link", { type: "button", onclick: again }, "Send again") : null);
}
