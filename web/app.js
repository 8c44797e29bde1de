// The creator's studio: a guided flow Trends → Studio → Publish, with drafts and settings, over the
// public API only, with a token pasted once (kept in localStorage). No build step: ES modules split
// by view (trends.js, studio.js, publish.js) over shared state and the API client (api.js) and one
// table of texts (i18n.js). This module is the shell: sign-in, project, routing, the current-reel
// panel that stays put, and the live event stream handed to each view.
import { t, lang, translatePage, money, clock } from "./i18n.js";
import { $, $$, api, state, say, problemText, openStream, closeStream, onServerEvent, on, remember, recall, detectFeatures, ApiError } from "./api.js";
import * as trends from "./trends.js";
import * as studio from "./studio.js";
import * as publish from "./publish.js";

const VIEWS = ["trends", "studio", "publish", "drafts", "settings"];

// --- routing ---------------------------------------------------------------------------------------

function route() {
  const name = location.hash.replace(/^#\/?/, "");
  const view = VIEWS.includes(name) ? name : "trends";
  for (const other of VIEWS) $(`#view-${other}`).hidden = other !== view;
  for (const link of $$("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
  if (view === "drafts") publish.loadDrafts();
  return view;
}

window.addEventListener("hashchange", () => {
  route();
  // Moving between views takes focus to the content, as a page load would.
  $("#main").focus({ preventScroll: true });
  window.scrollTo(0, 0);
});

// --- the current reel --------------------------------------------------------------------------------

function showCurrent(reel) {
  const thumb = $("#current-thumb");
  const url = reel && trends.reelImage(reel);
  thumb.replaceChildren(...(url ? [trends.thumbnail(url, "")] : []));
  $("#current-name").textContent = reel ? trends.reelName(reel) : t("currentNone");
  const duration = reel?.media?.duration_ms ?? reel?.duration_ms;
  $("#current-meta").textContent = reel
    ? [duration ? clock(duration) : null, t("plays", { n: reel.metrics?.plays ?? 0 })].filter(Boolean).join(" · ")
    : "";
  const original = $("#current-original");
  original.hidden = !/^https:\/\//.test(reel?.url || "");
  if (!original.hidden) original.href = reel.url;
  const status = reel ? trends.reelStatusText(reel) : "";
  say("#current-status", status, reel?.status === "failed");
}

async function setCurrent(reel, { open = true } = {}) {
  state.reel = reel;
  remember("reel", reel?.id);
  showCurrent(reel);
  trends.markCurrent();
  if (open) await studio.openReel(reel);
  if (reel) trends.drawHistory(reel).catch(() => { $("#reel-chart").hidden = true; });
}

on("reel-chosen", (reel) => setCurrent(reel));
on("reel-updated", (reel) => {
  if (reel.id !== state.reel?.id) return;
  state.reel = reel;
  showCurrent(reel);
});
on("video-chosen", (id) => publish.chooseVideo(id));
on("drafts-changed", () => publish.loadDrafts());
on("project-changed", () => loadProjectCost());
on("open-video", async ({ video, reel }) => {
  if (reel && reel.id !== state.reel?.id) await setCurrent(reel);
  await studio.openVideo(video);
  location.hash = "#/studio";
});

// --- sign-in and project ---------------------------------------------------------------------------

async function useToken(token) {
  state.token = token;
  try {
    await api("GET", "/v1/projects?limit=1");
  } catch (error) {
    const reason = error instanceof ApiError && error.status === 401 ? t("err_unauthorized") : problemText(error);
    say("#token-status", t("tokenBad", { reason }), true);
    $("#workspace").hidden = true;
    $("#nav").hidden = true;
    $("#token-section").hidden = false;
    return false;
  }
  localStorage.setItem("reelforge.token", token);
  say("#token-status", t("tokenOk"));
  $("#token-section").hidden = true;
  $("#workspace").hidden = false;
  $("#nav").hidden = false;
  route();
  await detectFeatures();
  studio.showReviewChoice();
  // Providers first: the project then labels its own choice among them.
  await loadProviders();
  await loadProjects();
  return true;
}

async function loadProviders() {
  const steps = await api("GET", "/v1/providers");
  state.steps = steps;
  trends.showCollectors(steps);
  studio.showProviders(steps);
}

async function loadProjects() {
  const page = await api("GET", "/v1/projects?limit=100");
  const select = $("#project");
  select.replaceChildren(...page.items.map((p) => new Option(p.name, p.id)));
  if (!page.items.some((p) => p.id === state.projectId)) state.projectId = page.items[0]?.id || "";
  select.value = state.projectId;
  await openProject();
}

async function openProject() {
  localStorage.setItem("reelforge.project", state.projectId);
  state.reel = null;
  // The video chosen for publishing before a reload, by id: the drafts mark it as they load.
  state.videoId = recall("video");
  state.lastEventId = null;
  openStream();
  if (!state.projectId) return;
  // The reel and the video chosen before a reload are found again by their ids.
  const remembered = recall("reel");
  const reel = remembered ? await api("GET", `/v1/reels/${remembered}`).catch(() => null) : null;
  await Promise.all([
    trends.loadReels(),
    setCurrent(reel),
    loadProjectCost(),
    trends.loadWatchlists(),
    trends.loadAlerts(),
    studio.loadAssets(),
    publish.loadAccounts().then(publish.showChosen),
    publish.loadDrafts(),
  ]);
}

async function loadProjectCost() {
  if (!state.projectId) return;
  const project = await api("GET", `/v1/projects/${state.projectId}`);
  state.project = project;
  $("#project-cost").textContent = t("projectCost", { cost: money(project.usage?.total_cost ?? 0) });
  showBudget(project.budget);
  studio.labelProjectChoice(project.settings.providers);
}

function showBudget(budget) {
  if (!budget) return;
  const limit = budget.monthly_budget;
  $("#budget-limit").value = limit ?? "";
  const share = (usd) => (limit ? Math.min(100, (100 * usd) / limit) : 0);
  const used = share(budget.spent);
  $("#budget-used").style.width = `${used}%`;
  $("#budget-held").style.left = `${used}%`;
  $("#budget-held").style.width = `${Math.min(100 - used, share(budget.committed))}%`;
  $("#budget").classList.toggle("over", limit !== null && budget.left <= 0);
  $("#budget").setAttribute("aria-valuenow", String(Math.round(used)));
  $("#budget").hidden = limit === null;
  $("#budget-text").textContent = limit === null
    ? t("budgetNone", { spent: money(budget.spent) })
    : t("budgetText", { spent: money(budget.spent), held: money(budget.committed), limit: money(limit), left: money(budget.left) });
}

async function saveBudget() {
  const input = $("#budget-limit");
  // Text the browser cannot read as a number is not taken as "no cap".
  if (input.validity.badInput || !input.checkValidity()) {
    $("#budget-text").textContent = t("budgetInvalid");
    return;
  }
  try {
    await api("PATCH", `/v1/projects/${state.projectId}`, { settings: { monthly_budget: input.value === "" ? null : input.valueAsNumber } });
    await loadProjectCost();
  } catch (error) {
    $("#budget-text").textContent = problemText(error);
  }
}

// --- events ----------------------------------------------------------------------------------------

onServerEvent((event) => {
  trends.onTrendsEvent(event);
  studio.onStudioEvent(event);
  publish.onPublishEvent(event);
  if (event.kind === "run.queued" || /^run\.(succeeded|failed)$/.test(event.kind)) loadProjectCost();
  // The current reel's download finishing or failing is said in the panel at once.
  if (/^reel\./.test(event.kind) && event.resource_id === state.reel?.id) {
    api("GET", `/v1/reels/${state.reel.id}`).then((reel) => {
      if (reel.id !== state.reel?.id) return;
      state.reel = reel;
      showCurrent(reel);
    }).catch(() => {});
  }
});

// --- wiring ----------------------------------------------------------------------------------------

function translateAll() {
  translatePage();
  $("#ui-language").value = lang.current;
  studio.showStylePreview();
  publish.translatePublish();
}

$("#ui-language").addEventListener("change", (event) => {
  lang.current = event.target.value;
  localStorage.setItem("reelforge.lang", lang.current);
  translateAll();
  // What is on screen is drawn again in the new language, without reloading the media.
  if (state.projectId && !$("#workspace").hidden) {
    showCurrent(state.reel);
    trends.loadReels();
    trends.loadWatchlists();
    trends.loadAlerts();
    studio.loadAssets();
    if (state.steps) studio.showProviders(state.steps);
    loadProjectCost();
    if (studio.currentRun()) studio.showRun(studio.currentRun());
    publish.loadAccounts().then(publish.showChosen);
    publish.loadDrafts();
  }
});
$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  useToken($("#token").value.trim());
});
$("#token-forget").addEventListener("click", () => {
  localStorage.removeItem("reelforge.token");
  state.token = "";
  closeStream();
  $("#token").value = "";
  $("#workspace").hidden = true;
  $("#nav").hidden = true;
  $("#token-section").hidden = false;
});
$("#project").addEventListener("change", (event) => {
  state.projectId = event.target.value;
  openProject();
});
$("#project-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const project = await api("POST", "/v1/projects", { name: $("#project-name").value, language: $("#project-language").value });
    state.projectId = project.id;
    $("#project-name").value = "";
    await loadProjects();
  } catch (error) {
    $("#project-cost").textContent = problemText(error);
  }
});
$("#budget-save").addEventListener("click", saveBudget);

trends.initTrends();
studio.initStudio();
publish.initPublish();
translateAll();
route();
if (state.token) {
  $("#token").value = state.token;
  useToken(state.token);
}

