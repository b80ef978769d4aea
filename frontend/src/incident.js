// Report an incident by clicking the map (ACLED's vocabulary), and an incident's detail.
import L from "./leaflet-global.js";
import { clear, el, field, numberOrNull, select, submitting } from "./dom.js";
import { iso } from "./time.js";

/** The nearest gazetteer place to a point: [name, km]. */
export function nearestPlace(places, lat, lon) {
  let best = null;
  let bestD = Infinity;
  const k = Math.cos((lat * Math.PI) / 180);
  for (const p of places || []) {
    const d = (p[2] - lat) ** 2 + ((p[1] - lon) * k) ** 2;
    if (d < bestD) [best, bestD] = [p, d];
  }
  return best ? [best[0], Math.sqrt(bestD) * 111.2] : [null, 0];
}

export function incidentPanel(app) {
  const types = app.config.event_types;
  const eventType = select("event_type", Object.keys(types), "Battles");
  const sub = el("select", { name: "sub_event_type" });
  const fillSubs = () => sub.replaceChildren(...types[eventType.value].map((s) => el("option", { value: s }, s)));
  eventType.addEventListener("change", fillSubs);
  fillSubs();
  const inter = Object.entries(app.config.inter);
  const date = el("input", { name: "event_date", type: "date", required: true, value: iso(app.moment).slice(0, 10) });
  const lat = el("input", { name: "latitude", type: "number", step: "any", required: true });
  const lon = el("input", { name: "longitude", type: "number", step: "any", required: true });
  const place = el("input", { name: "name", dataset: { names: "location" } });
  const actor1 = el("input", { name: "actor1", required: true, dataset: { names: "actor1" } });
  const inter1 = select("inter1", inter, "1");
  const actor2 = el("input", { name: "actor2" });
  const inter2 = select("inter2", inter, "2");
  const deaths = el("input", { name: "fatalities", type: "number", min: 0, step: 1, value: 0, dataset: { names: "best low high" } });
  const source = el("input", { name: "sources", required: true });
  const notes = el("textarea", { name: "notes", rows: 3 });
  const alleged = el("select", { name: "alleged", multiple: true, size: 4 }, app.data.parties.filter((p) => p.id !== app.me.id).map((p) => el("option", { value: p.name }, p.name)));
  const result = el("div.results", { "aria-live": "polite" });
  const marker = L.marker([0, 0], { icon: L.divIcon({ className: "incident incident-new", html: "!", iconSize: [18, 18] }) });
  const pick = (e) => {
    lat.value = e.latlng.lat.toFixed(5);
    lon.value = e.latlng.lng.toFixed(5);
    const [name, km] = nearestPlace(app.places, e.latlng.lat, e.latlng.lng);
    if (name) place.value = km < 5 ? name : `${Math.round(km)} km from ${name}`;
    marker.setLatLng(e.latlng).addTo(app.overlays.scratch);
  };
  app.map.on("click", pick);
  app.map.getContainer().classList.add("picking");
  const form = el(
    "form.panel",
    { novalidate: true },
    el("h2", { tabindex: "-1" }, "Report an incident"),
    el("p.hint", "Click the map where it happened; the nearest place in the gazetteer is filled in."),
    el("div.form-error", { role: "alert" }),
    el("div.row", field("Latitude", lat), field("Longitude", lon)),
    field("Place", place),
    field("Date", date),
    field("Event type", eventType),
    field("Sub-event type", sub),
    el("div.row", field("Actor 1", actor1), field("Actor 1 type", inter1)),
    el("div.row", field("Actor 2 (optional)", actor2), field("Actor 2 type", inter2)),
    field("Fatalities (best estimate)", deaths),
    field("Source", source, "Who reported it: a newspaper, a monitor, a party."),
    field("Notes", notes),
    field("Alleged against", alleged, "The parties said to be responsible (several with Ctrl or ⌘)."),
    el("button.primary", { type: "submit" }, "Report"),
    result,
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const body = {
        event_date: date.value || null,
        event_type: eventType.value,
        sub_event_type: sub.value,
        actor1: { name: actor1.value, inter: Number(inter1.value) },
        location: { name: place.value, latitude: numberOrNull(lat.value), longitude: numberOrNull(lon.value), geo_precision: 1 },
        fatalities: numberOrNull(deaths.value),
        sources: [{ name: source.value, notes: notes.value }],
        notes: notes.value,
        alleged: [...alleged.selectedOptions].map((o) => o.value),
      };
      if (actor2.value.trim()) body.actor2 = { name: actor2.value, inter: Number(inter2.value) };
      const i = await app.api.post("/v1/incidents", body);
      clear(result, 
        el("p.ok", `Reported: ${i.sub_event_type} at ${i.location.name || "the point"} on ${i.event_date} (${i.status}).`),
        i.possible_violation_of.length ? el("p", `A possible violation of ${i.possible_violation_of.map((z) => z.zone_name).join(", ")}.`) : null,
      );
      app.loadIncidents();
    });
  });
  return {
    node: form,
    cleanup: () => {
      app.map.off("click", pick);
      app.map.getContainer().classList.remove("picking");
    },
  };
}

export function incidentDetail(app, i) {
  return {
    node: el(
      "section.panel",
      el("h2", { tabindex: "-1" }, `${i.sub_event_type}, ${i.location.name || ""}`),
      el("dl",
        el("dt", "Date"), el("dd", i.event_date),
        el("dt", "Type"), el("dd", `${i.event_type} / ${i.sub_event_type}`),
        el("dt", "Actors"), el("dd", [i.actor1?.name, i.actor2?.name].filter(Boolean).join(" v. ")),
        el("dt", "Fatalities"), el("dd", String(i.fatalities?.best ?? 0)),
        el("dt", "Status"), el("dd", i.status.replaceAll("_", " ")),
        el("dt", "Reported by"), el("dd", i.reported_by?.name || i.dataset),
        el("dt", "Zones"), el("dd", i.zones.map((z) => z.zone_name).join(", ") || "none"),
        el("dt", "Possible violation of"), el("dd", (i.possible_violation_of || []).map((z) => z.zone_name).join(", ") || "—"),
      ),
      el("p", i.notes),
    ),
  };
}
