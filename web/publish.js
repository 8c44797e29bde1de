// Drafts and publishing. Every run and every render is a card in the drafts gallery; the publish
// panel names the exact video it posts (kept by id across reloads, never "whatever is on screen"),
// with the post's words, the accounts ("connect" per platform, tokens under "advanced"), where the
// video is posted, scheduled posts by day, and retry.
import { t, when, clock } from "./i18n.js";
import { $, $$, el, api, state, say, problemText, infoText, emit, remember, recall, settle, announce } from "./api.js";
import { reelName, reelImage, thumbnail } from "./trends.js";

const reels = new Map(); // reel id -> reel, for names and pictures
let postId = null;
let postCredits = [];
let chosen = null; // the video resource the publish panel posts

async function reelOf(id) {
  if (!id) return null;
  if (!reels.has(id)) reels.set(id, await api("GET", `/v1/reels/${id}`).catch(() => null));
  return reels.get(id);
}

/** A video's kind in words: a run's own video, a preview, or a final render. */
function videoKind(video, runVideos) {
  if (video.output?.preview || video.input?.options?.preview) return t("draftPreview");
  return runVideos.has(video.id) ? t("draftRun") : t("draftFinal");
}

/** How a person tells videos apart: whose reel, which cut and size, and when it was made. */
function videoLabel(video, reel, kind) {
  const size = video.output ? `${kind} ${video.output.width}×${video.output.height}` : kind;
  return t("draftName", { owner: reel ? reelName(reel) : "—", size, when: when(video.created_at) });
}

function publicationLine(publication) {
  const account = state.accounts.get(publication.account_id);
  let status = t(`status_${publication.status}`);
  if (publication.outcome === "inbox") status = t("inbox");
  if (publication.outcome === "scheduled") status = t("outcome_scheduled");
  if (publication.waiting) status += ` — ${t(`waiting_${publication.waiting.reason || publication.waiting}`)}`;
  if (publication.error) status += `: ${infoText(publication.error)}`;
  const where = `${t(`platform_${publication.platform}`)}${account ? ` · ${account.name}` : ""}`;
  const actions = [];
  if (publication.post_url && /^https:\/\//.test(publication.post_url)) {
    actions.push(el("a", { href: publication.post_url, target: "_blank", rel: "noopener", text: t("open") }));
  }
  if (publication.status === "scheduled") {
    actions.push(el("button", { type: "button", class: "secondary", text: t("cancel"), onclick: () => cancelPublication(publication) }));
  }
  if (publication.status === "failed" || publication.status === "canceled") {
    actions.push(el("button", { type: "button", class: "secondary", text: t("retry"), onclick: () => retryPublication(publication) }));
  }
  return el("li", { "data-publication": publication.id, "data-status": publication.status },
    el("span", { class: "where", text: where }),
    el("span", { class: `state ${publication.status}`, text: status }),
    publication.schedule_at ? el("span", { class: "hint", text: when(publication.schedule_at) }) : null,
    ...actions);
}

// --- the drafts gallery ----------------------------------------------------------------------------

let drafting = null;

/** Every run of the project and every video it made, newest first. */
export function loadDrafts() {
  // One load at a time; a request while one runs is answered by the next one.
  drafting = (drafting || Promise.resolve()).then(buildDrafts).catch((error) => say("#drafts-empty", problemText(error), true));
  return drafting;
}

async function buildDrafts() {
  if (!state.projectId) return;
  $("#drafts").setAttribute("aria-busy", "true");
  // The project's runs and its videos (previews and final renders too), one request each.
  const [runs, made] = await Promise.all([
    api("GET", `/v1/projects/${state.projectId}/runs?limit=30`).then((page) => page.items),
    api("GET", `/v1/projects/${state.projectId}/videos?limit=100`).then((page) => page.items),
  ]);
  const runVideos = new Set();
  const audios = new Map(); // audio id -> reel id
  for (const run of runs) {
    for (const reel of run.reels || []) {
      for (const step of reel.steps || []) {
        if (step.step === "render") runVideos.add(step.resource_id);
        if (step.step === "voice") audios.set(step.resource_id, reel.reel_id);
      }
    }
  }
  const videos = new Map();
  // Whose reel: a finished video says so itself; one under way, by the run its voiceover is from.
  for (const video of made) videos.set(video.id, { video, reelId: video.output?.lineage?.reel_id || audios.get(video.parent_id) });
  // The video chosen for publishing is always in the gallery, even from an older voiceover.
  if (state.videoId && !videos.has(state.videoId)) {
    const video = await api("GET", `/v1/videos/${state.videoId}`).catch(() => null);
    if (video) videos.set(video.id, { video, reelId: video.output?.lineage?.reel_id });
  }
  const publications = new Map();
  await Promise.all([...videos.values()].filter(({ video }) => video.status === "succeeded").map(async ({ video }) => {
    const page = await api("GET", `/v1/videos/${video.id}/publications?limit=50`).catch(() => ({ items: [] }));
    publications.set(video.id, page.items);
  }));
  await Promise.all([...new Set([...videos.values()].map((v) => v.reelId).concat(runs.map((r) => r.reels?.[0]?.reel_id)))].map(reelOf));

  const cards = [];
  for (const { video, reelId } of videos.values()) cards.push({ at: video.created_at, node: videoCard(video, reels.get(reelId), runVideos, publications.get(video.id) || []) });
  // Runs that have no finished video yet (under way, waiting for review, failed) are cards too.
  for (const run of runs) {
    const reel = run.reels?.[0];
    const done = (reel?.steps || []).some((step) => step.step === "render" && step.status === "succeeded");
    if (!done) cards.push({ at: run.created_at, node: runCard(run, reels.get(reel?.reel_id)) });
  }
  cards.sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  $("#drafts").replaceChildren(...cards.map((card) => card.node));
  $("#drafts-empty").hidden = cards.length > 0;
  $("#drafts").setAttribute("aria-busy", "false");
  showCalendar([...publications.values()].flat(), videos, runVideos);
}

function videoCard(video, reel, runVideos, posted) {
  const label = videoLabel(video, reel, videoKind(video, runVideos));
  const isChosen = video.id === state.videoId;
  const titleId = `draft-${video.id}`;
  let status = "";
  if (video.status === "failed") status = infoText(video.error);
  else if (video.status !== "succeeded") status = t(`state_${video.status}`);
  return el("li", { class: `card draft${isChosen ? " chosen" : ""}`, "data-video": video.id, "data-status": video.status, "aria-labelledby": titleId },
    el("div", { class: "thumb" },
      thumbnail(video.file_urls?.["thumbnail.jpg"] || (reel && reelImage(reel)), ""),
      video.output ? el("span", { class: "badge duration", text: clock(video.output.duration_ms) }) : null),
    el("div", { class: "reel-body" },
      el("h3", { id: titleId, text: label }),
      status ? el("p", { class: `state ${video.status}`, text: status }) : null,
      isChosen ? el("p", { class: "badge chosen-badge", text: t("draftChosen") }) : null,
      el("ul", { class: "rows posted" }, posted.length ? posted.map(publicationLine) : el("li", { class: "hint", text: t("draftNotPosted") })),
      el("div", { class: "row actions" },
        video.status === "succeeded" ? el("button", { type: "button", class: "publish-this", text: t("draftPublishThis"), "aria-describedby": titleId, onclick: () => { chooseVideo(video.id); location.hash = "#/publish"; } }) : null,
        el("button", { type: "button", class: "secondary", text: t("draftOpen"), "aria-describedby": titleId, onclick: () => emit("open-video", { video, reel }) }),
        video.content_url ? el("a", { class: "button secondary", href: video.content_url, download: `reelforge-${video.id}.mp4`, text: t("download") }) : null)));
}

function runCard(run, reel) {
  const info = run.reels?.[0];
  let status;
  if (run.status === "canceled") status = t("runCanceled");
  else if (run.status === "failed") {
    let reason = infoText(info?.error) || t("runCanceled");
    // A reel that could not be prepared says its own reason (an expired link, not a video).
    if (info?.error?.code === "reel_not_prepared" && reel?.error) reason += `: ${infoText(reel.error)}`;
    else if (info?.error && !(info.steps || []).length) reason = `${t("err_reel_not_prepared")}: ${reason}`;
    status = t("draftRunFailed", { reason });
  }
  else if (run.status === "awaiting_review") status = t("draftRunAwaiting");
  else status = t("draftRunWorking", { percent: run.progress });
  const titleId = `run-${run.id}`;
  return el("li", { class: "card draft run", "data-run": run.id, "data-status": run.status, "aria-labelledby": titleId },
    el("div", { class: "thumb" }, thumbnail(reel && reelImage(reel), "")),
    el("div", { class: "reel-body" },
      el("h3", { id: titleId, text: `${reel ? reelName(reel) : "—"} · ${when(run.created_at)}` }),
      el("p", { class: `state ${run.status}`, text: status }),
      el("div", { class: "row actions" },
        el("button", { type: "button", class: "secondary", text: t("draftOpen"), "aria-describedby": titleId, onclick: () => reel && emit("reel-chosen", reel) }),
        run.status === "failed" && reel ? el("button", { type: "button", text: t("retryRun"), "aria-describedby": titleId, onclick: () => retryRun(run, reel) }) : null)));
}

async function retryRun(run, reel) {
  try {
    // The same request again: finished steps are reused, the failed one is tried anew.
    const { reel_id, reel_ids, top, providers, options, from_step } = run.input;
    await api("POST", `/v1/projects/${state.projectId}/runs`, { reel_id, reel_ids, top, providers, options, from_step });
    emit("reel-chosen", reel);
    location.hash = "#/studio";
  } catch (error) {
    say("#drafts-empty", problemText(error), true);
    $("#drafts-empty").hidden = false;
  }
}

/** Scheduled posts by day: a small agenda of what goes out when. */
function showCalendar(publications, videos, runVideos) {
  const upcoming = publications.filter((p) => p.status === "scheduled" && p.schedule_at).sort((a, b) => Date.parse(a.schedule_at) - Date.parse(b.schedule_at));
  const days = new Map();
  for (const publication of upcoming) {
    const day = new Date(publication.schedule_at).toLocaleDateString(document.documentElement.lang, { weekday: "long", day: "numeric", month: "long" });
    if (!days.has(day)) days.set(day, []);
    days.get(day).push(publication);
  }
  $("#calendar").replaceChildren(...[...days].map(([day, items]) => el("section", { class: "day" },
    el("h3", { text: day }),
    el("ul", { class: "rows" }, items.map((publication) => {
      const entry = videos.get(publication.video_id);
      const line = publicationLine(publication);
      if (entry) line.prepend(el("span", { class: "video-name", text: videoLabel(entry.video, reels.get(entry.reelId), videoKind(entry.video, runVideos)) }));
      return line;
    })))));
  $("#calendar-empty").hidden = upcoming.length > 0;
}

// --- the video to publish --------------------------------------------------------------------------

/** Makes `id` the video the publish panel posts, and remembers it for this project. */
export async function chooseVideo(id) {
  state.videoId = id || null;
  remember("video", state.videoId);
  await showChosen();
  loadDrafts();
}

export async function showChosen() {
  state.videoId = state.videoId || recall("video");
  chosen = state.videoId ? await api("GET", `/v1/videos/${state.videoId}`).catch(() => null) : null;
  if (!chosen) state.videoId = null;
  const reel = await reelOf(chosen?.output?.lineage?.reel_id);
  const label = chosen ? videoLabel(chosen, reel, chosen.output?.preview ? t("draftPreview") : t("draftFinal")) : "";
  $("#publish-video").textContent = chosen ? t("publishVideo", { name: label }) : t("publishNoVideo");
  $("#publish-video").dataset.video = chosen?.id || "";
  const thumb = $("#publish-thumb");
  thumb.hidden = !chosen?.file_urls?.["thumbnail.jpg"];
  if (!thumb.hidden) thumb.src = chosen.file_urls["thumbnail.jpg"];
  $("#current-video").textContent = chosen ? t("currentVideo", { name: label }) : t("currentNoVideo");
  $("#post-write").disabled = !chosen;
  await loadPost();
  await loadPublications();
}

// --- the post's words ------------------------------------------------------------------------------

const list = (text) => text.split(",").map((s) => s.trim().replace(/^[#@]/, "")).filter(Boolean);
const tagsOf = (text) => list(text).map((tag) => tag.replace(/[^\p{L}\p{N}_]/gu, "").toLowerCase()).filter(Boolean);

function currentCopy() {
  return { title: $("#post-title").value.trim(), caption: $("#post-caption").value.trim(), hashtags: tagsOf($("#post-hashtags").value) };
}

// The same limits the API checks, counted as each platform counts them, while the user types.
function showLimits() {
  const copy = currentCopy();
  const tags = copy.hashtags.map((tag) => `#${tag}`).join(" ");
  const full = [copy.caption, tags].filter(Boolean).join("\n\n");
  const counts = {
    youtube_title: [[...copy.title].length, 100],
    instagram_caption: [[...full].length, 2200],
    instagram_hashtags: [copy.hashtags.length, 30],
    tiktok_title: [full.length, 2200], // JavaScript strings count UTF-16 units, as TikTok does
  };
  for (const item of $$("#copy-limits li")) {
    const [n, max] = counts[item.dataset.limit];
    item.textContent = t(`limit_${item.dataset.limit}`, { n });
    item.classList.toggle("over", n > max);
  }
}

/** Why the words need reading, from the post's structured output. */
function postReasons(output) {
  const reasons = [];
  if (output.writer === "fallback") reasons.push(t("postReasonFallback"));
  for (const check of (output.checks || []).filter((c) => !c.passed)) {
    reasons.push(t("postReasonCheck", { check: check.platform ? t(`platform_${check.platform}`) : t("copycheck") }));
  }
  // The reasons the server adds beyond those (the script still needs review) are said in words.
  if (output.needs_review && !reasons.length) reasons.push(t("postReasonScript"));
  return reasons;
}

async function showPost(resource) {
  const output = resource?.output;
  postId = output ? resource.id : null;
  $("#post-title").value = output?.title || "";
  $("#post-caption").value = output?.caption || "";
  $("#post-hashtags").value = (output?.hashtags || []).join(", ");
  $("#post-save").disabled = !output;
  $("#post-review").hidden = !output?.needs_review;
  $("#post-review-reasons").replaceChildren(...(output ? postReasons(output) : []).map((reason) => el("li", { text: reason })));
  postCredits = output?.credits || [];
  $("#post-credits").hidden = postCredits.length === 0;
  const cover = $("#post-cover");
  cover.hidden = !output?.cover;
  cover.alt = t("postCover");
  if (output?.cover) {
    // The cover has no signed link of its own: it is fetched with the token and shown as a blob.
    const response = await fetch(`/v1/posts/${resource.id}/cover`, { headers: { Authorization: `Bearer ${state.token}` } });
    if (response.ok) cover.src = URL.createObjectURL(await response.blob());
  }
  updatePublishButton();
  showLimits();
}

async function loadPost() {
  if (!state.videoId) return showPost(null);
  const page = await api("GET", `/v1/videos/${state.videoId}/posts?limit=5`);
  await showPost(page.items.find((post) => post.status === "succeeded") || null);
}

async function writePost() {
  const videoId = state.videoId;
  say("#post-status", t("postWriting"));
  try {
    const started = await api("POST", `/v1/videos/${videoId}/posts`, {});
    const post = await settle(`/v1/posts/${started.resource.id}`);
    // Another video was chosen meanwhile: these words are not its words.
    if (state.videoId !== videoId) return;
    if (post.status !== "succeeded") {
      say("#post-status", infoText(post.error), true);
      return;
    }
    await showPost(post);
    say("#post-status", "");
  } catch (error) {
    say("#post-status", problemText(error), true);
  }
}

async function savePost() {
  try {
    await showPost(await api("PATCH", `/v1/posts/${postId}`, currentCopy()));
    say("#post-status", t("postSaved"));
  } catch (error) {
    say("#post-status", problemText(error), true);
  }
}

// --- accounts --------------------------------------------------------------------------------------

export async function loadAccounts() {
  const page = await api("GET", `/v1/projects/${state.projectId}/accounts?limit=100`);
  state.accounts = new Map(page.items.map((account) => [account.id, account]));
  $("#accounts").replaceChildren(...page.items.map((account) => el("li", { "data-account": account.id },
    el("strong", { text: t(`platform_${account.platform}`) }),
    el("span", { text: account.name }),
    account.status === "connected" ? null : el("span", { class: "state failed", text: t("accountNeedsAuth") }),
    account.status === "connected" ? null : el("button", { type: "button", class: "secondary", text: t("connectPlatform", { platform: t(`platform_${account.platform}`) }), onclick: () => connectWithPlatform(account.platform, account.name) }))));
  $("#accounts-empty").hidden = page.items.length > 0;
  const select = $("#publish-account");
  const previous = select.value;
  select.replaceChildren(...page.items.map((account) =>
    new Option(`${t(`platform_${account.platform}`)}: ${account.name}${account.status === "connected" ? "" : ` (${t("accountNeedsAuth")})`}`, account.id)));
  if ([...select.options].some((option) => option.value === previous)) select.value = previous;
  showPrivacyChoices();
}

function showConnectButtons() {
  for (const button of $$("[data-connect]")) button.textContent = t("connectPlatform", { platform: t(`platform_${button.dataset.connect}`) });
  $("#account-external-label").hidden = $("#account-platform").value !== "instagram";
}

/** The platform's own consent page, in a new window; the account appears once it is allowed. */
async function connectWithPlatform(platform, name) {
  try {
    const link = await api("POST", `/v1/projects/${state.projectId}/accounts/authorize`, { platform, name: name || t(`platform_${platform}`) });
    window.open(link.url, "_blank", "noopener");
    say("#account-status", t("accountOpened"));
  } catch (error) {
    say("#account-status", problemText(error), true);
  }
}

async function connectWithTokens(event) {
  event.preventDefault();
  const platform = $("#account-platform").value;
  const body = { platform, name: $("#account-name").value.trim(), access_token: $("#account-token").value.trim() };
  if (platform === "instagram" && $("#account-external").value.trim()) body.external_id = $("#account-external").value.trim();
  if ($("#account-refresh").value.trim()) body.refresh_token = $("#account-refresh").value.trim();
  try {
    const account = await api("POST", `/v1/projects/${state.projectId}/accounts`, body);
    $("#account-token").value = "";
    $("#account-refresh").value = "";
    say("#account-status", t("accountConnected", { name: account.name }));
    await loadAccounts();
    $("#publish-account").value = account.id;
    showPrivacyChoices();
  } catch (error) {
    say("#account-status", problemText(error), true);
  }
}

// What each platform lets a post be, as the API checks it.
const PRIVACY = {
  instagram: ["public"],
  youtube: ["public", "unlisted", "private"],
  tiktok: ["public", "friends", "followers", "private"],
};

function showPrivacyChoices() {
  const account = state.accounts.get($("#publish-account").value);
  const select = $("#publish-privacy");
  const previous = select.value;
  select.replaceChildren(...(PRIVACY[account?.platform] || ["public"]).map((value) => new Option(t(`privacy_${value}`), value)));
  if ([...select.options].some((option) => option.value === previous)) select.value = previous;
  updatePublishButton();
}

function updatePublishButton() {
  $("#publish-start").disabled = !state.videoId || !$("#publish-account").value;
}

// --- publications ----------------------------------------------------------------------------------

async function publishVideo(event) {
  event.preventDefault();
  const body = { account_id: $("#publish-account").value, privacy: $("#publish-privacy").value };
  if (postId) body.copy = currentCopy();
  if ($("#publish-at").value) body.schedule_at = new Date($("#publish-at").value).toISOString();
  try {
    await api("POST", `/v1/videos/${state.videoId}/publications`, body);
    say("#publish-status", t("publishQueued"));
    await loadPublications();
    loadDrafts();
  } catch (error) {
    say("#publish-status", problemText(error), true);
  }
}

async function cancelPublication(publication) {
  try {
    await api("POST", `/v1/publications/${publication.id}/cancel`, {});
  } catch (error) {
    say("#publish-status", problemText(error), true);
  }
  await loadPublications();
  loadDrafts();
}

/** The same video to the same account with the same words, as a new publication. */
async function retryPublication(publication) {
  const request = publication.request;
  const body = { account_id: publication.account_id, copy: request.copy, privacy: request.privacy, tiktok_mode: request.tiktok_mode, share_to_feed: request.share_to_feed };
  if (request.post_id) body.post_id = request.post_id;
  if (request.schedule_at && Date.parse(request.schedule_at) > Date.now() + 90000) body.schedule_at = request.schedule_at;
  try {
    await api("POST", `/v1/videos/${publication.video_id}/publications`, body);
    announce(t("publishQueued"));
  } catch (error) {
    say("#publish-status", problemText(error), true);
  }
  await loadPublications();
  loadDrafts();
}

async function loadPublications() {
  if (!state.videoId) {
    $("#publications").replaceChildren();
    $("#publications-empty").hidden = false;
    return;
  }
  const page = await api("GET", `/v1/videos/${state.videoId}/publications?limit=50`);
  $("#publications").replaceChildren(...page.items.map(publicationLine));
  $("#publications-empty").hidden = page.items.length > 0;
}

// --- wiring ----------------------------------------------------------------------------------------

export function initPublish() {
  $("#post-write").addEventListener("click", writePost);
  $("#post-save").addEventListener("click", savePost);
  $("#post-credits").addEventListener("click", () => {
    const caption = $("#post-caption");
    const missing = postCredits.filter((line) => !caption.value.includes(line));
    caption.value = [caption.value.trim(), ...missing].filter(Boolean).join("\n");
    showLimits();
  });
  for (const field of $$(".copy-field")) field.addEventListener("input", showLimits);
  for (const button of $$("[data-connect]")) button.addEventListener("click", () => connectWithPlatform(button.dataset.connect));
  $("#account-platform").addEventListener("change", showConnectButtons);
  $("#account-form").addEventListener("submit", connectWithTokens);
  $("#publish-form").addEventListener("submit", publishVideo);
  $("#publish-account").addEventListener("change", showPrivacyChoices);
  showConnectButtons();
}

export function translatePublish() {
  showConnectButtons();
  showLimits();
  showPrivacyChoices();
}

export function onPublishEvent(event) {
  if (event.kind.startsWith("publication.")) {
    if (event.data?.video_id === state.videoId) loadPublications();
    loadDrafts();
  }
  if (/^(video|run)\.(succeeded|failed|canceled)$/.test(event.kind) || event.kind === "run.queued") loadDrafts();
}

