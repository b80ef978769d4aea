// Times are UTC everywhere on the page, as in the API (RFC 3339).

export const HOUR = 3600e3;

export function iso(d) {
  return new Date(d).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function parse(s) {
  return s ? Date.parse(s) : NaN;
}

/** "10 Jul 2017 09:00Z" */
export function human(t) {
  if (t === null || t === undefined || t === "") return "—";
  const d = new Date(t);
  const day = d.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  return `${day} ${d.toISOString().slice(11, 16)}Z`;
}

/** The value of an <input type=datetime-local>, read as UTC. */
export function fromLocalInput(v) {
  return v ? Date.parse(`${v}:00Z`) : NaN;
}

/** What to send for a datetime-local value: RFC 3339 UTC, or, if it is empty or impossible, the text
as typed, so that the server names the field and the reason. */
export function sendTime(v) {
  const t = fromLocalInput(v);
  return Number.isNaN(t) ? v : iso(t);
}

export function toLocalInput(t) {
  return new Date(t).toISOString().slice(0, 16);
}

/** Is the moment inside [start, end)? An open end runs for ever. */
export function within(t, start, end) {
  return parse(start) <= t && (end === null || end === undefined || t < parse(end));
}
