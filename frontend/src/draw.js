// Drawing on the map (Leaflet-Geoman): one shape at a time, kept in the scratch layer. Or a shape
// loaded from a file a GIS or a GPS wrote (GeoJSON, GPX, KML).
import { gpx, kml } from "@tmcw/togeojson";
import L from "./leaflet-global.js";

const SHAPES = { area: "Polygon", circle: "Circle", corridor: "Line" };

/** Start drawing `kind` (area, circle or corridor); resolves with the drawn layer. */
export function drawShape(app, kind) {
  const map = app.map;
  map.pm.disableDraw();
  return new Promise((resolve) => {
    map.getContainer().classList.add("drawing");
    const done = (e) => {
      map.off("pm:create", done);
      map.getContainer().classList.remove("drawing");
      app.drewAt = performance.now(); // the click that finished the shape is not a click on what lies under it
      map.removeLayer(e.layer);
      app.overlays.scratch.clearLayers();
      e.layer.setStyle?.({ color: "#117a65", weight: 3, dashArray: "6 4", fillOpacity: 0.15 });
      app.overlays.scratch.addLayer(e.layer);
      resolve(e.layer);
    };
    map.on("pm:create", done);
    map.pm.enableDraw(SHAPES[kind], { finishOn: kind === "corridor" ? "dblclick" : null, continueDrawing: false });
  });
}

export function stopDrawing(app) {
  app.map.pm.disableDraw();
  app.map.getContainer().classList.remove("drawing");
}

/** The drawn layer as an ASTM F3548 outline (plus Truceline's corridor). */
export function outline(kind, layer, halfWidth) {
  if (kind === "circle") {
    const c = layer.getLatLng();
    return { outline_circle: { center: { lat: c.lat, lng: c.lng }, radius: { value: layer.getRadius(), units: "M" } } };
  }
  if (kind === "corridor") {
    const pts = layer.getLatLngs().map((p) => [p.lng, p.lat]);
    return { outline_corridor: { line: { type: "LineString", coordinates: pts }, half_width_m: halfWidth } };
  }
  const ring = layer.getLatLngs()[0].map((p) => ({ lat: p.lat, lng: p.lng }));
  return { outline_polygon: { vertices: [...ring, ring[0]] } };
}

/** The drawn polygon as GeoJSON (for zones). */
export function polygonGeoJSON(layer) {
  return layer.toGeoJSON().geometry;
}


const LOADED_STYLE = { color: "#117a65", weight: 3, dashArray: "6 4", fillOpacity: 0.15 };
const flat = (coords) => coords.map(([x, y]) => [x, y]); // a GPS's heights are not the plan's band
const latLngs = (coords) => coords.map(([x, y]) => [y, x]);

/** The text of a file a GIS or a GPS wrote, as GeoJSON: GPX and KML through togeojson. */
async function readGeo(file) {
  const text = await file.text();
  const name = file.name.toLowerCase();
  if (name.endsWith(".gpx") || name.endsWith(".kml")) {
    const xml = new DOMParser().parseFromString(text, "application/xml");
    if (xml.querySelector("parsererror")) throw new Error("it is not well-formed XML");
    return name.endsWith(".gpx") ? gpx(xml) : kml(xml);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("it is not GeoJSON, GPX or KML (.geojson, .json, .gpx, .kml)");
  }
}

/**
 * The first shape in a file the form can take (``kinds``: "corridor", "area"): a line (a route, or a
 * track whose segments are joined) as a corridor, a polygon (or a multipolygon's first) as an area.
 * Resolves with {kind, layer, geometry (GeoJSON, 2D), name, points}; refuses with the file's name and
 * why. The layer is drawn in the scratch layer, as a drawn shape is.
 */
export async function shapeFromFile(app, file, kinds) {
  let doc;
  try {
    doc = await readGeo(file);
  } catch (e) {
    throw new Error(`${file.name}: ${e.message}`);
  }
  const features = doc?.type === "FeatureCollection" ? doc.features || [] : doc?.type === "Feature" ? [doc] : [{ geometry: doc }];
  for (const f of features) {
    const g = f?.geometry;
    const name = f?.properties?.name || f?.properties?.title || "";
    let found = null;
    if (kinds.includes("corridor") && (g?.type === "LineString" || g?.type === "MultiLineString")) {
      const line = flat(g.type === "LineString" ? g.coordinates : g.coordinates.flat());
      if (line.length >= 2) found = { kind: "corridor", layer: L.polyline(latLngs(line), LOADED_STYLE), geometry: { type: "LineString", coordinates: line }, points: line.length };
    } else if (kinds.includes("area") && (g?.type === "Polygon" || g?.type === "MultiPolygon")) {
      const rings = (g.type === "Polygon" ? g.coordinates : g.coordinates[0]).map(flat);
      if (rings[0]?.length >= 4) found = { kind: "area", layer: L.polygon(rings.map(latLngs), LOADED_STYLE), geometry: { type: "Polygon", coordinates: rings }, points: rings[0].length - 1 };
    }
    if (found) {
      stopDrawing(app);
      app.overlays.scratch.clearLayers();
      app.overlays.scratch.addLayer(found.layer);
      app.map.fitBounds(found.layer.getBounds(), { maxZoom: 12, padding: [30, 30], animate: false });
      return { ...found, name };
    }
  }
  const wanted = kinds.map((k) => (k === "corridor" ? "line (a route or a track)" : "polygon")).join(" or ");
  throw new Error(`${file.name} holds no ${wanted}`);
}
