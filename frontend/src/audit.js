// The audit log as the party may read it: every change it made or that concerns it, newest first,
// each as the service chained it (its entry number), with who made it and, for the party's own
// changes, with which of its tokens. Filters by party, kind of action or thing; pages back.
import { el, field, select } from "./dom.js";
import { SHOWN, entryItem, gist, latestEntries } from "./history.js";

const KINDS = [["", "Any"], ["zone.", "Zones"], ["document.", "Zone documents"], ["activity.", "Activities"],
  ["conflict.", "Conflicts"], ["thread.", "Hotline threads"], ["message.", "Hotline messages"],
  ["incident.", "Incidents"], ["credential.", "Tokens"], ["party.", "Parties"], ["webhook.", "Webhooks"]];

export function auditPanel(app) {
  const party = select("party_id", [["", "Any"], ...app.data.parties.map((p) => [p.id, p.name])], "");
  const kind = select("action", KINDS, "");
  const entity = el("input", { name: "entity_id", autocomplete: "off", placeholder: "an id" });
  const list = el("ol.history", { "aria-label": "Audit entries" });
  const earlier = el("button.link", { type: "button", hidden: true }, "Earlier");
  const node = el("section.panel",
    el("h2", { tabindex: "-1" }, "Audit log"),
    el("p.hint", "Every change your party made or that concerns it, newest first, as the service chained and signed it."),
    el("div.row", field("Party", party), field("Kind", kind)),
    field("About (the id of a zone, activity, conflict, message…)", entity),
    list, earlier);
  let oldest = null;

  const load = async (more = false) => {
    const filters = { party_id: party.value, action: kind.value, entity_id: entity.value.trim() };
    if (more) filters.before = oldest;
    node.setAttribute("aria-busy", "true");
    try {
      const entries = await latestEntries(app, filters);
      const items = entries.map((e) => {
        const words = gist(e);
        // about one thing: its id once, in the filter, not on every line
        return entryItem(e, { app, about: !filters.entity_id }, words ? el("div.hint", words) : null);
      });
      if (more) list.append(...items);
      else list.replaceChildren(...(items.length ? items : [el("li", "No entries.")]));
      if (entries.length) oldest = entries[entries.length - 1].seq;
      earlier.hidden = entries.length < SHOWN || oldest <= 1;
    } catch (e) {
      app.toast(`Audit log: ${e.message}`);
    } finally {
      node.removeAttribute("aria-busy");
    }
  };
  for (const input of [party, kind]) input.addEventListener("change", () => load());
  entity.addEventListener("change", () => load());
  earlier.addEventListener("click", () => load(true));
  load();
  return { node };
}
