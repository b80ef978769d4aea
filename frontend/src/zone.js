// A zone's page (negotiation history, responsibilities, sign-off, revision diff, ceasefire chart), and
// proposing or revising a zone by drawing.
import L from "./leaflet-global.js";
import { drawShape, polygonGeoJSON, shapeFromFile, stopDrawing } from "./draw.js";
import { clear, downloadButton, el, field, findControls, folded, select, submitting } from "./dom.js";
import { newThreadPanel, SENDERS } from "./inbox.js";
import { incidentsPanel } from "./incidents.js";
import { fromLocalInput, human, iso, sendTime, toLocalInput } from "./time.js";
import { KIND_COLOURS, altitude, describeHours, zoneBounds, zoneStyle } from "./layers.js";
import { rulesFields } from "./rules.js";

const words = (s) => String(s).replaceAll("_", " ");
// Statuses in which signatories may still revise a zone (domain.states.REVISABLE); once in force it is fixed.
const REVISABLE = ["proposed", "negotiating", "agreed_in_principle"];

export function zonePanel(app, id) {
  const node = el("section.panel.zone-page", { "aria-busy": "true" }, el("h2", { tabindex: "-1" }, "Zone"), el("p", "Loading…"));
  const panel = {
    node,
    cleanup: () => app.map.pm.disableGlobalEditMode(),
    /** Another party changed this zone while its page is open: say so, and reload on request (a form
     * half filled in is not swept away). */
    changed(news) {
      if (news.zone.id !== id || news.by?.id === app.me.id) return;
      let notice = node.querySelector(".notice");
      if (!notice) {
        notice = el("div.notice", { role: "status" }, el("strong", "Changed since you opened it:"), el("ul.plain"),
          el("button.link", { type: "button", onclick: () => app.openZone(id) }, "Show it now"));
        node.querySelector("h2")?.after(notice);
      }
      notice.querySelector("ul").append(el("li", news.summary));
    },
  };
  load(app, id, node).catch((e) => node.replaceChildren(el("h2", { tabindex: "-1" }, "Zone"), el("p.form-error", e.message)));
  return panel;
}

async function load(app, id, node) {
  const n = await app.api.get(`/v1/zones/${id}/negotiation`);
  const z = n.zone;
  app.data.zones = app.data.zones.map((x) => (x.id === z.id ? z : x));
  const chart = el("figure.chart", el("figcaption", "Ceasefire, day by day"), el("p.hint", "Loading the chart…"));
  clear(node, 
    el("h2", { tabindex: "-1" }, z.name),
    el("p.meta", `${words(z.kind)} · ${words(z.status)} · revision ${z.revision}`),
    el("dl",
      el("dt", "In effect"), el("dd", `${human(z.effective_from)} – ${z.effective_until ? human(z.effective_until) : "until further notice"}`),
      z.schedule ? [el("dt", "Hours"), el("dd.hours", describeHours(z.schedule))] : null,
      el("dt", "Altitude"), el("dd.band", zoneBand(app, z)),
      z.standoff_m ? [el("dt", "Stand-off"), el("dd", `${Math.round(z.standoff_m).toLocaleString("en")} m beyond its edge`)] : null,
      z.separation_m || z.vertical_separation_m
        ? [el("dt", "Live tracks inside"), el("dd", `at least ${[z.separation_m && `${Math.round(z.separation_m).toLocaleString("en")} m apart`, z.vertical_separation_m && `${Math.round(z.vertical_separation_m).toLocaleString("en")} m vertically`].filter(Boolean).join(" and ")}`)]
        : null,
      el("dt", "Forbids"), el("dd", z.forbidden_kinds.map(words).join(", ") || "nothing"),
      el("dt", "Signatories"), el("dd", z.signatories.map((p) => p.name).join(", ")),
    ),
    statusMoves(app, n),
    el("div.buttons",
      SENDERS.has(app.me.role) ? raiseOnHotline(app, z) : null,
      el("button", { type: "button", onclick: () => app.show("incidents", incidentsPanel(app, { zone: z.id })) }, "Its incidents"),
      el("button", {
        type: "button", title: "The situation report of the day the map shows, for this zone (HTML; it prints to PDF)",
        onclick: () => {
          const date = iso(app.moment).slice(0, 10);
          app.api.download("/v1/sitrep", { date, zone: z.id }, { accept: "text/html", name: `sitrep-${date}-${z.id}.html` }).catch((e) => app.toast(`Day report: ${e.message}`));
        },
      }, "Its day report")),
    responsibilities(app, n),
    signOff(app, n),
    documentsSection(app, n),
    el("h3", "Negotiation history"),
    el("ol.history", n.revisions.map((r) => el("li", el("strong", `Revision ${r.revision}`), ` by ${app.partyName(r.author)} · ${human(r.created_at)}`, r.rationale ? el("div", r.rationale) : null))),
    el("ul.plain.positions", n.positions.map((p) => el("li", `${human(p.at)} · ${p.party.name}: ${words(p.position)} on revision ${p.revision}`, p.statement ? ` — “${p.statement}”` : ""))),
    n.revisions.length > 1 ? diffPicker(app, z, n.revisions) : null,
    z.geometry.type !== "Point" && REVISABLE.includes(z.status) && z.signatories.some((p) => p.id === app.me.id) ? reviseBoundary(app, z) : null,
    REVISABLE.includes(z.status) && z.signatories.some((p) => p.id === app.me.id) ? reviseRules(app, z) : null,
    chart,
    z.description ? el("details", el("summary", "About this zone"), el("p", z.description)) : null,
  );
  node.removeAttribute("aria-busy");
  app.map.fitBounds(zoneBounds(z), { maxZoom: 10, padding: [30, 30] });
  try {
    const svg = await app.api.text(`/v1/zones/${z.id}/ceasefire`, { format: "svg" }, "image/svg+xml");
    const url = URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" }));
    chart.replaceChildren(el("figcaption", "Ceasefire, day by day"), el("img", { src: url, alt: `Ceasefire timeline chart for ${z.name}` }));
  } catch (e) {
    chart.replaceChildren(el("figcaption", "Ceasefire, day by day"), el("p.hint", e.message));
  }
}

/** A zone's band in words: its default ends read "the ground" and "no ceiling". */
function zoneBand(app, z) {
  const band = app.config.zone_default_band;
  const low = z.altitude_lower.value === band.lower.value ? "the ground" : altitude(z.altitude_lower);
  const high = z.altitude_upper.value === band.upper.value ? "no ceiling" : altitude(z.altitude_upper);
  return `${low} – ${high}`;
}

/** A new hotline thread about the zone, to its signatories and the parties responsible for it. */
function raiseOnHotline(app, z) {
  const parties = new Set([...z.signatories.map((p) => p.id), ...z.responsible.map((r) => r.party_id)]);
  parties.delete(app.me.id);
  return el("button", {
    type: "button",
    title: "A new thread to its signatories and the parties responsible for it",
    onclick: () => app.show("new-thread", newThreadPanel(app, { parties: [...parties], subject: z.name, zone: z })),
  }, "New thread about it");
}

/** After a change to the zone: say what happened, reload the picture, and show the zone's page anew. */
async function reopen(app, z, said) {
  app.toast(said);
  await app.loadAll();
  app.openZone(z.id);
}

const MOVES = {
  suspended: ["Suspend", "Click again to suspend it: its rules stop applying"],
  in_force: ["Resume", "Click again to put it back in force"],
  lapsed: ["Lapse", "Click again to end it for good"],
  withdrawn: ["Withdraw", "Click again to withdraw the proposal for good"],
};

/** A signatory's moves by hand (suspend, resume, lapse, withdraw), with the reason, two clicks each. */
function statusMoves(app, n) {
  if (!n.status_moves.length) return null;
  const z = n.zone;
  const reason = el("textarea", { name: "rationale", rows: 2 });
  const form = el("form.status-moves", { novalidate: true }, el("h3", "Status"), el("div.form-error", { role: "alert" }), field("Reason (kept in the audit log)", reason));
  const buttons = n.status_moves.map((to) => {
    const [label, again] = MOVES[to] || [words(to), `Click again: ${words(to)}`];
    const b = el(to === "in_force" ? "button" : "button.danger", { type: "button", dataset: { label } }, label);
    b.addEventListener("click", () => {
      if (!b.dataset.armed) {
        for (const other of buttons) {
          delete other.dataset.armed;
          other.textContent = other.dataset.label;
        }
        b.dataset.armed = "true";
        b.textContent = again;
        return;
      }
      submitting(form, async () => {
        const res = await app.api.patch(`/v1/zones/${z.id}`, { status: to, rationale: reason.value || undefined });
        await reopen(app, z, `${z.name}: ${words(res.zone.status)}${res.activities_in_conflict ? ` · ${res.activities_in_conflict} activities in conflict with it` : ""}`);
      });
    });
    return b;
  });
  form.append(el("div.buttons", buttons));
  return form;
}

/** Who guarantees, polices and monitors the zone; the party asked answers here, and a signatory asks. */
function responsibilities(app, n) {
  const z = n.zone;
  const mine = n.open_responsibilities.filter((r) => r.party_id === app.me.id);
  const list = el("ul.plain.responsibilities", z.responsible.length
    ? z.responsible.map((r) => el("li", `${r.party_name}: ${words(r.role)} (${words(r.status)})`, r.statement ? ` — “${r.statement}”` : ""))
    : el("li", "None yet."));
  const others = n.open_responsibilities.length - mine.length;
  const answer = mine.map((r) => {
    const statement = el("textarea", { name: "statement", rows: 2 });
    const form = el("form.answer", { novalidate: true },
      el("p", el("strong", `${app.me.name} is asked to be ${words(r.role)}`), r.requested_by ? ` by ${app.partyName(r.requested_by)}` : ""),
      el("div.form-error", { role: "alert" }), field("Statement (needed to decline)", statement));
    const reply = (verdict) => (ev) => {
      ev.preventDefault();
      submitting(form, async () => {
        await app.api.post(`/v1/zones/${z.id}/responsibilities/${r.id}/${verdict}`, { statement: statement.value });
        await reopen(app, z, `${z.name}: ${verdict === "accept" ? "accepted" : "declined"} as ${words(r.role)}`);
      });
    };
    form.append(el("div.buttons", el("button", { type: "submit", onclick: reply("accept") }, "Accept"), el("button.danger", { type: "submit", onclick: reply("decline") }, "Decline")));
    return form;
  });
  return el("div",
    el("h3", "Responsibilities"), list,
    others > 0 ? el("p.hint", `${others} awaiting another party's answer.`) : null,
    answer,
    z.signatories.some((p) => p.id === app.me.id) && n.zone.status !== "lapsed" && n.zone.status !== "withdrawn" ? askForm(app, z) : null,
  );
}

function askForm(app, z) {
  const party = select("party", app.data.parties.map((p) => [p.id, p.name]));
  const role = select("role", ["guarantor", "police", "monitor"], "monitor");
  const form = el("form.ask", { novalidate: true }, el("div.form-error", { role: "alert" }),
    el("div.row", field("Ask party", party), field("to be", role)), el("button", { type: "submit" }, "Ask"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      await app.api.post(`/v1/zones/${z.id}/responsibilities`, { party: party.value, role: role.value });
      await reopen(app, z, `${z.name}: asked ${party.selectedOptions[0].textContent} to be ${role.value}`);
    });
  });
  return form;
}

function signOff(app, n) {
  const z = n.zone;
  const inPrinciple = n.awaiting_in_principle.some((p) => p.id === app.me.id);
  const final = n.awaiting_final.some((p) => p.id === app.me.id);
  const awaiting = el("p.meta", `Awaiting in principle: ${n.awaiting_in_principle.map((p) => p.name).join(", ") || "nobody"} · awaiting final: ${n.awaiting_final.map((p) => p.name).join(", ") || "nobody"}`);
  if (!inPrinciple && !final) return el("div", el("h3", "Sign-off"), awaiting);
  const statement = el("textarea", { name: "statement", rows: 2 });
  const form = el("form.signoff", { novalidate: true }, el("h3", "Sign-off"), awaiting, el("div.form-error", { role: "alert" }), field(`Statement on revision ${z.revision}`, statement));
  const act = (path, strength) => (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const body = { revision: z.revision, statement: statement.value, ...(strength ? { strength } : {}) };
      await app.api.post(`/v1/zones/${z.id}/${path}`, body);
      await reopen(app, z, strength ? `Signed revision ${z.revision} (${words(strength)})` : `Objected to revision ${z.revision}`);
    });
  };
  form.append(
    el("div.buttons",
      inPrinciple ? el("button", { type: "submit", onclick: act("signoffs", "in_principle") }, "Sign in principle") : null,
      el("button", { type: "submit", onclick: act("signoffs", "final") }, "Sign final"),
      el("button.danger", { type: "submit", onclick: act("objections", null) }, "Object"),
    ),
  );
  return form;
}

// A zone's documents (the rules of a buffer, a memorandum): read by every party, attached, revised
// and signed or refused by its signatories, each version on its own, as the zone's revisions are.
function documentsSection(app, n) {
  const z = n.zone;
  const signatory = app.me.role === "officer" && z.signatories.some((p) => p.id === app.me.id);
  const items = n.documents.map((d) => el("li.document", { dataset: { document: d.id } },
    el("strong", d.title), ` · version ${d.version} · ${human(d.updated_at)}`,
    el("div.meta", d.unsigned_by.length ? `To sign final: ${d.unsigned_by.map((p) => p.name).join(", ")}` : "Signed final by every signatory"),
    el("details", el("summary", "Read it"), el("pre.document-body", d.body)),
    d.positions.length
      ? el("ul.plain.positions", d.positions.map((p) => el("li", `${human(p.at)} · ${p.party.name}: ${words(p.position)} on version ${p.revision}`, p.statement ? ` — “${p.statement}”` : "")))
      : null,
    signatory ? documentActions(app, z, d) : null));
  return [
    el("h3", "Documents"),
    items.length ? el("ol.plain.documents", items) : el("p.hint", "None attached."),
    signatory ? attachDocument(app, z) : null,
  ];
}

function documentActions(app, z, d) {
  const statement = el("textarea", { name: "statement", rows: 2 });
  const form = el("form.document-signoff", { novalidate: true }, el("div.form-error", { role: "alert" }), field(`Statement on version ${d.version}`, statement));
  const act = (path, strength) => (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      await app.api.post(`/v1/zones/${z.id}/documents/${d.id}/${path}`, { version: d.version, statement: statement.value, ...(strength ? { strength } : {}) });
      await reopen(app, z, strength ? `${d.title}: signed version ${d.version} (${words(strength)})` : `${d.title}: objected to version ${d.version}`);
    });
  };
  form.append(el("div.buttons",
    el("button", { type: "submit", onclick: act("signoffs", "in_principle") }, "Sign this document in principle"),
    el("button", { type: "submit", onclick: act("signoffs", "final") }, "Sign this document final"),
    el("button.danger", { type: "submit", onclick: act("objections", null) }, "Object to this document")));
  // a new version: the one read is the one replaced (409 if someone revised it first)
  const title = el("input", { name: "title", value: d.title, maxlength: 300 });
  const body = el("textarea", { name: "body", rows: 8 }, d.body);
  const revise = el("form.document-revise", { novalidate: true }, el("div.form-error", { role: "alert" }),
    field("Title", title), field("Text (markdown)", body), el("button", { type: "submit" }, "Save its new version"));
  revise.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(revise, async () => {
      const done = await app.api.request("PATCH", `/v1/zones/${z.id}/documents/${d.id}`, { body: { version: d.version, title: title.value, body: body.value } });
      await reopen(app, z, `${done.title}: version ${done.version}; earlier signatures no longer count`);
    });
  });
  return [form, el("details.revise-document", el("summary", "Revise it"), revise)];
}

function attachDocument(app, z) {
  const title = el("input", { name: "title", required: true, maxlength: 300 });
  const body = el("textarea", { name: "body", rows: 6 });
  const file = el("input", { type: "file", accept: ".md,.txt,text/markdown,text/plain" });
  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    body.value = await f.text();
    if (!title.value) title.value = f.name.replace(/\.(md|txt)$/i, "");
  });
  const form = el("form.attach-document", { novalidate: true }, el("div.form-error", { role: "alert" }),
    field("Title", title), field("Text (markdown)", body), field("Or read it from a file", file),
    el("button", { type: "submit" }, "Attach the document"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const done = await app.api.post(`/v1/zones/${z.id}/documents`, { title: title.value, body: body.value });
      await reopen(app, z, `${done.title} attached: every signatory is asked to sign it`);
    });
  });
  return el("details.attach", el("summary", "Attach a document"), form);
}

function diffPicker(app, z, revisions) {
  const opts = revisions.map((r) => [String(r.revision), `revision ${r.revision}`]);
  const a = select("a", opts, String(revisions[revisions.length - 2].revision));
  const b = select("b", opts, String(revisions[revisions.length - 1].revision));
  const out = el("div.results", { "aria-live": "polite" });
  const show = async () => {
    try {
      const d = await app.api.get(`/v1/zones/${z.id}/revisions/${a.value}/diff/${b.value}`);
      app.overlays.scratch.clearLayers();
      L.geoJSON(d.removed, { style: () => ({ color: "#b03a2e", fillColor: "#e74c3c", fillOpacity: 0.45, weight: 1 }) }).addTo(app.overlays.scratch);
      L.geoJSON(d.added, { style: () => ({ color: "#1e8449", fillColor: "#2ecc71", fillOpacity: 0.45, weight: 1 }) }).addTo(app.overlays.scratch);
      clear(out, 
        el("p", el("span.swatch.added"), ` added ${d.added_km2} km² · `, el("span.swatch.removed"), ` removed ${d.removed_km2} km²`),
        d.rule_changes.length ? el("ul.plain", d.rule_changes.map((c) => el("li", change(c)))) : null,
      );
    } catch (e) {
      out.replaceChildren(el("p.form-error", e.message));
    }
  };
  return el("div.diff", el("h3", "What changed between revisions"), el("div.row", field("From", a), field("To", b)), el("button", { type: "button", onclick: show }, "Show the difference on the map"), out);
}

function change(c) {
  const show = (v) => (Array.isArray(v) ? v.map(words).join(", ") || "none" : typeof v === "object" && v ? altitude(v) : String(v));
  return c.from === null && c.to === null ? `${words(c.field)} changed` : `${words(c.field)}: ${show(c.from)} → ${show(c.to)}`;
}

function reviseBoundary(app, z) {
  const rationale = el("textarea", { name: "rationale", rows: 2 });
  const form = el("form.revise", { novalidate: true, hidden: true }, el("div.form-error", { role: "alert" }), el("p.hint", "Drag the corners on the map, then save."), field("Why this revision", rationale), el("button.primary", { type: "submit" }, "Save as a new revision"));
  let editing = null;
  const start = el("button", { type: "button" }, "Revise the boundary");
  start.addEventListener("click", () => {
    app.overlays.scratch.clearLayers();
    editing = L.geoJSON(z.geometry, { style: () => ({ ...zoneStyle(z, true), dashArray: "6 3" }) });
    editing.eachLayer((l) => {
      app.overlays.scratch.addLayer(l);
      l.pm.enable({ allowSelfIntersection: false });
    });
    form.hidden = false;
    start.hidden = true;
  });
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const layer = app.overlays.scratch.getLayers()[0];
      layer.pm.disable();
      await app.api.patch(`/v1/zones/${z.id}`, { revision: z.revision, geometry: layer.toGeoJSON().geometry, rationale: rationale.value });
      await reopen(app, z, `${z.name}: new revision saved`);
    });
  });
  return el("div", el("h3", "Boundary"), start, form);
}

/** A signatory revises the zone's rules (what it forbids, its band, stand-off, hours, when it is in
 * effect) while it is negotiated: a new revision, which voids the sign-offs given so far. */
function reviseRules(app, z) {
  const rules = rulesFields(app, z);
  const from = el("input", { name: "effective_from", type: "datetime-local", value: toLocalInput(Date.parse(z.effective_from)) });
  const until = el("input", { name: "effective_until", type: "datetime-local", value: z.effective_until ? toLocalInput(Date.parse(z.effective_until)) : "" });
  const rationale = el("textarea", { name: "rationale", rows: 2 });
  const change = () => ({
    ...rules.body(),
    effective_from: from.value ? sendTime(from.value) : z.effective_from,
    effective_until: until.value ? sendTime(until.value) : null, // empty: until further notice
  });
  const before = JSON.stringify(change());
  const form = el("form.revise-rules", { novalidate: true, hidden: true },
    el("div.form-error", { role: "alert" }),
    el("p.hint", "A new revision: the sign-offs given so far are void, and every signatory signs it again."),
    rules.nodes,
    el("div.row", field("In effect from (UTC)", from), field("Until (UTC, optional)", until)),
    field("Why these rules", rationale),
    el("button.primary", { type: "submit" }, "Save the rules as a new revision"));
  const start = el("button", { type: "button", onclick: () => ((form.hidden = false), (start.hidden = true)) }, "Revise its rules");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const body = change();
      if (JSON.stringify(body) === before) {
        form.querySelector(".form-error").textContent = "Nothing has changed: no new revision is made.";
        return;
      }
      await app.api.patch(`/v1/zones/${z.id}`, { revision: z.revision, ...body, rationale: rationale.value });
      await reopen(app, z, `${z.name}: its rules, revision ${z.revision + 1}, saved`);
    });
  });
  return el("div", el("h3", "Rules"), start, form);
}

export function proposeZonePanel(app) {
  let drawn = null;
  let drawnKind = "area";
  const name = el("input", { name: "name", required: true });
  const kind = select("kind", app.config.zone_kinds, "de_escalation");
  const rules = rulesFields(app);
  const from = el("input", { name: "effective_from", type: "datetime-local", value: toLocalInput(app.moment) });
  const until = el("input", { name: "effective_until", type: "datetime-local" });
  const signatories = el("select", { name: "signatories", multiple: true, size: 5 }, app.data.parties.map((p) => el("option", { value: p.id, selected: p.id === app.me.id }, p.name)));
  const rationale = el("textarea", { name: "rationale", rows: 2 });
  const geometry = el("output", { name: "geometry", id: "zone-geometry", tabindex: "0", dataset: { names: "coordinates radius_m" } }, "Nothing drawn yet.");
  const draw = (k) => async () => {
    geometry.textContent = k === "circle" ? "Click the centre, then the edge." : "Click the corners; click the first one again to close.";
    drawnKind = k;
    drawn = await drawShape(app, k);
    geometry.textContent = k === "circle" ? `Circle of ${Math.round(drawn.getRadius() / 1000)} km drawn.` : `Area of ${drawn.getLatLngs()[0].length} points drawn.`;
  };
  const fromFile = el("input", { type: "file", name: "boundary_file", accept: ".geojson,.json,.kml,.gpx" });
  fromFile.addEventListener("change", async () => {
    const file = fromFile.files[0];
    fromFile.value = "";
    if (!file) return;
    try {
      const got = await shapeFromFile(app, file, ["area"]);
      [drawn, drawnKind] = [got.layer, "area"];
      geometry.textContent = `Area of ${got.points} points loaded from ${file.name}.`;
      if (!name.value.trim() && got.name) name.value = got.name;
    } catch (e) {
      geometry.textContent = e.message;
    }
  });
  const form = el(
    "form.panel",
    { novalidate: true },
    el("h2", { tabindex: "-1" }, "Propose a zone"),
    el("p.hint", "Draw its boundary; the parties you name as signatories negotiate it from there."),
    el("div.form-error", { role: "alert" }),
    el("div.buttons", el("button", { type: "button", onclick: draw("area") }, "Draw an area"), el("button", { type: "button", onclick: draw("circle") }, "Draw a circle")),
    el("div.field", geometry, el("div.field-error", { id: "zone-geometry-error", role: "alert" })),
    field("Or load its boundary from a file", fromFile, "A polygon in GeoJSON or KML, as a GIS wrote it (its holes too)."),
    field("Name", name),
    field("Kind", kind),
    rules.nodes,
    el("div.row", field("In effect from (UTC)", from), field("Until (UTC, optional)", until)),
    field("Signatories", signatories),
    field("Rationale", rationale),
    el("button.primary", { type: "submit" }, "Propose"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      const shape = drawn
        ? drawnKind === "circle"
          ? { geometry: { type: "Point", coordinates: [drawn.getLatLng().lng, drawn.getLatLng().lat] }, radius_m: drawn.getRadius() }
          : { geometry: polygonGeoJSON(drawn) }
        : { geometry: null };
      const body = {
        name: name.value,
        kind: kind.value,
        ...shape,
        ...rules.body(),
        effective_from: from.value ? iso(fromLocalInput(from.value)) : undefined,
        effective_until: until.value ? iso(fromLocalInput(until.value)) : undefined,
        signatories: [...signatories.selectedOptions].map((o) => o.value),
        rationale: rationale.value,
      };
      const res = await app.api.post("/v1/zones", body);
      app.overlays.scratch.clearLayers();
      await app.loadAll();
      app.openZone(res.zone.id);
    });
  });
  return { node: form, cleanup: () => stopDrawing(app) };
}

/** Every zone, by kind and status; each opens its page. */
/** The zones still being negotiated that wait for this party's signature on their current revision:
 * {zone id: "in principle" | "final"}. */
export async function awaitingSignature(app) {
  const awaiting = {};
  for (const z of await app.api.get("/v1/zones/awaiting")) awaiting[z.id] = z.signature === "final" ? "final" : "in principle";
  return awaiting;
}

// What a zone is found by in the Zones panel: its name, its kind and the parties responsible for it.
const zoneWords = (z) => folded([z.name, z.kind, ...(z.responsible || []).map((r) => r.party_name || "")].join(" "));

export function zonesPanel(app) {
  const order = ["in_force", "agreed_in_principle", "negotiating", "proposed", "suspended", "lapsed", "withdrawn"];
  const list = el("ul.cards");
  const waiting = el("p.hint");
  // A theatre holds hundreds of zones: find one by a part of its name, kind or a responsible party,
  // and narrow by status. Both survive the live feed's redraws, and a visit to a zone's page and back.
  const find = findControls(app, "zone", { find: "Find a zone", placeholder: "e.g. Nasib, buffer, Jordan", choose: "Status",
    options: [["", "any status"], ...order.map((s) => [s, words(s)])] }, () => refresh());
  const shown = el("p.hint.zone-count", { role: "status" });
  const refresh = () => {
    const all = app.data.zones;
    const zones = all
      .filter((z) => find.matches(zoneWords(z), z.status))
      .sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || a.name.localeCompare(b.name));
    const awaiting = app.awaiting || {};
    const count = Object.keys(awaiting).length;
    waiting.textContent = count ? `${count} ${count === 1 ? "zone awaits" : "zones await"} your signature.` : "";
    shown.textContent = zones.length === all.length ? `${all.length} zones.` : `${zones.length} of ${all.length} zones.`;
    if (!zones.length) {
      list.replaceChildren(el("li.empty", "No zone matches."));
      return;
    }
    list.replaceChildren(...zones.map((z) => el("li.card", { dataset: { zone: z.id } },
      el("div.card-head", el("span.swatch", { style: `background:${KIND_COLOURS[z.kind]}` }), el("span.rule", `${words(z.kind)} · ${words(z.status)}`),
        awaiting[z.id] ? el("span.badge.now", `awaiting your signature (${awaiting[z.id]})`) : null),
      el("button.link", { type: "button", onclick: () => app.openZone(z.id) }, z.name),
    )));
  };
  refresh();
  return {
    node: el("section.panel", el("h2", { tabindex: "-1" }, "Zones"), waiting, downloadButton(app, "/v1/zones/export", "Download as GeoJSON (for a GIS)"),
      el("button.link", {
        type: "button", title: "For Google Earth or a phone's map app, offline: coloured by kind, each zone's rules in words",
        onclick: () => app.api.download("/v1/zones/export", { format: "kml" }, { accept: "application/vnd.google-earth.kml+xml", name: "zones.kml" })
          .catch((e) => app.toast(`Download: ${e.message}`)),
      }, "Download as KML"),
      find.node, shown, list),
    refresh,
  };
}

