// The audit log read for people: the entries about one thing (an activity's versions) or made with
// one of your tokens, newest first, each with who made it and with which token (your own only).
import { el } from "./dom.js";
import { human } from "./time.js";

const NEWEST = "9223372036854775807"; // `before` the largest entry number: the latest entries
export const SHOWN = 20;

/** The latest entries the filters choose (entity_id, token_id, …; ``before`` an entry), newest first. */
export async function latestEntries(app, filters) {
  const entries = await app.api.get("/v1/audit", { before: NEWEST, ...filters, limit: SHOWN });
  return entries.reverse();
}

/** A few words a person knows an entry by (a title, a headline, a move), when its payload is shown. */
export function gist(e) {
  let p = e.payload;
  if (p && typeof p === "object" && p.change && typeof p.change === "object") p = p.change; // a signed request
  if (!p || typeof p !== "object") return "";
  if (typeof p.from === "string" && typeof p.to === "string") return `${p.from} → ${p.to}`;
  const words = ["title", "headline", "subject", "rationale", "statement", "reason", "name", "label"].map((k) => p[k]).find((v) => typeof v === "string" && v);
  return words ? (words.length > 120 ? `${words.slice(0, 119)}…` : words) : "";
}

/**
 * One entry: when, what, about what (unless the list is about one thing), and by whom: the party
 * (when ``app`` is given: a thing several parties act on) and, for your own, which token.
 */
export function entryItem(e, { about = true, app = null } = {}, ...more) {
  const by = [app ? (e.party_id ? app.partyName(e.party_id) : "Truceline") : null, e.token?.label].filter(Boolean);
  return el("li", el("time", { datetime: e.at }, human(e.at)), ` ${e.action}`,
    about ? [" ", el("code", `${e.entity_type} ${e.entity_id}`)] : null,
    by.length ? ` by ${by.join(", ")}` : "", ` (entry ${e.seq})`, ...more);
}

/**
 * A button that shows (and hides) the latest entries ``filters`` choose, as a list named ``label``.
 * ``item``: how an entry reads (by default: when, what, by which party and token). ``opened``: the
 * keys (``key``) of the lists left open in a panel, so that a list redrawn by a live refresh stays
 * open instead of closing under the reader.
 */
export function historyToggle(app, filters, label,
  { text = "History", item = (e) => entryItem(e, { about: false, app }), opened = null, key = null } = {}) {
  const list = el("ol.history", { "aria-label": label });
  const button = el("button.link", { type: "button", "aria-expanded": "false" }, text);
  const show = (on) => {
    button.setAttribute("aria-expanded", String(on));
    if (on) opened?.add(key);
    else opened?.delete(key);
    if (!on) list.replaceChildren();
    return on ? fillHistory(app, list, filters, item) : null;
  };
  button.addEventListener("click", () => show(button.getAttribute("aria-expanded") !== "true"));
  if (opened?.has(key)) show(true);
  return { button, list };
}

/** Fill ``list`` with the latest entries ``filters`` choose, each as ``item`` makes it. */
export async function fillHistory(app, list, filters, item) {
  try {
    const entries = await latestEntries(app, filters);
    list.replaceChildren(...(entries.length ? entries.map(item) : [el("li", "Nothing in the audit log yet.")]));
    if (entries.length === SHOWN) list.append(el("li.hint", `The latest ${SHOWN} (truceline audit list shows more).`));
  } catch (e) {
    list.replaceChildren(el("li.form-error", e.message));
  }
}
