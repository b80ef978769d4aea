// Drawing on the map (Leaflet-Geoman): one shape at a time, kept in the scratch layer.

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

