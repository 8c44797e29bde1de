// Every text of the page in one table: each key holds its Russian and English side by side, so a
// missing translation shows up as a gap in one line. Counted words are plural forms chosen by
// Intl.PluralRules (one/few/many/other), never "2 файлов". Server errors are translated from their
// problem+json `code`; the server's English `detail` is never shown in the Russian UI.

const TEXT = {
  // shell
  tagline: ["тренды Reels → ваша версия → публикация", "trending Reels → your version → posted"],
  uiLanguage: ["Язык", "Language"],
  navTrends: ["Тренды", "Trends"], navStudio: ["Студия", "Studio"], navPublish: ["Публикация", "Publish"],
  navDrafts: ["Черновики", "Drafts"], navSettings: ["Настройки", "Settings"], navLabel: ["Разделы", "Sections"],
  skip: ["К содержимому", "Skip to content"],
  loading: ["Загрузка…", "Loading…"],
  // token and project
  tokenTitle: ["Вход", "Sign in"],
  tokenHint: ["Вставьте токен доступа один раз (его выдаёт команда reelforge token create --name web); он хранится только в этом браузере.",
    "Paste an access token once (made by reelforge token create --name web); it stays in this browser only."],
  tokenLabel: ["Токен доступа", "Access token"],
  save: ["Сохранить", "Save"], forget: ["Выйти и забыть токен", "Sign out and forget the token"],
  tokenOk: ["Токен принят", "Token accepted"], tokenBad: ["Токен не принят: {reason}", "Token refused: {reason}"],
  projectLabel: ["Проект", "Project"], projectName: ["Название нового проекта", "New project name"],
  projectLanguage: ["Язык роликов", "Language of the videos"], create: ["Создать", "Create"],
  projectCost: ["Расходы проекта: {cost}", "Project costs: {cost}"],
  newProject: ["Новый проект", "New project"],
  budgetTitle: ["Бюджет", "Budget"], budgetLimit: ["Бюджет в месяц, $", "Monthly budget, $"],
  budgetText: ["{spent} потрачено, {held} в работе из {limit} ({left} осталось)", "{spent} spent, {held} under way of {limit} ({left} left)"],
  budgetNone: ["{spent} потрачено в этом месяце, без лимита", "{spent} spent this month, no cap"],
  budgetInvalid: ["Бюджет — число долларов, например 20 или 12.5", "The budget is a number of dollars, such as 20 or 12.5"],
  // current reel panel
  currentTitle: ["Текущий ролик", "Current reel"], currentNone: ["Ролик не выбран: выберите тренд.", "No reel chosen: pick a trend."],
  currentVideo: ["К публикации: {name}", "To publish: {name}"], currentNoVideo: ["Видео к публикации ещё не выбрано", "No video chosen to publish yet"],
  // trends
  collectTitle: ["Найти тренды", "Find trends"], source: ["Источник", "Source"],
  sourceScrape: ["Хэштеги и аккаунты", "Hashtags and accounts"], sourceImport: ["Импорт датасета (JSON)", "Dataset import (JSON)"],
  collector: ["Сборщик", "Collector"], hashtags: ["Хэштеги через запятую", "Hashtags, comma-separated"],
  hashtagsExample: ["например: мотивация, утро", "e.g. motivation, morning"],
  accounts: ["Аккаунты через запятую", "Accounts, comma-separated"], accountsExample: ["например: coach.anna", "e.g. coach.anna"],
  perSource: ["Не больше на источник", "At most per source"], dataset: ["Элементы датасета Apify (массив JSON)", "Apify dataset items (a JSON array)"],
  collect: ["Собрать", "Collect"], collecting: ["Собираем…", "Collecting…"],
  collected: ["Собрано: добавлено {added}, обновлено {merged}, отклонено {rejected}", "Collected: {added} added, {merged} updated, {rejected} rejected"],
  collectFailed: ["Сбор не удался: {reason}", "Collecting failed: {reason}"],
  badJson: ["Это не JSON-массив", "This is not a JSON array"],
  trendsTitle: ["Трендовые ролики", "Trending reels"], filtersTitle: ["Фильтры", "Filters"],
  sortBy: ["Сортировка", "Sort by"], sort_trend_score: ["по трендовости", "by trend"], sort_outlier_score: ["по выбросу", "by outlier"],
  sort_plays: ["по просмотрам", "by plays"], sort_velocity: ["по скорости", "by speed"], sort_engagement_rate: ["по вовлечённости", "by engagement"],
  sort_posted_at: ["по дате", "by date"],
  filterMinPlays: ["Просмотров не меньше", "At least plays"], filterMaxDuration: ["Длина не больше, с", "At most seconds long"],
  filterPostedDays: ["Опубликован за последние, дней", "Posted within, days"], filterOwner: ["Автор", "Author"],
  filterHashtag: ["Хэштег", "Hashtag"], filterLanguage: ["Язык подписи", "Caption language"], anyLanguage: ["любой", "any"],
  langRu: ["русский", "Russian"], langEn: ["английский", "English"],
  hideProcessed: ["скрыть уже обработанные", "hide processed ones"], filterApply: ["Показать", "Show"],
  filterReset: ["Сбросить", "Reset"],
  noReels: ["Пока нет роликов: соберите их по хэштегам или аккаунтам выше.", "No reels yet: collect some by hashtags or accounts above."],
  noReelsFiltered: ["Под фильтры ничего не подходит.", "Nothing matches the filters."],
  moreReels: ["Показать ещё", "Show more"],
  reelCount: [{ one: "{n} ролик", few: "{n} ролика", many: "{n} роликов", other: "{n} ролика" }, { one: "{n} reel", other: "{n} reels" }],
  plays: [{ one: "{n} просмотр", few: "{n} просмотра", many: "{n} просмотров", other: "{n} просмотра" }, { one: "{n} play", other: "{n} plays" }],
  seconds: [{ one: "{n} секунда", few: "{n} секунды", many: "{n} секунд", other: "{n} секунды" }, { one: "{n} second", other: "{n} seconds" }],
  minutes: [{ one: "{n} минута", few: "{n} минуты", many: "{n} минут", other: "{n} минуты" }, { one: "{n} minute", other: "{n} minutes" }],
  words: [{ one: "{n} слово", few: "{n} слова", many: "{n} слов", other: "{n} слова" }, { one: "{n} word", other: "{n} words" }],
  files: [{ one: "{n} файл", few: "{n} файла", many: "{n} файлов", other: "{n} файла" }, { one: "{n} file", other: "{n} files" }],
  observations: [{ one: "{n} замер", few: "{n} замера", many: "{n} замеров", other: "{n} замера" }, { one: "{n} observation", other: "{n} observations" }],
  hours: [{ one: "{n} час", few: "{n} часа", many: "{n} часов", other: "{n} часа" }, { one: "{n} hour", other: "{n} hours" }],
  whyOutlier: ["в {x} раза больше просмотров, чем обычно у автора", "{x} times this author's usual plays"],
  whyVelocity: ["+{n} просмотров в час", "+{n} plays an hour"],
  whyEngagement: ["{n}% зрителей лайкают и комментируют", "{n}% of viewers like or comment"],
  whyFresh: ["опубликован {when}", "posted {when}"],
  whyNone: ["Пока мало данных: соберите ещё ролики автора", "Too little data yet: collect more of this author's reels"],
  whyOwnClip: ["Ваш загруженный клип: сделайте из него свою версию", "Your uploaded clip: make your version of it"],
  whyTitle: ["Почему в тренде", "Why it is trending"],
  openInstagram: ["Открыть в Instagram", "Open on Instagram"], makeMine: ["Сделать свою версию", "Make my version"],
  chooseCard: ["Выбрать ролик @{owner}", "Choose @{owner}'s reel"], chosen: ["Текущий", "Current"],
  ownClip: ["Свой клип", "Own clip"], noCover: ["Нет обложки", "No cover"],
  reelStatus_pending: ["ещё не скачан", "not downloaded yet"], reelStatus_queued: ["ждёт загрузки", "waiting to download"],
  reelStatus_running: ["скачивается", "downloading"], reelStatus_succeeded: ["скачан", "downloaded"],
  reelStatus_failed: ["не удалось скачать: {reason}", "could not be downloaded: {reason}"], reelStatus_canceled: ["загрузка отменена", "download canceled"],
  // radar
  radarTitle: ["Радар трендов", "Trend radar"],
  radarHint: ["Хэштеги и аккаунты собираются по расписанию; правила сообщают о новых выбросах и могут сами запустить конвейер в пределах бюджета.",
    "Hashtags and accounts collected on a schedule; rules report new outliers and may run the pipeline themselves within the budget."],
  watchName: ["Название", "Name"], watchSources: ["Источники", "Sources"], watchSchedule: ["Расписание", "Schedule"],
  watchNext: ["Следующий сбор", "Next collection"], watchRules: ["Правила", "Rules"],
  watchEvery: ["Каждые N часов", "Every N hours"], watchCron: ["Или расписание cron (UTC)", "Or a cron schedule (UTC)"],
  ruleOutlier: ["Выброс не меньше, раз", "Outlier at least, times"], ruleVelocity: ["Просмотров в час не меньше", "Plays an hour at least"],
  ruleWithin: ["Опубликован не позже, ч", "Posted within, h"], ruleAutoRun: ["сразу делать свою версию", "make my version at once"],
  watchCreate: ["Следить", "Watch"], watchCreated: ["Список создан", "Watchlist created"],
  pause: ["Пауза", "Pause"], resume: ["Продолжить", "Resume"], paused: ["на паузе", "paused"],
  everyHours: ["каждые {hours} ч", "every {hours} h"], cronSchedule: ["по расписанию {cron}", "on schedule {cron}"],
  ruleOutlierText: ["выброс от ×{x}", "outlier from ×{x}"], ruleVelocityText: ["от {n} в час", "from {n} an hour"],
  ruleEngagementText: ["вовлечённость от {n}%", "engagement from {n}%"], ruleWithinText: ["не старше {n} ч", "at most {n} h old"],
  ruleAutoText: ["с автозапуском", "runs itself"], ruleAny: ["любой ролик", "any reel"],
  ruleReview: ["Сценарий автозапуска", "The automatic run's script"],
  ruleReviewText_never: ["без проверки сценария", "script not reviewed"],
  ruleReviewText_when_flagged: ["проверка сценария, если есть замечания", "script reviewed when flagged"],
  ruleReviewText_always: ["всегда проверка сценария", "script always reviewed"],
  ruleNeedsCondition: ["Для автозапуска задайте хотя бы одно условие", "Give at least one condition to run the pipeline automatically"],
  noWatchlists: ["Вы пока ни за чем не следите.", "You are not watching anything yet."],
  alertsTitle: ["Сигналы", "Alerts"], noAlerts: ["Сигналов пока нет.", "No alerts yet."],
  alertText: ["{owner}: {plays}, ×{x} к обычному для автора", "{owner}: {plays}, ×{x} the author's usual"],
  alertSpeed: ["+{n} в час", "+{n} an hour"],
  alertRun: ["запущена своя версия", "my version started"], alertSkipped: ["без запуска: {reason}", "not run: {reason}"],
  chartTitle: ["Просмотры @{owner} во времени ({count})", "Plays of @{owner} over time ({count})"],
  // studio
  studioTitle: ["Студия", "Studio"], studioNoReel: ["Сначала выберите ролик во вкладке «Тренды».", "Pick a reel in Trends first."],
  runSettings: ["Настройки версии", "Version settings"], advanced: ["Дополнительно", "Advanced"],
  stepTranscribe: ["Расшифровка", "Transcript"], stepRewrite: ["Сценарий", "Script"], stepVoice: ["Озвучка", "Voiceover"], stepRender: ["Видео", "Video"],
  stepCollect: ["Сбор", "Collecting"],
  fromStep: ["Переделать начиная с", "Redo from"], reuse: ["— использовать готовое", "— reuse what is done"],
  reviewMode: ["Проверка сценария", "Script review"], review_never: ["не останавливаться", "never stop"],
  review_when_flagged: ["остановиться, если есть замечания", "stop when something is flagged"], review_always: ["всегда показать перед озвучкой", "always before voicing"],
  reviewUnsupported: ["Сервер пока не умеет останавливаться перед озвучкой: сценарий можно поправить после.", "This server cannot pause before voicing yet: edit the script afterwards."],
  runStart: ["Сделать видео", "Make the video"], runAgain: ["Сделать заново", "Make it again"],
  projectChoice: ["как в проекте", "project's choice"],
  provider_fake: ["тестовый", "test stand-in"], provider_local: ["на этом сервере", "on this server"], provider_auto: ["автоматически", "automatic"],
  runQueued: ["Запуск принят", "Run accepted"], runRunning: ["Работаем: {percent}%", "Working: {percent}%"],
  runSucceeded: ["Готово", "Done"], runFailed: ["Не получилось: {reason}", "Failed: {reason}"], runCanceled: ["Отменено", "Canceled"],
  runAwaiting: ["Сценарий готов: прочитайте, поправьте и одобрите — тогда будет озвучка и видео.", "The script is ready: read, edit and approve it, then it is voiced and rendered."],
  nextPublish: ["Дальше: публикация →", "Next: publish →"],
  progressTitle: ["Ход работы", "Progress"],
  state_pending: ["ждёт", "waiting"], state_queued: ["в очереди", "queued"], state_running: ["идёт", "running"],
  state_succeeded: ["готово", "done"], state_failed: ["ошибка", "failed"], state_canceled: ["отменено", "canceled"],
  state_awaiting_review: ["ждёт вашей проверки", "waiting for your review"],
  reused: ["готово ранее", "reused"], eta: ["осталось ≈ {time}", "≈ {time} left"],
  cancelStep: ["Отменить", "Cancel"], cancelAsked: ["Отмена запрошена", "Cancel requested"],
  runCancel: ["Отменить запуск", "Cancel the run"],
  streamLive: ["Обновления: подключено", "Updates: connected"], streamRetry: ["Обновления: переподключение…", "Updates: reconnecting…"],
  transcript: ["Расшифровка оригинала", "The original's transcript"], script: ["Ваш сценарий", "Your script"],
  scriptLabel: ["Текст сценария", "Script text"], saveScript: ["Сохранить правку", "Save the edit"],
  saveRevoice: ["Сохранить и переозвучить", "Save and voice again"],
  approve: ["Одобрить и озвучить", "Approve and voice"], approved: ["Одобрено: озвучиваем", "Approved: voicing"],
  scriptSaved: ["Правка сохранена", "Edit saved"], scriptWords: ["{words}, ≈ {time}", "{words}, ≈ {time}"],
  revoicing: ["Переозвучиваем с правкой…", "Voicing the edit…"],
  needsReview: ["Проверьте сценарий перед озвучкой:", "Review this script before voicing it:"],
  checksTitle: ["Проверки", "Checks"], checkPassed: ["пройдена", "passed"], checkFailed: ["не пройдена", "failed"],
  check_clean_text: ["без эмодзи и разметки", "no emoji or markup"], check_word_count: ["длина в словах", "word count"],
  check_call_to_action: ["призыв к действию", "call to action"], check_not_a_copy: ["не копия оригинала", "not a copy"],
  check_language: ["язык", "language"], check_repetition: ["без повторов", "no repetition"], check_loops: ["без зацикливаний", "no loops"],
  check_spelling: ["орфография", "spelling"], check_grounded: ["по теме ролика", "about the reel"],
  reason_fallback: ["написан запасным писателем из готовых фраз, а не по ролику", "written by the fallback writer from stock sentences, not from the reel"],
  reason_stock: ["дополнен готовыми фразами до нужной длины", "padded with stock sentences to the length"],
  reason_check: ["не пройдена проверка «{check}»", "fails the “{check}” check"],
  audio: ["Озвучка", "Voiceover"], video: ["Видео", "Video"], player: ["Плеер", "Player"], noVideoYet: ["Здесь появится видео.", "The video appears here."],
  download: ["Скачать MP4", "Download MP4"], renditionLink: ["Скачать {format}", "Download {format}"],
  lookTitle: ["Оформление", "Look"],
  subtitleStyle: ["Субтитры", "Subtitles"], styleKaraoke: ["Караоке", "Karaoke"], stylePop: ["Поп (слово растёт)", "Pop (the word grows)"],
  styleBoxed: ["На плашке", "On a box"], styleMinimal: ["Минимальные", "Minimal"], stylePreview: ["Так будут выглядеть субтитры", "How the subtitles look"],
  sampleLine: ["Каждый день — новый шанс", "Every day is a new chance"],
  background: ["Фон", "Background"], backgroundAuto: ["авто", "automatic"], backgroundStock: ["стоковые клипы", "stock clips"],
  backgroundGenerated: ["градиент", "gradient"], backgroundClips: ["клипы медиатеки", "library clips"], backgroundReel: ["исходный ролик", "the source reel"],
  music: ["Музыка", "Music"], noMusic: ["без музыки", "no music"], font: ["Шрифт субтитров", "Subtitle font"], defaultFont: ["стандартный", "default"],
  formats: ["Форматы", "Formats"], preview: ["Быстрый черновик", "Fast preview"], renderFinal: ["Финальный рендер", "Final render"],
  renderProgress: ["Ход рендера", "Render progress"],
  rendering: ["Рендер: {percent}%", "Rendering: {percent}%"], renderDone: ["Готово: {size}", "Done: {size}"],
  renderFailed: ["Рендер не удался: {reason}", "Render failed: {reason}"],
  creditsAdd: ["Добавить авторов стоковых клипов в подпись", "Add the stock clips' credits to the caption"],
  stockNote: ["Стоковые клипы не использованы.", "Stock clips were not used."],
  costs: ["Расходы", "Costs"], step: ["Шаг", "Step"], provider: ["Сервис", "Service"], metric: ["Что считали", "Measured"],
  quantity: ["Сколько", "Quantity"], cost: ["Стоимость", "Cost"], total: ["Итого", "Total"], noCosts: ["Расходов нет.", "No costs."],
  step_transcribe: ["Расшифровка", "Transcript"], step_rewrite: ["Сценарий", "Script"], step_voice: ["Озвучка", "Voiceover"],
  step_render: ["Видео", "Video"], step_write_post: ["Текст поста", "Post words"], step_collect: ["Сбор", "Collecting"],
  metric_audio_seconds: ["секунды аудио", "audio seconds"], metric_input_tokens: ["токены запроса", "prompt tokens"],
  metric_output_tokens: ["токены ответа", "answer tokens"], metric_characters: ["символы", "characters"],
  metric_video_seconds: ["секунды видео", "video seconds"], metric_actor_items: ["собранные ролики", "collected items"],
  libraryTitle: ["Медиатека проекта", "Project media library"],
  libraryHint: ["Ваши клипы, картинки, музыка и шрифты: клипы становятся фоном по предложениям, музыка звучит под голосом.",
    "Your clips, images, music and fonts: clips become B-roll sentence by sentence, music plays under the voice."],
  assetFile: ["Файл для медиатеки", "File for the library"],
  assetUpload: ["Загрузить", "Upload"], assetKind: ["Тип", "Kind"], assetName: ["Файл", "File"], assetSize: ["МБ", "MB"], assetLength: ["Длина, с", "Length, s"],
  assetUsage: ["{files}, {used} из {quota} МБ", "{files}, {used} of {quota} MB"], assetUploaded: ["Загружено: {name} ({kind})", "Uploaded: {name} ({kind})"],
  assetDelete: ["Удалить", "Delete"], assetDeleteNamed: ["Удалить {name}", "Delete {name}"], noAssets: ["Медиатека пуста.", "The library is empty."],
  kind_video: ["видео", "video"], kind_image: ["картинка", "image"], kind_audio: ["аудио", "audio"], kind_font: ["шрифт", "font"],
  // drafts
  draftsTitle: ["Черновики и готовые видео", "Drafts and finished videos"],
  draftsHint: ["Каждый запуск и каждый рендер — отдельная карточка. Публикуется ровно то видео, которое вы выбрали.", "Every run and every render is its own card. Exactly the video you pick is published."],
  noDrafts: ["Видео пока нет: сделайте свою версию в студии.", "No videos yet: make your version in the Studio."],
  draftPreview: ["черновик", "preview"], draftFinal: ["финал", "final"], draftRun: ["из запуска", "from a run"],
  draftMade: ["Сделано {when}", "Made {when}"], draftPublishThis: ["Опубликовать это видео", "Publish this video"],
  draftOpen: ["Открыть в студии", "Open in the Studio"], draftChosen: ["выбрано для публикации", "chosen for publishing"],
  draftNotPosted: ["ещё не опубликовано", "not posted yet"], draftRunFailed: ["Запуск не удался: {reason}", "The run failed: {reason}"],
  draftRunWorking: ["Запуск идёт: {percent}%", "Run under way: {percent}%"], draftRunAwaiting: ["Ждёт проверки сценария", "Waiting for the script review"],
  draftName: ["{owner} · {size} · {when}", "{owner} · {size} · {when}"],
  retryRun: ["Попробовать снова", "Try again"],
  // publish
  publishTitle: ["Публикация", "Publish"], publishVideo: ["Публикуем: {name}", "Publishing: {name}"],
  publishNoVideo: ["Выберите видео в черновиках.", "Pick a video in Drafts."], publishChange: ["Выбрать другое видео", "Pick another video"],
  postWords: ["Текст поста", "The post's words"],
  postWrite: ["Написать текст поста", "Write the post"], postWriting: ["Пишем…", "Writing…"], postTitle: ["Заголовок (YouTube)", "Title (YouTube)"],
  postCaption: ["Подпись", "Caption"], postHashtags: ["Хэштеги через запятую", "Hashtags, comma-separated"],
  postSave: ["Сохранить текст", "Save the words"], postSaved: ["Сохранено", "Saved"], postCover: ["Обложка поста", "The post's cover"],
  postNeedsReview: ["Проверьте текст поста перед публикацией:", "Review the post's words before publishing:"],
  postReasonFallback: ["написан по сценарию без модели", "written from the script, not by a model"],
  postReasonScript: ["сначала проверьте сценарий видео", "review the video's script first"],
  postReasonCheck: ["не пройдена проверка «{check}»", "fails the “{check}” check"],
  copycheck: ["лимит платформы", "a platform limit"],
  limit_youtube_title: ["Заголовок YouTube: {n} из 100", "YouTube title: {n} of 100"], limit_instagram_caption: ["Подпись Instagram: {n} из 2200", "Instagram caption: {n} of 2200"],
  limit_instagram_hashtags: ["Хэштеги Instagram: {n} из 30", "Instagram hashtags: {n} of 30"], limit_tiktok_title: ["Подпись TikTok: {n} из 2200", "TikTok caption: {n} of 2200"],
  accountsTitle: ["Аккаунты", "Accounts"], connectHint: ["Подключите аккаунт — откроется страница платформы, где нужно разрешить публикацию.", "Connect an account: the platform's page opens to allow posting."],
  connectPlatform: ["Подключить {platform}", "Connect {platform}"], accountName: ["Имя аккаунта здесь", "The account's name here"],
  accountExternal: ["ID аккаунта Instagram", "Instagram account id"], accountToken: ["Токен доступа платформы", "The platform's access token"],
  accountRefresh: ["Токен обновления (необязательно)", "Refresh token (optional)"], accountConnectTokens: ["Подключить по токену", "Connect with a token"],
  advancedTokens: ["Дополнительно: подключить по токену", "Advanced: connect with a token"],
  accountConnected: ["Подключено: {name}", "Connected: {name}"], accountNeedsAuth: ["нужно подключить заново", "needs connecting again"],
  accountOpened: ["Окно платформы открыто: разрешите доступ и вернитесь сюда.", "The platform's window is open: allow access and come back here."],
  noAccounts: ["Аккаунтов пока нет.", "No accounts yet."], platform: ["Платформа", "Platform"],
  platform_instagram: ["Instagram", "Instagram"], platform_youtube: ["YouTube", "YouTube"], platform_tiktok: ["TikTok", "TikTok"],
  publishAccount: ["Аккаунт", "Account"], privacy: ["Кто увидит", "Who sees it"], privacy_public: ["все", "everyone"],
  privacy_unlisted: ["по ссылке", "with the link"], privacy_private: ["только я", "only me"], privacy_friends: ["друзья", "friends"], privacy_followers: ["подписчики", "followers"],
  publishAt: ["Когда", "When"], publishAtHint: ["пусто — сразу", "empty: now"], publishWhen: ["Когда", "When"],
  publishStart: ["Опубликовать", "Publish"], publishQueued: ["Принято: публикуем", "Accepted: publishing"],
  publicationsTitle: ["Где опубликовано это видео", "Where this video is posted"], noPublications: ["Это видео ещё нигде не опубликовано.", "This video is not posted anywhere yet."],
  calendarTitle: ["Запланированные публикации", "Scheduled posts"], noScheduled: ["Ничего не запланировано.", "Nothing scheduled."],
  publicationStatus: ["Статус", "Status"], open: ["Открыть пост", "Open the post"], cancel: ["Отменить", "Cancel"], retry: ["Повторить", "Retry"],
  status_scheduled: ["запланировано", "scheduled"], status_uploading: ["загружается", "uploading"], status_processing: ["платформа обрабатывает", "the platform is processing"],
  status_published: ["опубликовано", "published"], status_failed: ["не опубликовано", "not posted"], status_canceled: ["отменено", "canceled"],
  inbox: ["черновик в TikTok", "TikTok draft"], outcome_scheduled: ["загружено, YouTube опубликует в назначенное время", "uploaded; YouTube publishes it at the set time"],
  waiting_quota_reset: ["ждём новой суточной квоты YouTube", "waiting for YouTube's daily quota"], waiting_post_id: ["TikTok проверяет ролик", "TikTok is reviewing the video"],
  waiting_processing: ["YouTube обрабатывает видео", "YouTube is processing the video"],
  // errors, by the problem's `code`
  err_unknown: ["Что-то пошло не так на сервере", "Something went wrong on the server"],
  err_network: ["Нет связи с сервером", "No connection to the server"],
  err_validation_failed: ["Проверьте заполненные поля", "Check the fields"], err_invalid_body: ["Проверьте заполненные поля", "Check the fields"],
  err_not_found: ["Не найдено: возможно, это уже удалено", "Not found: it may have been deleted"],
  err_unauthorized: ["Токен не подошёл", "The token was not accepted"], err_insufficient_scope: ["У этого токена нет прав на это действие", "This token may not do this"],
  err_rate_limited: ["Слишком много запросов: подождите минуту", "Too many requests: wait a minute"],
  "err_rate_limited+": ["Слишком много запросов: подождите {wait}", "Too many requests: wait {wait}"],
  err_budget_exceeded: ["Месячный бюджет исчерпан", "The monthly budget is used up"],
  "err_budget_exceeded+": ["Не хватает месячного бюджета: запуск стоит ≈ {estimate}, осталось {remaining}", "Not enough of the monthly budget: the run costs ≈ {estimate}, {remaining} is left"],
  err_no_provider: ["Для этого шага не настроен сервис", "No service is set up for this step"], err_not_configured: ["Это не настроено на сервере", "This is not set up on the server"],
  "err_no_provider+": ["Для шага «{step}» не настроен сервис", "No service is set up for the “{step}” step"],
  err_unknown_provider: ["Такого сервиса нет", "No such service"], err_provider_retired: ["Этот сервис больше не работает", "This service was retired"],
  "err_unknown_provider+": ["Сервиса «{provider}» для шага «{step}» здесь нет", "There is no “{provider}” service for the “{step}” step here"],
  "err_provider_retired+": ["Сервис «{provider}» больше не работает", "The “{provider}” service was retired"],
  err_no_reels: ["Нет роликов для запуска", "No reels to run"], err_already_processed: ["Этот ролик уже обработан", "This reel is already processed"],
  err_parent_not_ready: ["Предыдущий шаг ещё не готов", "The previous step is not ready"], err_script_not_ready: ["Сценарий ещё не готов", "The script is not ready"],
  err_media_not_ready: ["Видео ролика ещё не готово", "The reel's media is not ready"],
  "err_media_not_ready+": ["Файлы ещё не готовы (сейчас: {status})", "The files are not ready yet (now: {status})"],
  err_reel_not_prepared: ["Не удалось подготовить видео ролика", "The reel's media could not be prepared"],
  err_media_url_expired: ["ссылка Instagram на видео устарела — соберите ролик заново", "Instagram's link to the video expired: collect the reel again"],
  err_media_unavailable: ["видео недоступно в Instagram", "the video is not available on Instagram"],
  err_not_a_video: ["по ссылке не видео", "the link is not a video"], err_no_video_url: ["у ролика нет ссылки на видео", "the reel has no video link"],
  err_no_reel_video: ["у ролика нет видео", "the reel has no video"], err_media_too_large: ["видео слишком большое", "the video is too large"],
  err_url_refused: ["эту ссылку нельзя открыть", "this link may not be opened"], err_media_missing: ["файл пропал из хранилища", "the file is missing from storage"],
  err_no_audio: ["в ролике нет звука", "the reel has no sound"],
  err_asset_quota_exceeded: ["Медиатека заполнена", "The library is full"],
  "err_asset_quota_exceeded+": ["Медиатека заполнена: занято {used} из {limit}", "The library is full: {used} of {limit} used"], err_unsupported_asset: ["Такой файл нельзя загрузить", "This kind of file cannot be uploaded"],
  err_payload_too_large: ["Файл слишком большой", "The file is too large"],
  "err_payload_too_large+": ["Файл слишком большой: можно не больше {limit}", "The file is too large: {limit} at most"], err_unsupported_media_type: ["Неподдерживаемый тип файла", "Unsupported file type"],
  err_already_published: ["Это видео уже опубликовано в этом аккаунте", "This video is already posted to this account"],
  err_publication_not_cancelable: ["Эту публикацию уже нельзя отменить", "This post can no longer be canceled"],
  err_account_not_connected: ["Аккаунт не подключён", "The account is not connected"],
  err_account_reauthorization_needed: ["Подключите аккаунт заново", "Connect the account again"],
  err_publish_quota_exhausted: ["Платформа исчерпала дневной лимит публикаций", "The platform's daily posting quota is used up"],
  err_platform_limit: ["Платформа не приняла пост: превышен её лимит", "The platform refused the post: over its limit"],
  err_privacy_not_allowed: ["Этот аккаунт не может публиковать с таким доступом", "This account cannot post with that visibility"],
  err_invalid_oauth_state: ["Подключение устарело: начните заново", "The connection expired: start again"],
  err_job_not_active: ["Эта задача уже закончилась", "This task has already finished"], err_job_not_retryable: ["Эту задачу нельзя повторить", "This task cannot be retried"],
  "err_job_not_active+": ["Эта задача уже закончилась ({status})", "This task has already finished ({status})"],
  err_run_not_active: ["Запуск уже закончился", "The run has already ended"],
  "err_run_not_active+": ["Запуск уже закончился ({status})", "The run has already ended ({status})"],
  err_run_not_awaiting_review: ["Запуск не ждёт проверки", "The run is not waiting for a review"],
  "err_run_not_awaiting_review+": ["Запуск не ждёт проверки (сейчас: {status})", "The run is not waiting for a review (now: {status})"],
  err_canceled: ["Отменено", "Canceled"], err_needs_review: ["Сценарий ждёт вашей проверки", "The script waits for your review"],
  err_script_quality: ["Сценарий не прошёл проверки", "The script failed its checks"],
  err_provider_unavailable: ["Сервис недоступен, попробуйте позже", "The service is unavailable, try later"],
  err_provider_retryable: ["Сервис временно не ответил", "The service did not answer for now"],
  err_provider_auth: ["Сервис не принял ключ доступа", "The service refused its key"], err_provider_out_of_credit: ["На счёте сервиса закончились деньги", "The service is out of credit"],
  err_provider_rejected: ["Сервис отклонил запрос", "The service refused the request"], err_content_filtered: ["Сервис отказался из-за содержания", "The service refused the content"],
  err_model_refused: ["Модель отказалась писать", "The model refused"], err_render_check_failed: ["Видео получилось с ошибкой", "The video came out wrong"],
  err_storage_full: ["Хранилище заполнено", "Storage is full"], err_step_failed: ["Шаг не удался", "A step failed"],
  err_fake_failure: ["Тестовый сбой", "A test failure"], err_internal: ["Внутренняя ошибка сервера", "An internal server error"],
  err_idempotency_key_in_flight: ["Этот запрос уже выполняется", "This request is already under way"],
  err_voice_slots_full: ["Все места для голосов заняты", "Every voice slot is taken"], err_unsupported_language: ["Этот язык не поддерживается", "This language is not supported"],
  err_invalid_options: ["Эти настройки не подходят сервису", "These settings do not suit the service"],
  err_not_ready: ["Сервер ещё запускается", "The server is still starting"],
  fieldError: ["поле «{field}»", "field “{field}”"],
  errWhere: ["шаг «{step}», сервис «{provider}»", "step “{step}”, service “{provider}”"],
  bytesMb: ["{n} МБ", "{n} MB"],
};

/** The page's language: chosen here before, else the browser's. */
export const lang = {
  current: localStorage.getItem("reelforge.lang") || (navigator.language.startsWith("ru") ? "ru" : "en"),
};

const plurals = { ru: new Intl.PluralRules("ru"), en: new Intl.PluralRules("en") };

/** The text for `key` in the page's language, with `{name}` filled from `values`. */
export function t(key, values = {}) {
  const entry = TEXT[key];
  if (!entry) return key;
  let text = entry[lang.current === "ru" ? 0 : 1];
  if (typeof text === "object") {
    const n = Number(values.n);
    text = text[plurals[lang.current].select(n)] ?? text.other;
    values = { ...values, n: number(n) };
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

export const has = (key) => key in TEXT;

export function translatePage(root = document) {
  document.documentElement.lang = lang.current;
  for (const node of root.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
  // Lists say "loading" while they wait for their first answer (drawn by CSS from this).
  for (const node of root.querySelectorAll("[aria-busy]")) node.dataset.loading = t("loading");
}

const STEP_NAMES = { collect: "stepCollect", transcribe: "stepTranscribe", rewrite: "stepRewrite", voice: "stepVoice", render: "stepRender", write_post: "step_write_post" };
const megabytes = (bytes) => t("bytesMb", { n: number(Math.max(0.1, bytes / 1048576), 1) });

/** A problem's or failure's typed `params` as the words its texts fill in; absent ones stay out. */
export function paramWords(params = {}) {
  const words = {};
  if (params.step) words.step = STEP_NAMES[params.step] ? t(STEP_NAMES[params.step]) : params.step;
  if (params.provider) words.provider = providerName(params.provider);
  if (params.limit_bytes != null) words.limit = megabytes(params.limit_bytes);
  if (params.used_bytes != null) words.used = megabytes(params.used_bytes);
  if (params.retry_after_seconds != null) words.wait = span(params.retry_after_seconds);
  if (params.status) words.status = has(`state_${params.status}`) ? t(`state_${params.status}`) : params.status;
  if (params.estimate_usd != null) words.estimate = money(params.estimate_usd);
  if (params.remaining_usd != null) words.remaining = money(params.remaining_usd);
  return words;
}

/**
 * An error code in words; an unknown code reads as a general failure, never as raw English. With
 * `params` (problem+json and `ErrorInfo` carry them), the fuller text `err_{code}+` says the
 * values, when it has every value it names.
 */
export function errorText(code, params) {
  if (!has(`err_${code}`)) return t("err_unknown");
  const words = paramWords(params || {});
  const fuller = TEXT[`err_${code}+`]?.[lang.current === "ru" ? 0 : 1];
  const names = fuller ? [...fuller.matchAll(/\{(\w+)\}/g)].map((m) => m[1]) : [];
  return fuller && names.every((name) => words[name] !== undefined) ? t(`err_${code}+`, words) : t(`err_${code}`);
}

/** A provider's name for people: the stand-ins get words, real vendors keep their names. */
export const providerName = (name) => (has(`provider_${name}`) ? t(`provider_${name}`) : name);

export const number = (value, digits = 0) =>
  value === null || value === undefined || Number.isNaN(value) ? "—" : Number(value).toLocaleString(lang.current, { maximumFractionDigits: digits });
export const money = (usd) => `$${Number(usd).toFixed(usd > 0 && usd < 0.01 ? 5 : 2)}`;

/** A span of seconds in words: "12 секунд", "3 минуты". */
export function span(seconds) {
  const s = Math.max(1, Math.round(seconds));
  return s < 90 ? t("seconds", { n: s }) : t("minutes", { n: Math.round(s / 60) });
}

export const clock = (ms) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

export const when = (iso) => new Date(iso).toLocaleString(lang.current, { dateStyle: "medium", timeStyle: "short" });

/** "3 часа назад", in the page's language. */
export function ago(iso) {
  const hours = (Date.now() - Date.parse(iso)) / 3600000;
  const format = new Intl.RelativeTimeFormat(lang.current, { numeric: "auto" });
  if (hours < 1) return format.format(-Math.max(1, Math.round(hours * 60)), "minute");
  if (hours < 48) return format.format(-Math.round(hours), "hour");
  return format.format(-Math.round(hours / 24), "day");
}
