// The hotline: the inbox (messages addressed to this party, with their deadlines, and Acknowledge),
// the threads the party is in, and a new thread to other parties — the standing line between commands.
import { el, field, findControls, folded, select, submitting } from "./dom.js";
import { desktopSwitch } from "./desktop.js";
import { historyToggle } from "./history.js";
import { human } from "./time.js";

// roles that may open threads and post in them (services.access: hotline.send)
export const SENDERS = new Set(["officer", "monitor", "admin"]);

/** The hotline's three views, one button each: the current one is pressed. */
function hotlineNav(app, current) {
  const views = [["inbox", "Inbox", () => app.show("inbox")], ["threads", "Threads", () => app.show("threads", threadsPanel(app))]];
  if (SENDERS.has(app.me.role)) views.push(["new", "New thread", () => app.show("new-thread", newThreadPanel(app))]);
  views.push(["escalation", "Escalation", () => app.show("escalation", escalationPanel(app))]);
  return el("nav.tabs", { "aria-label": "Hotline" }, views.map(([key, label, go]) =>
    el("button", { type: "button", class: "link", "aria-pressed": String(key === current), onclick: go }, label)));
}

export function inboxPanel(app) {
  const list = el("ol.cards");
  const state = select("state", [["unacknowledged", "Unacknowledged"], ["overdue", "Overdue"], ["acknowledged", "Acknowledged"], ["all", "All"]], "unacknowledged");
  const node = el(
    "section.panel",
    el("h2", { tabindex: "-1" }, "Hotline inbox"),
    hotlineNav(app, "inbox"),
    desktopSwitch(app),
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
    receipts(m),
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

// how each other party addressed stands with a message: the sender sees who has read it, and who not
const RECEIPT = { acknowledged: "acknowledged", awaiting: "awaiting", overdue: "overdue", superseded: "superseded" };
function receipts(m) {
  const others = m.addresses.filter((a) => a.party.id !== m.sender?.id);
  if (!others.length) return null;
  return el("p.receipts", "To: ", others.flatMap((a, i) => [
    i ? ", " : "",
    el("span", { class: `receipt state-${a.state}`, title: a.acknowledged_at ? `acknowledged ${human(a.acknowledged_at)}` : `due ${human(a.deadline)}` },
      `${a.party.name} (${RECEIPT[a.state] || a.state}${a.state === "acknowledged" ? ` ${human(a.acknowledged_at).slice(-6)}` : a.state === "awaiting" ? `, due ${human(a.deadline).slice(-6)}` : ""})`),
  ]));
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
  const node = el("section.panel", title, hotlineNav(app, "thread"), members, list, SENDERS.has(app.me.role) ? form : null);
  load().catch((e) => app.toast(`Thread: ${e.message}`));
  return { node };
}

/** The threads the party is in, most recently active first: those a conflict opened and those a
 * party opened, each with what in it still waits for this party's acknowledgement. */
export function threadsPanel(app) {
  const list = el("ol.cards");
  const find = findControls(app, "threads", { find: "Find a thread", placeholder: "e.g. Nasib, Jordan", choose: "Opened by",
    options: [["", "anyone"], ["conflict", "a conflict"], ["party", "a party"]] }, () => render());
  const shown = el("p.hint.thread-count", { role: "status" });
  let items = [];
  const render = () => {
    const waiting = new Map(); // thread id -> messages this party has yet to acknowledge in it
    for (const m of app.data.inbox) waiting.set(m.thread_id, (waiting.get(m.thread_id) || 0) + 1);
    const chosen = items.filter((t) => find.matches(folded(`${t.subject} ${t.members.map((p) => p.name).join(" ")}`),
      t.automatic ? "conflict" : "party"));
    shown.textContent = `${chosen.length} of ${items.length} thread${items.length === 1 ? "" : "s"}.`;
    if (!chosen.length) {
      list.replaceChildren(el("li.empty", items.length ? "No thread matches." : "Your party is in no thread yet."));
      return;
    }
    list.replaceChildren(...chosen.map((t) => {
      const n = waiting.get(t.id) || 0;
      const others = t.members.filter((p) => p.id !== app.me.id).map((p) => p.name);
      return el("li.card", { dataset: { thread: t.id } },
        el("div.card-head", el("span.rule", t.automatic ? "opened by a conflict" : `opened by ${t.created_by.name}`),
          n ? el("span.badge.overdue", `${n} to acknowledge`) : null),
        el("button.link", { type: "button", onclick: () => app.show("thread", threadPanel(app, t.id)) }, t.subject),
        el("p.meta", `With ${others.join(", ")} · last message ${human(t.updated_at)}`),
        t.last_message ? el("p.last-message", `${t.last_message.sender.name}: ${t.last_message.headline}`) : null);
    }));
  };
  const load = async () => {
    node.setAttribute("aria-busy", "true");
    try {
      items = await app.api.all("/v1/threads", {}, 500);
      render();
    } catch (e) {
      app.toast(`Threads: ${e.message}`);
    } finally {
      node.removeAttribute("aria-busy");
    }
  };
  const node = el("section.panel", el("h2", { tabindex: "-1" }, "Hotline threads"), hotlineNav(app, "threads"), find.node, shown, list);
  load();
  return { node, refresh: load };
}

/** A new thread to other parties with its first message, which they must acknowledge. ``preset``
 * fills it in from where it was opened: a zone's page names the zone's parties and the zone. */
export function newThreadPanel(app, preset = {}) {
  const others = app.data.parties.filter((p) => p.id !== app.me.id);
  const chosen = new Set(preset.parties || []);
  // the server's error about /parties (none chosen, one unknown) lands next to the boxes
  const to = el("fieldset.checks.parties", { name: "parties", id: "new-thread-to", "aria-describedby": "new-thread-to-error" }, el("legend", "To"),
    others.map((p) => el("label", el("input", { type: "checkbox", value: p.id, checked: chosen.has(p.id) }), p.name)));
  const toError = el("div.field-error", { id: "new-thread-to-error", role: "alert" });
  const subject = el("input", { name: "subject", required: true, maxlength: 300, value: preset.subject || "" });
  const headline = el("input", { name: "headline", required: true, maxlength: 300 });
  const description = el("textarea", { name: "description", rows: 4 });
  const severity = select("severity", ["Extreme", "Severe", "Moderate", "Minor", "Unknown"], "Moderate");
  const form = el(
    "form.panel.new-thread",
    { novalidate: true },
    el("h2", { tabindex: "-1" }, "New hotline thread"),
    hotlineNav(app, "new"),
    el("p.hint", "The parties you name join the thread and must acknowledge its first message before its deadline; an overdue one is escalated to their contacts."),
    el("div.form-error", { role: "alert" }),
    el("div.field", to, toError),
    field("Subject", subject),
    field("Message", headline, "Its headline: what they must read and acknowledge."),
    field("Details", description),
    field("Severity", severity, "Sets how soon they must acknowledge it."),
    preset.zone ? el("p.meta.refers", `Refers to the zone ${preset.zone.name}.`) : null,
    el("button.primary", { type: "submit" }, "Send"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const parties = [...to.querySelectorAll("input:checked")].map((b) => b.value);
      const message = { headline: headline.value, description: description.value, severity: severity.value };
      if (preset.zone) message.zone_ids = [preset.zone.id];
      const opened = await app.api.post("/v1/threads", { subject: subject.value, parties, message });
      const names = opened.thread.members.filter((p) => p.id !== app.me.id).map((p) => p.name);
      app.toast(`Thread opened with ${names.join(", ")}: ${opened.thread.subject}`);
      app.show("thread", threadPanel(app, opened.thread.id));
    });
  });
  return { node: form };
}

// roles that may set their party's escalation contacts (services.access: escalation.write)
const SETTERS = new Set(["officer", "admin"]);

/** Who is told when this party leaves a message unacknowledged past its deadline: the first contact
 * at the deadline, one more at each later step. Officers set them, in order. */
export function escalationPanel(app) {
  const mayEdit = SETTERS.has(app.me.role);
  const list = el("ol.escalation-contacts");
  const add = el("select", { name: "add" });
  const form = el("form.escalation", { novalidate: true }, el("div.form-error", { role: "alert" }));
  let contacts = [];
  const others = () => app.data.parties.filter((p) => p.id !== app.me.id && !contacts.some((c) => c.id === p.id));
  const move = (i, by) => {
    const [c] = contacts.splice(i, 1);
    contacts.splice(i + by, 0, c);
    render();
  };
  const render = () => {
    list.replaceChildren(...contacts.map((c, i) => el("li", { dataset: { party: c.id } },
      el("span.who", c.name || c.id), i === 0 ? el("span.meta", " · at the deadline") : el("span.meta", ` · from escalation step ${i + 1}`),
      mayEdit ? el("span.buttons",
        el("button.link", { type: "button", "aria-label": `Move ${c.name} up`, disabled: i === 0, onclick: () => move(i, -1) }, "↑"),
        el("button.link", { type: "button", "aria-label": `Move ${c.name} down`, disabled: i === contacts.length - 1, onclick: () => move(i, 1) }, "↓"),
        el("button.link", { type: "button", "aria-label": `Remove ${c.name}`, onclick: () => (contacts.splice(i, 1), render()) }, "Remove")) : null)));
    if (!contacts.length) list.append(el("li.empty", "Nobody: an overdue message is re-sent to your party only."));
    add.replaceChildren(el("option", { value: "" }, "Add a party…"), ...others().map((p) => el("option", { value: p.id }, p.name)));
  };
  add.addEventListener("change", () => {
    const p = app.data.parties.find((x) => x.id === add.value);
    if (p) contacts.push({ id: p.id, name: p.name });
    render();
  });
  form.append(list, ...(mayEdit ? [field("Add", add), el("button.primary", { type: "submit" }, "Save")] : []));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const saved = await app.api.request("PUT", `/v1/parties/${app.me.id}/escalation-contacts`, { body: { contacts: contacts.map((c) => c.id) } });
      contacts = saved.contacts;
      render();
      app.toast(saved.contacts.length ? `Escalation contacts: ${saved.contacts.map((c) => c.name).join(", ")}` : "No escalation contacts");
    });
  });
  const node = el("section.panel", el("h2", { tabindex: "-1" }, "Escalation contacts"), hotlineNav(app, "escalation"),
    el("p.hint", "When your party leaves a message unacknowledged past its deadline, it is marked overdue and these parties are told and join its thread: the first at the deadline, one more at each later escalation step."),
    form);
  app.api.get(`/v1/parties/${app.me.id}/escalation-contacts`)
    .then((got) => {
      contacts = got.contacts;
      render();
    })
    .catch((e) => form.querySelector(".form-error").replaceChildren(e.message));
  return { node };
}
