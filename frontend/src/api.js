// The API client: a bearer token, JSON in and out, and RFC 9457 problems turned into ApiError. Bodies
// go as canonical JSON; a party with a registered key signs its writes (signing.js).
import { canonical, signRequest } from "./signing.js";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
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
  }

  /** The text a body is sent as: canonical JSON, the very bytes a signature covers. */
  bodyText(body) {
    return canonical(body);
  }

  async request(method, path, { body, params, accept, blob } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
    const headers = { Accept: accept || "application/json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (method !== "GET" && this.mustSign) {
      if (!this.key) {
        throw new ApiError(0, {
          title: "Signing key needed",
          detail: "Your party signs every change it sends: load its signing key first (Signing key, at the top).",
        });
      }
      headers["Truceline-Signature"] = await signRequest(this.key, method, url.pathname, body);
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body: body === undefined ? undefined : this.bodyText(body) });
    } catch (e) {
      throw new ApiError(0, { title: "The server cannot be reached", detail: `The server cannot be reached (${e.message}).` });
    }
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

  post(path, body) {
    return this.request("POST", path, { body: body ?? {} });
  }

  patch(path, body) {
    return this.request("PATCH", path, { body });
  }
}
