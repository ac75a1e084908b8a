// Talking to Steward's API with the signed-in person's token (kept on this phone until it expires).

import { locale } from "./i18n.js";

const TOKEN_KEY = "steward.app.token";
const ROLE_KEY = "steward.app.role";
const SUBJECT_KEY = "steward.app.subject";

export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

export const session = {
  token: localStorage.getItem(TOKEN_KEY),
  role: localStorage.getItem(ROLE_KEY),
  subject: localStorage.getItem(SUBJECT_KEY),
  me: null,
  onSignedOut: () => {},
};

/** Who holds the token: its role, and its subject, which the outbox sends actions for. */
export function signIn(token, role, subject) {
  session.token = token;
  session.role = role;
  session.subject = subject;
  localStorage.setItem(TOKEN_KEY, token);
  localStorage.setItem(ROLE_KEY, role);
  localStorage.setItem(SUBJECT_KEY, subject);
}

export function signOut() {
  session.token = null;
  session.role = null;
  session.subject = null;
  session.me = null;
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(ROLE_KEY);
  localStorage.removeItem(SUBJECT_KEY);
  session.onSignedOut();
}

/** One request; a network failure throws a TypeError (the caller decides: offline or not). */
export async function request(path, { method = "GET", json, body, contentType, auth = true, headers: extra = {} } = {}) {
  const headers = { "Accept-Language": locale(), ...extra };
  if (auth && session.token) headers.Authorization = `Bearer ${session.token}`;
  if (json !== undefined) headers["Content-Type"] = "application/json";
  else if (contentType) headers["Content-Type"] = contentType;
  const response = await fetch(path, {
    method, headers, body: json !== undefined ? JSON.stringify(json) : body, cache: "no-store",
  });
  if (response.ok) return response;
  let error = { code: `http_${response.status}`, message: response.statusText };
  try {
    error = (await response.json()).error || error;
  } catch {
    // not the API's error shape: keep the status line
  }
  if (response.status === 401 && auth) signOut();
  throw new ApiError(response.status, error.code, error.message, response.headers.get("Retry-After"));
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function postJson(path, json, options = {}) {
  return (await request(path, { method: "POST", json, ...options })).json();
}
