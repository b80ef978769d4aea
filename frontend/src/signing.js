// Signed requests from the page. A party that registered an Ed25519 key must sign every write: the
// signature covers canonical JSON of {"method", "path", "body"} as the server rebuilds it in Python
// (keys sorted, no spaces, UTF-8, numbers as Python writes them). The page sends that same canonical
// text as the body, so what the server parses and re-serialises is byte for byte what was signed.
// The private key is read from the PEM file `truceline keys generate` wrote, checked against the
// party's registered public key, and kept in this tab's memory only, as a non-extractable CryptoKey.

/** Canonical JSON, as Python's json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
export function canonical(value) {
  if (value !== null && typeof value === "object" && typeof value.toJSON === "function") value = value.toJSON();
  if (value === null || value === undefined) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number") return pyNumber(value);
  if (typeof value === "string") return JSON.stringify(value); // escapes exactly what Python escapes
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const keys = Object.keys(value).filter((k) => value[k] !== undefined && typeof value[k] !== "function");
  keys.sort(byCodePoint);
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
}

// Python sorts keys by code point; JavaScript's default sort goes by UTF-16 unit, which differs above U+FFFF.
function byCodePoint(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

/**
 * A number as Python writes it once it has parsed the text sent: an integer (any size) in plain digits;
 * any other number as repr(float) — the shortest digits that round-trip (as JavaScript's), in plain
 * notation for decimal exponents -4 to 15 and otherwise as d.ddde±XX.
 */
export function pyNumber(n) {
  if (!Number.isFinite(n)) throw new RangeError(`${n} cannot be sent as JSON`);
  if (Number.isInteger(n)) return BigInt(n).toString();
  const sign = n < 0 ? "-" : "";
  const [mantissa, exp = "0"] = String(Math.abs(n)).split("e");
  const [whole, frac = ""] = mantissa.split(".");
  let digits = whole + frac;
  let point = whole.length + Number(exp); // value = 0.<digits> x 10^point
  const zeros = digits.length - digits.replace(/^0+/, "").length;
  digits = digits.slice(zeros).replace(/0+$/, "");
  point -= zeros;
  const e = point - 1;
  if (e < -4 || e >= 16) {
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : "";
    return `${sign}${digits[0]}${rest}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** What a party signs for one request (domain.audit.request_message on the server): with the time it
 * signs and a fresh nonce, so the signature is good for this one request. */
export function requestMessage(method, path, body, at, nonce) {
  return canonical({ at, body: body === undefined ? null : body, method: method.toUpperCase(), nonce, path });
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
export const hex = (bytes) => [...new Uint8Array(bytes)].map((x) => x.toString(16).padStart(2, "0")).join("");

/** Evidence is signed with its content's SHA-256 in place of the content (domain.evidence.signed_form):
 * the audit log keeps what was signed, and a photograph has no place there. */
export async function signedForm(method, path, body) {
  const encoded = body?.derefUri;
  if (method.toUpperCase() !== "POST" || !/^\/v1\/incidents\/[^/]+\/evidence$/.test(path) || typeof encoded !== "string") return body;
  if (encoded.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return body; // not base64: signed as it is, and refused
  const content = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  return { ...body, derefUri: { sha256: hex(await crypto.subtle.digest("SHA-256", content)) } };
}

export class KeyError extends Error {}

/** The page can sign only in a secure context (https://, or this machine's own address). */
export function canSign() {
  return Boolean(globalThis.crypto?.subtle) && window.isSecureContext;
}

/**
 * Read an Ed25519 private key (PKCS#8 PEM) and check it is the one registered for the party, whose
 * public key (base64) is ``registered``. Resolves to a non-extractable signing key.
 */
export async function readKey(pem, registered) {
  if (!canSign()) throw new KeyError("this browser can sign only over https:// or on this machine's own address");
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem);
  if (!m) throw new KeyError("not a PEM private key (expected the file that truceline keys generate wrote)");
  let der;
  try {
    der = Uint8Array.from(atob(m[1].replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    throw new KeyError("the key file's base64 is damaged");
  }
  const algorithm = { name: "Ed25519" };
  let jwk;
  try {
    const probe = await crypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
    jwk = await crypto.subtle.exportKey("jwk", probe);
  } catch {
    throw new KeyError("not an Ed25519 private key");
  }
  const publicKey = jwk.x.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (jwk.x.length % 4)) % 4);
  if (publicKey !== registered) throw new KeyError(`this is not your party's registered key (its public half is ${publicKey})`);
  return crypto.subtle.importKey("pkcs8", der, algorithm, false, ["sign"]);
}

/** The Truceline-Signature header of a request: when it was signed, its nonce, and the base64
 * Ed25519 signature. */
export async function signRequest(key, method, path, body) {
  const at = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const nonce = b64(crypto.getRandomValues(new Uint8Array(16))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const message = new TextEncoder().encode(requestMessage(method, path, await signedForm(method, path, body), at, nonce));
  return `t=${at}, nonce=${nonce}, sig=${b64(await crypto.subtle.sign({ name: "Ed25519" }, key, message))}`;
}
