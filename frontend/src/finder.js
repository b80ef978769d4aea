// "Go to": a place from the offline gazetteer or a zone by its name, typed as one says it. Names
// are matched without accents, apostrophes or doubled letters, so "Daraa" finds Dar‘ā and "izra"
// finds Izra‘.
import L from "./leaflet-global.js";
import { el } from "./dom.js";
import { zoneBounds } from "./layers.js";

const MAX_SHOWN = 8;

/** A name folded for matching: no accents, apostrophes or hyphens, lower case, no doubled letters. */
export function fold(s) {
  return s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[‘’ʿʾ'`]/g, "")
    .replace(/[-_,.()]/g, " ")
    .toLowerCase()
    .replace(/([a-z])\1+/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

/** Zones, then places, whose folded name holds the query: those where a word begins with it first,
 * then places ``near`` (in or around the view) before the rest of the world, each by population. */
export function matches(query, zones, places, near = () => false) {
  const q = fold(query);
  if (!q) return [];
  const score = (name) => {
    const f = fold(name);
    const at = f.indexOf(q);
    if (at < 0) return -1;
    return at === 0 ? 2 : f[at - 1] === " " ? 1 : 0;
  };
  const found = [];
  for (const z of zones) {
    const s = score(z.name);
    if (s >= 0) found.push({ kind: "zone", name: z.name, zone: z, score: s, pop: Infinity, detail: `${z.kind.replaceAll("_", " ")} zone, ${z.status.replaceAll("_", " ")}` });
  }
  for (const [name, lon, lat, pop] of places) {
    const s = score(name);
    if (s >= 0) found.push({ kind: "place", name, lat, lon, score: s, near: near(lat, lon), pop, detail: pop ? `place, ${pop.toLocaleString("en")} people` : "place" });
  }
  const first = (x) => (x ? -1 : 1);
  found.sort((a, b) => (a.kind === b.kind ? 0 : first(a.kind === "zone")) || b.score - a.score || (a.near === b.near ? 0 : first(a.near)) || b.pop - a.pop);
  return found.slice(0, MAX_SHOWN);
}

/** The control: a search box (an ARIA combobox) over the map's top left corner. */
export function finder(map, app) {
  const list = el("ul.finder-list", { id: "finder-list", role: "listbox", hidden: true });
  const input = el("input.finder-input", {
    type: "search",
    role: "combobox",
    "aria-label": "Go to a place or zone",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": "finder-list",
    placeholder: "Go to a place or zone",
    autocomplete: "off",
  });
  const box = el("div.finder.leaflet-bar", input, list);
  const mark = L.layerGroup().addTo(map);
  let shown = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (i) => {
    active = i;
    list.querySelectorAll("[role=option]").forEach((n, j) => n.setAttribute("aria-selected", String(j === i)));
    if (i >= 0) input.setAttribute("aria-activedescendant", `finder-${i}`);
  };
  const go = (m) => {
    close();
    input.value = m.name;
    mark.clearLayers();
    if (m.kind === "zone") {
      map.fitBounds(zoneBounds(m.zone), { maxZoom: 12, animate: false });
      return;
    }
    map.setView([m.lat, m.lon], Math.max(map.getZoom(), 11), { animate: false });
    L.circleMarker([m.lat, m.lon], { radius: 9, color: "#1f6fb2", weight: 3, fill: false, className: "found-place" })
      .bindTooltip(m.name, { permanent: true, direction: "top", offset: [0, -8] })
      .addTo(mark);
  };
  const show = () => {
    const around = map.getBounds().pad(1);
    shown = matches(input.value, app.data.zones || [], app.places || [], (lat, lon) => around.contains([lat, lon]));
    list.replaceChildren(
      ...(shown.length
        ? shown.map((m, i) =>
            el("li", { id: `finder-${i}`, role: "option", "aria-selected": "false", onmousedown: (ev) => (ev.preventDefault(), go(m)) },
              m.name, el("span.meta", ` ${m.detail}`)))
        : [el("li.none", input.value.trim() ? "Nothing of that name" : "")]),
    );
    list.hidden = !input.value.trim();
    input.setAttribute("aria-expanded", String(!list.hidden));
    highlight(shown.length ? 0 : -1);
  };
  input.addEventListener("input", show);
  input.addEventListener("blur", close);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (list.hidden) show();
      else if (shown.length) highlight((active + (ev.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length);
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      if (!list.hidden && active >= 0) go(shown[active]);
    } else if (ev.key === "Escape") {
      close();
    }
  });
  const control = L.control({ position: "topleft" });
  control.onAdd = () => {
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    return box;
  };
  return control;
}
