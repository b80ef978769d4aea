// The caller's open conflicts, with their reasons; a click shows one on the map at its moment.
import { downloadButton, el, findControls, folded } from "./dom.js";
import { historyToggle } from "./history.js";
import { human, within } from "./time.js";

const RULES = ["zone_rule", "overlap", "separation", "incursion"];
// what a conflict is found by: its reason (which names the zone and the kinds), its parties, the titles
// of your own activities in it, and the callsigns of its tracks
const conflictWords = (c) => folded([c.reason, ...c.parties.map((p) => p.name), ...c.activities.map((a) => a.title || ""),
  ...(c.tracks || []).map((t) => t.callsign)].join(" "));

export function conflictsPanel(app) {
  const list = el("ol.cards");
  const opened = new Set(); // conflicts whose History is open: kept across refreshes (moment, live feed)
  // narrowed by words and by rule; kept across the live feed's redraws and a visit elsewhere
  const find = findControls(app, "conflict", { find: "Find a conflict", placeholder: "e.g. Suweida, Jordan, SYAF14", choose: "Rule",
    options: [["", "any rule"], ...RULES.map((r) => [r, r.replaceAll("_", " ")])] }, () => refresh());
  const shown = el("p.hint.conflict-count", { role: "status" });
  const node = el(
    "section.panel",
    el("h2", { tabindex: "-1" }, "Conflicts"),
    el("p.hint", "Open conflicts that concern your party. Notification is not permission: every conflict stays here until it no longer holds."),
    downloadButton(app, "/v1/conflicts/export", "Download as GeoJSON (for a GIS)"),
    find.node,
    shown,
    list,
  );
  const refresh = () => {
    list.replaceChildren();
    const all = app.data.conflicts;
    const items = all
      .filter((c) => find.matches(conflictWords(c), c.rule))
      .sort((a, b) => (a.regions[0]?.time_start || "").localeCompare(b.regions[0]?.time_start || ""));
    shown.textContent = items.length === all.length ? "" : `${items.length} of ${all.length} open conflicts.`;
    if (!all.length) list.append(el("li.empty", "No open conflicts."));
    else if (!items.length) list.append(el("li.empty", "No open conflict matches."));
    for (const c of items) {
      const r = c.regions[0];
      const now = c.regions.some((x) => within(app.moment, x.time_start, x.time_end));
      // opened, and each time it was checked again: by which change (the audit log)
      const history = historyToggle(app, { entity_id: c.id }, `History of the conflict: ${c.reason}`, { opened, key: c.id });
      list.append(
        el(
          "li.card",
          { dataset: { conflict: c.id }, class: `card${now ? " now" : ""}` },
          el("div.card-head", el("span.rule", c.rule.replaceAll("_", " ")), now ? el("span.badge.now", "at this moment") : null),
          el("p.reason", c.reason),
          el("div.meta", r ? `${human(r.time_start)} – ${human(r.time_end)}` : "", " · ", c.parties.map((p) => p.name).join(", ")),
          el("button.link", { type: "button", onclick: () => app.focusConflict(c) }, "Show on map"),
          // your own activities in it (only yours carry a title): change or cancel them from here
          c.activities.filter((x) => x.title).map((x) => el("button.link", { type: "button", onclick: () => app.openActivity(x) }, `Change “${x.title}”`)),
          history.button,
          history.list,
        ),
      );
    }
  };
  refresh();
  return {
    node,
    refresh,
    highlight(id) {
      const card = list.querySelector(`[data-conflict="${id}"]`);
      card?.classList.add("selected");
      card?.scrollIntoView({ block: "nearest" });
    },
  };
}
