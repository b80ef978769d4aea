// A zone's rules as form fields: the activity kinds it forbids, its altitude band, its stand-off and
// its hours (zone.schedule). Proposing a zone and revising one's rules on its page share them.
import { el, field, numberOrNull } from "./dom.js";

const DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const DAY_NAMES = { MON: "Mon", TUE: "Tue", WED: "Wed", THU: "Thu", FRI: "Fri", SAT: "Sat", SUN: "Sun" };
const words = (s) => String(s).replaceAll("_", " ");

/** One daily period of the hours: its days and its times of day (UTC); an end not after the start runs
 * past midnight. */
function hoursRow(period, remove) {
  const days = period.days.includes("ANY") ? DAYS : period.days;
  const boxes = DAYS.map((d) => el("label", el("input", { type: "checkbox", value: d, checked: days.includes(d) }), DAY_NAMES[d]));
  const start = el("input", { type: "time", name: "start", value: period.start, required: true });
  const end = el("input", { type: "time", name: "end", value: period.end === "24:00" ? "00:00" : period.end, required: true });
  const row = el("div.hours-row",
    el("fieldset.checks.days", { name: "days" }, el("legend", "Days"), boxes),
    el("div.row", field("From (UTC)", start), field("To (UTC)", end)),
    el("button.link", { type: "button", onclick: () => remove(row) }, "Remove these hours"));
  row.period = () => {
    const chosen = boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value);
    return { days: chosen.length === 7 ? ["ANY"] : chosen, start: start.value, end: end.value };
  };
  return row;
}

/** The fields, filled from zone ``z`` when given; ``body()`` gives them as the API takes them. */
export function rulesFields(app, z = null) {
  const band = app.config.zone_default_band;
  const forbidden = new Set(z?.forbidden_kinds || []);
  const forbids = el("fieldset.checks", { name: "forbidden_kinds" }, el("legend", "Forbids"),
    app.config.activity_kinds.map((k) => el("label", el("input", { type: "checkbox", value: k, checked: forbidden.has(k) }), words(k))));
  // a band at the default shows empty: "from the ground", "no ceiling"
  const shown = (a, dflt) => (!a || a.value === dflt.value ? "" : String(a.value));
  const lower = el("input", { name: "altitude_lower", type: "number", step: "any", value: shown(z?.altitude_lower, band.lower), placeholder: "the ground" });
  const upper = el("input", { name: "altitude_upper", type: "number", step: "any", value: shown(z?.altitude_upper, band.upper), placeholder: "no ceiling" });
  const standoff = el("input", { name: "standoff_m", type: "number", min: 0, step: "any", value: String(z?.standoff_m ?? 0) });
  const separation = el("input", { name: "separation_m", type: "number", min: 0, step: "any", value: z?.separation_m ?? "" });
  const vertical = el("input", { name: "vertical_separation_m", type: "number", min: 0, step: "any", value: z?.vertical_separation_m ?? "" });
  const rows = el("div.hours-rows");
  const remove = (row) => {
    row.remove();
    none.hidden = rows.children.length > 0;
  };
  const none = el("p.hint", "No hours: its rules apply all the time it is in effect.");
  const add = (p) => {
    rows.append(hoursRow(p, remove));
    none.hidden = true;
  };
  for (const p of z?.schedule || []) add(p);
  none.hidden = rows.children.length > 0;
  const hours = el("fieldset.hours", { name: "schedule" }, el("legend", "Hours (UTC)"), none, rows,
    el("button", { type: "button", onclick: () => add({ days: ["ANY"], start: "08:00", end: "16:00" }) }, "Add hours"));
  const alt = (input, dflt) => (input.value === "" ? dflt : { value: numberOrNull(input.value), units: "M", reference: "W84" });
  return {
    nodes: [
      forbids,
      el("div.row",
        field("Lowest altitude (m, WGS84)", lower, "Empty: from the ground."),
        field("Highest altitude (m, WGS84)", upper, "Empty: no ceiling.")),
      field("Stand-off (m)", standoff, "How far beyond its boundary its rules still reach."),
      el("div.row",
        field("Separation inside (m)", separation, "Between live tracks in it, where wider than the service's. Empty: the service's."),
        field("Vertical separation inside (m)", vertical, "Empty: the service's.")),
      hours,
    ],
    body: () => ({
      forbidden_kinds: [...forbids.querySelectorAll("input:checked")].map((i) => i.value),
      altitude_lower: alt(lower, band.lower),
      altitude_upper: alt(upper, band.upper),
      standoff_m: numberOrNull(standoff.value),
      separation_m: numberOrNull(separation.value),
      vertical_separation_m: numberOrNull(vertical.value),
      schedule: [...rows.children].map((r) => r.period()),
    }),
  };
}
