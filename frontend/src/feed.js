// The party's live feed (GET /v1/events, Server-Sent Events). Read with fetch rather than EventSource,
// which cannot send the bearer token. A dropped stream is resumed with Last-Event-ID, so nothing is
// lost and nothing repeated; the server's `retry:` sets the first wait, doubled while it stays down.

/** Server-Sent Events as the HTML standard parses them, fed text in chunks cut anywhere. */
export class SseParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.rest = "";
    this.afterCR = false;
    this.lastId = null;
    this.retry = null;
    this.reset();
  }

  reset() {
    this.type = "";
    this.data = [];
    this.id = null;
  }

  push(text) {
    // A chunk that ended in "\r" ended its line; a "\n" starting the next belongs to that line end.
    if (this.afterCR && text.startsWith("\n")) text = text.slice(1);
    this.afterCR = text.endsWith("\r");
    const lines = (this.rest + text).split(/\r\n|\r|\n/);
    this.rest = lines.pop(); // no line end yet
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return; // a comment: keep-alives
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") this.type = value;
    else if (name === "data") this.data.push(value);
    else if (name === "id" && !value.includes("\0")) this.id = value;
    else if (name === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }

  dispatch() {
    if (this.id !== null) this.lastId = this.id;
    if (this.data.length) this.onEvent({ id: this.lastId, type: this.type || "message", data: this.data.join("\n") });
    this.reset();
  }
}

export class Feed {
  static Parser = SseParser; // for the browser tests

  /**
   * @param api the signed-in Api
   * @param after the last event already accounted for (the inbox summary's last_event_id)
   * @param onEvent called with {id, type, data (parsed JSON)} for each event, in order
   * @param onState called with "live", "reconnecting" or "stopped"
   */
  constructor(api, after, onEvent, onState) {
    Object.assign(this, { api, onEvent, onState });
    this.lastId = String(after ?? 0);
    this.stopped = false;
    this.controller = null;
  }

  async run() {
    let wait = 2000;
    while (!this.stopped) {
      try {
        await this.once((retry) => (wait = retry));
        wait = Math.min(wait, 2000);
      } catch (e) {
        if (this.stopped) break;
        if (e.status === 401) {
          this.stop();
          return this.api.onUnauthorized?.(e.detail || "the token no longer works");
        }
        wait = Math.min(wait * 2, 30_000);
      }
      if (this.stopped) break;
      this.onState("reconnecting");
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  async once(setRetry) {
    this.controller = new AbortController();
    const res = await fetch(new URL("/v1/events", window.location.origin), {
      headers: { Authorization: `Bearer ${this.api.token}`, Accept: "text/event-stream", "Last-Event-ID": this.lastId },
      signal: this.controller.signal,
      cache: "no-store",
    });
    if (!res.ok) {
      const detail = res.status === 401 ? (await res.json().catch(() => ({}))).detail : undefined;
      throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status, detail });
    }
    this.onState("live");
    const parser = new SseParser((ev) => {
      this.lastId = ev.id ?? this.lastId;
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        return; // not ours to read
      }
      this.onEvent({ id: Number(ev.id), type: ev.type, data });
    });
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (parser.retry !== null) setRetry(parser.retry);
      if (done) return;
      parser.push(value);
    }
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
    this.onState("stopped");
  }
}
