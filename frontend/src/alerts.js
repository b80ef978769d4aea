// Live alerts that concern the party: a loss of separation between two tracks, or a track about to
// enter (or inside) a zone, each with when it begins, and the way to it on the map and to its conflict.
import L from "./leaflet-global.js";
import { el } from "./dom.js";
import { human } from "./time.js";

const seconds = (s) => (s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);
const clock = (t) => `${t.slice(11, 19)}Z`; // the time of day to the second (the panel says the day)
const trackName = (t) => `${t.callsign || t.track_id} (${t.owner.name || t.owner.id}, ${t.kind})`;

/** When it begins: now, or in so long. */
export function when(a) {
  const now = a.rule === "separation" ? a.loss_of_separation_now : a.inside_now;
  return now ? "now" : `in ${seconds(a.t_in_s)}`;
}

export function describe(a) {
  if (a.rule === "separation") {
    const [x, y] = a.tracks;
    return {
      what: `${trackName(x)} and ${trackName(y)}`,
      detail: `${Math.round(a.distance_m).toLocaleString("en")} m apart now, ${Math.round(a.vertical_m)} m vertically; closest ${Math.round(a.dcpa_m).toLocaleString("en")} m in ${seconds(Math.max(a.tcpa_s, 0))}`,
    };
  }
  return { what: `${trackName(a.tracks[0])} into ${a.zone_name}`, detail: a.inside_now ? "inside the zone now" : "on its present course" };
}

export function alertsPanel(app) {
  const list = el("ol.cards");
  const at = el("p.hint.alerts-at", { role: "status" });

  const where = (a) => {
    const keys = new Set(a.tracks.map((t) => `${t.owner.id}/${t.track_id}`));
    return (app.data.tracks || []).filter((t) => keys.has(`${t.owner.id}/${t.track_id}`));
  };
  const showOnMap = (a) => {
    const points = where(a).flatMap((t) => [[t.lat, t.lon], ...(t.predicted ? [[t.predicted.lat, t.predicted.lon]] : [])]);
    if (!points.length) return app.toast("Its tracks are not in the picture any more.");
    if (!app.map.hasLayer(app.overlays.tracks)) app.overlays.tracks.addTo(app.map);
    app.map.fitBounds(L.latLngBounds(points), { maxZoom: 11, padding: [60, 60], animate: false });
  };

  const refresh = () => {
    const alerts = app.data.alerts || [];
    at.textContent = app.data.alertsAt
      ? `${alerts.length} alert${alerts.length === 1 ? "" : "s"} at ${human(app.data.alertsAt)}, soonest first; updated every 2 s.`
      : "Waiting for the live picture…";
    if (!alerts.length) {
      list.replaceChildren(el("li.empty", "No separation or incursion alert concerns your party now."));
      return;
    }
    list.replaceChildren(...alerts.map((a) => {
      const { what, detail } = describe(a);
      const conflict = a.conflict_id && app.data.conflicts.find((c) => c.id === a.conflict_id);
      const now = when(a) === "now";
      return el("li.card", { dataset: { rule: a.rule }, class: `card live-alert${now ? " now" : ""}` },
        el("div.card-head", el("span.rule", a.rule), el(now ? "span.badge.overdue" : "span.badge.now", when(a))),
        el("p", what),
        el("p.meta", `${detail} · from ${clock(a.time_in)} to ${clock(a.time_out)}`),
        el("div.buttons",
          el("button.link", { type: "button", onclick: () => showOnMap(a) }, "Show on map"),
          conflict ? el("button.link", { type: "button", onclick: () => app.focusConflict(conflict) }, "Its conflict") : null));
    }));
  };
  refresh();
  return {
    node: el("section.panel", el("h2", { tabindex: "-1" }, "Live alerts"),
      el("p.hint", "Losses of separation and zone incursions the service predicts from the live tracks, for your party's tracks and the zones it is responsible for."),
      at, list),
    refresh,
  };
}
