// Truceline's web map: the common operating picture for a deconfliction cell.
import L from "./leaflet-global.js";
import "@geoman-io/leaflet-geoman-free";
import { activitiesPanel } from "./activities.js";
import { activityPanel } from "./activity.js";
import { alertsPanel } from "./alerts.js";
import { auditPanel } from "./audit.js";
import { Api } from "./api.js";
import { addBasemap } from "./basemap.js";
import { clear, el } from "./dom.js";
import { conflictsPanel } from "./conflicts.js";
import { Feed } from "./feed.js";
import { finder } from "./finder.js";
import { ackButton, inboxPanel, threadPanel } from "./inbox.js";
import { incidentPanel, incidentDetail } from "./incident.js";
import { incidentsPanel } from "./incidents.js";
import * as layers from "./layers.js";
import { notifyDesktop } from "./desktop.js";
import { notifyPanel } from "./notify.js";
import { kept, outboxPanel, RETRY_EVERY_MS, sendKept } from "./outbox.js";
import { askForKey, signIn } from "./signin.js";
import { HOUR, human, iso } from "./time.js";
import { tokensPanel } from "./tokens.js";
import { webhooksPanel } from "./webhooks.js";
import { awaitingSignature, proposeZonePanel, zonePanel, zonesPanel } from "./zone.js";

const $ = (id) => document.getElementById(id);
const count = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

class App {
  constructor(config) {
    this.config = config;
    this.api = new Api(null);
    this.me = null;
    this.data = { zones: [], activities: [], conflicts: [], incidents: [], inbox: [], parties: [] };
    this.panels = {};
    this.moment = config.opens_at ? Date.parse(config.opens_at) : Date.now();
  }

  async start() {
    this.map = L.map("map", { zoomControl: true, worldCopyJump: true, minZoom: 2, maxZoom: 15 }).setView([34.8, 38.5], 6);
    this.map.pm.setGlobalOptions({ snappable: false });
    this.map.pm.setLang("en");
    this.overlays = {
      zones: L.featureGroup().addTo(this.map),
      sites: L.featureGroup().addTo(this.map),
      activities: L.featureGroup().addTo(this.map),
      conflicts: L.featureGroup().addTo(this.map),
      incidents: layers.incidentCluster().addTo(this.map),
      tracks: L.featureGroup().addTo(this.map),
      hotline: L.featureGroup().addTo(this.map),
      scratch: L.featureGroup().addTo(this.map),
    };
    L.control
      .layers(null, {
        "Zones (by kind and status)": this.overlays.zones,
        "Crossings and protected sites": this.overlays.sites,
        "Own activities under way": this.overlays.activities,
        "Conflicts": this.overlays.conflicts,
        "Incidents (the 7 days to the moment)": this.overlays.incidents,
        "Live tracks and predicted vectors": this.overlays.tracks,
        "Hotline messages": this.overlays.hotline,
      }, { collapsed: window.innerWidth <= 900, position: "topright" })
      .addTo(this.map);
    layers.legend().addTo(this.map);
    finder(this.map, this).addTo(this.map);
    L.control.scale({ imperial: false }).addTo(this.map);
    addBasemap(this.map, this.config)
      .then((b) => (this.places = b.places))
      .catch((e) => this.toast(`Basemap: ${e.message}`));
    this.timeBar();
    $("signout").addEventListener("click", () => this.signOut());
    $("signing").addEventListener("click", () => this.loadKey());
    for (const b of document.querySelectorAll("[data-panel]")) b.addEventListener("click", () => this.show(b.dataset.panel));
    const token = sessionStorage.getItem("truceline-token");
    if (token && (await this.tryToken(token, { stored: true }))) return;
    signIn(this);
  }

  async tryToken(token, { stored = false } = {}) {
    const api = new Api(token);
    try {
      this.me = await api.get("/v1/me");
    } catch (e) {
      sessionStorage.removeItem("truceline-token");
      if (e.status !== 401) throw e;
      // The tab's token stopped working while it was closed or reloading: the sign-in dialog says why.
      if (stored) sessionStorage.setItem("truceline-signed-out", e.message);
      return false;
    }
    this.api = api;
    api.onUnauthorized = (reason) => this.signedOut(reason);
    api.mustSign = Boolean(this.me.public_key);
    sessionStorage.setItem("truceline-token", token);
    $("who").textContent = `${this.me.name} · ${this.me.role}`;
    this.showSigning();
    if (api.mustSign) this.loadKey();
    // The feed starts where the picture was read, so whatever happens after reaches the page.
    const { last_event_id: seen } = await api.get("/v1/inbox/summary");
    await this.loadAll(true);
    this.listen(seen);
    this.pollTracks();
    this.show("conflicts");
    this.watchOutbox();
    document.body.classList.add("signed-in");
    return true;
  }

  /** Read the party's signing key (asked at sign-in, and again from the top bar). */
  async loadKey() {
    if (await askForKey(this)) {
      this.toast("Your changes are now signed with your party's key.");
      this.sendOutbox(); // a kept report may have waited for it
    }
    this.showSigning();
  }

  // ---- the outbox: reports kept on this device while the server could not be reached ------------
  /** Send what the party left in the outbox (a tab closed with the link down), and keep trying while
   * anything waits: every RETRY_EVERY_MS, and at once when the browser says it is online again. */
  watchOutbox() {
    window.addEventListener("online", () => this.sendOutbox());
    setInterval(() => this.outboxCount && this.sendOutbox(), RETRY_EVERY_MS);
    this.countOutbox().then((n) => n && this.sendOutbox());
  }

  async sendOutbox() {
    try {
      await sendKept(this);
    } catch (e) {
      this.toast(`Outbox: ${e.message}`);
    }
    this.panels.outbox?.refresh?.();
  }

  /** The Outbox button shows only while reports wait, with how many. */
  async countOutbox() {
    let n = 0;
    try {
      n = (await kept(this)).length;
    } catch (e) {
      this.toast(`Outbox: ${e.message}`); // IndexedDB refused (a private window may): said, not hidden
    }
    this.outboxCount = n;
    $("outbox-button").hidden = !n;
    $("badge-outbox").textContent = n;
    return n;
  }

  showSigning() {
    const b = $("signing");
    b.hidden = !this.api.mustSign;
    b.textContent = this.api.key ? "Signing ✓" : "Signing key: not loaded";
    b.title = this.api.key ? "Changes you send are signed with your party's key" : "Your party signs its changes: load its key";
    b.classList.toggle("missing", !this.api.key);
  }

  signOut() {
    sessionStorage.removeItem("truceline-token");
    window.location.reload();
  }

  /** The token stopped working while the page was open (revoked, expired): back to signing in,
   * saying why, rather than a page whose every request fails. */
  signedOut(reason) {
    if (this.out) return;
    this.out = true;
    this.feed?.stop();
    sessionStorage.setItem("truceline-signed-out", reason);
    this.signOut();
  }

  // ---- data -----------------------------------------------------------------------------------
  async loadAll(fit = false) {
    const [zones, activities, conflicts, parties] = await Promise.all([
      this.api.all("/v1/zones"),
      this.api.all("/v1/activities"),
      this.api.all("/v1/conflicts"),
      this.api.get("/v1/parties").catch(() => []),
    ]);
    Object.assign(this.data, { zones, activities, conflicts, parties });
    this.render();
    if (fit && zones.length) this.map.fitBounds(this.overlays.zones.getBounds(), { padding: [20, 20], animate: false });
    this.loadIncidents();
    this.loadInbox();
    this.loadAwaiting();
  }

  /** Which zones wait for this party's signature: a badge on Zones, a line in the zones list. */
  async loadAwaiting() {
    try {
      this.awaiting = await awaitingSignature(this);
    } catch (e) {
      this.toast(`Zones: ${e.message}`);
      return;
    }
    const count = Object.keys(this.awaiting).length;
    $("badge-zones").textContent = count;
    $("badge-zones").hidden = !count;
    this.panels.zones?.refresh?.();
  }

  async loadIncidents() {
    const day = iso(this.moment).slice(0, 10);
    const from = iso(this.moment - 6 * 24 * HOUR).slice(0, 10);
    try {
      this.data.incidents = await this.api.all("/v1/incidents", { from, to: day });
      layers.drawIncidents(this.overlays.incidents, this.data.incidents, (i) => this.openIncident(i, { fromMap: true }));
      if (this.panels.incidents?.node.isConnected) this.panels.incidents.refresh();
    } catch (e) {
      this.toast(`Incidents: ${e.message}`);
    }
  }

  async loadInbox() {
    const [summary, inbox] = await Promise.all([
      this.api.get("/v1/inbox/summary"),
      this.api.all("/v1/inbox", { state: "unacknowledged" }),
    ]);
    this.data.inbox = inbox;
    // Acknowledged elsewhere (the CLI, another officer) or superseded: its box has done its work.
    const waiting = new Set(inbox.map((m) => m.id));
    for (const box of document.querySelectorAll("#toasts .alert.needs-ack")) if (!waiting.has(box.dataset.message)) box.remove();
    $("badge-unack").textContent = summary.unacknowledged;
    $("badge-overdue").textContent = summary.overdue;
    $("badge-overdue").hidden = !summary.overdue;
    $("hotline-button").setAttribute("aria-label", `Hotline: ${summary.unacknowledged} unacknowledged, ${summary.overdue} overdue`);
    // The tab's title counts them too: a duty officer working in another tab sees one arrive.
    this.title ??= document.title;
    document.title = summary.unacknowledged ? `(${summary.unacknowledged}) ${this.title}` : this.title;
    layers.drawMessages(this.overlays.hotline, inbox, this.me, () => this.mapBusy || this.show("inbox"));
    this.panels.inbox?.refresh?.();
    if (this.panels.threads?.node.isConnected) this.panels.threads.refresh();
  }

  /** The party's live feed: hotline messages and zone news as they happen, shown and reloaded. */
  listen(after) {
    this.feed = new Feed(this.api, after, (ev) => this.onEvent(ev), (state) => {
      $("feed").textContent = { live: "Hotline: live", reconnecting: "Hotline: reconnecting…", stopped: "Hotline: off" }[state];
      $("feed").classList.toggle("down", state !== "live");
    });
    this.feed.run();
  }

  onEvent(ev) {
    const d = ev.data;
    if (ev.type.startsWith("message")) {
      const m = d.message || d;
      const mine = m.addresses?.find((a) => a.party.id === this.me.id);
      if (ev.type === "message" && mine && m.sender?.id !== this.me.id && mine.state !== "superseded") {
        this.alert(m, `${m.msgType} from ${m.sender.name}: ${m.headline}`, `acknowledge by ${human(mine.deadline)}`);
      } else if (ev.type === "message.overdue" && d.party?.id === this.me.id) {
        this.alert(m, `Overdue: ${m.headline}`, `from ${m.sender.name}; acknowledge it now`);
      } else if (ev.type === "message.escalated" && d.party?.id !== this.me.id) {
        this.alert(m, `Escalated to you: ${d.party.name} has not acknowledged “${m.headline}”`, `from ${m.sender.name}`, { ack: false });
      } else if (ev.type === "message.acknowledged") {
        document.querySelector(`#toasts .alert.escalated[data-message="${m.id}"]`)?.remove();
      }
      this.soon("inbox", async () => {
        await this.loadInbox();
        await this.refreshConflicts();
      });
    } else if (ev.type === "feed.pruned") {
      // Resumed from before what retention kept: what was missed is in the current state, so reload it.
      this.toast(d.summary);
      this.soon("inbox", async () => {
        await this.loadInbox();
        await this.refreshConflicts();
      });
      this.soon("zones", async () => {
        this.data.zones = await this.api.all("/v1/zones");
        await this.loadAwaiting();
      });
    } else if (d.zone) {
      if (d.by?.id !== this.me.id) this.toast(d.summary);
      this.soon("zones", async () => {
        this.data.zones = await this.api.all("/v1/zones");
        await this.loadAwaiting();
        await this.refreshConflicts();
      });
      this.panels.zone?.changed?.(d);
    }
  }

  /** Run ``work`` once for a burst of events of one kind (a notification may post to many threads). */
  soon(kind, work) {
    this.pending ??= {};
    if (this.pending[kind]) return;
    this.pending[kind] = setTimeout(async () => {
      this.pending[kind] = null;
      try {
        await work();
      } catch (e) {
        this.toast(`Reload: ${e.message}`);
      }
    }, 250);
  }

  /** A message that needs this party's acknowledgement: it stays until acknowledged or dismissed. */
  alert(m, text, meta, { ack: mayAck = true } = {}) {
    // One box a message (a later step replaces it), and a few at most: the inbox holds the rest.
    document.querySelector(`#toasts .alert[data-message="${m.id}"]`)?.remove();
    const shown = document.querySelectorAll("#toasts .alert");
    if (shown.length >= 3) shown[0].remove();
    const box = el(mayAck ? "div.toast.alert.needs-ack" : "div.toast.alert.escalated", { role: "alert", dataset: { message: m.id } });
    const ack = ackButton(this, m, () => box.remove());
    box.append(
      el("strong", { title: text }, text),
      el("div.meta", meta),
      el("div.buttons", mayAck ? ack : null,
        mayAck
          ? el("button.link", { type: "button", onclick: () => (this.show("inbox"), box.remove()) }, "Inbox")
          : el("button.link", { type: "button", onclick: () => (this.show("thread", threadPanel(this, m.thread_id)), box.remove()) }, "Open the thread"),
        el("button.link", { type: "button", "aria-label": "Dismiss", onclick: () => box.remove() }, "Dismiss")),
    );
    $("toasts").append(box);
    notifyDesktop(this, m, text, meta, () => {
      this.show("thread", threadPanel(this, m.thread_id));
      box.remove();
    });
  }

  /** The live alerts refresh every 2 s, and the tracks with them while their layer is on. */
  pollTracks() {
    const tracks = async () => {
      try {
        const drawn = this.map.hasLayer(this.overlays.tracks);
        const [alerts, picture] = await Promise.all([this.api.get("/v1/alerts"), drawn ? this.api.get("/v1/tracks") : null]);
        Object.assign(this.data, { alerts: alerts.alerts, alertsAt: alerts.at });
        const n = alerts.alerts.length;
        $("badge-alerts").textContent = n;
        $("badge-alerts").hidden = !n;
        $("alerts-button").setAttribute("aria-label", `Live alerts: ${n}`);
        if (picture) {
          this.data.tracks = picture.tracks;
          layers.drawTracks(this.overlays.tracks, picture, alerts.alerts);
          $("live").textContent = `Live: ${count(picture.tracks.length, "track")}, ${count(n, "alert")} (${human(picture.at)})`;
        }
        this.panels.alerts?.refresh?.();
      } catch {
        /* the next tick tries again */
      }
      setTimeout(tracks, 2000);
    };
    tracks();
  }

  async refreshConflicts() {
    this.data.conflicts = await this.api.all("/v1/conflicts");
    this.render();
  }

  // ---- the picture at the moment --------------------------------------------------------------
  render() {
    const t = this.moment;
    layers.drawZones(this.overlays.zones, this.overlays.sites, this.data.zones, t, (z) => this.openZone(z.id, { fromMap: true }));
    const acts = layers.drawActivities(this.overlays.activities, this.data.activities, t, (a) => this.openActivity(a, { fromMap: true }));
    const [confs, handled] = layers.drawConflicts(this.overlays.conflicts, this.data.conflicts, t, (c) => this.mapBusy || this.focusConflict(c));
    const inForce = this.data.zones.filter((z) => z.status === "in_force" && layers.zoneEffective(z, t)).length;
    $("summary").textContent = `${count(inForce, "zone")} in force · ${count(acts, "own activity volume")} under way · ${count(confs, "conflict")} at this moment${handled ? ` (${handled} coordinated)` : ""}`;
    this.panels.conflicts?.refresh?.();
    this.panels.activities?.refresh?.();
  }

  setMoment(t, { reloadIncidents = true } = {}) {
    const oldDay = iso(this.moment).slice(0, 10);
    this.moment = t;
    $("day").value = iso(t).slice(0, 10);
    const d = new Date(t);
    $("minute").value = d.getUTCHours() * 4 + Math.floor(d.getUTCMinutes() / 15);
    $("moment").textContent = human(t);
    this.render();
    if (reloadIncidents && oldDay !== iso(t).slice(0, 10) && this.me) this.loadIncidents();
  }

  timeBar() {
    const day = $("day");
    const minute = $("minute");
    const fromInputs = () => {
      const base = Date.parse(`${day.value}T00:00:00Z`);
      if (!Number.isNaN(base)) this.setMoment(base + Number(minute.value) * 15 * 60e3);
    };
    day.addEventListener("change", fromInputs);
    minute.addEventListener("input", fromInputs);
    $("prev-day").addEventListener("click", () => this.setMoment(this.moment - 24 * HOUR));
    $("next-day").addEventListener("click", () => this.setMoment(this.moment + 24 * HOUR));
    $("now").addEventListener("click", () => this.setMoment(Date.now()));
    $("day-report").addEventListener("click", () => {
      const date = iso(this.moment).slice(0, 10);
      this.api.download("/v1/sitrep", { date }, { accept: "text/html", name: `sitrep-${date}.html` }).catch((e) => this.toast(`Day report: ${e.message}`));
    });
    this.setMoment(this.moment, { reloadIncidents: false });
  }

  // ---- panels ---------------------------------------------------------------------------------
  show(name, ...args) {
    const makers = {
      conflicts: () => conflictsPanel(this),
      notify: () => notifyPanel(this),
      activities: () => activitiesPanel(this),
      inbox: () => inboxPanel(this),
      incident: () => incidentPanel(this),
      incidents: () => incidentsPanel(this),
      propose: () => proposeZonePanel(this),
      zones: () => zonesPanel(this),
      tokens: () => tokensPanel(this),
      webhooks: () => webhooksPanel(this),
      audit: () => auditPanel(this),
      alerts: () => alertsPanel(this),
      outbox: () => outboxPanel(this),
    };
    this.cleanup?.();
    this.cleanup = null;
    this.overlays.scratch.clearLayers();
    const panel = args.length || !makers[name] ? args[0] : makers[name]();
    this.panels[name] = panel;
    for (const b of document.querySelectorAll("[data-panel]")) b.setAttribute("aria-pressed", String(b.dataset.panel === name));
    clear($("panel"), panel.node);
    this.cleanup = panel.cleanup || null;
    panel.node.querySelector("h2")?.focus();
  }

  /** Is a click on the map meant for drawing or picking a point, not for opening what is under it? */
  get mapBusy() {
    return (
      this.map.pm.globalDrawModeEnabled() ||
      this.map.getContainer().classList.contains("picking") ||
      performance.now() - (this.drewAt || -1e9) < 500
    );
  }

  openZone(id, { fromMap = false } = {}) {
    if (fromMap && this.mapBusy) return;
    this.show("zone", zonePanel(this, id));
  }

  // a click on the map while it is drawing or picking a point is not meant to open anything; a
  // button in a panel always is
  openActivity(a, { fromMap = false } = {}) {
    if (fromMap && this.mapBusy) return;
    this.show("activity", activityPanel(this, a.id));
  }

  openIncident(i, { fromMap = false } = {}) {
    if (fromMap && this.mapBusy) return;
    this.show("incident-detail", incidentDetail(this, i));
  }

  partyName(id) {
    return this.data.parties.find((p) => p.id === id)?.name || (id === this.me.id ? this.me.name : id);
  }

  /** Fit the map to the regions and move the moment to when the first begins. */
  focus(regions) {
    const b = L.featureGroup(regions.map((r) => L.geoJSON(r.geometry))).getBounds();
    if (b.isValid()) this.map.fitBounds(b, { maxZoom: 10, padding: [40, 40] });
    if (regions[0]) this.setMoment(Date.parse(regions[0].time_start));
  }

  focusConflict(c) {
    this.focus(c.regions);
    this.show("conflicts");
    this.panels.conflicts.highlight?.(c.id);
  }

  toast(text) {
    const t = el("div.toast", { role: "status" }, text);
    $("toasts").append(t);
    setTimeout(() => t.remove(), 6000);
  }
}

async function boot() {
  const config = await (await fetch("/web/config")).json();
  const app = new App(config);
  window.truceline = app; // for people poking at the picture from the console, and for the browser tests
  await app.start();
}

boot().catch((e) => {
  console.error(e);
  document.getElementById("toasts").append(el("div.toast.error", `The map could not start: ${e.message || e}`));
});
