// Your party's notified activities, to find one again: a plan with no conflict, or not under way at
// the map's moment, was reachable only from the map at its hour. Open one to change or cancel it, or
// go to its first hour on the map.
import { el, findControls, folded } from "./dom.js";
import { findSeries, often } from "./repeats.js";
import { human } from "./time.js";

// an activity's whole window: from its first volume's start to its last volume's end (RFC 3339 UTC
// strings of one shape, so they sort as times)
const span = (a) => [a.volumes.map((v) => v.time_start.value).sort()[0] || "", a.volumes.map((v) => v.time_end.value).sort().at(-1) || ""];

export function activitiesPanel(app) {
  const list = el("ol.cards");
  const find = findControls(app, "activity", { find: "Find an activity", placeholder: "e.g. convoy, Nasib", choose: "Status",
    options: [["active", "active"], ["cancelled", "cancelled"], ["", "any status"]], initial: "active" }, () => refresh());
  const shown = el("p.hint.activity-count", { role: "status" });

  const refresh = () => {
    const all = app.data.activities;
    const items = all
      .filter((a) => find.matches(folded(`${a.title} ${a.kind}`), a.status))
      .map((a) => [a, ...span(a)])
      .sort((x, y) => x[1].localeCompare(y[1]));
    shown.textContent = `${items.length} of ${all.length} activities.`;
    if (!items.length) {
      list.replaceChildren(el("li.empty", all.length ? "No activity matches." : "Your party has notified no activity yet."));
      return;
    }
    // open conflicts each is in: the reason to look at it first
    const open = new Map();
    for (const c of app.data.conflicts) for (const x of c.activities) if (x.id) open.set(x.id, (open.get(x.id) || 0) + 1);
    list.replaceChildren(...items.map(([a, start, end]) => {
      const n = open.get(a.id) || 0;
      const volumes = a.volumes.length;
      const series = findSeries(a.volumes);
      return el("li.card", { dataset: { activity: a.id }, class: `card${a.status === "cancelled" ? " cancelled" : ""}` },
        el("div.card-head", el("span.rule", `${a.kind.replaceAll("_", " ")} · ${a.status}`),
          n ? el("span.badge.overdue", `${n} open conflict${n === 1 ? "" : "s"}`) : null),
        el("button.link", { type: "button", onclick: () => app.openActivity(a) }, a.title),
        el("p.meta", `${human(start)} – ${human(end)} · ${volumes} volume${volumes === 1 ? "" : "s"}${series ? ` (${often(series.everyDays)}, ${series.times} times)` : ""} · version ${a.version}`),
        el("button.link", { type: "button", onclick: () => app.setMoment(Date.parse(start)) }, "Go to its first hour"));
    }));
  };
  refresh();
  return {
    node: el("section.panel", el("h2", { tabindex: "-1" }, "Activities"),
      el("p.hint", "Your party's notified activities. Open one to change its window, band or outline, or to cancel it."),
      find.node, shown, list),
    refresh,
  };
}
