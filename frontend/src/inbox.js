// The hotline inbox: messages addressed to this party, with their deadlines, and Acknowledge.
import { el, field, select, submitting } from "./dom.js";
import { historyToggle } from "./history.js";
import { human } from "./time.js";

export function inboxPanel(app) {
  const list = el("ol.cards");
  const state = select("state", [["unacknowledged", "Unacknowledged"], ["overdue", "Overdue"], ["acknowledged", "Acknowledged"], ["all", "All"]], "unacknowledged");
  const node = el(
    "section.panel",
    el("h2", { tabindex: "-1" }, "Hotline inbox"),
    field("Show", state),
    list,
  );
  let items = app.data.inbox;
  const opened = new Set(); // messages whose History is open: kept across the inbox's refreshes
  const render = () => {
    list.replaceChildren();
    if (!items.length) list.append(el("li.empty", "Nothing here."));
    for (const m of items) list.append(card(app, m, () => load(), opened));
  };
  const load = async () => {
    node.setAttribute("aria-busy", "true");
    try {
      items = await app.api.all("/v1/inbox", { state: state.value });
      render();
    } catch (e) {
      app.toast(`Inbox: ${e.message}`);
    } finally {
      node.removeAttribute("aria-busy");
    }
  };
  state.addEventListener("change", load);
  render();
  return { node, refresh: load };
}

/** Acknowledge ``m`` for this party; ``then`` runs once it is done. */
export function ackButton(app, m, then) {
  const button = el("button", { type: "button", class: "ack" }, "Acknowledge");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await app.api.post(`/v1/messages/${m.id}/ack`, {});
    } catch (e) {
      app.toast(`Not acknowledged: ${e.message}`);
      button.disabled = false;
      return;
    }
    app.toast(`Acknowledged: ${m.headline}`);
    await then();
  });
  return button;
}

function card(app, m, reload, opened = null) {
  const mine = m.addresses.find((a) => a.party.id === app.me.id);
  const overdue = mine?.state === "overdue";
  const ackd = mine?.state === "acknowledged";
  const button = ackButton(app, m, async () => {
    await app.loadInbox();
    await reload();
  });
  // sent, acknowledged, overdue, escalated: by which party and, for your own, which token
  const history = historyToggle(app, { entity_id: m.id }, `History of “${m.headline}”`, { opened, key: m.id });
  return el(
    "li",
    { class: `card${overdue ? " overdue" : ""}`, dataset: { message: m.id } },
    el(
      "div.card-head",
      el("span", { class: `severity sev-${m.severity}` }, m.severity),
      el("span.rule", m.msgType),
      overdue ? el("span.badge.overdue", "overdue") : null,
      ackd ? el("span.badge", "acknowledged") : null,
    ),
    el("p.reason", m.headline),
    el("div.meta", `From ${m.sender.name} · ${human(m.sent)}`, mine ? ` · acknowledge by ${human(mine.deadline)}` : ""),
    mine && !ackd && mine.state !== "superseded" ? button : null,
    el("div.buttons",
      m.regions.length ? el("button.link", { type: "button", onclick: () => app.focus(m.regions) }, "Show on map") : null,
      el("button.link", { type: "button", onclick: () => app.show("thread", threadPanel(app, m.thread_id)) }, "Open the thread"),
      el("button.link", {
        type: "button", title: "The message as a CAP 1.2 alert (XML), for an alerting system",
        onclick: () => app.api.download(`/v1/messages/${m.id}/cap`, null, { accept: "application/cap+xml", name: `${m.id}.cap.xml` })
          .catch((e) => app.toast(`CAP: ${e.message}`)),
      }, "CAP"),
      history.button,
    ),
    history.list,
  );
}

/** A thread: every message in order, and a reply to its members (CAP severity and headline). */
export function threadPanel(app, id) {
  const list = el("ol.cards");
  const opened = new Set(); // messages whose History is open: kept when the thread is read again
  const title = el("h2", { tabindex: "-1" }, "Thread");
  const members = el("p.meta");
  const headline = el("input", { name: "headline", required: true, maxlength: 300 });
  const description = el("textarea", { name: "description", rows: 3 });
  const severity = select("severity", ["Extreme", "Severe", "Moderate", "Minor", "Unknown"], "Moderate");
  const form = el(
    "form.reply",
    { novalidate: true },
    el("h3", "Reply"),
    el("div.form-error", { role: "alert" }),
    field("Headline", headline),
    field("Details", description),
    field("Severity", severity, "Sets how soon the other members must acknowledge it."),
    el("button.primary", { type: "submit" }, "Send"),
  );
  const load = async () => {
    const t = await app.api.get(`/v1/threads/${id}`);
    title.textContent = t.thread.subject;
    members.textContent = `Members: ${t.thread.members.map((p) => p.name).join(", ")}`;
    list.replaceChildren(...t.messages.map((m) => card(app, m, load, opened)));
  };
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      await app.api.post(`/v1/threads/${id}/messages`, { headline: headline.value, description: description.value, severity: severity.value });
      headline.value = "";
      description.value = "";
      await load();
    });
  });
  const node = el("section.panel", title, members, el("button.link", { type: "button", onclick: () => app.show("inbox") }, "← Inbox"), list, form);
  load().catch((e) => app.toast(`Thread: ${e.message}`));
  return { node };
}
