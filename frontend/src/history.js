// The audit log read for people: the entries about one thing (an activity's versions) or made with
// one of your tokens, newest first, each with who made it and with which token (your own only).
import { el } from "./dom.js";
import { human } from "./time.js";

const NEWEST = "9223372036854775807"; // `before` the largest entry number: the latest entries
export const SHOWN = 20;

/** The latest entries the filters choose (entity_id, token_id, …), newest first. */
export async function latestEntries(app, filters) {
  const entries = await app.api.get("/v1/audit", { ...filters, before: NEWEST, limit: SHOWN });
  return entries.reverse();
}

/** One entry: when, what, about what (unless the list is about one thing), by which token. */
export function entryItem(e, { about = true } = {}) {
  return el("li", el("time", { datetime: e.at }, human(e.at)), ` ${e.action}`,
    about ? [" ", el("code", `${e.entity_type} ${e.entity_id}`)] : null,
    e.token ? ` by ${e.token.label}` : "", ` (entry ${e.seq})`);
}
