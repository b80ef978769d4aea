// Desktop notifications. A duty officer works in other windows between calls: a hotline message that
// needs the party's acknowledgement (or falls overdue, or is escalated to it) shows as the system's own
// notification too while the page is not in front. Turned on by the officer (the browser asks once) and
// kept per party on this device; a click brings the page forward on the message.
import { el } from "./dom.js";

const key = (app) => `truceline-desktop-notifications-${app.me.id}`;

/** Browsers offer notifications to secure pages only (https, or this machine's own address). */
export const offered = () => "Notification" in window && window.isSecureContext;

export const isOn = (app) => offered() && Notification.permission === "granted" && localStorage.getItem(key(app)) === "on";

/** Show ``text`` for message ``m`` unless the officer is looking at the page; ``open`` runs on a click. */
export function notifyDesktop(app, m, text, meta, open) {
  if (!isOn(app) || (document.visibilityState === "visible" && document.hasFocus())) return;
  // one a message (tag): a later step (overdue, escalated) replaces the earlier; it stays until seen
  const shown = new Notification(text, { body: meta, tag: m.id, requireInteraction: true });
  shown.onclick = () => {
    window.focus();
    open();
    shown.close();
  };
}

/** The switch, in the hotline panel. */
export function desktopSwitch(app) {
  const box = el("input", { type: "checkbox", checked: isOn(app) });
  const said = el("span.hint", { role: "status" });
  const label = el("label.desktop-switch", box, " Desktop notifications for messages to acknowledge, while this page is not in front");
  if (!offered()) {
    box.disabled = true;
    said.textContent = " Not offered here: the browser shows notifications to https pages (or this machine's own address) only.";
  }
  box.addEventListener("change", async () => {
    if (!box.checked) {
      localStorage.setItem(key(app), "off");
      said.textContent = " Off.";
      return;
    }
    const answer = await Notification.requestPermission();
    if (answer !== "granted") {
      box.checked = false;
      said.textContent = answer === "denied"
        ? " The browser refuses notifications for this site: allow them in its site settings, then try again."
        : " Not turned on: the browser's question was not answered.";
      return;
    }
    localStorage.setItem(key(app), "on");
    said.textContent = " On.";
  });
  return el("p.desktop", label, said);
}
