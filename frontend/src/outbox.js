// The outbox. A monitor's link to the server drops in the field: an incident report made then is kept
// on this device (IndexedDB, so it outlives the tab) with its files and the Idempotency-Key each write
// was first sent with, and sent again with those keys once the link is back. Never lost with the tab,
// and never stored twice when a try that looked lost did reach the server. Kept per party: a report is
// sent only by the party that made it.
import { createStore, del, set, values } from "idb-keyval";
import { newKey } from "./api.js";
import { confirmButton, el } from "./dom.js";
import { human } from "./time.js";

/** How often the page tries again while something waits (and at once when the browser is online). */
export const RETRY_EVERY_MS = 30_000;

let db = null;
const store = () => (db ||= createStore("truceline-outbox", "reports"));

/** A file's content as base64 (CAP's derefUri). */
export function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

const outgoingFile = (f, desc) => ({ name: f.name, desc: desc || f.name, type: f.type || "application/octet-stream", blob: f, key: newKey(), done: false });

/** A report to send, with its files: each write has its key from the start, so every try of it,
 * from the form or from the outbox, is the same request to the server. */
export function outgoingReport(party, body, files) {
  return {
    id: newKey(), // the report's Idempotency-Key
    party,
    title: reportTitle(body),
    madeAt: new Date().toISOString(),
    body,
    files: [...files].map((f) => outgoingFile(f)),
    incident: null, // the server's answer, once it has the report
    attached: [],
    refused: [], // "name: why" for each file the server refused (the report stands)
    tried: null,
    waiting: null, // why the last try did not go through
    problem: null, // the server refused the report itself: {detail, errors}
  };
}

/** A file to attach to an incident already stored, described as ``desc``. */
export function outgoingEvidence(party, incident, title, file, desc) {
  return { ...outgoingReport(party, null, []), title: `Evidence for ${title}`, incident, files: [outgoingFile(file, desc)] };
}

const reportTitle = (b) => !b ? "" : `${b.sub_event_type || b.event_type}${b.location?.name ? `, ${b.location.name}` : ""} on ${b.event_date}`;

/** Send a report, then its files; ``save`` records each step as it is done, so a report kept on the
 * device knows how far it got. Throws when the server cannot be reached, or refuses the report; a
 * file refused goes in ``refused`` and the others go on. */
export async function deliver(app, item, save = async () => {}) {
  if (!item.incident) {
    item.incident = await app.api.post("/v1/incidents", item.body, { key: item.id });
    await save(item);
  }
  for (const f of item.files.filter((x) => !x.done)) {
    try {
      const body = { resourceDesc: f.desc || f.name, mimeType: f.type, derefUri: await base64Of(f.blob) };
      await app.api.post(`/v1/incidents/${item.incident.id}/evidence`, body, { key: f.key });
      item.attached.push(f.desc || f.name);
    } catch (e) {
      if (e.unreachable || e.status === 401) throw e;
      item.refused.push(`${f.name}: ${e.message}`);
    }
    f.done = true;
    await save(item);
  }
  return item;
}

const save = (item) => set(item.id, item, store());

/** Keep a report whose sending could not finish, saying why. */
export async function keep(app, item, error) {
  item.tried = new Date().toISOString();
  item.waiting = error.message;
  await save(item);
  await app.countOutbox();
}

/** The signed-in party's reports waiting on this device, oldest first. */
export async function kept(app) {
  const all = await values(store());
  return all.filter((i) => i.party === app.me?.id).sort((a, b) => a.madeAt.localeCompare(b.madeAt));
}

let sending = null;

/** Send what waits, oldest first, and stop at the first that finds the link still down. One run at a
 * time: the timer, the browser coming back online and Send now may all ask at once. */
export function sendKept(app) {
  sending ||= sendAll(app).finally(() => (sending = null));
  return sending;
}

async function sendAll(app) {
  let sent = 0;
  for (const item of await kept(app)) {
    if (item.problem) continue; // refused: waits for the party to read why and discard it
    if (app.api.mustSign && !app.api.key) {
      item.waiting = "Waiting for your party's signing key (Signing key, at the top).";
      await save(item);
      break;
    }
    try {
      await deliver(app, item, save);
    } catch (e) {
      item.tried = new Date().toISOString();
      if (e.unreachable || e.status === 401 || e.status >= 500) {
        item.waiting = e.message;
        await save(item);
        break;
      }
      item.problem = { detail: e.message, errors: e.fieldErrors.filter((f) => f.pointer).map((f) => `${f.pointer}: ${f.detail}`) };
      await save(item);
      continue;
    }
    await del(item.id, store());
    sent++;
    const files = item.attached.length ? ` with ${item.attached.join(", ")}` : "";
    const refused = item.refused.length ? `; not attached: ${item.refused.join("; ")}` : "";
    app.toast(`Sent from this device: ${item.title} (${item.incident.status})${files}${refused}.`);
  }
  if (sent) app.loadIncidents();
  await app.countOutbox();
  return sent;
}

/** Where a kept report stands, in a few words. */
function standing(item) {
  if (item.problem) return `Refused by the server: ${[item.problem.detail, ...item.problem.errors].join("; ")}`;
  const left = item.files.filter((f) => !f.done).length;
  const last = item.tried ? ` Last tried ${human(item.tried)}: ${item.waiting}` : "";
  if (item.incident) return `The incident is stored; ${left} file(s) still to attach.${last}`;
  return `Waiting for the link.${last}`;
}

export function outboxPanel(app) {
  const list = el("ol.cards");
  const status = el("p.hint", { role: "status" });
  const sendNow = el("button.primary", { type: "button" }, "Send now");
  const refresh = async () => {
    const items = await kept(app);
    status.textContent = items.length
      ? `${items.length} report${items.length === 1 ? "" : "s"} waiting on this device, oldest first.`
      : "Nothing waits: every report made on this device has reached the server.";
    sendNow.disabled = !items.some((i) => !i.problem);
    list.replaceChildren(...items.map((item) => {
      const files = item.files.length ? ` · files: ${item.files.map((f) => f.name).join(", ")}` : "";
      return el("li.card.kept", { class: `card kept${item.problem ? " overdue" : ""}` },
        el("p", el("strong", item.title)),
        el("p.meta", `Made ${human(item.madeAt)}${item.body ? ` · source: ${item.body.sources.map((s) => s.name).join(", ")}` : ""}${files}`),
        el("p.standing", standing(item)),
        el("div.buttons", confirmButton(
          "Discard",
          item.incident ? "Discard its files: the incident stays stored" : "Discard it: it is never sent",
          async () => {
            await del(item.id, store());
            await app.countOutbox();
            await refresh();
          },
          (e) => app.toast(`Outbox: ${e.message}`),
        )));
    }));
  };
  sendNow.addEventListener("click", async () => {
    sendNow.disabled = true;
    await sendKept(app);
    await refresh();
  });
  refresh();
  return {
    node: el("section.panel.outbox",
      el("h2", { tabindex: "-1" }, "Outbox"),
      el("p.hint", "Incident reports and evidence made on this device while the server could not be reached. Each is sent as it was first sent, so a try that did reach the server is never stored twice: every 30 s while any waits, at once when the browser is back online, or now."),
      sendNow, status, list),
    refresh,
  };
}
