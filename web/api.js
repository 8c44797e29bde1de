// The page's shared state, the API client, problem+json errors in the page's words, the live event
// stream and small DOM helpers. Every view imports from here; none imports another view's state.
import { t, errorText, paramWords, lang } from "./i18n.js";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** An element with properties (`text`, `class`, attributes, `on…` handlers) and children. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((child) => child !== null && child !== undefined && child !== ""));
  return node;
}

export const state = {
  token: localStorage.getItem("reelforge.token") || "",
  projectId: localStorage.getItem("reelforge.project") || "",
  project: null,
  reel: null, // the current reel, shown in the panel that stays put
  videoId: null, // the video the publish panel posts, by id; kept across reloads
  accounts: new Map(),
  jobs: new Map(), // resource id -> the newest job seen for it (progress, stage, started_at)
  lastEventId: null,
  features: { review: null }, // what this server's API offers beyond today's contract
};

/** Remembered per project: the current reel and the video to publish survive a reload. */
export function remember(key, value) {
  const name = `reelforge.${key}.${state.projectId}`;
  if (value) localStorage.setItem(name, value);
  else localStorage.removeItem(name);
}
export const recall = (key) => localStorage.getItem(`reelforge.${key}.${state.projectId}`);

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.code || `http_${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined && !(body instanceof FormData)) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method, headers, body: body === undefined || body instanceof FormData ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { code: "network" });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/**
 * A failure in the page's words, from the problem's `code` and its typed `params` (and the
 * fields it names). The server's `detail` is English: it is shown only in the English UI, after
 * the translation.
 */
export function problemText(error) {
  const code = error?.problem?.code || "unknown";
  let text = code === "network" ? t("err_network") : errorText(code, error?.problem?.params);
  const fields = (error?.problem?.errors || []).map((e) => t("fieldError", { field: e.field }));
  if (fields.length) text += ` (${fields.join(", ")})`;
  if (lang.current === "en" && error?.problem?.detail) text += `: ${error.problem.detail}`;
  return text;
}

/** A failure stored on a resource (`ErrorInfo`), in the page's words: a run's failed step says
 * which step and whose service it was. */
export function infoText(info) {
  if (!info) return "";
  let text = errorText(info.code, info.params);
  const words = paramWords(info.params || {});
  if (words.step && words.provider) text += ` (${t("errWhere", words)})`;
  return lang.current === "en" && info.message ? `${text} (${info.message})` : text;
}

/** Sets a status line (an aria-live region in the markup) and marks it as an error or not. */
export function say(selector, text, isError = false) {
  const node = typeof selector === "string" ? $(selector) : selector;
  if (!node) return;
  node.textContent = text;
  node.classList.toggle("error", isError);
}

/**
 * What the served OpenAPI document offers that the page can use when present: the run option
 * `review` (issue #30) lives on the run request or its options; without it, runs never pause.
 */
export async function detectFeatures() {
  try {
    const doc = await (await fetch("/openapi.json")).json();
    const schemas = doc.components?.schemas || {};
    if (schemas.CreateRun?.properties?.review) state.features.review = "run";
    else if (schemas.RunOptions?.properties?.review) state.features.review = "options";
  } catch {
    state.features.review = null;
  }
}

// --- events ----------------------------------------------------------------------------------------

const listeners = new Set();
export const onServerEvent = (listener) => listeners.add(listener);
let stream = null;

// A fetch-based SSE reader rather than EventSource: it sends the token as a header and resumes
// with Last-Event-ID after any drop, so no update is missed while reconnecting.
export function openStream() {
  stream?.abort();
  if (!state.projectId) return;
  const controller = new AbortController();
  stream = controller;
  const projectId = state.projectId;
  (async () => {
    let delay = 500;
    while (!controller.signal.aborted) {
      try {
        const headers = { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" };
        if (state.lastEventId !== null) headers["Last-Event-ID"] = String(state.lastEventId);
        const response = await fetch(`/v1/events?project_id=${projectId}`, { headers, signal: controller.signal });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        delay = 500;
        say("#stream-status", t("streamLive"));
        $("#stream-status").dataset.state = "live";
        await readFrames(response.body, controller.signal);
      } catch {
        if (controller.signal.aborted) return;
      }
      say("#stream-status", t("streamRetry"));
      $("#stream-status").dataset.state = "retry";
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
}

export const closeStream = () => stream?.abort();

async function readFrames(body, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!signal.aborted) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const fields = { data: [] };
      for (const line of frame.split("\n")) {
        if (!line || line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (name === "data") fields.data.push(text);
        else fields[name] = text;
      }
      if (!fields.data.length) continue;
      if (fields.id) state.lastEventId = Number(fields.id);
      let event;
      try {
        event = JSON.parse(fields.data.join("\n"));
      } catch {
        continue;
      }
      if (event.kind?.startsWith("job.") && event.resource_id) state.jobs.set(event.resource_id, event.data);
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          console.warn("event not handled", error);
        }
      }
    }
  }
}

/** Waits for a resource to finish, reading it again each second; `onTick` sees each reading. */
export async function settle(path, onTick = () => {}) {
  let resource = await api("GET", path);
  while (!["succeeded", "failed", "canceled"].includes(resource.status)) {
    onTick(resource);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    resource = await api("GET", path);
  }
  return resource;
}

// Views talk through named page events (a reel chosen, a video chosen, a run moved on), so no view
// reaches into another's markup.
export const emit = (name, detail) => document.dispatchEvent(new CustomEvent(`rf:${name}`, { detail }));
export const on = (name, handler) => document.addEventListener(`rf:${name}`, (event) => handler(event.detail));

/** Announces a short message to screen readers through the page's polite live region. */
export function announce(text) {
  const live = $("#live");
  if (live) live.textContent = text;
}
