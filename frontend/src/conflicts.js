// The caller's open conflicts, with their reasons; a click shows one on the map at its moment. Each
// party concerned may agree to one (how it is handled, settled over the hotline): agreed by all, it is
// coordinated, still listed.
import { downloadButton, el, field, findControls, folded, submitting } from "./dom.js";
import { historyToggle } from "./history.js";
import { threadPanel } from "./inbox.js";
import { human, within } from "./time.js";

const RULES = ["zone_rule", "overlap", "separation", "incursion"];
// what a conflict is found by: its reason (which names the zone and the kinds), its parties, the titles
// of your own activities in it, and the callsigns of its tracks
const conflictWords = (c) => folded([c.reason, ...c.parties.map((p) => p.name), ...c.activities.map((a) => a.title || ""),
  ...(c.tracks || []).map((t) => t.callsign)].join(" "));

const AGREE_ROLES = new Set(["officer", "monitor"]);

/** Who agreed to the conflict and how it is handled; whom it still waits for; and, for a party that
 * may, a form to agree (or to withdraw its agreement). ``drafts``: what was typed, kept across redraws. */
function agreement(app, c, drafts) {
  const given = c.agreements || [];
  const mine = given.find((a) => a.party.id === app.me.id && a.current);
  const agreed = new Set(given.filter((a) => a.current).map((a) => a.party.id));
  const waiting = c.parties.filter((p) => !agreed.has(p.id)).map((p) => p.name);
  const parts = [];
  if (given.length) {
    parts.push(el("ul.agreements", given.map((a) => el("li", { class: a.current ? "" : "lapsed" }, el("strong", a.party.name), ` agrees: “${a.statement}”`,
      a.current ? "" : " (before the conflict changed: asked again)"))));
    if (!c.coordinated) parts.push(el("p.hint.waiting", `Waiting for the agreement of ${waiting.join(", ")}.`));
  }
  if (!AGREE_ROLES.has(app.me.role) || c.parties.length < 2) return parts;
  const statement = el("input", { name: "statement", required: true, maxlength: 2000, value: drafts.get(c.id) || "",
    placeholder: "e.g. the patrol escorts the convoy through the crossing" });
  statement.addEventListener("input", () => drafts.set(c.id, statement.value));
  const form = el("form.agree", { novalidate: true }, el("div.form-error", { role: "alert" }),
    field(mine ? "Agree again: how it is handled" : "Agree to it: how it is handled", statement),
    el("button.primary", { type: "submit" }, mine ? "Agree again" : "Agree"));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    submitting(form, async () => {
      await app.api.post(`/v1/conflicts/${c.id}/agreement`, { statement: statement.value });
      drafts.delete(c.id);
      await app.refreshConflicts();
    });
  });
  parts.push(form);
  if (mine) {
    parts.push(el("button.link", { type: "button", onclick: async () => {
      try {
        await app.api.post(`/v1/conflicts/${c.id}/agreement/withdraw`, {});
        await app.refreshConflicts();
      } catch (e) {
        app.toast(e.message);
      }
    } }, "Withdraw our agreement"));
  }
  return parts;
}

export function conflictsPanel(app) {
  const list = el("ol.cards");
  const opened = new Set(); // conflicts whose History is open: kept across refreshes (moment, live feed)
  const drafts = new Map(); // what was typed to agree to a conflict, kept across refreshes
  // narrowed by words and by rule; kept across the live feed's redraws and a visit elsewhere
  const find = findControls(app, "conflict", { find: "Find a conflict", placeholder: "e.g. Suweida, Jordan, SYAF14", choose: "Rule",
    options: [["", "any rule"], ...RULES.map((r) => [r, r.replaceAll("_", " ")])] }, () => refresh());
  // the conflicts still to handle: those not every party concerned agrees to yet (kept like the words)
  const kept = app.finds.conflict;
  const pending = el("input", { type: "checkbox", name: "conflict-pending", checked: Boolean(kept.pending) });
  pending.addEventListener("change", () => { kept.pending = pending.checked; refresh(); });
  const onlyPending = el("label.check", pending, " Only those not yet coordinated");
  const shown = el("p.hint.conflict-count", { role: "status" });
  const node = el(
    "section.panel",
    el("h2", { tabindex: "-1" }, "Conflicts"),
    el("p.hint", "Open conflicts that concern your party. Notification is not permission: every conflict stays here until it no longer holds, coordinated ones too (every party concerned agrees to them)."),
    downloadButton(app, "/v1/conflicts/export", "Download as GeoJSON (for a GIS)"),
    find.node,
    onlyPending,
    shown,
    list,
  );
  const refresh = () => {
    list.replaceChildren();
    const all = app.data.conflicts;
    const items = all
      .filter((c) => find.matches(conflictWords(c), c.rule) && !(pending.checked && c.coordinated))
      .sort((a, b) => (a.regions[0]?.time_start || "").localeCompare(b.regions[0]?.time_start || ""));
    shown.textContent = items.length === all.length ? "" : `${items.length} of ${all.length} open conflicts.`;
    if (!all.length) list.append(el("li.empty", "No open conflicts."));
    else if (!items.length) list.append(el("li.empty", "No open conflict matches."));
    for (const c of items) {
      const r = c.regions[0];
      const now = c.regions.some((x) => within(app.moment, x.time_start, x.time_end));
      // opened, and each time it was checked again: by which change (the audit log)
      const history = historyToggle(app, { entity_id: c.id }, `History of the conflict: ${c.reason}`, { opened, key: c.id });
      list.append(
        el(
          "li.card",
          { dataset: { conflict: c.id }, class: `card${now ? " now" : ""}` },
          el("div.card-head", el("span.rule", c.rule.replaceAll("_", " ")), now ? el("span.badge.now", "at this moment") : null,
            c.coordinated ? el("span.badge.coordinated", { title: "Every party concerned agrees to it: known to be handled" }, "coordinated") : null),
          el("p.reason", c.reason),
          el("div.meta", r ? `${human(r.time_start)} – ${human(r.time_end)}` : "", " · ", c.parties.map((p) => p.name).join(", ")),
          el("button.link", { type: "button", onclick: () => app.focusConflict(c) }, "Show on map"),
          // your own activities in it (only yours carry a title): change or cancel them from here
          c.activities.filter((x) => x.title).map((x) => el("button.link", { type: "button", onclick: () => app.openActivity(x) }, `Change “${x.title}”`)),
          agreement(app, c, drafts),
          el("button.link", { type: "button", title: "Its thread, where the parties settle it", onclick: () => openThread(app, c) }, "Its thread"),
          history.button,
          history.list,
        ),
      );
    }
  };
  refresh();
  return {
    node,
    refresh,
    highlight(id) {
      const card = list.querySelector(`[data-conflict="${id}"]`);
      card?.classList.add("selected");
      card?.scrollIntoView({ block: "nearest" });
    },
  };
}

/** The thread where the conflict was announced and its parties settle it. */
export async function openThread(app, c) {
  try {
    const said = await app.api.get(`/v1/conflicts/${c.id}/messages`);
    if (!said.length) app.toast("Nothing has been said about it on the hotline yet.");
    else app.show("thread", threadPanel(app, said.at(-1).thread_id));
  } catch (e) {
    app.toast(`Hotline: ${e.message}`);
  }
}
