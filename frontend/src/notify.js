// Notify an activity by drawing it: polygon, circle or corridor, a time window and an altitude band.
// Its conflicts come back in the response and show at once.
import { drawShape, outline, shapeFromFile, stopDrawing } from "./draw.js";
import { clear, downloadButton, el, field, numberOrNull, select, submitting } from "./dom.js";
import { HOUR, human, sendTime, toLocalInput } from "./time.js";
import { altitude } from "./layers.js";
import L from "./leaflet-global.js";

export function notifyPanel(app) {
  let drawn = null;
  const kind = select("kind", app.config.activity_kinds, "ground");
  const title = el("input", { name: "title", required: true, maxlength: 300 });
  const description = el("textarea", { name: "description", rows: 2 });
  const shape = select("shape", [["area", "Area (polygon)"], ["circle", "Circle"], ["corridor", "Corridor (a line and a width)"]], "area");
  const halfWidth = el("input", { name: "half_width_m", type: "number", min: 1, step: 1, value: 2000 });
  const geometry = el("output", { name: "geometry", tabindex: "0", dataset: { names: "volume volumes outline_polygon outline_circle outline_corridor vertices radius center line" } }, "Nothing drawn yet.");
  const drawButton = el("button", { type: "button" }, "Draw on the map");
  const fromFile = el("input", { type: "file", name: "shape_file", accept: ".geojson,.json,.gpx,.kml" });
  const start = el("input", { name: "time_start", type: "datetime-local", required: true, value: toLocalInput(app.moment) });
  const end = el("input", { name: "time_end", type: "datetime-local", required: true, value: toLocalInput(app.moment + 2 * HOUR) });
  const lower = el("input", { name: "altitude_lower", type: "number", step: 1, value: 0 });
  const upper = el("input", { name: "altitude_upper", type: "number", step: 1, value: 1500 });
  const every = select("every_days", [["", "Once"], ["1", "Every day"], ["7", "Every week"]], "");
  const until = el("input", { name: "until", type: "datetime-local", value: toLocalInput(app.moment + 7 * 24 * HOUR) });
  const untilField = field("Until (UTC; the last one starts before)", until);
  const syncRepeat = () => {
    untilField.hidden = every.value === "";
  };
  every.addEventListener("change", syncRepeat);
  const results = el("div.results", { "aria-live": "polite" });
  const checkButton = el("button", { type: "button", title: "Nothing is stored and nobody is told" }, "Check against the zones");
  let checked = [];  // the regions the last check drew
  const widthField = field("Half width (m)", halfWidth);
  const syncShape = () => {
    widthField.hidden = shape.value !== "corridor";
  };
  shape.addEventListener("change", () => {
    drawn = null;
    app.overlays.scratch.clearLayers();
    geometry.textContent = "Nothing drawn yet.";
    syncShape();
  });
  drawButton.addEventListener("click", async () => {
    geometry.textContent = shape.value === "corridor" ? "Click points along the route; double-click the last one." : shape.value === "circle" ? "Click the centre, then the edge." : "Click the corners; click the first one again to close.";
    drawn = await drawShape(app, shape.value);
    geometry.textContent = describe(shape.value, drawn);
  });
  // a convoy's route as the logistics office planned it: a GPX track, a KML or GeoJSON line or area
  fromFile.addEventListener("change", async () => {
    const file = fromFile.files[0];
    fromFile.value = "";
    if (!file) return;
    try {
      const got = await shapeFromFile(app, file, ["corridor", "area"]);
      shape.value = got.kind;
      syncShape();
      drawn = got.layer;
      geometry.textContent = `${got.kind === "corridor" ? "Corridor" : "Area"} of ${got.points} points loaded from ${file.name}.`;
      if (!title.value.trim() && got.name) title.value = got.name;
    } catch (e) {
      geometry.textContent = e.message;
    }
  });
  const form = el(
    "form.panel",
    { novalidate: true },
    el("h2", { tabindex: "-1" }, "Notify an activity"),
    el("p.hint", "Draw where it happens, give its time window (UTC) and altitude band. Conflicts are found at once; notification is not permission."),
    el("div.form-error", { role: "alert" }),
    field("Kind", kind),
    field("Title", title),
    field("Description", description),
    field("Shape", shape),
    widthField,
    el("div.field", drawButton, geometry, el("div.field-error", { id: "geometry-error", role: "alert" })),
    field("Or load it from a file", fromFile, "A route or track (GPX), or a line or area (GeoJSON, KML), as a GIS or a GPS wrote it: a line becomes a corridor of the half width above."),
    el("div.row", field("Start (UTC)", start), field("End (UTC)", end)),
    el("div.row", field("Lowest altitude (m, WGS84)", lower), field("Highest altitude (m)", upper)),
    el("div.row", field("Repeat", every), untilField),
    el("div.row", el("button.primary", { type: "submit" }, "Notify"), checkButton),
    results,
    downloadButton(app, "/v1/activities/export", "Download your activities as GeoJSON", { status: "active" }),
  );
  geometry.id = "geometry";
  syncShape();
  syncRepeat();
  const plan = () => ({
    kind: kind.value,
    title: title.value,
    description: description.value,
    volumes: [
      {
        volume: {
          ...(drawn ? outline(shape.value, drawn, Number(halfWidth.value)) : {}),
          altitude_lower: { value: numberOrNull(lower.value), reference: "W84", units: "M" },
          altitude_upper: { value: numberOrNull(upper.value), reference: "W84", units: "M" },
        },
        time_start: { value: sendTime(start.value), format: "RFC3339" },
        time_end: { value: sendTime(end.value), format: "RFC3339" },
      },
    ],
    ...(every.value ? { repeat: { every_days: Number(every.value), until: sendTime(until.value) } } : {}),
  });
  checkButton.addEventListener("click", () =>
    submitting(form, async () => {
      checkButton.disabled = true;
      try {
        const res = await app.api.post("/v1/activities/check", plan());
        checked = drawCheck(app, res, checked);
        showCheck(results, title.value, res);
      } finally {
        checkButton.disabled = false;
      }
    }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const res = await app.api.post("/v1/activities", plan());
      checked = [];  // the scratch layer is cleared below
      app.data.activities = [res.activity, ...app.data.activities.filter((a) => a.id !== res.activity.id)];
      const ids = new Set(res.conflicts.map((c) => c.id));
      app.data.conflicts = [...res.conflicts, ...app.data.conflicts.filter((c) => !ids.has(c.id))];
      app.overlays.scratch.clearLayers();
      drawn = null;
      geometry.textContent = "Nothing drawn yet.";
      app.setMoment(Date.parse(res.activity.time_start));
      showResult(app, results, res);
    });
  });
  return { node: form, cleanup: () => stopDrawing(app) };
}


function describe(kind, layer) {
  if (kind === "circle") return `Circle of ${Math.round(layer.getRadius())} m drawn.`;
  const n = kind === "corridor" ? layer.getLatLngs().length : layer.getLatLngs()[0].length;
  return `${kind === "corridor" ? "Corridor" : "Area"} of ${n} points drawn.`;
}

/** Where a check found the plan would break a zone's rules, on the map (scratch layer): red now,
 * amber once the zone is in force, in place of the ``previous`` check's. Returns the layers drawn. */
export function drawCheck(app, res, previous = []) {
  for (const l of previous) app.overlays.scratch.removeLayer(l);
  return [...res.conflicts, ...res.once_in_force].flatMap((f) => f.regions.map((r) =>
    L.geoJSON(r.geometry, { style: { color: f.in_force ? "#c0392b" : "#d68910", weight: 2, dashArray: "2 4", fillOpacity: 0.25, className: `plan-check ${f.in_force ? "now" : "later"}` } })
      .bindTooltip(`${f.in_force ? "Would conflict" : "Once in force"}: ${f.zone.name}`)
      .addTo(app.overlays.scratch)));
}

/** What a check found: the conflicts a notification would open now, then what a zone not yet in
 * force would forbid once it is. */
export function showCheck(node, title, res) {
  const item = (f) => el("li", el("strong", f.zone.name), ` (${f.status.replaceAll("_", " ")}): `, f.reason,
    el("div.meta", `A notification would concern: ${f.parties.map((p) => p.name || p.id).join(", ")}`));
  clear(node,
    el("h3", `Checked, not notified: ${title || "the plan"}`),
    res.conflicts.length
      ? el("div.check-now",
          el("p", el("strong.conflict-count", `${res.conflicts.length} zone conflict${res.conflicts.length > 1 ? "s" : ""}`), " a notification would open now:"),
          el("ul.conflict-list", res.conflicts.map(item)))
      : el("p.ok", "No zone in force forbids it."),
    res.once_in_force.length
      ? el("div.check-later",
          el("p", `Once in force, ${res.once_in_force.length === 1 ? "this zone" : "these zones"} would forbid it:`),
          el("ul.conflict-list", res.once_in_force.map(item)))
      : null,
    el("p.hint", res.not_checked),
  );
}

function showResult(app, node, res) {
  const a = res.activity;
  clear(node, 
    el("h3", `Notified: ${a.title}`),
    el("p.meta", `${human(a.time_start)} – ${human(a.time_end)}, ${altitude(a.volumes[0].volume.altitude_lower)}–${altitude(a.volumes[0].volume.altitude_upper)}${a.volumes.length > 1 ? `, ${a.volumes.length} volumes` : ""}`),
    res.conflicts.length
      ? el(
          "div",
          el("p", el("strong.conflict-count", `${res.conflicts.length} conflict${res.conflicts.length > 1 ? "s" : ""}`), " found:"),
          el("ul.conflict-list", res.conflicts.map((c) => el("li", el("span.rule", c.rule.replaceAll("_", " ")), " ", c.reason))),
        )
      : el("p.ok", "No conflicts."),
  );
}
