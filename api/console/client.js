// Talking to Steward's API with the signed-in supervisor's token, and who that supervisor is.

import { locale } from "./i18n.js";

const TOKEN_KEY = "steward.console.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The token (kept for this browser tab only) and what /console/api/session said about it. */
export const session = {
  token: sessionStorage.getItem(TOKEN_KEY),
  info: null,
  onSignedOut: () => {},
};

export function signIn(token, info) {
  session.token = token;
  session.info = info;
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function signOut() {
  session.token = null;
  session.info = null;
  sessionStorage.removeItem(TOKEN_KEY);
  session.onSignedOut();
}

/** Who `token` belongs to, if a supervisor; an ApiError (401, 403) otherwise. */
export async function checkToken(token) {
  return (await request("/console/api/session", { token })).json();
}

async function request(path, { method = "GET", body, token = session.token } = {}) {
  const headers = { Authorization: `Bearer ${token}`, "Accept-Language": locale() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store",
  });
  if (response.ok) return response;
  let error = { code: `http_${response.status}`, message: response.statusText };
  try {
    error = (await response.json()).error || error;
  } catch {
    // not the API's error shape (a proxy's page): keep the status line
  }
  throw new ApiError(response.status, error.code, error.message);
}

/** A call on behalf of the signed-in supervisor; a token that stopped working signs them out. */
export async function api(path, options = {}) {
  try {
    return await request(path, options);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) signOut();
    throw error;
  }
}

export async function getJson(path) {
  return (await api(path)).json();
}

export async function postJson(path, body) {
  return (await api(path, { method: "POST", body })).json();
}

/** Fetch a file with the token (a plain link cannot carry it) and hand it to the browser to save. */
export async function download(path) {
  const response = await api(path);
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] || "steward.csv";
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

/** A GET that sends the ETag it last saw: null when nothing changed (304), else the body and new ETag. */
export async function getIfChanged(path, etag) {
  const headers = { Authorization: `Bearer ${session.token}`, "Accept-Language": locale() };
  if (etag) headers["If-None-Match"] = etag;
  const response = await fetch(path, { headers, cache: "no-store" });
  if (response.status === 304) return null;
  if (!response.ok) {
    if (response.status === 401) signOut();
    let error = { code: `http_${response.status}`, message: response.statusText };
    try {
      error = (await response.json()).error || error;
    } catch {
      // not the API's error shape
    }
    throw new ApiError(response.status, error.code, error.message);
  }
  return { etag: response.headers.get("ETag"), body: await response.json() };
}

/** Say something once to screen readers (changes, never the ticking of a countdown). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (region && region.textContent !== text) region.textContent = text;
}
