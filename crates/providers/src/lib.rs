//! One trait per pipeline step, one file per implementation. Providers see typed requests and a
//! [`CallContext`], never HTTP request types or job rows.

pub mod collect;
pub mod engines;
pub mod fake;
pub mod fetch;
pub mod http;
pub mod openai_api;
pub mod process;
pub mod publish;
pub mod render;
pub mod rewrite;
pub mod stock;
pub mod transcribe;
pub mod voice;

pub use reelforge_vocab::domain::provider::{RequiredOption, LOCAL};

use reelforge_media as media;
use reelforge_settings as config;
use reelforge_vocab::{domain, error_code, redact, script};

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use async_trait::async_trait;

use crate::{
    config::Settings,
    domain::{step::Step, usage::Prices},
    error_code::ErrorCode,
    media::{MediaError, MediaStore},
};

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// Worth another attempt later (rate limits, 5xx, timeouts, network).
    #[error("{message}")]
    Retryable {
        message: String,
        /// What the provider asked us to wait, at least.
        retry_after: Option<Duration>,
    },
    /// Another attempt would fail the same way (bad key, invalid input, out of credit).
    #[error("{message}")]
    Fatal { code: ErrorCode, message: String },
}

impl ProviderError {
    pub fn retryable(message: impl Into<String>) -> Self {
        ProviderError::Retryable {
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn fatal(code: ErrorCode, message: impl Into<String>) -> Self {
        ProviderError::Fatal {
            code,
            message: message.into(),
        }
    }

    /// How long a retryable error asked to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Retryable { retry_after, .. } => *retry_after,
            ProviderError::Fatal { .. } => None,
        }
    }

    /// A fatal error's code; a retryable one has none yet.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ProviderError::Fatal { code, .. } => Some(*code),
            ProviderError::Retryable { .. } => None,
        }
    }
}

/// Where a provider reports how far it got. Reports are throttled by the receiver.
#[async_trait]
pub trait ProgressSink: Send + Sync {
    async fn report(&self, percent: u8, stage: &str);
}

/// Where a provider keeps what later attempts of the same job must know (a paid remote job's
/// id), so a restarted job resumes instead of paying twice.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    async fn load(&self) -> Result<Option<serde_json::Value>, ProviderError>;
    async fn save(&self, checkpoint: &serde_json::Value) -> Result<(), ProviderError>;
}

/// Remembers nothing, for calls outside a job.
pub struct NoCheckpoints;

#[async_trait]
impl CheckpointStore for NoCheckpoints {
    async fn load(&self) -> Result<Option<serde_json::Value>, ProviderError> {
        Ok(None)
    }

    async fn save(&self, _checkpoint: &serde_json::Value) -> Result<(), ProviderError> {
        Ok(())
    }
}

/// What a provider may know about the call it serves.
pub struct CallContext<'a> {
    /// 1 for the first attempt.
    pub attempt: u32,
    pub progress: &'a dyn ProgressSink,
    pub checkpoints: &'a dyn CheckpointStore,
}

impl CallContext<'_> {
    /// The checkpoint as the provider's own type; none is a fresh start. One that does not read
    /// is never taken for a fresh start (that could pay or post twice): the error names `what`
    /// it is and what to `check` before starting again by hand.
    pub async fn checkpoint<T: serde::de::DeserializeOwned + Default>(
        &self,
        what: &str,
        check: &str,
    ) -> Result<T, ProviderError> {
        match self.checkpoints.load().await? {
            None => Ok(T::default()),
            Some(value) => serde_json::from_value(value).map_err(|error| {
                ProviderError::fatal(
                    ErrorCode::InvalidJob,
                    format!("{what} cannot be read ({error}); {check}"),
                )
            }),
        }
    }

    pub async fn save_checkpoint<T: serde::Serialize>(
        &self,
        checkpoint: &T,
    ) -> Result<(), ProviderError> {
        let value = serde_json::to_value(checkpoint)
            .map_err(|error| ProviderError::fatal(ErrorCode::Internal, error.to_string()))?;
        self.checkpoints.save(&value).await
    }
}

type Registry<T> = BTreeMap<&'static str, Arc<T>>;

fn openai_api(settings: &Settings) -> Option<openai_api::OpenAiApi> {
    let openai = &settings.providers.openai;
    openai.is_configured().then(|| {
        openai_api::OpenAiApi::new(
            &openai.api.base_url,
            openai.api.api_key.clone(),
            Duration::from_secs(openai.api.timeout_seconds),
        )
    })
}

/// The local engine's OpenAI-compatible API, when enabled.
fn engine_api(settings: &Settings) -> Option<openai_api::OpenAiApi> {
    let engines = &settings.engines;
    engines.is_enabled().then(|| {
        openai_api::OpenAiApi::new(
            &engines.base_url(),
            None,
            Duration::from_secs(engines.timeout_seconds),
        )
    })
}

fn transcribers(
    settings: &Settings,
    media: &Arc<MediaStore>,
) -> Registry<dyn transcribe::Transcriber> {
    let mut registry: Registry<dyn transcribe::Transcriber> =
        BTreeMap::from([(fake::NAME, Arc::new(transcribe::fake::FakeTranscriber) as _)]);
    let assemblyai = &settings.providers.assemblyai;
    if let Some(key) = assemblyai
        .api_key
        .clone()
        .filter(|_| assemblyai.is_configured())
    {
        registry.insert(
            transcribe::assemblyai::NAME,
            Arc::new(transcribe::assemblyai::AssemblyAi::new(
                &assemblyai.base_url,
                key,
                Duration::from_secs(assemblyai.timeout_seconds),
            )),
        );
    }
    if let Some(api) = engine_api(settings) {
        registry.insert(
            LOCAL,
            Arc::new(transcribe::openai::OpenAiTranscriber {
                api,
                model: settings.engines.transcription_model.clone(),
                max_upload_bytes: settings.providers.openai.max_upload_bytes,
                chunk_seconds: settings.providers.openai.chunk_seconds,
                scratch: media.clone(),
            }),
        );
    }
    if let Some(api) = openai_api(settings) {
        let openai = &settings.providers.openai;
        registry.insert(
            transcribe::openai::NAME,
            Arc::new(transcribe::openai::OpenAiTranscriber {
                api,
                model: openai.transcription_model.clone(),
                max_upload_bytes: openai.max_upload_bytes,
                chunk_seconds: openai.chunk_seconds,
                scratch: media.clone(),
            }),
        );
    }
    registry
}

fn rewriters(settings: &Settings) -> Registry<dyn rewrite::Rewriter> {
    let mut registry: Registry<dyn rewrite::Rewriter> =
        BTreeMap::from([(fake::NAME, Arc::new(rewrite::fake::FakeRewriter) as _)]);
    if let Some(api) = engine_api(settings) {
        registry.insert(
            LOCAL,
            Arc::new(rewrite::openai::ChatRewriter::new(
                api,
                &settings.engines.chat_model,
                settings.engines.grammar,
            )),
        );
    }
    if let Some(api) = openai_api(settings) {
        let openai = &settings.providers.openai;
        registry.insert(
            rewrite::openai::NAME,
            Arc::new(rewrite::openai::ChatRewriter::new(
                api,
                &openai.chat_model,
                openai.grammar,
            )),
        );
    }
    registry
}

fn voices(settings: &Settings, media: &Arc<MediaStore>) -> Registry<dyn voice::Voice> {
    let mut registry: Registry<dyn voice::Voice> = BTreeMap::from([
        (fake::NAME, Arc::new(voice::fake::FakeVoice) as _),
        (
            voice::recording::NAME,
            Arc::new(voice::recording::Recording {
                media: media.clone(),
            }) as _,
        ),
    ]);
    if process::on_path("espeak-ng").is_some() {
        registry.insert(LOCAL, Arc::new(voice::local::EspeakVoice));
    }
    // The engine's voices (Festival, Piper) sound better than espeak-ng alone.
    if let Some(api) = engine_api(settings) {
        registry.insert(
            LOCAL,
            Arc::new(voice::openai::OpenAiVoice {
                api,
                model: "local-tts".into(),
                voice: "auto".into(),
            }),
        );
    }
    if let Some(api) = openai_api(settings) {
        let openai = &settings.providers.openai;
        registry.insert(
            voice::openai::NAME,
            Arc::new(voice::openai::OpenAiVoice {
                api,
                model: openai.speech_model.clone(),
                voice: openai.speech_voice.clone(),
            }),
        );
    }
    if let Some(client) = elevenlabs(settings) {
        registry.insert(voice::elevenlabs::NAME, Arc::new(client));
    }
    registry
}

/// The ElevenLabs client, when a key is configured.
fn elevenlabs(settings: &Settings) -> Option<voice::elevenlabs::ElevenLabs> {
    let elevenlabs = &settings.providers.elevenlabs;
    let key = elevenlabs
        .api
        .api_key
        .clone()
        .filter(|_| elevenlabs.api.is_configured())?;
    Some(voice::elevenlabs::ElevenLabs::new(
        &elevenlabs.api.base_url,
        key,
        Duration::from_secs(elevenlabs.api.timeout_seconds),
        &elevenlabs.voice_id,
        &elevenlabs.model,
    ))
}

fn renderers(settings: &Settings) -> Registry<dyn render::Renderer> {
    let mut registry: Registry<dyn render::Renderer> =
        BTreeMap::from([(fake::NAME, Arc::new(render::fake::FakeRenderer) as _)]);
    if process::on_path("ffmpeg").is_some() {
        registry.insert(
            LOCAL,
            Arc::new(render::local::FfmpegComposer {
                encoding: render::local::Encoding::new("veryfast", 23),
                further: render::local::Encoding::new("superfast", 26),
            }),
        );
    }
    let heygen = &settings.providers.heygen;
    if let Some(key) = heygen
        .api
        .api_key
        .clone()
        .filter(|_| heygen.api.is_configured())
    {
        let poll_start = Duration::from_millis(heygen.poll_interval_ms.max(1));
        registry.insert(
            render::heygen::NAME,
            Arc::new(render::heygen::HeyGenRenderer {
                api: render::heygen::HeyGenV3::new(
                    &heygen.api.base_url,
                    key,
                    Duration::from_secs(heygen.api.timeout_seconds),
                ),
                avatar_id: heygen.avatar_id.clone(),
                background: heygen.background.clone(),
                guard: fetch::UrlGuard::new(&settings.media.fetch_allow_hosts),
                limits: fetch::Limits {
                    max_bytes: 2 * 1024 * 1024 * 1024,
                    timeout: Duration::from_secs(900),
                },
                poll_start,
                poll_max: Duration::from_secs(30).max(poll_start),
                deadline: Duration::from_secs(30 * 60),
            }),
        );
    }
    registry
}

/// The stock B-roll libraries with a key, by name (the first is the default), and how their
/// files are downloaded.
fn stock_libraries(settings: &Settings) -> stock::StockLibraries {
    type Make = fn(stock::StockClient) -> Arc<dyn stock::StockLibrary>;
    let offered: [(&'static str, &crate::config::CloudProviderSettings, Make); 2] = [
        (stock::pexels::NAME, &settings.providers.pexels, |client| {
            Arc::new(stock::pexels::Pexels(client))
        }),
        (
            stock::pixabay::NAME,
            &settings.providers.pixabay,
            |client| Arc::new(stock::pixabay::Pixabay(client)),
        ),
    ];
    let mut registry: Registry<dyn stock::StockLibrary> = BTreeMap::new();
    for (name, api, make) in offered {
        if let Some(key) = api.api_key.clone().filter(|_| api.is_configured()) {
            let timeout = Duration::from_secs(api.timeout_seconds);
            registry.insert(
                name,
                make(stock::StockClient::new(&api.base_url, key, timeout)),
            );
        }
    }
    stock::StockLibraries {
        libraries: registry,
        guard: fetch::UrlGuard::new(&settings.media.fetch_allow_hosts),
        limits: fetch::Limits {
            max_bytes: settings.media.max_download_bytes,
            timeout: Duration::from_secs(settings.media.download_timeout_seconds),
        },
    }
}

fn required_options(settings: &Settings) -> Vec<RequiredOption> {
    let providers = &settings.providers;
    [
        providers
            .heygen
            .avatar_id
            .is_none()
            .then_some(RequiredOption {
                step: Step::Render,
                provider: render::heygen::NAME,
                option: "avatar_id",
                setting: Some("REELFORGE__PROVIDERS__HEYGEN__AVATAR_ID"),
            }),
        Some(RequiredOption {
            step: Step::Voice,
            provider: voice::recording::NAME,
            option: "recording_key",
            setting: None,
        }),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every provider this process can use, by step and name.
pub struct Providers {
    pub collect: BTreeMap<&'static str, Arc<dyn collect::Collector>>,
    /// How a selected reel's media is prepared, by where it was collected.
    pub prepare: BTreeMap<&'static str, Arc<dyn collect::ReelSource>>,
    /// Keeps collected reels' covers before their links expire.
    pub covers: collect::cover::CoverFetcher,
    pub transcribe: BTreeMap<&'static str, Arc<dyn transcribe::Transcriber>>,
    pub rewrite: BTreeMap<&'static str, Arc<dyn rewrite::Rewriter>>,
    pub voice: BTreeMap<&'static str, Arc<dyn voice::Voice>>,
    pub render: BTreeMap<&'static str, Arc<dyn render::Renderer>>,
    /// Stock B-roll libraries with a key (Pexels, Pixabay), by name.
    pub stock: stock::StockLibraries,
    /// Instant voice cloning for the project voice libraries (ElevenLabs), when configured.
    pub cloning: Option<Arc<voice::elevenlabs::ElevenLabs>>,
    pub media: Arc<MediaStore>,
    /// What each provider's usage is estimated to cost.
    pub prices: Prices,
    /// Options some providers cannot do without here, because their setting is not configured.
    pub required: Vec<RequiredOption>,
    /// The platforms videos are posted to, and the keys accounts are kept with.
    pub publishing: Arc<crate::publish::Publishing>,
}

/// A deployment whose providers cannot be set up as configured.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("the media store is misconfigured: {0}")]
    Media(#[from] MediaError),
    #[error("invalid price: {0}")]
    Prices(String),
    #[error("publishing is misconfigured: {0}")]
    Publishing(#[from] crate::publish::SetupError),
}

impl Providers {
    pub fn from_settings(settings: &Settings) -> Result<Self, SetupError> {
        settings.register_secrets();
        let media = Arc::new(MediaStore::from_settings(&settings.media)?);
        let prices = Prices::with_overrides(&settings.prices).map_err(SetupError::Prices)?;
        let mut collectors: BTreeMap<&'static str, Arc<dyn collect::Collector>> =
            BTreeMap::from([(
                fake::NAME,
                Arc::new(collect::fake::FakeCollector) as Arc<dyn collect::Collector>,
            )]);
        let apify = &settings.providers.apify;
        if let Some(token) = apify.api_key.clone().filter(|_| apify.is_configured()) {
            collectors.insert(
                collect::apify::NAME,
                Arc::new(collect::apify::ApifyCollector::new(
                    &apify.base_url,
                    token,
                    std::time::Duration::from_secs(apify.timeout_seconds),
                )),
            );
        }
        let mut providers = Providers {
            collect: collectors,
            prepare: BTreeMap::from([
                (
                    fake::NAME,
                    Arc::new(collect::fake::FakeReelSource) as Arc<dyn collect::ReelSource>,
                ),
                (
                    collect::download::NAME,
                    Arc::new(collect::download::Downloader {
                        guard: fetch::UrlGuard::new(&settings.media.fetch_allow_hosts),
                        limits: fetch::Limits {
                            max_bytes: settings.media.max_download_bytes,
                            timeout: std::time::Duration::from_secs(
                                settings.media.download_timeout_seconds,
                            ),
                        },
                        store: media.clone(),
                    }),
                ),
                (
                    collect::upload::NAME,
                    Arc::new(collect::upload::UploadedFile {
                        store: media.clone(),
                    }),
                ),
            ]),
            covers: collect::cover::CoverFetcher {
                guard: fetch::UrlGuard::new(&settings.media.fetch_allow_hosts),
                store: media.clone(),
            },
            transcribe: transcribers(settings, &media),
            rewrite: rewriters(settings),
            voice: voices(settings, &media),
            render: renderers(settings),
            stock: stock_libraries(settings),
            cloning: elevenlabs(settings).map(Arc::new),
            media,
            prices,
            required: required_options(settings),
            publishing: Arc::new(crate::publish::Publishing::from_settings(
                &settings.publishing,
            )?),
        };
        if !settings.providers.fake {
            providers.without_fakes();
        }
        Ok(providers)
    }

    /// Production never invents results: unless configuration asks for them, the `fake`
    /// providers are not offered for any step.
    fn without_fakes(&mut self) {
        self.collect.remove(fake::NAME);
        self.prepare.remove(fake::NAME);
        self.transcribe.remove(fake::NAME);
        self.rewrite.remove(fake::NAME);
        self.voice.remove(fake::NAME);
        self.render.remove(fake::NAME);
    }

    /// What `auto` means for `step` here: the first usable provider of the step table's order,
    /// else `fake` where configuration offers it; none when nothing usable is configured.
    pub fn preferred(&self, step: Step) -> Option<&'static str> {
        let names = self.names(step);
        step.auto_order().find(|name| names.contains(name))
    }

    /// The provider that serves `requested` (a name, or `auto`) for `step`.
    pub fn choose(&self, step: Step, requested: &str) -> Result<&'static str, ProviderChoiceError> {
        if requested == crate::domain::project::AUTO_PROVIDER {
            return self
                .preferred(step)
                .ok_or_else(|| ProviderChoiceError::NoneUsable {
                    step,
                    hint: step.configure_hint(),
                });
        }
        if let Some(retired) = step.retired(requested) {
            return Err(ProviderChoiceError::Retired(retired));
        }
        let names = self.names(step);
        names
            .iter()
            .copied()
            .find(|name| *name == requested)
            .ok_or_else(|| ProviderChoiceError::Unknown {
                step,
                name: requested.to_owned(),
                available: names.join(", "),
            })
    }

    /// What a project's step options are checked against here.
    pub fn option_scope(&self, project_id: uuid::Uuid) -> crate::domain::options::OptionScope {
        crate::domain::options::OptionScope {
            own_media: MediaStore::project_prefix(project_id),
            stock_libraries: self.stock.names(),
        }
    }

    /// The options `provider` needs in every request for `step` here.
    pub fn required_options(&self, step: Step, provider: &str) -> Vec<RequiredOption> {
        self.required
            .iter()
            .filter(|required| required.step == step && required.provider == provider)
            .copied()
            .collect()
    }

    /// The providers usable for a step here, for validation and error messages.
    pub fn names(&self, step: Step) -> Vec<&'static str> {
        match step {
            Step::Collect => self.collect.keys().copied().collect(),
            Step::Transcribe => self.transcribe.keys().copied().collect(),
            // The post's words are written by the script writers.
            Step::Rewrite | Step::WritePost => self.rewrite.keys().copied().collect(),
            Step::Voice => self.voice.keys().copied().collect(),
            Step::Render => self.render.keys().copied().collect(),
        }
    }
}

/// Why a step cannot be started with the provider asked for.
#[derive(Debug, thiserror::Error)]
pub enum ProviderChoiceError {
    #[error("no {step} provider `{name}`; available: {available}")]
    Unknown {
        step: Step,
        name: String,
        available: String,
    },
    #[error("no {step} provider is usable in this deployment: {hint}")]
    NoneUsable { step: Step, hint: String },
    #[error("{}", .0.detail())]
    Retired(&'static crate::domain::step::RetiredProvider),
}

/// Looks a provider up by name, with an error a job can report: a job queued before its
/// provider was retired fails saying why and what to use.
pub fn pick<'a, T: ?Sized>(
    map: &'a BTreeMap<&'static str, Arc<T>>,
    name: &str,
) -> Result<&'a Arc<T>, ProviderError> {
    map.get(name).ok_or_else(|| {
        match crate::domain::step::RETIRED
            .iter()
            .find(|retired| retired.name == name)
        {
            Some(retired) => ProviderError::fatal(ErrorCode::ProviderRetired, retired.detail()),
            None => ProviderError::fatal(
                ErrorCode::ProviderUnavailable,
                format!("provider `{name}` is not available in this deployment"),
            ),
        }
    })
}

/// The job error of a full disk: final, so the job fails at once with a clear reason instead of
/// retrying into the same wall; retry the job once space is freed.
pub fn storage_full() -> ProviderError {
    ProviderError::fatal(
        ErrorCode::StorageFull,
        "the media storage is full: free space (or raise the quota), then retry the job",
    )
}

impl From<MediaError> for ProviderError {
    /// Storage failures are worth retrying, except a full disk.
    fn from(error: MediaError) -> Self {
        match &error {
            MediaError::Io(io) if crate::media::is_storage_full(io) => storage_full(),
            _ => ProviderError::retryable(error.to_string()),
        }
    }
}
