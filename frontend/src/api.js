// The API client: a bearer token, JSON in and out, and RFC 9457 problems turned into ApiError. Bodies
// go as canonical JSON; a party with a registered key signs its writes (signing.js). A request that
// gets no answer is sent again; a write carries an Idempotency-Key, so it is never done twice.
import { canonical, signRequest } from "./signing.js";

/** Waits (ms) before sending again a request that got no answer: a field office's link drops often. */
export const RETRY_WAITS = [500, 1000, 2000];

/** A fresh random key. crypto.getRandomValues works on a plain-http address; randomUUID does not. */
export function newKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const UNREACHABLE = "The server cannot be reached";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    // no answer at all (the link is down), as opposed to a refusal or a check made here
    this.unreachable = status === 0 && problem.title === UNREACHABLE;
  }

  /** [{pointer, detail}] — the fields the server named, or one entry for the whole request. */
  get fieldErrors() {
    const errs = this.problem.errors || [];
    return errs.length ? errs : [{ pointer: "", detail: this.message }];
  }
}

export class Api {
  constructor(token) {
    this.token = token;
    this.mustSign = false; // the party registered a key: every write needs a signature
    this.key = null; // its private key, once read (a non-extractable CryptoKey)
    this.onUnauthorized = null; // (reason) => void: the token stopped working (revoked, expired)
    // the write that got no answer at all, and its key: sent again as it was, it goes with that key
    this.unanswered = null;
  }

  /** The text a body is sent as: canonical JSON, the very bytes a signature covers. */
  bodyText(body) {
    return canonical(body);
  }

  /** ``key``: the Idempotency-Key a write goes with, when the caller keeps it (the outbox does).
   * ``file``: a body sent as it is (a CSV file), {bytes: ArrayBuffer, type, sha256}: a party that signs
   * signs its digest, as the server checks it (api.deps.signing_message). */
  async request(method, path, { body, params, accept, blob, key: given, file } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) {
      for (const one of Array.isArray(v) ? v : [v]) if (one !== undefined && one !== null && one !== "") url.searchParams.append(k, one);
    }
    const headers = { Accept: accept || "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (file) headers["Content-Type"] = file.type;
    if (method !== "GET" && this.mustSign && !this.key) {
      throw new ApiError(0, {
        title: "Signing key needed",
        detail: "Your party signs every change it sends: load its signing key first (Signing key, at the top).",
      });
    }
    const text = file ? file.bytes : body === undefined ? undefined : this.bodyText(body);
    const what = `${method} ${url}\n${file ? file.sha256 : text ?? ""}`;
    const signed = file ? { sha256: file.sha256 } : body;
    const key = method === "POST" || method === "PATCH" ? given || (this.unanswered?.what === what ? this.unanswered.key : newKey()) : null;
    if (key) headers["Idempotency-Key"] = key;
    let res;
    for (let tries = 0; !res; tries++) {
      // signed afresh on each try: a signature's nonce is good once
      if (method !== "GET" && this.mustSign) headers["Truceline-Signature"] = await signRequest(this.key, method, url.pathname, signed);
      try {
        res = await fetch(url, { method, headers, body: text });
      } catch (e) {
        if (tries < RETRY_WAITS.length) {
          await pause(RETRY_WAITS[tries]);
          continue;
        }
        if (key && !given) this.unanswered = { what, key };
        const again = key ? " Send it again once the link is back: it will not be done twice." : "";
        throw new ApiError(0, { title: UNREACHABLE, detail: `The server cannot be reached (${e.message}).${again}` });
      }
    }
    if (key && this.unanswered?.key === key) this.unanswered = null;
    if (!res.ok) {
      let problem;
      try {
        problem = await res.json();
      } catch {
        problem = { title: res.statusText, detail: `${res.status} ${res.statusText}` };
      }
      if (res.status === 401 && this.token) this.onUnauthorized?.(problem.detail || "the token no longer works");
      throw new ApiError(res.status, problem);
    }
    if (blob) return res.blob();
    if (accept && !accept.includes("json")) return res.text();
    return res.status === 204 ? null : res.json();
  }

  /** Save a file the server makes (an export, a report) through the browser's downloads: a GeoJSON
   * export is named after what it holds unless ``name`` says otherwise. */
  async download(path, params, { accept = "application/geo+json", name } = {}) {
    const file = await this.request("GET", path, { params, accept, blob: true });
    const link = document.createElement("a");
    link.href = URL.createObjectURL(file);
    link.download = name || path.split("/").at(-2) + ".geojson";
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  }

  get(path, params) {
    return this.request("GET", path, { params });
  }

  /** Every item of a listing, page after page until a short one: nothing is cut off at a page. */
  async all(path, params, page = 1000) {
    const seen = new Map();
    for (let offset = 0; ; offset += page) {
      const batch = await this.get(path, { ...params, limit: page, offset });
      for (const item of batch) if (!seen.has(item.id)) seen.set(item.id, item);
      if (batch.length < page) return [...seen.values()];
    }
  }

  text(path, params, accept) {
    return this.request("GET", path, { params, accept });
  }

  post(path, body, { key } = {}) {
    return this.request("POST", path, { body: body ?? {}, key });
  }

  patch(path, body) {
    return this.request("PATCH", path, { body });
  }
}
