// The map's overlays: what the API returns, drawn for one moment.
import L from "./leaflet-global.js";
import "leaflet.markercluster";
import { el } from "./dom.js";
import { human, within } from "./time.js";

export const KIND_COLOURS = {
  de_escalation: "#1f6fb2",
  buffer: "#d9822b",
  safe: "#2a9d5c",
  no_fly: "#8e44ad",
  protected_site: "#c0392b",
  crossing: "#0f8b8d",
  restricted: "#7a6400",
};

const STATUS_STYLE = {
  in_force: { weight: 2.5, fillOpacity: 0.16 },
  agreed_in_principle: { weight: 2, dashArray: "2 5", fillOpacity: 0.08 },
  negotiating: { weight: 2, dashArray: "8 5", fillOpacity: 0.05 },
  proposed: { weight: 2, dashArray: "8 5", fillOpacity: 0.04 },
  suspended: { weight: 2, dashArray: "4 4", fillOpacity: 0.04, color: "#888" },
};

/** One Leaflet layer for a zone's area: a circle for a point with a radius, GeoJSON otherwise. */
export function zoneShape(z, style) {
  if (z.geometry.type === "Point") {
    const [lon, lat] = z.geometry.coordinates;
    return L.circle([lat, lon], { radius: z.radius_m || 1000, ...style });
  }
  return L.geoJSON(z.geometry, { style: () => style });
}

export function zoneBounds(z) {
  if (z.geometry.type === "Point") {
    const [lon, lat] = z.geometry.coordinates;
    return L.latLng(lat, lon).toBounds(2 * (z.radius_m || 1000));
  }
  return L.geoJSON(z.geometry).getBounds();
}

export function zoneStyle(z, atMoment) {
  const colour = KIND_COLOURS[z.kind] || "#444";
  const base = { color: colour, fillColor: colour, ...(STATUS_STYLE[z.status] || { weight: 1, fillOpacity: 0 }) };
  return atMoment ? base : { ...base, opacity: 0.35, fillOpacity: 0.02, dashArray: "1 6" };
}

/** Is the zone part of the picture at t: effective then, within its hours if it has some, and not
 * ended or withdrawn? */
export function zoneEffective(z, t) {
  return !["lapsed", "withdrawn"].includes(z.status) && within(t, z.effective_from, z.effective_until) && inHours(z.schedule, t);
}

const DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
const minutes = (hhmm) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Is t inside one of the schedule's daily periods (UTC; a period whose end is not after its start
 * runs into the next day and belongs to the day it starts)? No schedule: always. */
export function inHours(schedule, t) {
  if (!schedule || !schedule.length) return true;
  const d = new Date(t);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  for (const p of schedule) {
    const start = minutes(p.start), end = minutes(p.end);
    const length = (end > start ? end - start : end + 1440 - start) * 60e3;
    for (const back of [0, 1]) {
      const day = midnight - back * 86400e3;
      const weekday = DAYS[(new Date(day).getUTCDay() + 6) % 7];
      if (!(p.days.includes("ANY") || p.days.includes(weekday))) continue;
      const from = day + start * 60e3;
      if (from <= t && t < from + length) return true;
    }
  }
  return false;
}

/** "FRI 22:00–05:00; daily 12:00–13:00 UTC" */
export function describeHours(schedule) {
  return `${schedule.map((p) => `${p.days.includes("ANY") ? "daily" : p.days.join(", ")} ${p.start}–${p.end}`).join("; ")} UTC`;
}

export function drawZones(group, marks, zones, t, onOpen) {
  group.clearLayers();
  marks.clearLayers();
  for (const z of zones) {
    if (["lapsed", "withdrawn"].includes(z.status)) continue;
    const now = zoneEffective(z, t);
    const shape = zoneShape(z, zoneStyle(z, now));
    const hours = z.schedule ? `, ${describeHours(z.schedule)}` : "";
    shape.bindTooltip(`${z.name} — ${z.kind.replaceAll("_", " ")}, ${z.status.replaceAll("_", " ")}${hours}${now ? "" : " (not in effect at this moment)"}`, { sticky: true });
    shape.on("click", () => onOpen(z));
    shape.addTo(group);
    if (z.kind === "crossing" || z.kind === "protected_site") {
      const [lat, lon] = centre(z);
      L.marker([lat, lon], {
        title: z.name,
        alt: z.name,
        icon: L.divIcon({ className: `site site-${z.kind}`, html: z.kind === "crossing" ? "⇄" : "✚", iconSize: [22, 22] }),
      })
        .bindTooltip(z.name, { direction: "top" })
        .on("click", () => onOpen(z))
        .addTo(marks);
    }
  }
}

function centre(z) {
  const c = zoneBounds(z).getCenter();
  return [c.lat, c.lng];
}

/** An ASTM outline_circle's radius in metres. */
export function radiusMetres(circle) {
  return circle.radius.units === "FT" ? circle.radius.value * 0.3048 : circle.radius.value;
}

/** A Volume4D's footprint as a Leaflet layer (polygon, circle or corridor). */
export function volumeShape(v, style) {
  const vol = v.volume;
  if (vol.outline_polygon) return L.polygon(vol.outline_polygon.vertices.map((p) => [p.lat, p.lng]), style);
  if (vol.outline_circle) {
    const c = vol.outline_circle;
    return L.circle([c.center.lat, c.center.lng], { radius: radiusMetres(c), ...style });
  }
  if (vol.outline_corridor) {
    const line = vol.outline_corridor.line.coordinates.map(([lon, lat]) => [lat, lon]);
    return L.polyline(line, { ...style, weight: 6, lineCap: "round" });
  }
  return L.layerGroup();
}

export function altitude(a) {
  return a ? `${Math.round(a.value)} ${a.units === "FT" ? "ft" : "m"}` : "—";
}

export function drawActivities(group, activities, t, onOpen) {
  group.clearLayers();
  let shown = 0;
  for (const a of activities) {
    if (a.status === "cancelled") continue;
    for (const v of a.volumes) {
      if (!within(t, v.time_start.value, v.time_end.value)) continue;
      shown += 1;
      volumeShape(v, { color: "#1b4f72", weight: 2, fillColor: "#5dade2", fillOpacity: 0.3 })
        .bindTooltip(`${a.title} (${a.kind.replaceAll("_", " ")}), ${human(v.time_start.value)} – ${human(v.time_end.value)}, ${altitude(v.volume.altitude_lower)}–${altitude(v.volume.altitude_upper)}`, { sticky: true })
        .on("click", () => onOpen(a))
        .addTo(group);
    }
  }
  return shown;
}

/** Conflicts at the moment ``t``: each region where it happens, with its reason. Returns how many are
 * under way, and how many of those are coordinated. */
export function drawConflicts(group, conflicts, t, onOpen) {
  group.clearLayers();
  let shown = 0;
  let coordinated = 0;
  for (const c of conflicts) {
    const live = c.regions.filter((r) => within(t, r.time_start, r.time_end));
    if (!live.length) continue;
    shown += 1;
    if (c.coordinated) coordinated += 1;
    // coordinated (every party concerned agrees to it): still drawn, in green and dashed, so what is
    // not yet handled stands out in red
    const style = c.coordinated
      ? { color: "#1e8449", weight: 3, dashArray: "6 4", fillColor: "#58d68d", fillOpacity: 0.25, className: "conflict-region coordinated" }
      : { color: "#c0392b", weight: 3, fillColor: "#e74c3c", fillOpacity: 0.35, className: "conflict-region" };
    for (const r of live) {
      L.geoJSON(r.geometry, { style: () => style })
        .bindTooltip(c.coordinated ? `Coordinated: ${c.reason}` : c.reason, { sticky: true, className: "reason" })
        .on("click", () => onOpen(c))
        .addTo(group);
    }
  }
  return [shown, coordinated];
}

export function incidentCluster() {
  return L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 });
}

export function drawIncidents(group, incidents, onOpen) {
  group.clearLayers();
  for (const i of incidents) {
    const m = L.marker([i.location.latitude, i.location.longitude], {
      title: `${i.event_type}: ${i.location.name || ""}`,
      icon: L.divIcon({ className: `incident incident-${i.status}`, html: "!", iconSize: [18, 18] }),
    });
    m.bindTooltip(`${i.event_date} · ${i.sub_event_type} · ${i.location.name || ""} · ${i.status.replaceAll("_", " ")}`);
    m.on("click", () => onOpen(i));
    group.addLayer(m);
  }
}

/** Live tracks with the vector to where each will be at the look-ahead; alerting ones in red. */
export function drawTracks(group, picture, alerts) {
  group.clearLayers();
  const alerting = new Set(alerts.flatMap((a) => a.tracks.map((t) => `${t.owner.id}/${t.track_id}`)));
  for (const t of picture.tracks) {
    const hot = alerting.has(`${t.owner.id}/${t.track_id}`);
    const colour = hot ? "#c0392b" : "#34495e";
    const label = `${t.callsign || t.track_id} (${t.owner.name}) ${Math.round(t.altitude_m)} m, ${Math.round(t.ground_speed_mps)} m/s`;
    L.circleMarker([t.lat, t.lon], { radius: 5, color: colour, fillColor: colour, fillOpacity: 0.9, weight: 1, className: "track" })
      .bindTooltip(label)
      .addTo(group);
    if (t.predicted) {
      L.polyline([[t.lat, t.lon], [t.predicted.lat, t.predicted.lon]], { color: colour, weight: 2, dashArray: "4 3", interactive: false }).addTo(group);
    }
  }
}

/** Hotline messages that point at a place: their regions, red when this party is overdue. */
export function drawMessages(group, messages, me, onOpen) {
  group.clearLayers();
  for (const m of messages) {
    const mine = m.addresses.find((a) => a.party.id === me.id);
    const overdue = mine?.state === "overdue";
    for (const r of m.regions) {
      L.geoJSON(r.geometry, { style: () => ({ color: overdue ? "#b03a2e" : "#ca6f1e", weight: 2, dashArray: "3 3", fillOpacity: 0.1 }) })
        .bindTooltip(m.headline, { sticky: true })
        .on("click", () => onOpen(m))
        .addTo(group);
    }
  }
}

export function legend() {
  const box = el(
    "details.legend",
    { open: window.innerWidth > 900 },
    el("summary", "Legend"),
    el("strong", "Zones"),
    Object.entries(KIND_COLOURS).map(([k, c]) => el("div", el("span.swatch", { style: `background:${c}` }), k.replaceAll("_", " "))),
    el("div.legend-status", "solid: in force · dotted: agreed in principle · dashed: proposed or negotiating"),
    el("div", el("span.swatch.conflict"), "conflict"),
    el("div", el("span.swatch.coordinated"), "coordinated conflict (agreed by all)"),
    el("div", el("span.swatch.activity"), "own activity"),
  );
  const control = L.control({ position: "bottomright" });
  control.onAdd = () => {
    L.DomEvent.disableClickPropagation(box);
    return box;
  };
  return control;
}

