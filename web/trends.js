// Trends: collect reels, filter them with the API's list parameters, and show each as a card with
// its cover, length, a link to the original and a plain-language "why it is trending". The radar
// (watchlists and their alerts) lives here too, folded away.
import { t, number, ago, clock, errorText, providerName } from "./i18n.js";
import { $, $$, el, api, state, say, problemText, infoText, emit } from "./api.js";

const PAGE_SIZE = 24;
let cursor = null;
let collectionId = null;
let formOpenedFor = null; // the collect form opens by itself only for a project without reels

const list = (text) => text.split(",").map((s) => s.trim().replace(/^[#@]/, "")).filter(Boolean);

// --- collecting ------------------------------------------------------------------------------------

async function collect(event) {
  event.preventDefault();
  let body;
  if ($("#collect-source").value === "import") {
    let items;
    try {
      items = JSON.parse($("#collect-items").value);
      if (!Array.isArray(items)) throw new Error("not an array");
    } catch {
      say("#collect-status", t("badJson"), true);
      return;
    }
    body = { source: "import", items };
  } else {
    body = {
      source: "apify",
      provider: $("#collect-provider").value || undefined,
      hashtags: list($("#collect-hashtags").value),
      accounts: list($("#collect-accounts").value),
      per_source_limit: Number($("#collect-limit").value),
    };
  }
  try {
    const started = await api("POST", `/v1/projects/${state.projectId}/collections`, body);
    collectionId = started.collection.id;
    say("#collect-status", t("collecting"));
    // A quick collection may have finished before its id was known here.
    const now = await api("GET", `/v1/projects/${state.projectId}/collections/${collectionId}`);
    if (now.status === "succeeded" || now.status === "failed") await collectionDone(now.id);
  } catch (error) {
    say("#collect-status", problemText(error), true);
  }
}

async function collectionDone(id) {
  const collection = await api("GET", `/v1/projects/${state.projectId}/collections/${id}`);
  if (collection.status === "failed") say("#collect-status", t("collectFailed", { reason: infoText(collection.error) }), true);
  else say("#collect-status", t("collected", collection.counts || {}));
  await loadReels();
}

// --- the cards -------------------------------------------------------------------------------------

function query() {
  const params = new URLSearchParams({ sort: $("#sort").value || "trend_score", limit: String(PAGE_SIZE) });
  const value = (selector) => $(selector).value.trim();
  if (value("#filter-min-plays")) params.set("min_plays", value("#filter-min-plays"));
  if (value("#filter-max-duration")) params.set("max_duration", value("#filter-max-duration"));
  if (value("#filter-days")) params.set("posted_after", new Date(Date.now() - Number(value("#filter-days")) * 86400000).toISOString());
  if (value("#filter-owner")) params.set("owner", value("#filter-owner").replace(/^@/, ""));
  if (value("#filter-hashtag")) params.set("hashtag", value("#filter-hashtag").replace(/^#/, ""));
  if (value("#filter-language")) params.set("language", value("#filter-language"));
  if ($("#hide-processed").checked) params.set("processed", "false");
  return params;
}

const filtered = () => [...query().keys()].some((key) => !["sort", "limit"].includes(key));

export async function loadReels(more = false) {
  if (!state.projectId) return;
  const params = query();
  if (more && cursor) params.set("cursor", cursor);
  $("#reels").setAttribute("aria-busy", "true");
  try {
    const page = await api("GET", `/v1/projects/${state.projectId}/reels?${params}`);
    cursor = page.next_cursor || null;
    const cards = page.items.map(reelCard);
    if (more) $("#reels").append(...cards);
    else $("#reels").replaceChildren(...cards);
    const count = $$("#reels > li").length;
    say("#reels-count", count ? t("reelCount", { n: count }) : "");
    $("#reels-empty").hidden = count > 0;
    $("#reels-empty").textContent = filtered() ? t("noReelsFiltered") : t("noReels");
    $("#reels-more").hidden = !cursor;
    // Collecting is the first thing to do in an empty project; after that the cards come first.
    if (!more && !filtered() && formOpenedFor !== state.projectId) $("#collect-section").open = count === 0;
    formOpenedFor = state.projectId;
    // The current reel's card carries fresh facts (its download finished or failed).
    const current = page.items.find((reel) => reel.id === state.reel?.id);
    if (current) emit("reel-updated", current);
    markCurrent();
    return page.items;
  } catch (error) {
    say("#reels-count", problemText(error), true);
    return [];
  } finally {
    $("#reels").setAttribute("aria-busy", "false");
  }
}

/** The name a person knows a reel by: its author, else (an uploaded clip) its caption. */
export function reelName(reel) {
  if (reel.owner_username) return `@${reel.owner_username}`;
  if (reel.provider === "files") return reel.caption?.trim() || t("ownClip");
  return reel.caption?.slice(0, 40) || t("ownClip");
}

/**
 * The reel's picture: the cover kept when it was collected (Instagram's own links expire within
 * hours), else the frame taken when it was prepared, else the scraped cover while it may still
 * open.
 */
export function reelImage(reel) {
  const remote = reel.cover_url && /^https:/.test(reel.cover_url) ? reel.cover_url : null;
  return reel.cover_content_url || reel.thumbnail_content_url || remote;
}

export function thumbnail(url, label) {
  const holder = el("div", { class: "placeholder" }, el("span", { text: t("noCover") }));
  if (!url) return holder;
  const image = el("img", { alt: label || "", loading: "lazy", referrerPolicy: "no-referrer", decoding: "async" });
  image.addEventListener("error", () => image.replaceWith(holder));
  image.src = url;
  return image;
}

/** Why a reel is trending, in plain words, strongest reason first. */
function whyTrending(reel) {
  // An uploaded clip is not trending anywhere: it is the creator's own footage.
  if (reel.provider === "files") return [t("whyOwnClip")];
  const m = reel.metrics || {};
  const reasons = [];
  if (m.outlier_score != null && m.outlier_score >= 1.2) reasons.push(t("whyOutlier", { x: number(m.outlier_score, 1) }));
  const speed = m.recent_velocity ?? m.velocity;
  if (speed != null && speed >= 1) reasons.push(t("whyVelocity", { n: number(speed) }));
  if (m.engagement_rate != null && m.engagement_rate > 0) reasons.push(t("whyEngagement", { n: number(m.engagement_rate * 100, 1) }));
  if (reel.posted_at) reasons.push(t("whyFresh", { when: ago(reel.posted_at) }));
  return reasons.length ? reasons : [t("whyNone")];
}

/** The reel's media state, when it is worth saying (a download under way or failed). */
export function reelStatusText(reel) {
  if (!reel.selected && reel.status === "pending") return "";
  if (reel.status === "failed") return t("reelStatus_failed", { reason: reel.error ? errorText(reel.error.code) : t("err_unknown") });
  return reel.status === "succeeded" && !reel.selected ? "" : t(`reelStatus_${reel.status}`);
}

function reelCard(reel) {
  const name = reelName(reel);
  const duration = reel.media?.duration_ms ?? reel.duration_ms;
  const m = reel.metrics || {};
  const why = whyTrending(reel);
  const status = reelStatusText(reel);
  const original = reel.url && /^https:\/\//.test(reel.url)
    ? el("a", { href: reel.url, target: "_blank", rel: "noopener", class: "external", text: t("openInstagram") })
    : null;
  const titleId = `reel-title-${reel.id}`;
  return el("li", { class: "card reel", "data-reel": reel.id, "data-status": reel.status, "data-plays": m.plays ?? "", "aria-labelledby": titleId },
    el("div", { class: "thumb" },
      thumbnail(reelImage(reel), ""),
      duration ? el("span", { class: "badge duration", text: clock(duration) }) : null),
    el("div", { class: "reel-body" },
      el("h3", { id: titleId, class: "reel-name", text: name, "data-content": "" }),
      el("p", { class: "reel-stats", text: t("plays", { n: m.plays ?? 0 }) }),
      // The reel's own words, in their own language (marked, so screen readers read them right).
      reel.caption && reel.provider !== "files" ? el("p", { class: "caption", text: reel.caption.slice(0, 140), lang: reel.caption_language || undefined, "data-content": "" }) : null,
      el("p", { class: "why-title", text: t("whyTitle") }),
      el("ul", { class: "why" }, why.map((reason) => el("li", { text: reason }))),
      status ? el("p", { class: `reel-status ${reel.status}`, text: status }) : null,
      el("div", { class: "row actions" },
        el("button", { type: "button", class: "make", text: t("makeMine"), "aria-describedby": titleId, onclick: () => makeMine(reel) }),
        original)));
}

function markCurrent() {
  for (const card of $$("#reels > li")) {
    const current = card.dataset.reel === state.reel?.id;
    card.classList.toggle("current", current);
    const button = $("button.make", card);
    if (button) button.setAttribute("aria-pressed", String(current));
  }
}

/** "Make my version": the reel is selected (its media prepared) and becomes the current reel. */
async function makeMine(reel) {
  try {
    await api("POST", `/v1/projects/${state.projectId}/reels/${reel.id}/select`, {});
    const fresh = await api("GET", `/v1/reels/${reel.id}`);
    emit("reel-chosen", fresh);
    markCurrent();
    location.hash = "#/studio";
  } catch (error) {
    say("#reels-count", problemText(error), true);
  }
}

export { markCurrent };

// --- the current reel's plays over time --------------------------------------------------------

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

export async function drawHistory(reel) {
  const history = await api("GET", `/v1/reels/${reel.id}/history`);
  const points = history.observations.filter((o) => o.plays !== null);
  $("#reel-chart").hidden = points.length < 2;
  if (points.length < 2) return;
  $("#chart-title").textContent = t("chartTitle", { owner: reel.owner_username || reel.external_id, count: t("observations", { n: points.length }) });
  const [width, height, pad] = [600, 160, 24];
  const times = points.map((p) => Date.parse(p.observed_at));
  const plays = points.map((p) => p.plays);
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const [low, high] = [Math.min(...plays), Math.max(...plays)];
  const x = (time) => pad + ((width - 2 * pad) * (t1 > t0 ? time - t0 : 0.5)) / (t1 > t0 ? t1 - t0 : 1);
  const y = (value) => height - pad - ((height - 2 * pad) * (high > low ? value - low : 0.5)) / (high > low ? high - low : 1);
  $("#chart").replaceChildren(
    svg("polyline", { points: points.map((_, i) => `${x(times[i]).toFixed(1)},${y(plays[i]).toFixed(1)}`).join(" ") }),
    ...points.map((_, i) => svg("circle", { cx: x(times[i]).toFixed(1), cy: y(plays[i]).toFixed(1), r: 3 })),
    Object.assign(svg("text", { x: pad, y: 12 }), { textContent: number(high) }),
    Object.assign(svg("text", { x: pad, y: height - 6 }), { textContent: number(low) }),
  );
}

// --- radar -----------------------------------------------------------------------------------------

function scheduleText(schedule) {
  return schedule.every_hours ? t("everyHours", { hours: schedule.every_hours }) : t("cronSchedule", { cron: schedule.cron });
}

function ruleText(rule) {
  const c = rule.conditions;
  const parts = [];
  if (c.min_outlier_score != null) parts.push(t("ruleOutlierText", { x: number(c.min_outlier_score, 2) }));
  if (c.min_recent_velocity != null) parts.push(t("ruleVelocityText", { n: number(c.min_recent_velocity) }));
  if (c.min_engagement_rate != null) parts.push(t("ruleEngagementText", { n: number(c.min_engagement_rate * 100, 1) }));
  if (c.posted_within_hours != null) parts.push(t("ruleWithinText", { n: c.posted_within_hours }));
  if (rule.auto_run) parts.push(t("ruleAutoText"), t(`ruleReviewText_${rule.review || "never"}`));
  return parts.join(", ") || t("ruleAny");
}

export async function loadWatchlists() {
  const page = await api("GET", `/v1/projects/${state.projectId}/watchlists?limit=100`);
  $("#watchlists").replaceChildren(...page.items.map((watchlist) => {
    const sources = [...(watchlist.collection.hashtags || []).map((h) => `#${h}`), ...(watchlist.collection.accounts || []).map((a) => `@${a}`)];
    const toggle = el("button", {
      type: "button", class: "secondary", text: watchlist.paused ? t("resume") : t("pause"),
      onclick: async () => {
        try {
          await api("PATCH", `/v1/watchlists/${watchlist.id}`, { paused: !watchlist.paused });
          await loadWatchlists();
        } catch (error) {
          say("#watch-status", problemText(error), true);
        }
      },
    });
    return el("li", { "data-watchlist": watchlist.id },
      el("strong", { class: "watch-name", text: watchlist.name }),
      el("span", { class: "watch-sources", text: sources.join(" ") }),
      el("span", { class: "watch-schedule", text: scheduleText(watchlist.schedule) }),
      el("span", { class: "watch-next", text: watchlist.paused ? t("paused") : new Date(watchlist.next_tick_at).toLocaleString(document.documentElement.lang) }),
      el("span", { class: "watch-rules", text: watchlist.rules.map(ruleText).join("; ") }),
      toggle);
  }));
  $("#watchlists-empty").hidden = page.items.length > 0;
}

async function createWatchlist(event) {
  event.preventDefault();
  const cron = $("#watch-cron").value.trim();
  const optional = (selector) => ($(selector).value === "" ? undefined : Number($(selector).value));
  const conditions = {
    min_outlier_score: optional("#rule-outlier"),
    min_recent_velocity: optional("#rule-velocity"),
    posted_within_hours: optional("#rule-within"),
  };
  const hasCondition = Object.values(conditions).some((value) => value !== undefined);
  // A rule with no condition would match every reel collected: with "make my version" that is a
  // paid run for each, so it takes a condition.
  if (!hasCondition && $("#rule-auto").checked) {
    say("#watch-status", t("ruleNeedsCondition"), true);
    return;
  }
  const body = {
    name: $("#watch-name").value,
    collection: {
      source: "apify",
      provider: $("#collect-provider").value || undefined,
      hashtags: list($("#watch-hashtags").value),
      accounts: list($("#watch-accounts").value),
      per_source_limit: Number($("#collect-limit").value),
    },
    schedule: cron ? { cron } : { every_hours: Number($("#watch-every").value) },
    rules: hasCondition ? [{ conditions, auto_run: $("#rule-auto").checked, review: $("#rule-review").value }] : [],
  };
  try {
    await api("POST", `/v1/projects/${state.projectId}/watchlists`, body);
    say("#watch-status", t("watchCreated"));
    await loadWatchlists();
  } catch (error) {
    say("#watch-status", problemText(error), true);
  }
}

export async function loadAlerts() {
  const page = await api("GET", `/v1/projects/${state.projectId}/alerts?limit=20`);
  const reels = new Map();
  await Promise.all([...new Set(page.items.map((alert) => alert.reel_id))].map(async (id) => {
    reels.set(id, await api("GET", `/v1/reels/${id}`).catch(() => null));
  }));
  $("#alerts").replaceChildren(...page.items.map((alert) => {
    const m = alert.metrics;
    const reel = reels.get(alert.reel_id);
    const speed = m.recent_velocity ?? m.velocity;
    const text = [
      t("alertText", { owner: reel ? reelName(reel) : "—", plays: t("plays", { n: m.plays ?? 0 }), x: number(m.outlier_score, 1) }),
      speed >= 1 ? t("alertSpeed", { n: number(speed) }) : null,
    ].filter(Boolean).join(", ");
    const run = alert.run_id ? t("alertRun") : alert.run_skipped ? t("alertSkipped", { reason: errorText(alert.run_skipped.code) }) : "";
    return el("li", { "data-alert": alert.id, "data-reel": alert.reel_id },
      el("span", { class: "when", text: ago(alert.created_at) }),
      el("span", { text: run ? `${text} — ${run}` : text }),
      reel ? el("button", { type: "button", class: "secondary", text: t("makeMine"), onclick: () => makeMine(reel) }) : null);
  }));
  $("#alerts-empty").hidden = page.items.length > 0;
}

// --- wiring ----------------------------------------------------------------------------------------

export function initTrends() {
  $("#collect-source").addEventListener("change", (event) => {
    const scrape = event.target.value === "scrape";
    for (const node of $$("#collect-form .scrape")) node.hidden = !scrape;
    for (const node of $$("#collect-form .import")) node.hidden = scrape;
  });
  $("#collect-form").addEventListener("submit", collect);
  $("#filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadReels();
  });
  $("#filter-form").addEventListener("reset", () => setTimeout(() => loadReels()));
  $("#sort").addEventListener("change", () => loadReels());
  $("#hide-processed").addEventListener("change", () => loadReels());
  $("#reels-more").addEventListener("click", () => loadReels(true));
  $("#watchlist-form").addEventListener("submit", createWatchlist);
}

/** What the collect step offers (the collector picker); stand-ins are named in words. */
export function showCollectors(steps) {
  const collect = steps.find(({ step }) => step === "collect");
  $("#collect-provider").replaceChildren(...(collect?.available || []).map((name) =>
    new Option(providerName(name), name, false, name === collect.preferred)));
}

export function onTrendsEvent(event) {
  if ((event.kind === "job.succeeded" || event.kind === "job.failed") && event.resource_type === "collection") {
    if (event.resource_id === collectionId) collectionDone(event.resource_id);
    else loadReels();
  }
  if (event.kind === "reel.succeeded" || event.kind === "reel.failed") loadReels();
  if (event.kind === "alert") loadAlerts();
}
