// Actions made on this phone, kept in IndexedDB until Steward has them: each with its own id (the
// Temporal update id, so a repeat acts once) and the time it was done on the phone (`occurred_at`),
// sent one after another in the order they were made. Photos go up first; their ids then ride in
// the action, and are kept with it so a retry never uploads them twice.

import { ApiError, request, session } from "./client.js";

const DB = "steward-app";
const STORE = "outbox";
const listeners = new Set();
let flushing = null;

function open() {
  return new Promise((resolve, reject) => {
    const opening = indexedDB.open(DB, 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    opening.onsuccess = () => resolve(opening.result);
    opening.onerror = () => reject(opening.error);
  });
}

async function run(mode, work) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result.result ?? result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export async function entries() {
  return run("readonly", (store) => store.getAll());
}

async function save(entry) {
  await run("readwrite", (store) => store.put(entry));
}

export async function dismiss(seq) {
  await run("readwrite", (store) => store.delete(seq));
  changed();
}

function changed() {
  for (const listener of listeners) listener();
}

export function onChange(listener) {
  listeners.add(listener);
}

function newId() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/** Keep an action; it is sent as soon as the network allows. */
export async function enqueue(caseId, action, body, files = []) {
  const entry = {
    by: session.subject, action_id: newId(), case_id: caseId, action, body, files: [...files], photo_ids: [],
    occurred_at: new Date().toISOString(), state: "waiting", reason: null,
  };
  await run("readwrite", (store) => store.add(entry));
  changed();
  return entry.action_id;
}

function retryLater(error) {
  return !(error instanceof ApiError) || error.status >= 500 || [401, 408, 429].includes(error.status);
}

async function send(entry) {
  while (entry.photo_ids.length < entry.files.length) {
    const file = entry.files[entry.photo_ids.length];
    const response = await request(`/requests/${encodeURIComponent(entry.case_id)}/photos`, {
      method: "POST", body: file, contentType: file.type || "application/octet-stream",
    });
    entry.photo_ids.push((await response.json()).photo_id);
    await save(entry);
  }
  const body = { ...entry.body, action_id: entry.action_id, occurred_at: entry.occurred_at };
  if (entry.files.length) body.photos = entry.photo_ids;
  await request(`/requests/${encodeURIComponent(entry.case_id)}/${entry.action}`, { method: "POST", json: body });
}

/** The next action of the signed-in person still to send (another person's wait for them). */
async function next() {
  return (await entries()).find((entry) => entry.state === "waiting" && entry.by === session.subject);
}

/** Send what is waiting, oldest first, including what is added meanwhile; stop at the first that
 * cannot go now (offline, server busy). A refusal (the workflow said no) stays listed with its reason
 * until dismissed. Answers the outcome of each action sent: {action_id, ok, reason}. */
export function flush() {
  flushing ??= (async () => {
    const outcomes = [];
    try {
      for (let entry = await next(); entry; entry = await next()) {
        try {
          await send(entry);
          await run("readwrite", (store) => store.delete(entry.seq));
          outcomes.push({ action_id: entry.action_id, ok: true });
        } catch (error) {
          if (retryLater(error)) break;
          entry.state = "refused";
          entry.reason = error.message;
          await save(entry);
          outcomes.push({ action_id: entry.action_id, ok: false, reason: error.message });
        }
        changed();
      }
    } finally {
      flushing = null;
    }
    changed();
    return outcomes;
  })();
  return flushing;
}
