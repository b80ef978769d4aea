// Report an incident by clicking the map (ACLED's vocabulary), and an incident's detail.
import L from "./leaflet-global.js";
import { clear, el, field, numberOrNull, select, submitting } from "./dom.js";
import { base64Of, deliver, keep, outgoingEvidence, outgoingReport } from "./outbox.js";
import { human, iso } from "./time.js";

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
  const files = el("input", { type: "file", name: "evidence", multiple: true });
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
    field("Evidence (optional)", files, "Photographs or reports, attached once the incident is stored, each under its file name."),
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
      // the report is stored first: a file refused (too large, say) leaves it reported, and says so
      const item = outgoingReport(app.me.id, body, files.files);
      try {
        await deliver(app, item);
      } catch (e) {
        if (!e.unreachable) throw e; // refused: named on its fields
        // the link is down: the device keeps it (the form is cleared, so it is not made twice)
        await keep(app, item, e);
        form.reset();
        fillSubs();
        marker.remove();
        clear(result, el("p.kept", item.incident
          ? `Reported (${item.incident.status}), but the server cannot be reached now: its files are kept on this device (Outbox) and attached as soon as the link is back.`
          : "The server cannot be reached: the report is kept on this device (Outbox), with its files, and sent as soon as the link is back. It will not be stored twice."));
        return;
      }
      const { incident: i, attached, refused } = item;
      files.value = "";
      clear(result, 
        el("p.ok", `Reported: ${i.sub_event_type} at ${i.location.name || "the point"} on ${i.event_date} (${i.status}).`),
        i.possible_violation_of.length ? el("p", `A possible violation of ${i.possible_violation_of.map((z) => z.zone_name).join(", ")}.`) : null,
        attached.length ? el("p.evidence-attached", `Evidence attached: ${attached.join(", ")}.`) : null,
        refused.length ? el("div.form-error.evidence-refused", "Not attached (the incident is stored; attach them again from its page): ", el("ul", refused.map((r) => el("li", r)))) : null,
        // straight to it: the map is picking a point for this form, so a map click is not what opens it
        el("button.link", { type: "button", onclick: () => app.show("incident-detail", incidentDetail(app, i)) }, "Open its page"),
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

const words = (s) => String(s).replaceAll("_", " ");
const STEP_LABELS = { review: "Take up for review", verify: "Verify", reject: "Reject", dispute: "Dispute" };

export function incidentTitle(i) {
  return `${i.sub_event_type || i.event_type}${i.location?.name ? `, ${i.location.name}` : ""}`;
}

/** An incident's page: the record, its sources, its verification so far, and what the caller may do
 * with it now — take a step, merge likely duplicates into it, undo a merge. */
export function incidentDetail(app, i) {
  const node = el("section.panel.incident-page", { "aria-busy": "true" }, el("h2", { tabindex: "-1" }, incidentTitle(i)), el("p", "Loading…"));
  loadIncident(app, i.id, node).catch((e) => node.replaceChildren(el("h2", { tabindex: "-1" }, incidentTitle(i)), el("p.form-error", e.message)));
  return { node };
}

async function loadIncident(app, id, node) {
  const i = await app.api.get(`/v1/incidents/${id}`);
  const again = async (said) => {
    app.toast(said);
    await Promise.all([app.loadIncidents(), loadIncident(app, id, node)]);
  };
  const others = i.you_may_merge ? await app.api.get(`/v1/incidents/${id}/duplicates`).catch(() => []) : [];
  clear(node,
    el("h2", { tabindex: "-1" }, incidentTitle(i)),
    el("p.meta", `${words(i.status)} · ${i.dataset === "truceline" ? "reported here" : `${i.dataset.toUpperCase()} ${i.external_id || ""}`}`),
    i.merged_into
      ? el("p.hint", "Merged into another record, which is the one verified. ", el("button.link", { type: "button", onclick: () => app.openIncident({ id: i.merged_into, event_type: "Incident" }) }, "Open it"))
      : null,
    el("dl",
      el("dt", "Date"), el("dd", i.date_end && i.date_end !== i.event_date ? `${i.event_date} – ${i.date_end}` : i.event_date),
      el("dt", "Type"), el("dd", `${i.event_type} / ${i.sub_event_type}`),
      el("dt", "Actors"), el("dd", [i.actor1?.name, i.actor2?.name].filter(Boolean).join(" v. ")),
      el("dt", "Fatalities"), el("dd", fatalities(i.fatalities)),
      el("dt", "Reported by"), el("dd", i.reported_by?.name || i.dataset),
      el("dt", "Alleged against"), el("dd", i.alleged.map((p) => p.name).join(", ") || "—"),
      el("dt", "Zones"), el("dd.zones", zoneLinks(app, i.zones) || "none"),
      el("dt", "Possible violation of"), el("dd", zoneLinks(app, i.possible_violation_of) || "—"),
    ),
    i.notes ? el("p", i.notes) : null,
    el("h3", "Sources"),
    el("ul.plain.sources", i.sources.map((x) => el("li", el("strong", x.name), x.scale ? ` (${x.scale})` : "", x.notes ? ` — ${x.notes}` : ""))),
    el("h3", "Evidence"),
    i.evidence.length
      ? el("ul.plain.evidence", i.evidence.map((x) => el("li",
          el("strong", x.resourceDesc), ` (${x.mimeType}, ${size(x.size)}) · ${x.added_by?.name || "?"} · ${human(x.added_at)} `,
          el("button.link", { type: "button", onclick: () => app.api.download(x.uri, undefined, { accept: x.mimeType, name: `evidence-${x.id}` }).catch((e) => app.toast(`Evidence: ${e.message}`)) }, "Download"),
          el("div.hint", `SHA-256 ${x.sha256}`))))
      : el("p.hint", "No evidence attached."),
    app.me.role === "officer" || app.me.role === "monitor" ? evidenceForm(app, i, again) : null,
    el("h3", "Verification"),
    i.steps.length
      ? el("ol.history.steps", i.steps.map((x) => el("li", el("strong", words(x.step)), ` by ${x.party?.name || "?"} · ${human(x.at)} · ${words(x.from)} → ${words(x.to)}`, x.statement ? el("div", `“${x.statement}”`) : null)))
      : el("p.hint", "No step taken yet."),
    stepForm(app, i, again),
    i.you_may_merge ? duplicatesForm(app, i, others, again) : null,
    i.merged.length ? mergedList(app, i, again) : null,
  );
  node.removeAttribute("aria-busy");
  const at = L.latLng(i.location.latitude, i.location.longitude);
  if (!app.map.getBounds().contains(at)) app.map.panTo(at);
}

/** The zones named, each a link to its page; null when none. */
function zoneLinks(app, zones) {
  if (!zones.length) return null;
  return zones.flatMap((z, k) => [k ? ", " : "", el("button.link", { type: "button", onclick: () => app.openZone(z.zone_id) }, z.zone_name || z.zone_id)]);
}

function fatalities(f) {
  if (!f) return "0";
  return f.low !== f.best || f.high !== f.best ? `${f.best} (${f.low}–${f.high})` : String(f.best);
}

const size = (n) => (n < 10_000 ? `${n.toLocaleString("en")} bytes` : n < 1_048_576 ? `${Math.round(n / 1024)} kB` : `${(n / 1_048_576).toFixed(1)} MB`);

/** Attach a file (a photograph, a report) to the incident, saying what it is. */
function evidenceForm(app, i, again) {
  const file = el("input", { type: "file", name: "derefUri" });
  const desc = el("input", { name: "resourceDesc", maxlength: 300, placeholder: "e.g. photograph of the crater, 09:40" });
  const form = el("form.evidence-form", { novalidate: true }, el("div.form-error", { role: "alert" }),
    field("File", file), field("What it is", desc), el("button", { type: "submit" }, "Attach"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const chosen = file.files[0];
      const body = { resourceDesc: desc.value, mimeType: chosen?.type || "application/octet-stream", derefUri: chosen ? await base64Of(chosen) : "" };
      const item = chosen && desc.value.trim() ? outgoingEvidence(app.me.id, i, incidentTitle(i), chosen, desc.value) : null;
      let done;
      try {
        done = await app.api.post(`/v1/incidents/${i.id}/evidence`, body, { key: item?.files[0].key });
      } catch (e) {
        if (!item || !e.unreachable) throw e;
        // the link is down: the device keeps the file and attaches it, with this key, once it is back
        await keep(app, item, e);
        form.reset();
        form.querySelector(".form-error").replaceChildren(el("p.kept", `The server cannot be reached: ${chosen.name} is kept on this device (Outbox) and attached as soon as the link is back.`));
        return;
      }
      await again(`Evidence attached: ${done.evidence.resourceDesc} (SHA-256 ${done.evidence.sha256.slice(0, 12)}…)`);
    });
  });
  return form;
}

/** The verification steps open to the caller now, one button each, with a statement. */
function stepForm(app, i, again) {
  if (!i.your_steps.length) return null;
  const statement = el("textarea", { name: "statement", rows: 2 });
  const form = el("form.steps", { novalidate: true }, el("div.form-error", { role: "alert" }),
    field(i.your_steps.some((x) => x.needs_statement) ? "Statement (why; needed to verify, reject or dispute)" : "Statement", statement));
  const take = (step) => (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const done = await app.api.post(`/v1/incidents/${i.id}/steps`, { step, statement: statement.value, version: i.version });
      await again(`${STEP_LABELS[step]}: the incident is now ${words(done.status)}`);
    });
  };
  form.append(el("div.buttons", i.your_steps.map((x) => el(x.step === "reject" || x.step === "dispute" ? "button.danger" : "button", { type: "submit", onclick: take(x.step) }, STEP_LABELS[x.step] || words(x.step)))));
  return form;
}

/** Records that may be the same event, with the reasons; the chosen ones are merged into this one. */
function duplicatesForm(app, i, found, again) {
  if (!found.length) return el("div", el("h3", "Possible duplicates"), el("p.hint", "None found nearby on these dates."));
  const statement = el("textarea", { name: "statement", rows: 2 });
  const boxes = found.map((c) => el("input", { type: "checkbox", name: "duplicates", value: c.incident.id }));
  const form = el("form.duplicates", { novalidate: true },
    el("h3", "Possible duplicates"),
    el("div.form-error", { role: "alert" }),
    el("ul.plain", found.map((c, k) => {
      const d = c.incident;
      return el("li", el("label", boxes[k], ` ${d.event_date} · ${incidentTitle(d)} · ${d.reported_by?.name || `${d.dataset.toUpperCase()} ${d.external_id || ""}`} · ${words(d.status)}`),
        el("div.hint", c.reasons.join("; ")));
    })),
    field("Statement", statement),
    el("button", { type: "submit" }, "Merge the chosen into this record"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const chosen = boxes.filter((b) => b.checked).map((b) => b.value);
    submitting(form, async () => {
      await app.api.post(`/v1/incidents/${i.id}/merge`, { duplicates: chosen, statement: statement.value });
      await again(`Merged ${chosen.length} record${chosen.length === 1 ? "" : "s"} into this one`);
    });
  });
  return form;
}

/** The duplicates merged into this record, each with its sources; a monitor can undo a merge. */
function mergedList(app, i, again) {
  const statement = el("textarea", { name: "statement", rows: 2 });
  const form = el("form.merged", { novalidate: true }, el("h3", "Merged duplicates"), el("div.form-error", { role: "alert" }));
  const undo = (m) => (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      await app.api.post(`/v1/incidents/${i.id}/unmerge`, { duplicate: m.id, statement: statement.value });
      await again("The record stands alone again");
    });
  };
  form.append(
    el("ul.plain", i.merged.map((m) => el("li",
      `${m.reported_by?.name || `${m.dataset.toUpperCase()} ${m.external_id || ""}`}: ${m.sources.map((x) => x.name).join(", ")} `,
      i.you_may_merge ? el("button.link", { type: "submit", onclick: undo(m) }, "Unmerge") : null))),
    i.you_may_merge ? field("Statement (why they are separate events)", statement) : null,
  );
  return form;
}
