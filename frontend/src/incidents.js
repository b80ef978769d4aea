// The incidents reported and imported, as a list: a monitor's queue of reports waiting to be taken up,
// a zone's incidents over a month, one found again by its place or actor. On the map they show only
// for the 7 days to the moment, and only where one looks.
import { el, field, findControls, folded, select, submitting } from "./dom.js";
import { incidentDetail, incidentTitle } from "./incident.js";
import { hex } from "./signing.js";

const PAGE = 200; // the newest this many match: narrower dates show older ones
// the verification statuses (domain.incidents.Verification); "waiting" is reported or under review
const STATUSES = [["", "any status"], ["waiting", "waiting for a monitor"], ["reported", "reported"], ["under_review", "under review"],
  ["verified", "verified"], ["disputed", "disputed"], ["rejected", "rejected"]];
const words = (s) => String(s).replaceAll("_", " ");

/** ``preset.zone``: opened from a zone's page, on that zone's incidents of every status. */
export function incidentsPanel(app, preset = {}) {
  // every date at first: a report waiting for a monitor is in the queue whatever the map's moment
  const kept = ((app.finds ||= {}).incidentDates ||= { from: "", to: "", zone: "" });
  if (preset.zone) {
    Object.assign(kept, { from: "", to: "", zone: preset.zone });
    app.finds.incidents = { query: "", choice: "" };
  }
  // a monitor opens the panel on its queue; everyone else on every incident
  const find = findControls(app, "incidents", { find: "Find an incident", placeholder: "e.g. Daraa, shelling, SAA", choose: "Status",
    options: STATUSES, initial: app.me.role === "monitor" ? "waiting" : "" }, () => (status() === asked ? render() : load()));
  const from = el("input", { type: "date", name: "from", value: kept.from });
  const to = el("input", { type: "date", name: "to", value: kept.to });
  const zone = select("zone", [["", "any zone"], ...[...app.data.zones].sort((a, b) => a.name.localeCompare(b.name)).map((z) => [z.id, z.name])], kept.zone);
  const shown = el("p.hint.incident-count", { role: "status" });
  const error = el("div.form-error", { role: "alert" });
  const list = el("ol.cards");
  let items = [];
  let full = false;
  let asked = null; // the status the list was read for
  const status = () => app.finds.incidents.choice;

  const render = () => {
    const chosen = items.filter((i) => find.matches(folded(
      [incidentTitle(i), i.event_type, i.actor1?.name, i.actor2?.name, i.location.admin1, i.location.admin2, i.notes,
        ...i.sources.map((x) => x.name), ...i.alleged.map((p) => p.name), ...i.zones.map((z) => z.zone_name)].filter(Boolean).join(" "),
    ), status())); // the status is chosen on the server
    shown.textContent = `${chosen.length} of ${items.length} incident${items.length === 1 ? "" : "s"}${full ? ` (the newest ${PAGE}; narrow the dates to see older ones)` : ""}.`;
    if (!chosen.length) {
      list.replaceChildren(el("li.empty", items.length ? "No incident matches." : "No incident matches these filters."));
      return;
    }
    list.replaceChildren(...chosen.map((i) => card(app, i)));
  };

  // what the list and the downloads ask the server for
  const query = () => ({
    status: status() === "waiting" ? ["reported", "under_review"] : status() || undefined,
    from: from.value || undefined, to: to.value || undefined, zone: zone.value || undefined,
  });
  const load = async () => {
    kept.from = from.value;
    kept.to = to.value;
    kept.zone = zone.value;
    asked = status();
    node.setAttribute("aria-busy", "true");
    error.replaceChildren();
    try {
      items = await app.api.get("/v1/incidents", { ...query(), limit: PAGE }); // newest first
      full = items.length === PAGE;
      render();
    } catch (e) {
      // a date the server refuses (to before from) is said here, and the last list stays
      error.replaceChildren(e.message);
    } finally {
      node.removeAttribute("aria-busy");
    }
  };
  for (const c of [from, to, zone]) c.addEventListener("change", load);

  const node = el("section.panel.incidents",
    el("h2", { tabindex: "-1" }, "Incidents"),
    el("p.hint", "Reports and imported records by the date they happened. Monitors take the reported ones up, then verify or reject them; a party alleged against may dispute them."),
    find.node,
    el("div.row", field("From (optional)", from), field("To (optional)", to)),
    field("Zone", zone),
    error,
    el("div.buttons",
      el("button.link", { type: "button", title: "ACLED's 31 columns: every incident these filters choose", onclick: () => save("csv") }, "Download as ACLED CSV"),
      el("button.link", { type: "button", title: "For a GIS: every incident these filters choose", onclick: () => save("geojson") }, "Download as GeoJSON")),
    shown,
    list,
    IMPORTERS.has(app.me.role) ? importForm(app, () => load()) : null);
  // every incident the filters choose (the words narrow only the list on the page)
  const save = (format) => app.api
    .download("/v1/incidents/export", { ...query(), format }, { accept: format === "csv" ? "text/csv" : "application/geo+json", name: `incidents.${format}` })
    .catch((e) => app.toast(`Download: ${e.message}`));
  load();
  return { node, refresh: load };
}

// roles that may import incident data (services.access: incident.import)
const IMPORTERS = new Set(["monitor", "admin"]);

/** A partner's data file (ACLED or UCDP GED CSV) imported from the page: the rows the server refuses
 * are listed by line, row and column, the good ones kept; a file sent twice adds nothing. */
function importForm(app, reload) {
  const file = el("input", { type: "file", name: "file", accept: ".csv,text/csv" });
  const format = select("format", [["acled", "ACLED (31 columns)"], ["ucdp", "UCDP GED (49 columns)"]], "acled");
  const result = el("div.results.import-result", { "aria-live": "polite" });
  const form = el("form.import", { novalidate: true },
    el("h3", "Import incidents"), el("div.form-error", { role: "alert" }),
    field("CSV file", file, "Rows already imported (the same dataset and source id) are left as they are."),
    field("Format", format),
    el("button", { type: "submit" }, "Import"),
    result);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const chosen = file.files[0];
      if (!chosen) {
        form.querySelector(".form-error").textContent = "Choose a CSV file first.";
        return;
      }
      const bytes = await chosen.arrayBuffer();
      const sha256 = hex(await crypto.subtle.digest("SHA-256", bytes));
      const r = await app.api.request("POST", "/v1/incidents/import", { params: { format: format.value }, file: { bytes, type: "text/csv", sha256 } });
      const problems = r.problems.map((p) => el("li", `line ${p.line} (row ${p.row}), ${p.column || "the row"}: ${p.detail}`));
      result.replaceChildren(
        el("p.ok", `${chosen.name}: ${r.rows} row${r.rows === 1 ? "" : "s"}, ${r.inserted} new, ${r.unchanged} already imported, ${r.rejected} refused.`),
        problems.length ? el("div.form-error", "Refused:", el("ul", problems), r.problems_truncated ? el("p", "(the first of them)") : null) : null);
      file.value = "";
      reload();
      app.loadIncidents();
    });
  });
  return form;
}

function card(app, i) {
  const fatal = i.fatalities?.best || 0;
  return el("li.card", { dataset: { incident: i.id }, class: `card${i.status === "reported" ? " now" : ""}` },
    el("div.card-head", el("span", { class: `badge status-${i.status}` }, words(i.status)), el("span.rule", i.event_type),
      i.possible_violation_of.length ? el("span.badge.overdue", "possible violation") : null),
    el("button.link", { type: "button", onclick: () => app.show("incident-detail", incidentDetail(app, i)) }, incidentTitle(i)),
    el("p.meta", [
      i.event_date,
      [i.actor1?.name, i.actor2?.name].filter(Boolean).join(" v. "),
      `${fatal} fatalit${fatal === 1 ? "y" : "ies"}`,
      i.reported_by ? `reported by ${i.reported_by.name}` : i.dataset.toUpperCase(),
    ].filter(Boolean).join(" · ")),
    i.possible_violation_of.length ? el("p.meta", `Possible violation of ${i.possible_violation_of.map((z) => z.zone_name).join(", ")}`) : null,
    el("button.link", { type: "button", onclick: () => showOnMap(app, i) }, "Show on map"));
}

/** The map at the incident's place and day: its marker shows (incidents show for the 7 days to the moment). */
function showOnMap(app, i) {
  app.setMoment(Date.parse(`${i.event_date}T12:00:00Z`));
  app.map.setView([i.location.latitude, i.location.longitude], Math.max(app.map.getZoom(), 10), { animate: false });
}
