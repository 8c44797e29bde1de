// The studio: one reel's version made step by step. The run's settings, real progress (with an
// estimate and cancel), the script editor beside the player, approval before voicing when the
// server can pause a run (`review`, issue #30), re-voicing after an edit, the look of the video
// (subtitle style previewed), renders, costs and the media library.
import { t, number, money, span, providerName, lang } from "./i18n.js";
import { $, $$, el, api, state, say, problemText, infoText, emit, announce, settle } from "./api.js";

const STEP_KINDS = ["transcript", "script", "audio", "video"];
// A run names its steps by the step; the page shows each by the resource it makes.
const KIND_OF_STEP = { transcribe: "transcript", rewrite: "script", voice: "audio", render: "video", write_post: "post" };
const PATHS = { transcript: "transcripts", script: "scripts", audio: "audio", video: "videos" };
const FINISHED = ["succeeded", "failed", "canceled"];

let run = null; // the run on screen
let shown = new Set(); // resource ids whose results are on screen
let audioId = null;
let scriptId = null;
let pinnedVideoId = null; // a video opened from the drafts stays in the player
let renderingId = null;
let projectProviders = {};

// --- providers and the run form --------------------------------------------------------------------

export function showProviders(steps) {
  const render = steps.find(({ step }) => step === "render");
  // Stock footage is offered only where a library is configured.
  $('#background option[value="stock"]').hidden = !render?.stock_libraries?.length;
  for (const { step, available } of steps) {
    for (const select of $$(`#run-form select[data-step="${step}"]`)) {
      // Drawn again in another language, the choice made stays.
      const chosen = select.value;
      select.replaceChildren(new Option(t("projectChoice"), ""), ...available.map((name) => new Option(providerName(name), name)));
      select.value = available.includes(chosen) ? chosen : "";
    }
  }
  labelProjectChoice();
}

/** "The project's choice" names the provider it stands for, in words. */
export function labelProjectChoice(providers = projectProviders) {
  projectProviders = providers || {};
  for (const select of $$("#run-form select[data-step]")) {
    const choice = select.options[0];
    const name = projectProviders[select.dataset.step];
    if (choice?.value === "") choice.textContent = name ? `${t("projectChoice")}: ${providerName(name)}` : t("projectChoice");
  }
}

/** Whether the server can pause a run for review; without it the choice is hidden, not faked. */
export function showReviewChoice() {
  $("#review-choice").hidden = !state.features.review;
  $("#review-unsupported").hidden = Boolean(state.features.review);
}

/** The look and formats chosen, as the local composer's options. */
function renderOptions(preview) {
  const options = {};
  if ($("#background").value) options.background = $("#background").value;
  if ($("#music").value) options.music_key = $("#music").value;
  const subtitles = {};
  if ($("#subtitle-style").value !== "karaoke") subtitles.style = $("#subtitle-style").value;
  if ($("#font").value) subtitles.font_key = $("#font").value;
  if (Object.keys(subtitles).length) options.subtitles = subtitles;
  const formats = $$("#formats input:checked").map((box) => box.value);
  // A preview is for iterating on the look: one format is enough, and fast.
  const wanted = preview ? formats.slice(0, 1) : formats;
  if (wanted.length && !(wanted.length === 1 && wanted[0] === "9:16")) options.formats = wanted;
  if (preview) options.preview = true;
  return options;
}

function runBody(fromStep) {
  const providers = {};
  for (const select of $$("#run-form select[data-step]")) if (select.value) providers[select.dataset.step] = select.value;
  const body = { reel_id: state.reel.id, providers };
  if (fromStep) body.from_step = fromStep;
  const options = {};
  const render = renderOptions(false);
  if (Object.keys(render).length) options.render = render;
  if (state.features.review === "options") options.review = $("#review-mode").value;
  if (state.features.review === "run") body.review = $("#review-mode").value;
  if (Object.keys(options).length) body.options = options;
  return body;
}

async function startRun(fromStep) {
  if (!state.reel) return;
  try {
    const started = await api("POST", `/v1/projects/${state.projectId}/runs`, runBody(fromStep));
    clearResults();
    say("#run-status", t("runQueued"));
    showRun(started);
    emit("drafts-changed");
  } catch (error) {
    say("#run-status", problemText(error), true);
  }
}

// --- progress --------------------------------------------------------------------------------------

/** Seconds left for a job, from how long it has run and how far it got; none until it says. */
function secondsLeft(job) {
  if (!job?.started_at || !job.progress || job.progress >= 100 || job.progress < 3) return null;
  const elapsed = (Date.now() - Date.parse(job.started_at)) / 1000;
  return (elapsed * (100 - job.progress)) / job.progress;
}

/** Cancels the run on screen: whatever of it is queued, under way or waiting for the review. */
async function cancelRun() {
  if (!run) return;
  try {
    showRun(await api("POST", `/v1/runs/${run.id}/cancel`, {}));
    announce(t("runCanceled"));
    emit("drafts-changed");
  } catch (error) {
    say("#run-status", problemText(error), true);
  }
}

/** Cancels a render's job (previews and final renders are not runs). */
async function cancelResource(kind, id) {
  try {
    const job = state.jobs.get(id);
    const jobId = job?.id || (await api("GET", `/v1/${PATHS[kind]}/${id}`)).job_id;
    if (jobId) await api("POST", `/v1/jobs/${jobId}/cancel`, {});
    announce(t("cancelAsked"));
  } catch (error) {
    say("#run-status", problemText(error), true);
  }
}

export function showRun(next) {
  run = next;
  const reel = run.reels?.[0];
  const byKind = new Map((reel?.steps || []).map((s) => [KIND_OF_STEP[s.step], s]));
  const awaiting = run.status === "awaiting_review";
  for (const kind of STEP_KINDS) {
    const row = $(`#progress .step[data-step="${kind}"]`);
    const step = byKind.get(kind);
    const job = step ? state.jobs.get(step.resource_id) : undefined;
    const status = step?.status || (awaiting && kind === "script" ? "awaiting_review" : "");
    $("progress", row).value = status === "succeeded" ? 100 : (job?.progress ?? 0);
    const label = $(".state", row);
    label.className = `state ${step?.status || ""}`;
    label.textContent = step?.reused ? t("reused") : awaiting && kind === "script" ? t("state_awaiting_review") : status ? t(`state_${status}`) : "";
    const left = step && !FINISHED.includes(step.status) ? secondsLeft(job) : null;
    $(".eta", row).textContent = left ? t("eta", { time: span(left) }) : "";
    // A step of the run is canceled with its run: the rest would only wait for it.
    $(".cancel", row).hidden = !step || FINISHED.includes(step.status) || FINISHED.includes(run.status);
    if (step?.status === "succeeded") showResult(kind, step.resource_id);
  }
  showRunStatus(run, reel);
  if (run.usage) showCosts(run.usage);
  showApprove();
}

async function showRunStatus(current, reel) {
  if (current.status === "succeeded") say("#run-status", t("runSucceeded"));
  else if (current.status === "awaiting_review") say("#run-status", t("runAwaiting"));
  else if (current.status === "canceled") say("#run-status", t("runCanceled"), true);
  else if (current.status === "failed") {
    let reason = infoText(reel?.error);
    // "The reel could not be prepared" says more with the reel's own reason (an expired link).
    if (reel?.error?.code === "reel_not_prepared" || reel?.error?.code === "media_not_ready") {
      const source = await api("GET", `/v1/reels/${reel.reel_id}`).catch(() => null);
      if (source?.error) reason = `${reason}: ${infoText(source.error)}`;
    } else if (reel?.error && !(reel.steps || []).length) {
      // A reel that failed before its first step failed at preparation, with its own reason.
      reason = `${t("err_reel_not_prepared")}: ${reason}`;
    }
    say("#run-status", t("runFailed", { reason }), true);
  } else say("#run-status", current.progress ? t("runRunning", { percent: current.progress }) : t("runQueued"));
  $("#run-start").textContent = FINISHED.includes(current.status) ? t("runAgain") : t("runStart");
  $("#run-cancel").hidden = FINISHED.includes(current.status);
  // The guided flow: a finished version leads on to publishing it.
  $("#to-publish").hidden = current.status !== "succeeded";
}

async function refreshRun(id) {
  const fresh = await api("GET", `/v1/runs/${id}`);
  if (run?.id !== id) return;
  const wasDone = FINISHED.includes(run.status);
  showRun(fresh);
  if (FINISHED.includes(fresh.status) && !wasDone) {
    emit("drafts-changed");
    emit("project-changed");
    announce($("#run-status").textContent);
    // The video this run made is the one to publish now: named in the publish panel, and kept.
    const video = fresh.reels?.[0]?.steps?.find((step) => step.step === "render" && step.status === "succeeded");
    if (video) emit("video-chosen", video.resource_id);
  }
}

/** The newest run of the current reel, on choosing it (so a reload finds its work again). */
export async function openReel(reel) {
  clearResults();
  run = null;
  say("#run-status", "");
  $("#to-publish").hidden = true;
  $("#run-cancel").hidden = true;
  $("#run-start").disabled = !reel;
  $("#studio-empty").hidden = Boolean(reel);
  $("#view-studio").toggleAttribute("data-empty", !reel);
  if (!reel) return;
  const page = await api("GET", `/v1/projects/${state.projectId}/runs?limit=50`);
  const latest = page.items.find((item) => (item.input.reel_id || item.reels?.[0]?.reel_id) === reel.id);
  if (latest) showRun(latest);
  else $("#run-start").textContent = t("runStart");
}

/** Opens a video from the drafts in the player (and its script, voiceover beside it). */
export async function openVideo(video) {
  pinnedVideoId = video.id;
  await showVideo(video);
  const lineage = video.output?.lineage;
  if (lineage?.script_id && lineage.script_id !== scriptId) showResult("script", lineage.script_id);
  if (lineage?.audio_id && lineage.audio_id !== audioId) showResult("audio", lineage.audio_id);
}

// --- results ---------------------------------------------------------------------------------------

function clearResults() {
  shown = new Set();
  $("#transcript").textContent = "";
  $("#script-text").value = "";
  $("#script-text").disabled = true;
  $("#script-checks").replaceChildren();
  $("#script-review").hidden = true;
  $("#script-words").textContent = "";
  say("#script-status", "");
  $("#script-save").disabled = true;
  $("#script-revoice").disabled = true;
  $("#script-approve").hidden = true;
  $("#audio").removeAttribute("src");
  $("#video").removeAttribute("src");
  delete $("#video").dataset.resource;
  $("#video").hidden = true;
  $("#video-empty").hidden = false;
  $("#video-download").hidden = true;
  $("#renditions").replaceChildren();
  $("#video-credits").replaceChildren();
  audioId = null;
  scriptId = null;
  pinnedVideoId = null;
  $("#video-preview").disabled = true;
  $("#video-final").disabled = true;
  say("#render-status", "");
  $("#costs tbody").replaceChildren();
  $("#costs-total").textContent = "";
  for (const row of $$("#progress .step")) {
    $("progress", row).value = 0;
    $(".state", row).textContent = "";
    $(".eta", row).textContent = "";
    $(".cancel", row).hidden = true;
  }
}

async function showResult(kind, id) {
  if (shown.has(id)) return;
  shown.add(id);
  const resource = await api("GET", `/v1/${PATHS[kind]}/${id}`);
  const output = resource.output || {};
  if (kind === "transcript") {
    $("#transcript").textContent = output.text || "";
    $("#transcript").lang = output.language || "";
  }
  if (kind === "script") showScript(resource);
  if (kind === "audio" && output.key) {
    $("#audio").src = resource.content_url;
    audioId = id;
    $("#video-preview").disabled = false;
    $("#video-final").disabled = false;
    showApprove();
  }
  // A video opened from the drafts stays in the player; the run's own video comes in otherwise.
  if (kind === "video" && output.key && !pinnedVideoId) await showVideo(resource);
}

/** Why a script needs reading, from its structured output (never the server's English text). */
function scriptReasons(output) {
  const reasons = [];
  if (output.writer === "fallback") reasons.push(t("reason_fallback"));
  if ((output.fitted || []).some((action) => !action.startsWith("dropped the sentence"))) reasons.push(t("reason_stock"));
  for (const check of (output.checks || []).filter((c) => !c.passed)) reasons.push(t("reason_check", { check: t(`check_${check.name}`) }));
  return reasons;
}

function showScript(resource) {
  const output = resource.output || {};
  scriptId = resource.id;
  const text = $("#script-text");
  text.value = output.text || "";
  text.dataset.resource = resource.id;
  text.dataset.saved = text.value;
  text.disabled = false;
  $("#script-save").disabled = false;
  $("#script-revoice").disabled = false;
  $("#script-words").textContent = t("scriptWords", {
    words: t("words", { n: output.word_count ?? 0 }), time: span(output.estimated_seconds ?? 0),
  });
  $("#script-review").hidden = !output.needs_review;
  $("#script-review-reasons").replaceChildren(...scriptReasons(output).map((reason) => el("li", { text: reason })));
  $("#script-checks").replaceChildren(...(output.checks || []).map((check) =>
    el("li", { class: check.passed ? "pass" : "fail", "data-check": check.name },
      `${t(`check_${check.name}`)}: ${check.passed ? t("checkPassed") : t("checkFailed")}`)));
  showApprove();
}

/** "Approve and voice" is offered while the run waits for the script to be read. */
function showApprove() {
  $("#script-approve").hidden = run?.status !== "awaiting_review";
  $("#script-revoice").hidden = run?.status === "awaiting_review" || !audioId;
}

async function saveScript() {
  const id = $("#script-text").dataset.resource;
  const resource = await api("PATCH", `/v1/scripts/${id}`, { text: $("#script-text").value });
  shown.add(resource.id);
  showScript(resource);
  say("#script-status", t("scriptSaved"));
  return resource;
}

async function saveOnly() {
  try {
    await saveScript();
  } catch (error) {
    say("#script-status", problemText(error), true);
  }
}

/** Saves the edit and voices it: a waiting run resumes; a finished one is redone from the voice. */
async function approve() {
  try {
    // Approving unchanged words is not a hand edit: only a changed text is saved first.
    if ($("#script-text").value !== $("#script-text").dataset.saved) await saveScript();
    if (run?.status === "awaiting_review") {
      const resumed = await api("POST", `/v1/runs/${run.id}/resume`, {});
      say("#script-status", t("approved"));
      showRun(resumed?.reels ? resumed : await api("GET", `/v1/runs/${run.id}`));
    } else {
      say("#script-status", t("revoicing"));
      await startRun("voice");
    }
  } catch (error) {
    say("#script-status", problemText(error), true);
  }
}

async function showVideo(resource) {
  const id = resource.id;
  shown.add(id);
  // The signed link plays in <video> as it is (with ranges), and downloads the same way.
  const video = $("#video");
  video.hidden = false;
  $("#video-empty").hidden = true;
  video.src = resource.content_url;
  video.dataset.resource = id;
  const poster = resource.file_urls?.["thumbnail.jpg"];
  if (poster) video.poster = poster;
  // The burned-in words are also offered as a captions track, for players and screen readers.
  const captions = resource.file_urls?.["subtitles.vtt"];
  video.replaceChildren(...(captions ? [el("track", { kind: "captions", src: captions, srclang: state.project?.language || lang.current, label: t("subtitleStyle") })] : []));
  const link = $("#video-download");
  link.href = resource.content_url;
  link.download = `reelforge-${id}.mp4`;
  link.hidden = false;
  // Further formats are fetched when asked for: each is a full video.
  $("#renditions").replaceChildren(...(resource.output.renditions || []).slice(1).map((rendition) =>
    el("a", {
      class: "button secondary", href: resource.file_urls[rendition.file],
      download: `reelforge-${id}-${rendition.format.replace(":", "x")}.mp4`, text: t("renditionLink", { format: rendition.format }),
    })));
  // Stock clips' authors, as their libraries ask to be credited.
  const credits = resource.output.credits || [];
  const lines = credits.map((credit) => (/^https:\/\//.test(credit.page_url || "")
    ? el("a", { href: credit.page_url, target: "_blank", rel: "noopener", text: credit.text })
    : el("span", { text: credit.text })));
  if (credits.some((credit) => credit.library === "pexels")) lines.push(el("a", { href: "https://www.pexels.com", target: "_blank", rel: "noopener", text: "Pexels" }));
  if (resource.output.background_note) lines.push(el("span", { text: t("stockNote") }));
  $("#video-credits").replaceChildren(...lines.flatMap((line, index) => (index ? [" · ", line] : [line])));
}

/** Renders the voiceover on screen again with the chosen look: a fast preview or the final video. */
async function rerender(preview) {
  if (!audioId) return;
  const bar = $("#render-progress");
  try {
    const started = await api("POST", `/v1/audio/${audioId}/videos`, { provider: "local", options: renderOptions(preview) });
    renderingId = started.resource.id;
    emit("drafts-changed");
    bar.hidden = false;
    $("#render-cancel").hidden = false;
    const video = await settle(`/v1/videos/${renderingId}`, () => showRenderProgress());
    if (video.status === "succeeded") {
      await showVideo(video);
      say("#render-status", t("renderDone", { size: `${video.output.width}×${video.output.height}` }));
      // A final render is what gets posted; a preview stays a draft until chosen in the drafts.
      if (!preview) emit("video-chosen", video.id);
    } else {
      const reason = video.status === "canceled" ? t("runCanceled") : infoText(video.error);
      say("#render-status", t("renderFailed", { reason }), true);
    }
  } catch (error) {
    say("#render-status", t("renderFailed", { reason: problemText(error) }), true);
  } finally {
    renderingId = null;
    bar.hidden = true;
    $("#render-cancel").hidden = true;
    emit("drafts-changed");
  }
}

function showRenderProgress() {
  const job = state.jobs.get(renderingId);
  const percent = job?.progress ?? 0;
  $("#render-progress").value = percent;
  const left = secondsLeft(job);
  say("#render-status", [t("rendering", { percent }), left ? t("eta", { time: span(left) }) : ""].filter(Boolean).join(" · "));
}

// --- costs -----------------------------------------------------------------------------------------

function showCosts(usage) {
  $("#costs tbody").replaceChildren(...usage.lines.map((line) => el("tr", {},
    el("td", { text: t(`step_${line.step}`) }),
    el("td", { text: providerName(line.provider) }),
    el("td", { text: t(`metric_${line.metric}`) }),
    el("td", { class: "num", text: number(line.quantity, 2) }),
    el("td", { class: "num", text: money(line.cost) }))));
  $("#costs-total").textContent = usage.lines.length ? money(usage.total_cost) : t("noCosts");
}

// --- media library ---------------------------------------------------------------------------------

const megabytes = (bytes) => number(bytes / 1048576, 1);

export async function loadAssets() {
  const page = await api("GET", `/v1/projects/${state.projectId}/assets?limit=100`);
  $("#asset-usage").textContent = t("assetUsage", {
    files: t("files", { n: page.usage.count }), used: megabytes(page.usage.used_bytes), quota: megabytes(page.usage.quota_bytes),
  });
  $("#assets").replaceChildren(...page.items.map((asset) => el("li", { "data-asset": asset.id },
    el("span", { class: "asset-kind", text: t(`kind_${asset.kind}`) }),
    el("span", { class: "asset-name", text: asset.name }),
    el("span", { class: "hint", text: `${megabytes(asset.size_bytes)} ${lang.current === "ru" ? "МБ" : "MB"}` }),
    asset.duration_ms == null ? null : el("span", { class: "hint", text: span(asset.duration_ms / 1000) }),
    el("button", {
      type: "button", class: "secondary", text: t("assetDelete"), "aria-label": t("assetDeleteNamed", { name: asset.name }),
      onclick: async () => {
        try {
          await api("DELETE", `/v1/assets/${asset.id}`);
          await loadAssets();
        } catch (error) {
          say("#asset-status", problemText(error), true);
        }
      },
    }))));
  // The library's audio files are the music choices, its fonts the subtitle fonts.
  for (const [selector, kind, none] of [["#music", "audio", "noMusic"], ["#font", "font", "defaultFont"]]) {
    const select = $(selector);
    const chosen = select.value;
    select.replaceChildren(new Option(t(none), ""), ...page.items.filter((asset) => asset.kind === kind).map((asset) => new Option(asset.name, asset.key)));
    select.value = [...select.options].some((option) => option.value === chosen) ? chosen : "";
  }
}

async function uploadAsset(event) {
  event.preventDefault();
  const file = $("#asset-file").files[0];
  if (!file || !state.projectId) return;
  const form = new FormData();
  form.append("file", file, file.name);
  try {
    const data = await api("POST", `/v1/projects/${state.projectId}/assets`, form);
    say("#asset-status", t("assetUploaded", { name: data.name, kind: t(`kind_${data.kind}`) }));
    $("#asset-file").value = "";
    await loadAssets();
  } catch (error) {
    say("#asset-status", problemText(error), true);
  }
}

// --- wiring ----------------------------------------------------------------------------------------

export function initStudio() {
  $("#run-form").addEventListener("submit", (event) => {
    event.preventDefault();
    startRun($("#from-step").value);
  });
  $("#script-save").addEventListener("click", saveOnly);
  $("#script-revoice").addEventListener("click", approve);
  $("#script-approve").addEventListener("click", approve);
  $("#video-preview").addEventListener("click", () => rerender(true));
  $("#video-final").addEventListener("click", () => rerender(false));
  $("#render-cancel").addEventListener("click", () => renderingId && cancelResource("video", renderingId));
  $("#run-cancel").addEventListener("click", cancelRun);
  for (const button of $$("#progress .cancel")) button.addEventListener("click", cancelRun);
  $("#asset-form").addEventListener("submit", uploadAsset);
  $("#subtitle-style").addEventListener("change", (event) => { $("#style-preview").dataset.style = event.target.value; });
}

/** The sample subtitle line, in the page's language. */
export function showStylePreview() {
  const [first, ...rest] = t("sampleLine").split(" ");
  $("#style-preview .w1").textContent = first;
  $("#style-preview .w2").textContent = rest.join(" ");
}

export function onStudioEvent(event) {
  if (event.kind.startsWith("job.") && run) {
    showRun(run);
    if (renderingId && event.resource_id === renderingId) showRenderProgress();
  }
  if (event.kind.startsWith("run.") && run && event.resource_id === run.id) refreshRun(run.id);
  // A run started elsewhere (the radar, another tab) for the current reel comes on screen.
  if (event.kind === "run.queued" && state.reel && !run) openReel(state.reel);
}

export const currentRun = () => run;
