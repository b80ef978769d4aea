// The basemap: Natural Earth country borders (world-atlas, shipped with the server, no internet), or
// an online tile layer when the operator sets one; place names from the GeoNames gazetteer.
import L from "./leaflet-global.js";
import { feature, mesh } from "topojson-client";

const ATLAS = "/static/vendor/world-atlas/countries-50m.json";
const PLACES = "/static/vendor/gazetteer/places.json";
const ATTRIBUTION =
  'Borders: <a href="https://www.naturalearthdata.com">Natural Earth</a> via world-atlas · Places: <a href="https://www.geonames.org">GeoNames</a> (CC BY 4.0)';

export async function addBasemap(map, config) {
  map.createPane("basemap").style.zIndex = 200;
  if (config.tile_url) {
    L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 18 }).addTo(map);
  } else {
    const atlas = await (await fetch(ATLAS)).json();
    const land = feature(atlas, atlas.objects.countries);
    L.geoJSON(land, {
      pane: "basemap",
      interactive: false,
      style: { color: "#b9b2a3", weight: 0, fillColor: "#f3efe6", fillOpacity: 1 },
    }).addTo(map);
    const borders = mesh(atlas, atlas.objects.countries, (a, b) => a !== b);
    L.geoJSON(borders, { pane: "basemap", interactive: false, style: { color: "#9a9282", weight: 1 } }).addTo(map);
  }
  map.attributionControl.addAttribution(ATTRIBUTION);
  return placeLabels(map);
}

/** Labels for the largest places in view; more of them as one zooms in. */
async function placeLabels(map) {
  const places = await (await fetch(PLACES)).json();
  const layer = L.layerGroup().addTo(map);
  map.createPane("labels").style.zIndex = 390;
  // Largest first; a label that would overlap one already placed is left out.
  const draw = () => {
    layer.clearLayers();
    const b = map.getBounds().pad(0.05);
    const z = map.getZoom();
    const minPop = z < 5 ? 500000 : z < 7 ? 50000 : z < 9 ? 10000 : 0;
    const placed = [];
    for (const [name, lon, lat, pop, rank] of places) {
      if (placed.length >= 120) break;
      if ((pop < minPop && rank > 1) || !b.contains([lat, lon])) continue;
      const p = map.latLngToContainerPoint([lat, lon]);
      const box = [p.x - 4, p.y - 8, p.x + 8 + 6.5 * name.length, p.y + 8];
      if (placed.some((o) => box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3])) continue;
      placed.push(box);
      L.marker([lat, lon], {
        pane: "labels",
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: `place rank${rank}`, html: "", iconSize: [6, 6] }),
      })
        .bindTooltip(name, { permanent: true, direction: "right", className: "place-label", pane: "labels" })
        .addTo(layer);
    }
  };
  map.on("moveend zoomend", draw);
  draw();
  return { layer, places };
}
