// One of your own activities: its volumes and open conflicts, moving its window, changing its
// altitude band or dragging its outline on the map (a new version, checked again at once), and
// cancelling it.
import { clear, confirmButton, el, field, numberOrNull, select, submitting } from "./dom.js";
import { outline, shapeFromFile } from "./draw.js";
import { entryItem, fillHistory } from "./history.js";
import { HOUR, human, sendTime, toLocalInput } from "./time.js";
import L from "./leaflet-global.js";
import { altitude, radiusMetres, volumeShape } from "./layers.js";
import { openThread } from "./conflicts.js";
import { drawCheck, showCheck } from "./notify.js";
import { findSeries, often } from "./repeats.js";

const words = (s) => String(s).replaceAll("_", " ");

export function activityPanel(app, id) {
  const node = el("section.panel.activity-page", { "aria-busy": "true" }, el("h2", { tabindex: "-1" }, "Activity"), el("p", "Loading…"));
  app.api
    .get(`/v1/activities/${id}`)
    .then((res) => {
      render(app, node, res);
      const where = footprint(res.activity.volumes);
      if (where.isValid()) app.map.fitBounds(where, { maxZoom: 10, padding: [40, 40] });
    })
    .catch((e) => node.replaceChildren(el("h2", { tabindex: "-1" }, "Activity"), el("p.form-error", e.message)));
  return { node, cleanup: () => stopEditing(app) };
}

function render(app, node, { activity: a, conflicts }) {
  const active = a.status === "active";
  clear(
    node,
    el("h2", { tabindex: "-1" }, a.title),
    el("p.meta", `${words(a.kind)} · ${a.status} · version ${a.version}`),
    a.description ? el("p", a.description) : null,
    el("h3", "Where and when"),
    whereAndWhen(a.volumes),
    el("h3", "Open conflicts"),
    conflicts.length
      ? el("ul.cards", conflicts.map((c) => el("li.card", { dataset: { conflict: c.id } },
          el("div.card-head", el("span.rule", words(c.rule))),
          el("p.reason", c.reason),
          el("div.buttons",
            el("button.link", { type: "button", onclick: () => app.focusConflict(c) }, "Show on map"),
            el("button.link", { type: "button", title: "Its thread, where the parties settle it", onclick: () => openThread(app, c) }, "Its thread")))))
      : el("p.ok", "None."),
    active ? changeForm(app, node, a) : null,
    active ? cancelButton(app, node, a) : null,
    el("h3", "History"),
    history(app, a),
  );
  node.removeAttribute("aria-busy");
}

const volumeLine = (v) => `${human(v.time_start.value)} – ${human(v.time_end.value)}, ${altitude(v.volume.altitude_lower)} – ${altitude(v.volume.altitude_upper)}`;

// A repeat reads as one: how often, how many times, from when to when, and its first occurrence;
// every occurrence is there on request.
function whereAndWhen(volumes) {
  const series = findSeries(volumes);
  if (!series) return el("ol.plain.volumes", volumes.map((v) => el("li", volumeLine(v))));
  const first = volumes.slice(0, series.perOccurrence);
  const last = volumes.at(-1);
  return [
    el("p.series", `${often(series.everyDays)[0].toUpperCase()}${often(series.everyDays).slice(1)}, ${series.times} times, from ${human(volumes[0].time_start.value)} to ${human(last.time_end.value)}. The first time:`),
    el("ol.plain.volumes", first.map((v) => el("li", volumeLine(v)))),
    el("details.occurrences", el("summary", `Every occurrence (${volumes.length} volumes)`),
      el("ol.plain", volumes.map((v) => el("li", volumeLine(v))))),
  ];
}

// Its versions as the audit log has them: notified, updated, cancelled, and by which of your tokens.
function history(app, a) {
  const list = el("ol.history", { "aria-label": "History" }, el("li", "Loading…"));
  fillHistory(app, list, { entity_id: a.id }, (e) => entryItem(e, { about: false }));
  return list;
}

// Each volume keeps its outline; its window and band can change. The version read is sent back, so
// a change someone else made first is refused (409) rather than overwritten. A repeat is changed as
// one: its first occurrence, how often and until when.
function changeForm(app, node, a) {
  const series = findSeries(a.volumes);
  const volumes = series ? a.volumes.slice(0, series.perOccurrence) : a.volumes;
  const rows = volumes.map((v, i) => {
    const start = el("input", { name: "time_start", type: "datetime-local", required: true, value: toLocalInput(Date.parse(v.time_start.value)) });
    const end = el("input", { name: "time_end", type: "datetime-local", required: true, value: toLocalInput(Date.parse(v.time_end.value)) });
    const lower = el("input", { name: "altitude_lower", type: "number", step: 1, value: v.volume.altitude_lower.value });
    const upper = el("input", { name: "altitude_upper", type: "number", step: 1, value: v.volume.altitude_upper.value });
    const label = volumes.length > 1 ? ` (volume ${i + 1})` : "";
    const row = { v, start, end, lower, upper, editing: null, loaded: null };
    const edit = el("button", { type: "button" }, `Edit the outline on the map${label}`);
    edit.addEventListener("click", () => {
      row.editing = editOutline(app, v);
      edit.replaceWith(el("p.hint", "Drag its corners (or a circle's centre and edge) on the map, then save."));
    });
    // the route changed in the logistics office's GPS or GIS: its new line or area replaces the outline
    const fromFile = el("input", { type: "file", name: "shape_file", accept: ".geojson,.json,.gpx,.kml" });
    const said = el("p.hint", { role: "status" });
    fromFile.addEventListener("change", async () => {
      const file = fromFile.files[0];
      fromFile.value = "";
      if (!file) return;
      try {
        row.loaded = await shapeFromFile(app, file, ["corridor", "area"]);
        row.editing = null;
        const width = v.volume.outline_corridor?.half_width_m ?? DEFAULT_HALF_WIDTH_M;
        said.textContent = `${row.loaded.kind === "corridor" ? `Corridor ${width} m either side` : "Area"} of ${row.loaded.points} points loaded from ${file.name}: saved with the new version.`;
      } catch (e) {
        said.textContent = e.message;
      }
    });
    row.node = el("fieldset", el("div.row", field(`Start (UTC)${label}`, start), field(`End (UTC)${label}`, end)),
      el("div.row", field(`Lowest altitude (${v.volume.altitude_lower.units.toLowerCase()})`, lower), field(`Highest altitude (${v.volume.altitude_upper.units.toLowerCase()})`, upper)),
      edit, field(`Or its new outline from a file${label}`, fromFile), said);
    return row;
  });
  const choices = [["", "Once"], ["1", "Every day"], ["7", "Every week"]];
  if (series && !["1", "7"].includes(String(series.everyDays))) choices.push([String(series.everyDays), `Every ${series.everyDays} days`]);
  const every = select("every_days", choices, series ? String(series.everyDays) : "");
  // half a gap after its last occurrence starts: its window moved by less than that keeps the same
  // number of occurrences. Without a repeat yet: a week after its last volume starts.
  const lastStart = Date.parse(a.volumes.at(-(series?.perOccurrence || 1)).time_start.value);
  const until = el("input", { name: "until", type: "datetime-local", value: toLocalInput(lastStart + (series ? series.everyDays * 12 * HOUR : 7 * 24 * HOUR)) });
  const untilField = field("Until (UTC; the last one starts before)", until);
  const syncRepeat = () => {
    untilField.hidden = every.value === "";
  };
  every.addEventListener("change", syncRepeat);
  syncRepeat();
  const check = el("button", { type: "button", title: "Nothing is stored and nobody is told" }, "Check against the zones");
  const checkResults = el("div.results", { "aria-live": "polite" });
  let checked = [];
  const form = el("form.change", { novalidate: true },
    el("h3", "Change it"),
    el("div.form-error", { role: "alert" }),
    series ? el("p.hint", `Its first time; the others follow it, ${often(series.everyDays)}.`) : null,
    rows.map((r) => r.node),
    el("div.row", field("Repeat", every), untilField),
    el("div.row", el("button.primary", { type: "submit" }, "Save a new version"), check),
    checkResults,
  );
  const plan = () => ({
    kind: a.kind,
    title: a.title,
    description: a.description,
    volumes: rows.map((r) => ({
      volume: {
        ...(r.loaded
          ? outline(r.loaded.kind, r.loaded.layer, r.v.volume.outline_corridor?.half_width_m ?? DEFAULT_HALF_WIDTH_M)
          : r.editing ? drawnOutline(r.v.volume, r.editing) : outlineOf(r.v.volume)),
        altitude_lower: { ...r.v.volume.altitude_lower, value: numberOrNull(r.lower.value) },
        altitude_upper: { ...r.v.volume.altitude_upper, value: numberOrNull(r.upper.value) },
      },
      time_start: { value: sendTime(r.start.value), format: "RFC3339" },
      time_end: { value: sendTime(r.end.value), format: "RFC3339" },
    })),
    ...(every.value ? { repeat: { every_days: Number(every.value), until: sendTime(until.value) } } : {}),
  });
  // the change as it stands, checked against the zones before it is saved
  check.addEventListener("click", () =>
    submitting(form, async () => {
      const res = await app.api.post("/v1/activities/check", plan());
      checked = drawCheck(app, res, checked);
      showCheck(checkResults, a.title, res);
    }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const body = { ...plan(), version: a.version };
      const res = await app.api.request("PUT", `/v1/activities/${a.id}`, { body });
      stopEditing(app);
      await changed(app, res.activity);
      render(app, node, res);
      app.toast(`${res.activity.title}: version ${res.activity.version}, ${res.conflicts.length} open conflict(s)`);
    });
  });
  return form;
}

// Cancelling takes two clicks: the first asks, the second does it.
function cancelButton(app, node, a) {
  const cancel = async () => {
    const res = await app.api.post(`/v1/activities/${a.id}/cancel`);
    await changed(app, res.activity);
    render(app, node, res);
    app.toast(`${res.activity.title}: cancelled`);
  };
  const again = "Click again to cancel it: its conflicts close";
  return el("p", confirmButton("Cancel this activity", again, cancel, (e) => app.toast(`Cancel: ${e.message}`)));
}

const OUTLINES = ["outline_polygon", "outline_circle", "outline_corridor"];
// a route loaded for a volume that was not a corridor: the Notify panel's default width
const DEFAULT_HALF_WIDTH_M = 2000;
const outlineOf = (volume) => Object.fromEntries(OUTLINES.filter((k) => volume[k]).map((k) => [k, volume[k]]));

// The volume's outline, editable on the map (Leaflet-Geoman, as a zone's boundary is revised).
function editOutline(app, v) {
  const layer = volumeShape(v, { color: "#117a65", weight: 3, dashArray: "6 4", fillOpacity: 0.15 });
  app.overlays.scratch.addLayer(layer);
  layer.pm.enable({ allowSelfIntersection: false });
  return layer;
}

function drawnOutline(volume, layer) {
  if (volume.outline_circle) return outline("circle", layer);
  if (volume.outline_corridor) return outline("corridor", layer, volume.outline_corridor.half_width_m);
  return outline("area", layer);
}

function stopEditing(app) {
  app.overlays.scratch.eachLayer((l) => l.pm?.disable());
  app.overlays.scratch.clearLayers();
}

// A circle has no bounds until it is on a map, so its own are worked out from its radius.
function footprint(volumes) {
  const b = L.latLngBounds([]);
  for (const v of volumes) {
    const c = v.volume.outline_circle;
    if (c) b.extend(L.latLng(c.center.lat, c.center.lng).toBounds(2 * radiusMetres(c)));
    else b.extend(volumeShape(v, {}).getBounds());
  }
  return b;
}

async function changed(app, activity) {
  app.data.activities = app.data.activities.map((x) => (x.id === activity.id ? activity : x));
  await app.refreshConflicts();
}

