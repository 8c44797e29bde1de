// The trends page: collect, rank, select, run and follow the pipeline, using only the public API
// with a token pasted once (kept in localStorage). No build step: a plain ES module.

const TEXT = {
  ru: {
    tagline: "тренды Reels → новый сценарий, озвучка и видео",
    uiLanguage: "Язык", tokenTitle: "Токен доступа",
    tokenHint: "Вставьте токен один раз (reelforge token create --name web); он хранится только в этом браузере.",
    save: "Сохранить", forget: "Забыть", tokenOk: "Токен принят", tokenBad: "Токен не принят",
    projectTitle: "Проект", projectName: "Название нового проекта", create: "Создать",
    collectTitle: "Сбор трендовых Reels", source: "Источник", sourceScrape: "Хэштеги и аккаунты",
    sourceImport: "Импорт датасета (JSON)", collector: "Сборщик", hashtags: "Хэштеги через запятую",
    accounts: "Аккаунты через запятую", perSource: "Не больше на источник", dataset: "Элементы датасета Apify (массив JSON)",
    collect: "Собрать", collecting: "Собираем…", collected: "Собрано: добавлено {added}, обновлено {merged}, отклонено {rejected}",
    reelsTitle: "Reels по трендовости", reel: "Reel", plays: "Просмотры", engagement: "Вовлечённость",
    velocity: "Просмотров/час", outlier: "Выброс", trend: "Тренд", posted: "Опубликован",
    noReels: "Пока нет reels: соберите их выше.", select: "Выбрать", selected: "Выбран",
    runTitle: "Запуск конвейера", chosenReel: "Reel:", stepTranscribe: "Расшифровка", stepRewrite: "Сценарий",
    stepVoice: "Озвучка", stepRender: "Видео", fromStep: "Переделать начиная с", reuse: "— (повторно использовать готовое)",
    runStart: "Запустить", projectChoice: "как в проекте", runQueued: "Запуск принят", runSucceeded: "Готово", runFailed: "Ошибка: {message}",
    reused: "готово ранее", resultsTitle: "Результаты", transcript: "Расшифровка", script: "Сценарий",
    saveScript: "Сохранить правку", words: "{count} слов, ~{seconds} с", audio: "Озвучка", video: "Видео",
    download: "Скачать MP4", costs: "Расходы", step: "Шаг", provider: "Провайдер", metric: "Метрика",
    quantity: "Количество", cost: "Стоимость", total: "Итого", projectCost: "Расходы проекта: {cost}",
    streamLive: "События: подключено (последнее #{id})", streamRetry: "События: переподключение…",
    check_clean_text: "без эмодзи и разметки", check_word_count: "число слов",
    check_call_to_action: "призыв к действию", check_not_a_copy: "не копия", check_language: "язык",
    check_repetition: "без повторов", check_grounded: "по теме ролика",
    needsReview: "Проверьте сценарий перед озвучкой:",
    subtitleStyle: "Субтитры", styleKaraoke: "Караоке", stylePop: "Поп (слово растёт)", styleBoxed: "На плашке",
    styleMinimal: "Минимальные", formats: "Форматы", preview: "Быстрый черновик", renderFinal: "Финальный рендер",
    rendering: "Рендер…", renderDone: "Готово: {format}", renderFailed: "Рендер не удался: {message}",
    renditionLink: "Скачать {format}",
    creditsAdd: "Добавить авторов стоковых клипов в подпись", stockNote: "Стоковые клипы не использованы: {note}",
    libraryTitle: "Медиатека проекта", libraryHint: "Ваши клипы, картинки, музыка и шрифты: клипы становятся B-roll по предложениям, музыка звучит под голосом.",
    assetUpload: "Загрузить", assetKind: "Тип", assetName: "Файл", assetSize: "МБ", assetLength: "Длина, с",
    assetUsage: "{count} файлов, {used} из {quota} МБ", assetUploaded: "Загружено: {name} ({kind})", assetDelete: "Удалить",
    kind_video: "видео", kind_image: "картинка", kind_audio: "аудио", kind_font: "шрифт",
    background: "Фон", backgroundAuto: "авто (стоковые клипы, иначе медиатека, иначе градиент)", backgroundStock: "стоковые клипы (Pexels, Pixabay)", backgroundGenerated: "градиент",
    backgroundClips: "клипы медиатеки", backgroundReel: "исходный reel", music: "Музыка", noMusic: "без музыки",
    font: "Шрифт субтитров", defaultFont: "стандартный",
    budgetLimit: "Бюджет в месяц, $", budgetText: "{spent} потрачено, {held} в работе из {limit} ({left} осталось)",
    budgetNone: "{spent} потрачено в этом месяце, без лимита",
    budgetInvalid: "Бюджет — число долларов, например 20 или 12.5", ruleNeedsCondition: "Для автозапуска задайте хотя бы одно условие",
    radarTitle: "Радар трендов", radarHint: "Хэштеги и аккаунты собираются по расписанию; правила сообщают о новых выбросах и могут сами запустить конвейер в пределах бюджета.",
    watchName: "Название", watchSources: "Источники", watchSchedule: "Расписание", watchNext: "Следующий сбор", watchRules: "Правила",
    watchEvery: "Каждые N часов", watchCron: "Или cron (UTC)", ruleOutlier: "Выброс не меньше", ruleVelocity: "Просмотров/час не меньше",
    ruleWithin: "Опубликован не позже, ч", ruleAutoRun: "запускать конвейер", watchCreate: "Следить",
    watchCreated: "Список создан", pause: "Пауза", resume: "Продолжить", paused: "на паузе", everyHours: "каждые {hours} ч",
    alertsTitle: "Сигналы", noAlerts: "Сигналов пока нет.", alertRun: "запущен конвейер", alertSkipped: "без запуска: {reason}",
    hideProcessed: "скрыть уже обработанные", chartTitle: "Просмотры @{owner} во времени ({count} замеров)",
    publishTitle: "Публикация", publishHint: "Заголовок, подпись и хэштеги для видео, затем пост или расписание в Instagram Reels, YouTube Shorts и TikTok.",
    postWrite: "Написать текст поста", postWriting: "Пишем…", postTitle: "Заголовок (YouTube)", postCaption: "Подпись",
    postHashtags: "Хэштеги через запятую", postSave: "Сохранить текст", postSaved: "Сохранено",
    postNeedsReview: "Проверьте текст поста перед публикацией:",
    limit_youtube_title: "Заголовок YouTube: {n} из 100", limit_instagram_caption: "Подпись Instagram: {n} из 2200",
    limit_instagram_hashtags: "Хэштеги Instagram: {n} из 30", limit_tiktok_title: "Подпись TikTok: {n} из 2200 (UTF-16)",
    accountsTitle: "Аккаунты", platform: "Платформа", accountName: "Имя", accountExternal: "ID аккаунта (Instagram)",
    accountToken: "Access token", accountRefresh: "Refresh token (необязательно)", accountConnect: "Подключить",
    accountOauth: "Войти через платформу", accountConnected: "Подключено: {name}",
    publishAccount: "Аккаунт", privacy: "Доступ", privacy_public: "всем", privacy_unlisted: "по ссылке", privacy_private: "только мне",
    privacy_friends: "друзьям", privacy_followers: "подписчикам",
    publishAt: "Когда (пусто — сейчас)", publishWhen: "Когда", publishStart: "Опубликовать", publishQueued: "Принято",
    publicationStatus: "Статус", open: "Открыть", cancel: "Отменить",
    status_scheduled: "запланировано", status_uploading: "загрузка", status_processing: "обработка",
    status_published: "опубликовано", status_failed: "ошибка", status_canceled: "отменено", inbox: "черновик в TikTok",
    outcome_scheduled: "загружено, YouTube опубликует в назначенное время",
  },
  en: {
    tagline: "trending Reels → a fresh script, voiceover and video",
    uiLanguage: "Language", tokenTitle: "Access token",
    tokenHint: "Paste a token once (reelforge token create --name web); it stays in this browser only.",
    save: "Save", forget: "Forget", tokenOk: "Token accepted", tokenBad: "Token refused",
    projectTitle: "Project", projectName: "New project name", create: "Create",
    collectTitle: "Collect trending Reels", source: "Source", sourceScrape: "Hashtags and accounts",
    sourceImport: "Dataset import (JSON)", collector: "Collector", hashtags: "Hashtags, comma-separated",
    accounts: "Accounts, comma-separated", perSource: "At most per source", dataset: "Apify dataset items (a JSON array)",
    collect: "Collect", collecting: "Collecting…", collected: "Collected: {added} added, {merged} updated, {rejected} rejected",
    reelsTitle: "Reels by trend", reel: "Reel", plays: "Plays", engagement: "Engagement",
    velocity: "Plays/hour", outlier: "Outlier", trend: "Trend", posted: "Posted",
    noReels: "No reels yet: collect some above.", select: "Select", selected: "Selected",
    runTitle: "Run the pipeline", chosenReel: "Reel:", stepTranscribe: "Transcribe", stepRewrite: "Rewrite",
    stepVoice: "Voice", stepRender: "Render", fromStep: "Redo from", reuse: "— (reuse what is done)",
    runStart: "Run", projectChoice: "project's choice", runQueued: "Run accepted", runSucceeded: "Done", runFailed: "Failed: {message}",
    reused: "reused", resultsTitle: "Results", transcript: "Transcript", script: "Script",
    saveScript: "Save edit", words: "{count} words, ~{seconds} s", audio: "Voiceover", video: "Video",
    download: "Download MP4", costs: "Costs", step: "Step", provider: "Provider", metric: "Metric",
    quantity: "Quantity", cost: "Cost", total: "Total", projectCost: "Project costs: {cost}",
    streamLive: "Events: connected (last #{id})", streamRetry: "Events: reconnecting…",
    check_clean_text: "no emoji or markup", check_word_count: "word count",
    check_call_to_action: "call to action", check_not_a_copy: "not a copy", check_language: "language",
    check_repetition: "no repetition", check_grounded: "about the reel",
    needsReview: "Review this script before voicing it:",
    subtitleStyle: "Subtitles", styleKaraoke: "Karaoke", stylePop: "Pop (the word grows)", styleBoxed: "On a box",
    styleMinimal: "Minimal", formats: "Formats", preview: "Fast preview", renderFinal: "Final render",
    rendering: "Rendering…", renderDone: "Done: {format}", renderFailed: "Render failed: {message}",
    renditionLink: "Download {format}",
    creditsAdd: "Add the stock clips' credits to the caption", stockNote: "Stock clips not used: {note}",
    libraryTitle: "Project media library", libraryHint: "Your clips, images, music and fonts: clips become B-roll sentence by sentence, music plays under the voice.",
    assetUpload: "Upload", assetKind: "Kind", assetName: "File", assetSize: "MB", assetLength: "Length, s",
    assetUsage: "{count} files, {used} of {quota} MB", assetUploaded: "Uploaded: {name} ({kind})", assetDelete: "Delete",
    kind_video: "video", kind_image: "image", kind_audio: "audio", kind_font: "font",
    background: "Background", backgroundAuto: "auto (stock clips, else library clips, else a gradient)", backgroundStock: "stock clips (Pexels, Pixabay)", backgroundGenerated: "gradient",
    backgroundClips: "library clips", backgroundReel: "the source reel", music: "Music", noMusic: "no music",
    font: "Subtitle font", defaultFont: "default",
    budgetLimit: "Monthly budget, $", budgetText: "{spent} spent, {held} under way of {limit} ({left} left)",
    budgetNone: "{spent} spent this month, no cap",
    budgetInvalid: "The budget is a number of dollars, such as 20 or 12.5", ruleNeedsCondition: "Give at least one condition to run the pipeline automatically",
    radarTitle: "Trend radar", radarHint: "Hashtags and accounts collected on a schedule; rules report new outliers and may run the pipeline themselves within the budget.",
    watchName: "Name", watchSources: "Sources", watchSchedule: "Schedule", watchNext: "Next collection", watchRules: "Rules",
    watchEvery: "Every N hours", watchCron: "Or cron (UTC)", ruleOutlier: "Outlier at least", ruleVelocity: "Plays/hour at least",
    ruleWithin: "Posted within, h", ruleAutoRun: "run the pipeline", watchCreate: "Watch",
    watchCreated: "Watchlist created", pause: "Pause", resume: "Resume", paused: "paused", everyHours: "every {hours} h",
    alertsTitle: "Alerts", noAlerts: "No alerts yet.", alertRun: "pipeline started", alertSkipped: "not run: {reason}",
    hideProcessed: "hide processed ones", chartTitle: "Plays of @{owner} over time ({count} observations)",
    publishTitle: "Publish", publishHint: "A title, caption and hashtags for the video, then a post now or on a schedule to Instagram Reels, YouTube Shorts and TikTok.",
    postWrite: "Write the post", postWriting: "Writing…", postTitle: "Title (YouTube)", postCaption: "Caption",
    postHashtags: "Hashtags, comma-separated", postSave: "Save the words", postSaved: "Saved",
    postNeedsReview: "Review the post's words before publishing:",
    limit_youtube_title: "YouTube title: {n} of 100", limit_instagram_caption: "Instagram caption: {n} of 2200",
    limit_instagram_hashtags: "Instagram hashtags: {n} of 30", limit_tiktok_title: "TikTok caption: {n} of 2200 (UTF-16)",
    accountsTitle: "Accounts", platform: "Platform", accountName: "Name", accountExternal: "Account id (Instagram)",
    accountToken: "Access token", accountRefresh: "Refresh token (optional)", accountConnect: "Connect",
    accountOauth: "Sign in with the platform", accountConnected: "Connected: {name}",
    publishAccount: "Account", privacy: "Visibility", privacy_public: "public", privacy_unlisted: "unlisted", privacy_private: "private",
    privacy_friends: "friends", privacy_followers: "followers",
    publishAt: "When (empty: now)", publishWhen: "When", publishStart: "Publish", publishQueued: "Accepted",
    publicationStatus: "Status", open: "Open", cancel: "Cancel",
    status_scheduled: "scheduled", status_uploading: "uploading", status_processing: "processing",
    status_published: "published", status_failed: "failed", status_canceled: "canceled", inbox: "TikTok draft",
    outcome_scheduled: "uploaded; YouTube publishes it at the set time",
  },
};

const STEP_KINDS = ["transcript", "script", "audio", "video"];
const $ = (selector) => document.querySelector(selector);

const state = {
  lang: localStorage.getItem("reelforge.lang") || (navigator.language.startsWith("ru") ? "ru" : "en"),
  token: localStorage.getItem("reelforge.token") || "",
  projectId: localStorage.getItem("reelforge.project") || "",
  sort: "trend_score",
  hideProcessed: false,
  reelId: null,
  audioId: null, // the voiceover on screen, for rendering it again
  videoId: null, // the video on screen, for its post and publications
  postId: null,
  run: null,
  jobs: new Map(), // resource id -> latest job progress
  shown: new Set(), // resource ids whose results are on the page
  stream: null,
  lastEventId: null,
  media: [], // object URLs to release
};

function t(key, values = {}) {
  const text = TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

function translatePage() {
  document.documentElement.lang = state.lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  $("#ui-language").value = state.lang;
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function setStatus(selector, text, isError = false) {
  const node = $(selector);
  node.textContent = text;
  node.classList.toggle("error", isError);
}

const number = (value, digits = 0) =>
  value === null || value === undefined ? "—" : Number(value).toLocaleString(state.lang, { maximumFractionDigits: digits });
const money = (usd) => `$${Number(usd).toFixed(usd > 0 && usd < 0.01 ? 5 : 2)}`;
const list = (text) => text.split(",").map((s) => s.trim().replace(/^[#@]/, "")).filter(Boolean);

// --- token ---------------------------------------------------------------------------------------

async function useToken(token) {
  state.token = token;
  try {
    await api("GET", "/v1/projects?limit=1");
  } catch (error) {
    setStatus("#token-status", `${t("tokenBad")}: ${error.message}`, true);
    $("#workspace").hidden = true;
    return false;
  }
  localStorage.setItem("reelforge.token", token);
  setStatus("#token-status", t("tokenOk"));
  $("#workspace").hidden = false;
  // Providers first: the project then labels its own choice among them.
  await loadProviders();
  await loadProjects();
  return true;
}

// --- projects, providers ---------------------------------------------------------------------------

async function loadProviders() {
  const steps = await api("GET", "/v1/providers");
  // Stock footage is offered only where a library is configured.
  const render = steps.find(({ step }) => step === "render");
  document.querySelector('#background option[value="stock"]').hidden = !render?.stock_libraries?.length;
  for (const { step, available, preferred } of steps) {
    const selects = step === "collect" ? [$("#collect-provider")] : [...document.querySelectorAll(`select[data-step="${step}"]`)];
    for (const select of selects) {
      select.replaceChildren(...available.map((name) => new Option(name, name, false, name === preferred)));
      if (step !== "collect") select.prepend(new Option(t("projectChoice"), "", true, true));
    }
  }
}

async function loadProjects() {
  const page = await api("GET", "/v1/projects?limit=100");
  const select = $("#project");
  select.replaceChildren(...page.items.map((p) => new Option(`${p.name} (${p.language})`, p.id)));
  if (!page.items.some((p) => p.id === state.projectId)) state.projectId = page.items[0]?.id || "";
  select.value = state.projectId;
  await openProject();
}

async function openProject() {
  localStorage.setItem("reelforge.project", state.projectId);
  state.reelId = null;
  state.run = null;
  clearResults();
  openStream();
  if (!state.projectId) return;
  await Promise.all([loadReels(), loadLatestRun(), loadProjectCost(), loadWatchlists(), loadAlerts(), loadAssets(), loadAccounts()]);
}

async function loadProjectCost() {
  if (!state.projectId) return;
  const project = await api("GET", `/v1/projects/${state.projectId}`);
  $("#project-cost").textContent = t("projectCost", { cost: money(project.usage?.total_cost ?? 0) });
  showBudget(project.budget);
  // "The project's choice" names the provider it stands for.
  for (const select of document.querySelectorAll("#run-form select[data-step]")) {
    const choice = select.options[0];
    if (choice?.value === "") choice.textContent = `${t("projectChoice")}: ${project.settings.providers[select.dataset.step]}`;
  }
}

async function loadLatestRun() {
  const runs = await api("GET", `/v1/projects/${state.projectId}/runs?limit=1`);
  if (runs.items[0]) showRun(runs.items[0]);
}

// --- collect ---------------------------------------------------------------------------------------

async function collect(event) {
  event.preventDefault();
  let body;
  if ($("#collect-source").value === "import") {
    let items;
    try {
      items = JSON.parse($("#collect-items").value);
    } catch (error) {
      setStatus("#collect-status", error.message, true);
      return;
    }
    body = { source: "import", items };
  } else {
    body = {
      source: "apify",
      provider: $("#collect-provider").value,
      hashtags: list($("#collect-hashtags").value),
      accounts: list($("#collect-accounts").value),
      per_source_limit: Number($("#collect-limit").value),
    };
  }
  try {
    const started = await api("POST", `/v1/projects/${state.projectId}/collections`, body);
    state.collectionId = started.collection.id;
    setStatus("#collect-status", t("collecting"));
    // A quick collection may have finished before its id was known here.
    const now = await api("GET", `/v1/projects/${state.projectId}/collections/${started.collection.id}`);
    if (now.status === "succeeded" || now.status === "failed") await collectionDone(now.id);
  } catch (error) {
    setStatus("#collect-status", problemText(error), true);
  }
}

function problemText(error) {
  const fields = error.problem?.errors?.map((e) => `${e.field}: ${e.message}`).join("; ");
  return fields ? `${error.message} (${fields})` : error.message;
}

async function collectionDone(id) {
  const collection = await api("GET", `/v1/projects/${state.projectId}/collections/${id}`);
  if (collection.status === "failed") {
    setStatus("#collect-status", collection.error?.message || "failed", true);
  } else {
    setStatus("#collect-status", t("collected", collection.counts || {}));
  }
  await loadReels();
}

// --- reels -----------------------------------------------------------------------------------------

async function loadReels() {
  const processed = state.hideProcessed ? "&processed=false" : "";
  const page = await api("GET", `/v1/projects/${state.projectId}/reels?sort=${state.sort}&limit=50${processed}`);
  for (const th of document.querySelectorAll("th.sortable")) th.classList.toggle("sorted", th.dataset.sort === state.sort);
  const rows = page.items.map(reelRow);
  $("#reels tbody").replaceChildren(...rows);
  $("#reels-empty").hidden = rows.length > 0;
  if (!state.reelId) {
    const first = page.items.find((r) => r.selected) || page.items[0];
    if (first) chooseReel(first);
  } else {
    markChosen();
  }
}

function cell(text, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (text instanceof Node) td.append(text);
  else td.textContent = text;
  return td;
}

function reelRow(reel) {
  const tr = document.createElement("tr");
  tr.dataset.reel = reel.id;
  // A frame of the prepared video (its signed link), else the scraped cover, else a blank.
  const placeholder = () => Object.assign(document.createElement("div"), { className: "placeholder" });
  const frame = reel.thumbnail_content_url || null;
  const cover = reel.cover_url && /^https?:/.test(reel.cover_url) ? reel.cover_url : null;
  let thumb = placeholder();
  if (frame || cover) {
    thumb = Object.assign(document.createElement("img"), { alt: "", loading: "lazy", referrerPolicy: "no-referrer" });
    thumb.addEventListener("error", () => thumb.replaceWith(placeholder()));
    thumb.src = frame || cover;
  }
  const caption = document.createElement("div");
  const owner = document.createElement("strong");
  owner.textContent = reel.owner_username ? `@${reel.owner_username}` : reel.external_id;
  const text = document.createElement("small");
  text.textContent = ` ${(reel.caption || "").slice(0, 120)}`;
  caption.append(owner, text);
  const m = reel.metrics;
  const button = document.createElement("button");
  button.type = "button";
  button.className = reel.selected ? "secondary" : "";
  button.textContent = reel.selected ? t("selected") : t("select");
  button.addEventListener("click", () => selectReel(reel));
  tr.append(
    cell(thumb, "thumb"),
    cell(caption, "caption"),
    cell(number(m.plays), "num"),
    cell(m.engagement_rate === null ? "—" : `${number(m.engagement_rate * 100, 1)}%`, "num"),
    cell(number(m.velocity, 1), "num"),
    cell(m.outlier_score === null ? "—" : `×${number(m.outlier_score, 2)}`, "num"),
    cell(number(m.trend_score, 2), "num"),
    cell(reel.posted_at ? new Date(reel.posted_at).toLocaleDateString(state.lang) : "—"),
    cell(button),
  );
  tr.addEventListener("click", (event) => {
    if (event.target.tagName !== "BUTTON") chooseReel(reel);
  });
  return tr;
}

function chooseReel(reel) {
  state.reelId = reel.id;
  $("#chosen-reel").textContent = reel.owner_username ? `@${reel.owner_username} · ${reel.external_id}` : reel.external_id;
  $("#run-start").disabled = false;
  markChosen();
  drawHistory(reel).catch((error) => console.warn("no history", error));
}

function markChosen() {
  for (const tr of document.querySelectorAll("#reels tbody tr")) tr.classList.toggle("chosen", tr.dataset.reel === state.reelId);
}

async function selectReel(reel) {
  await api("POST", `/v1/projects/${state.projectId}/reels/${reel.id}/select`, {});
  chooseReel(reel);
  await loadReels();
}

// --- runs ------------------------------------------------------------------------------------------

async function startRun(event) {
  event.preventDefault();
  const providers = {};
  for (const select of document.querySelectorAll("#run-form select[data-step]")) {
    if (select.value) providers[select.dataset.step] = select.value;
  }
  const body = { reel_id: state.reelId, providers };
  if ($("#from-step").value) body.from_step = $("#from-step").value;
  const render = renderOptions(false);
  if (Object.keys(render).length) body.options = { render };
  try {
    clearResults();
    const run = await api("POST", `/v1/projects/${state.projectId}/runs`, body);
    setStatus("#run-status", t("runQueued"));
    showRun(run);
  } catch (error) {
    setStatus("#run-status", problemText(error), true);
  }
}

function showRun(run) {
  state.run = run;
  const reel = run.reels[0];
  const byKind = new Map((reel?.steps || []).map((s) => [s.step, s]));
  for (const kind of STEP_KINDS) {
    const row = $(`#progress .step[data-step="${kind}"]`);
    const step = byKind.get(kind);
    const bar = row.querySelector("progress");
    const label = row.querySelector(".state");
    const status = step?.status || "";
    const jobProgress = step ? state.jobs.get(step.resource_id) : undefined;
    bar.value = status === "succeeded" ? 100 : (jobProgress?.progress ?? 0);
    label.className = `state ${status}`;
    label.textContent = step ? (step.reused ? t("reused") : [status, jobProgress?.stage].filter(Boolean).join(" · ")) : "";
    if (step?.status === "succeeded") showResult(kind, step.resource_id);
  }
  if (run.status === "succeeded") setStatus("#run-status", t("runSucceeded"));
  if (run.status === "failed") setStatus("#run-status", t("runFailed", { message: reel?.error?.message || "" }), true);
  if (run.usage) showCosts(run.usage);
}

async function refreshRun(id) {
  const run = await api("GET", `/v1/runs/${id}`);
  showRun(run);
  if (run.status === "succeeded" || run.status === "failed") await loadProjectCost();
}

function showCosts(usage) {
  const rows = usage.lines.map((line) => {
    const tr = document.createElement("tr");
    tr.append(cell(line.step), cell(line.provider), cell(line.metric), cell(number(line.quantity, 2), "num"), cell(money(line.cost), "num"));
    return tr;
  });
  $("#costs tbody").replaceChildren(...rows);
  $("#costs-total").textContent = money(usage.total_cost);
}

/** The look and formats chosen in the run form, as the local composer's options. */
function renderOptions(preview) {
  const options = {};
  if ($("#background").value) options.background = $("#background").value;
  if ($("#music").value) options.music_key = $("#music").value;
  const style = $("#subtitle-style").value;
  const subtitles = {};
  if (style !== "karaoke") subtitles.style = style;
  if ($("#font").value) subtitles.font_key = $("#font").value;
  if (Object.keys(subtitles).length) options.subtitles = subtitles;
  const formats = [...document.querySelectorAll("#formats input:checked")].map((box) => box.value);
  // A preview is for iterating on the look: one format is enough, and fast.
  const wanted = preview ? formats.slice(0, 1) : formats;
  if (wanted.length && !(wanted.length === 1 && wanted[0] === "9:16")) options.formats = wanted;
  if (preview) options.preview = true;
  return options;
}

/** Renders the voiceover on screen again with the chosen look: a fast preview or the final video. */
async function rerender(preview) {
  if (!state.audioId) return;
  setStatus("#render-status", t("rendering"));
  try {
    const started = await api("POST", `/v1/audio/${state.audioId}/videos`, { provider: "local", options: renderOptions(preview) });
    let video = started.resource;
    while (video.status !== "succeeded" && video.status !== "failed" && video.status !== "canceled") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      video = await api("GET", `/v1/videos/${video.id}`);
    }
    if (video.status !== "succeeded") throw new Error(video.error?.message || video.status);
    await showVideo(video);
    setStatus("#render-status", t("renderDone", { format: `${video.output.width}x${video.output.height}` }));
  } catch (error) {
    setStatus("#render-status", t("renderFailed", { message: problemText(error) }), true);
  }
}

// A link that opens in a new tab; an address that is not https (a vendor's answer) is shown as
// text only.
function externalLink(address, text) {
  if (!/^https:\/\//.test(address || "")) {
    const plain = document.createElement("span");
    plain.textContent = text;
    return plain;
  }
  const link = document.createElement("a");
  link.href = address;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = text;
  return link;
}

async function showVideo(resource) {
  const id = resource.id;
  // The signed link plays in <video> as it is (with ranges), and downloads the same way.
  const url = resource.content_url;
  const video = $("#video");
  video.src = url;
  video.dataset.resource = id;
  const link = $("#video-download");
  link.href = url;
  link.download = `reelforge-${id}.mp4`;
  link.hidden = false;
  // Further formats are fetched when asked for: each is a full video.
  const renditions = (resource.output.renditions || []).slice(1).map((rendition) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = t("renditionLink", { format: rendition.format });
    button.addEventListener("click", () => {
      const save = document.createElement("a");
      save.href = resource.file_urls[rendition.file];
      save.download = `reelforge-${id}-${rendition.format.replace(":", "x")}.mp4`;
      save.click();
    });
    return button;
  });
  $("#renditions").replaceChildren(...renditions);
  // Stock clips' authors, as their libraries ask to be credited.
  const credits = resource.output.credits || [];
  const lines = credits.map((credit) => externalLink(credit.page_url, credit.text));
  if (credits.some((credit) => credit.library === "pexels")) {
    lines.push(externalLink("https://www.pexels.com", "Videos provided by Pexels"));
  }
  if (resource.output.background_note) {
    const note = document.createElement("span");
    note.textContent = t("stockNote", { note: resource.output.background_note });
    lines.push(note);
  }
  $("#video-credits").replaceChildren(...lines.flatMap((line, index) => (index ? [" · ", line] : [line])));
  state.videoId = id;
  $("#post-write").disabled = false;
  await loadPost();
  await loadPublications();
}

// --- media library ---------------------------------------------------------------------------------

const megabytes = (bytes) => number(bytes / 1048576, 1);

async function loadAssets() {
  const page = await api("GET", `/v1/projects/${state.projectId}/assets?limit=100`);
  $("#asset-usage").textContent = t("assetUsage", {
    count: page.usage.count, used: megabytes(page.usage.used_bytes), quota: megabytes(page.usage.quota_bytes),
  });
  $("#assets tbody").replaceChildren(...page.items.map((asset) => {
    const tr = document.createElement("tr");
    tr.dataset.asset = asset.id;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary";
    remove.textContent = t("assetDelete");
    remove.addEventListener("click", async () => {
      try {
        await api("DELETE", `/v1/assets/${asset.id}`);
        await loadAssets();
      } catch (error) {
        setStatus("#asset-status", problemText(error), true);
      }
    });
    const seconds = asset.duration_ms == null ? "" : number(asset.duration_ms / 1000, 1);
    tr.append(cell(t(`kind_${asset.kind}`)), cell(asset.name), cell(megabytes(asset.size_bytes), "num"), cell(seconds, "num"), cell(remove));
    return tr;
  }));
  // The library's audio files are the music choices, its fonts the subtitle fonts.
  for (const [selector, kind, none] of [["#music", "audio", "noMusic"], ["#font", "font", "defaultFont"]]) {
    const select = $(selector);
    const chosen = select.value;
    select.replaceChildren(new Option(t(none), ""), ...page.items
      .filter((asset) => asset.kind === kind)
      .map((asset) => new Option(asset.name, asset.key)));
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
    const response = await fetch(`/v1/projects/${state.projectId}/assets`, {
      method: "POST", headers: { Authorization: `Bearer ${state.token}` }, body: form,
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, data);
    setStatus("#asset-status", t("assetUploaded", { name: data.name, kind: t(`kind_${data.kind}`) }));
    $("#asset-file").value = "";
    await loadAssets();
  } catch (error) {
    setStatus("#asset-status", problemText(error), true);
  }
}

// --- publishing ----------------------------------------------------------------------------------

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
  for (const item of document.querySelectorAll("#copy-limits li")) {
    const [n, max] = counts[item.dataset.limit];
    item.textContent = t(`limit_${item.dataset.limit}`, { n });
    item.classList.toggle("over", n > max);
  }
}

async function showPost(resource) {
  const output = resource?.output;
  state.postId = output ? resource.id : null;
  $("#post-title").value = output?.title || "";
  $("#post-caption").value = output?.caption || "";
  $("#post-hashtags").value = (output?.hashtags || []).join(", ");
  $("#post-save").disabled = !output;
  $("#post-review").hidden = !output?.needs_review;
  $("#post-review-reasons").replaceChildren(...(output?.review_reasons || []).map((reason) => {
    const li = document.createElement("li");
    li.textContent = reason;
    return li;
  }));
  state.postCredits = output?.credits || [];
  $("#post-credits").hidden = state.postCredits.length === 0;
  const cover = $("#post-cover");
  cover.hidden = !output?.cover;
  if (output?.cover) cover.src = await mediaUrl(`/v1/posts/${resource.id}/cover`);
  $("#publish-start").disabled = !output || !$("#publish-account").value;
  showLimits();
}

async function loadPost() {
  const page = await api("GET", `/v1/videos/${state.videoId}/posts?limit=5`);
  await showPost(page.items.find((post) => post.status === "succeeded") || null);
}

async function writePost() {
  const videoId = state.videoId;
  setStatus("#post-status", t("postWriting"));
  try {
    const started = await api("POST", `/v1/videos/${videoId}/posts`, {});
    let post = started.resource;
    while (!["succeeded", "failed", "canceled"].includes(post.status)) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      post = await api("GET", `/v1/posts/${post.id}`);
    }
    // Another video came on screen meanwhile: these words are not its words.
    if (state.videoId !== videoId) return;
    if (post.status !== "succeeded") throw new Error(post.error?.message || post.status);
    await showPost(post);
    setStatus("#post-status", "");
  } catch (error) {
    setStatus("#post-status", problemText(error), true);
  }
}

async function savePost() {
  try {
    await showPost(await api("PATCH", `/v1/posts/${state.postId}`, currentCopy()));
    setStatus("#post-status", t("postSaved"));
  } catch (error) {
    setStatus("#post-status", problemText(error), true);
  }
}

async function loadAccounts() {
  const page = await api("GET", `/v1/projects/${state.projectId}/accounts?limit=100`);
  state.accounts = new Map(page.items.map((account) => [account.id, account]));
  const select = $("#publish-account");
  const chosen = select.value;
  select.replaceChildren(...page.items.map((account) =>
    new Option(`${account.platform}: ${account.name}${account.status === "connected" ? "" : " ⚠"}`, account.id)));
  if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  showPrivacyChoices();
}

function accountBody() {
  const body = { platform: $("#account-platform").value, name: $("#account-name").value.trim(), access_token: $("#account-token").value.trim() };
  if ($("#account-external").value.trim()) body.external_id = $("#account-external").value.trim();
  if ($("#account-refresh").value.trim()) body.refresh_token = $("#account-refresh").value.trim();
  return body;
}

async function connectAccount(event) {
  event.preventDefault();
  try {
    const account = await api("POST", `/v1/projects/${state.projectId}/accounts`, accountBody());
    $("#account-token").value = "";
    $("#account-refresh").value = "";
    setStatus("#account-status", t("accountConnected", { name: account.name }));
    await loadAccounts();
    $("#publish-account").value = account.id;
    showPrivacyChoices();
  } catch (error) {
    setStatus("#account-status", problemText(error), true);
  }
}

async function connectWithOauth() {
  try {
    const link = await api("POST", `/v1/projects/${state.projectId}/accounts/authorize`, {
      platform: $("#account-platform").value, name: $("#account-name").value.trim() || $("#account-platform").value,
    });
    window.open(link.url, "_blank", "noopener");
  } catch (error) {
    setStatus("#account-status", problemText(error), true);
  }
}

// What each platform lets a post be, as the API checks it.
const PRIVACY = {
  instagram: ["public"],
  youtube: ["public", "unlisted", "private"],
  tiktok: ["public", "friends", "followers", "private"],
};

function showPrivacyChoices() {
  const account = state.accounts?.get($("#publish-account").value);
  const select = $("#publish-privacy");
  const chosen = select.value;
  select.replaceChildren(...(PRIVACY[account?.platform] || ["public"]).map((value) => new Option(t(`privacy_${value}`), value)));
  if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  $("#publish-start").disabled = !state.postId || !$("#publish-account").value;
}

async function publishVideo(event) {
  event.preventDefault();
  const body = { account_id: $("#publish-account").value, copy: currentCopy(), privacy: $("#publish-privacy").value };
  if ($("#publish-at").value) body.schedule_at = new Date($("#publish-at").value).toISOString();
  try {
    await api("POST", `/v1/videos/${state.videoId}/publications`, body);
    setStatus("#publish-status", t("publishQueued"));
    await loadPublications();
  } catch (error) {
    setStatus("#publish-status", problemText(error), true);
  }
}

async function loadPublications() {
  if (!state.videoId) return;
  const page = await api("GET", `/v1/videos/${state.videoId}/publications?limit=50`);
  $("#publications tbody").replaceChildren(...page.items.map((publication) => {
    const tr = document.createElement("tr");
    tr.dataset.publication = publication.id;
    tr.dataset.status = publication.status;
    const account = state.accounts?.get(publication.account_id);
    let status = t(`status_${publication.status}`);
    if (publication.outcome === "inbox") status = t("inbox");
    if (publication.outcome === "scheduled") status = t("outcome_scheduled");
    if (publication.error) status += `: ${publication.error.message}`;
    let action = "";
    if (publication.post_url) {
      action = document.createElement("a");
      action.href = publication.post_url;
      action.target = "_blank";
      action.rel = "noopener";
      action.textContent = t("open");
    } else if (publication.status === "scheduled") {
      action = document.createElement("button");
      action.type = "button";
      action.className = "secondary";
      action.textContent = t("cancel");
      action.addEventListener("click", async () => {
        try {
          await api("POST", `/v1/publications/${publication.id}/cancel`, {});
        } catch (error) {
          setStatus("#publish-status", problemText(error), true);
        }
        await loadPublications();
      });
    }
    const when = publication.schedule_at ? new Date(publication.schedule_at).toLocaleString(state.lang) : "";
    tr.append(cell(publication.platform), cell(account?.name || ""), cell(status, "state"), cell(when), cell(action));
    return tr;
  }));
}

// --- results ---------------------------------------------------------------------------------------

function clearResults() {
  state.shown.clear();
  state.jobs.clear();
  for (const url of state.media) URL.revokeObjectURL(url);
  state.media = [];
  $("#transcript").textContent = "";
  $("#script-text").value = "";
  $("#script-checks").replaceChildren();
  $("#script-review").hidden = true;
  $("#script-words").textContent = "";
  $("#script-save").disabled = true;
  $("#audio").removeAttribute("src");
  $("#video").removeAttribute("src");
  $("#video-download").hidden = true;
  $("#renditions").replaceChildren();
  $("#video-credits").replaceChildren();
  state.audioId = null;
  state.videoId = null;
  state.postId = null;
  showPost(null);
  $("#post-write").disabled = true;
  $("#publications tbody").replaceChildren();
  $("#video-preview").disabled = true;
  $("#video-final").disabled = true;
  setStatus("#render-status", "");
  $("#costs tbody").replaceChildren();
  $("#costs-total").textContent = "";
  for (const row of document.querySelectorAll("#progress .step")) {
    row.querySelector("progress").value = 0;
    row.querySelector(".state").textContent = "";
  }
}

const RESOURCE_PATHS = { transcript: "transcripts", script: "scripts", audio: "audio", video: "videos" };

async function showResult(kind, id) {
  if (state.shown.has(id)) return;
  state.shown.add(id);
  const resource = await api("GET", `/v1/${RESOURCE_PATHS[kind]}/${id}`);
  const output = resource.output || {};
  if (kind === "transcript") $("#transcript").textContent = output.text || "";
  if (kind === "script") showScript(resource);
  if (kind === "audio" && output.key) {
    $("#audio").src = resource.content_url;
    state.audioId = id;
    $("#video-preview").disabled = false;
    $("#video-final").disabled = false;
  }
  if (kind === "video" && output.key) await showVideo(resource);
}

function showScript(resource) {
  const output = resource.output || {};
  const text = $("#script-text");
  text.value = output.text || "";
  text.dataset.resource = resource.id;
  $("#script-save").disabled = false;
  $("#script-words").textContent = t("words", { count: output.word_count ?? "?", seconds: Math.round(output.estimated_seconds ?? 0) });
  // Stock or off-topic text is never shown as if it were a rewrite of the reel; the reasons
  // say which it is.
  const review = $("#script-review");
  review.hidden = !output.needs_review;
  $("#script-review-title").textContent = t("needsReview");
  $("#script-review-reasons").replaceChildren(...(output.review_reasons || []).map((reason) => {
    const li = document.createElement("li");
    li.textContent = reason;
    return li;
  }));
  $("#script-checks").replaceChildren(...(output.checks || []).map((check) => {
    const li = document.createElement("li");
    li.className = check.passed ? "pass" : "fail";
    li.dataset.check = check.name;
    li.textContent = `${t(`check_${check.name}`)}: ${check.detail}`;
    return li;
  }));
}

async function saveScript() {
  const id = $("#script-text").dataset.resource;
  try {
    const resource = await api("PATCH", `/v1/scripts/${id}`, { text: $("#script-text").value });
    showScript(resource);
  } catch (error) {
    setStatus("#script-words", problemText(error), true);
  }
}

// Players and downloads use each product's signed `content_url`; the post's cover has no link
// of its own, so it is fetched with the token and shown as a blob.
async function mediaUrl(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
  if (!response.ok) throw new ApiError(response.status, null);
  const url = URL.createObjectURL(await response.blob());
  state.media.push(url);
  return url;
}

// --- events ----------------------------------------------------------------------------------------

// A fetch-based SSE reader rather than EventSource: it sends the token as a header and resumes
// with Last-Event-ID after any drop, so no update is missed while reconnecting.
function openStream() {
  state.stream?.abort();
  if (!state.projectId) return;
  const controller = new AbortController();
  state.stream = controller;
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
        $("#stream-status").textContent = t("streamLive", { id: state.lastEventId ?? "—" });
        await readFrames(response.body, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      $("#stream-status").textContent = t("streamRetry");
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, 10000);
    }
  })();
}

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
      $("#stream-status").textContent = t("streamLive", { id: state.lastEventId });
      try {
        onEvent(JSON.parse(fields.data.join("\n")));
      } catch (error) {
        console.warn("event not handled", error);
      }
    }
  }
}

function onEvent(event) {
  const kind = event.kind;
  if (kind.startsWith("job.") && event.resource_id) {
    state.jobs.set(event.resource_id, { progress: event.data.progress, stage: event.data.stage });
    // Any finished collection brings reels; only the one started here reports in the form (a
    // resumed stream replays older ones).
    if ((kind === "job.succeeded" || kind === "job.failed") && event.resource_type === "collection") {
      if (event.resource_id === state.collectionId) collectionDone(event.resource_id);
      else loadReels();
    }
    if (state.run) showRun(state.run);
  }
  if (kind.startsWith("run.") && state.run && event.resource_id === state.run.id) refreshRun(state.run.id);
  if (kind === "reel.succeeded" || kind === "reel.failed") loadReels();
  if (kind === "alert") loadAlerts();
  if (kind === "run.queued") loadProjectCost();
  if (kind.startsWith("publication.") && event.data.video_id === state.videoId) loadPublications();
}

// --- budget, radar, history --------------------------------------------------------------------------

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
  const monthly_budget = input.value === "" ? null : input.valueAsNumber;
  try {
    await api("PATCH", `/v1/projects/${state.projectId}`, { settings: { monthly_budget } });
    await loadProjectCost();
  } catch (error) {
    $("#budget-text").textContent = problemText(error);
  }
}

function scheduleText(schedule) {
  return schedule.every_hours ? t("everyHours", { hours: schedule.every_hours }) : `cron ${schedule.cron}`;
}

function ruleText(rule) {
  const parts = [];
  const c = rule.conditions;
  if (c.min_outlier_score != null) parts.push(`×${c.min_outlier_score}+`);
  if (c.min_recent_velocity != null) parts.push(`${number(c.min_recent_velocity)}/h+`);
  if (c.min_engagement_rate != null) parts.push(`${number(c.min_engagement_rate * 100, 1)}%+`);
  if (c.posted_within_hours != null) parts.push(`≤${c.posted_within_hours} h`);
  if (rule.auto_run) parts.push("▶");
  return `${rule.name || "—"} (${parts.join(", ") || "*"})`;
}

async function loadWatchlists() {
  const page = await api("GET", `/v1/projects/${state.projectId}/watchlists?limit=100`);
  $("#watchlists tbody").replaceChildren(...page.items.map((watchlist) => {
    const tr = document.createElement("tr");
    tr.dataset.watchlist = watchlist.id;
    const sources = [...(watchlist.collection.hashtags || []).map((h) => `#${h}`), ...(watchlist.collection.accounts || []).map((a) => `@${a}`)];
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "secondary";
    toggle.textContent = watchlist.paused ? t("resume") : t("pause");
    toggle.addEventListener("click", async () => {
      try {
        await api("PATCH", `/v1/watchlists/${watchlist.id}`, { paused: !watchlist.paused });
        await loadWatchlists();
      } catch (error) {
        setStatus("#watch-status", problemText(error), true);
      }
    });
    tr.append(
      cell(watchlist.name),
      cell(sources.join(" ")),
      cell(scheduleText(watchlist.schedule)),
      cell(watchlist.paused ? t("paused") : new Date(watchlist.next_tick_at).toLocaleString(state.lang)),
      cell(watchlist.rules.map(ruleText).join("; ")),
      cell(toggle),
    );
    return tr;
  }));
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
  // A rule with no condition would match every reel collected: with "run the pipeline" that is
  // a paid run for each, so it takes a condition.
  if (!hasCondition && $("#rule-auto").checked) {
    setStatus("#watch-status", t("ruleNeedsCondition"), true);
    return;
  }
  const rules = hasCondition ? [{ conditions, auto_run: $("#rule-auto").checked }] : [];
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
    rules,
  };
  try {
    await api("POST", `/v1/projects/${state.projectId}/watchlists`, body);
    setStatus("#watch-status", t("watchCreated"));
    await loadWatchlists();
  } catch (error) {
    setStatus("#watch-status", problemText(error), true);
  }
}

async function loadAlerts() {
  const page = await api("GET", `/v1/projects/${state.projectId}/alerts?limit=20`);
  const items = await Promise.all(page.items.map(async (alert) => {
    const li = document.createElement("li");
    li.dataset.alert = alert.id;
    const when = Object.assign(document.createElement("span"), { className: "when", textContent: new Date(alert.created_at).toLocaleString(state.lang) });
    const m = alert.metrics;
    const what = `${number(m.plays)} · ×${number(m.outlier_score, 2)} · ${number(m.recent_velocity ?? m.velocity, 0)}/h`;
    const run = alert.run_id ? t("alertRun") : alert.run_skipped ? t("alertSkipped", { reason: alert.run_skipped.code }) : "";
    li.append(when, document.createTextNode(`${alert.reel_id.slice(0, 8)} — ${what}${run ? ` — ${run}` : ""}`));
    return li;
  }));
  $("#alerts").replaceChildren(...items);
  $("#alerts-empty").hidden = items.length > 0;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

// The chosen reel's plays over time, as an inline SVG line.
async function drawHistory(reel) {
  const history = await api("GET", `/v1/reels/${reel.id}/history`);
  const points = history.observations.filter((o) => o.plays !== null);
  $("#reel-chart").hidden = points.length === 0;
  if (points.length === 0) return;
  $("#chart-title").textContent = t("chartTitle", { owner: reel.owner_username || reel.external_id, count: points.length });
  const [width, height, pad] = [600, 160, 24];
  const times = points.map((p) => Date.parse(p.observed_at));
  const plays = points.map((p) => p.plays);
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const [low, high] = [Math.min(...plays), Math.max(...plays)];
  const x = (time) => pad + ((width - 2 * pad) * (t1 > t0 ? time - t0 : 0.5)) / (t1 > t0 ? t1 - t0 : 1);
  const y = (value) => height - pad - ((height - 2 * pad) * (high > low ? value - low : 0.5)) / (high > low ? high - low : 1);
  const coordinates = points.map((_, i) => `${x(times[i]).toFixed(1)},${y(plays[i]).toFixed(1)}`);
  const chart = $("#chart");
  chart.replaceChildren(
    svg("polyline", { points: coordinates.join(" ") }),
    ...points.map((_, i) => svg("circle", { cx: x(times[i]).toFixed(1), cy: y(plays[i]).toFixed(1), r: 3 })),
    Object.assign(svg("text", { x: pad, y: 12 }), { textContent: number(high) }),
    Object.assign(svg("text", { x: pad, y: height - 6 }), { textContent: number(low) }),
  );
}

// --- wiring ----------------------------------------------------------------------------------------

$("#ui-language").addEventListener("change", (event) => {
  state.lang = event.target.value;
  localStorage.setItem("reelforge.lang", state.lang);
  translatePage();
  // Re-render what is on screen in the new language, without reloading the media.
  if (state.projectId && !$("#workspace").hidden) {
    loadReels();
    loadProjectCost();
    loadWatchlists();
    loadAlerts();
    loadAssets();
    showLimits();
    loadPublications();
    if (state.run) showRun(state.run);
  }
});
$("#token-form").addEventListener("submit", (event) => {
  event.preventDefault();
  useToken($("#token").value.trim());
});
$("#token-forget").addEventListener("click", () => {
  localStorage.removeItem("reelforge.token");
  state.token = "";
  state.stream?.abort();
  $("#token").value = "";
  $("#workspace").hidden = true;
});
$("#project").addEventListener("change", (event) => {
  state.projectId = event.target.value;
  state.lastEventId = null;
  openProject();
});
$("#project-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const project = await api("POST", "/v1/projects", { name: $("#project-name").value, language: $("#project-language").value });
  state.projectId = project.id;
  $("#project-name").value = "";
  await loadProjects();
});
$("#collect-source").addEventListener("change", (event) => {
  const scrape = event.target.value === "scrape";
  for (const node of document.querySelectorAll("#collect-form .scrape")) node.hidden = !scrape;
  for (const node of document.querySelectorAll("#collect-form .import")) node.hidden = scrape;
});
$("#collect-form").addEventListener("submit", collect);
for (const th of document.querySelectorAll("th.sortable")) {
  th.addEventListener("click", () => {
    state.sort = th.dataset.sort;
    loadReels();
  });
}
$("#run-form").addEventListener("submit", startRun);
$("#watchlist-form").addEventListener("submit", createWatchlist);
$("#budget-save").addEventListener("click", saveBudget);
$("#hide-processed").addEventListener("change", (event) => {
  state.hideProcessed = event.target.checked;
  loadReels();
});
$("#script-save").addEventListener("click", saveScript);
$("#video-preview").addEventListener("click", () => rerender(true));
$("#asset-form").addEventListener("submit", uploadAsset);
$("#video-final").addEventListener("click", () => rerender(false));
$("#post-write").addEventListener("click", writePost);
$("#post-save").addEventListener("click", savePost);
$("#post-credits").addEventListener("click", () => {
  const caption = $("#post-caption");
  const missing = state.postCredits.filter((line) => !caption.value.includes(line));
  caption.value = [caption.value.trim(), ...missing].filter(Boolean).join("\n");
  showLimits();
});
for (const field of document.querySelectorAll(".copy-field")) field.addEventListener("input", showLimits);
$("#account-form").addEventListener("submit", connectAccount);
$("#account-oauth").addEventListener("click", connectWithOauth);
$("#publish-form").addEventListener("submit", publishVideo);
$("#publish-account").addEventListener("change", showPrivacyChoices);

translatePage();
if (state.token) {
  $("#token").value = state.token;
  useToken(state.token);
}
