//! Typed settings: defaults, then an optional TOML file, then `REELFORGE__...` environment variables.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use reelforge_vocab::{domain, redact};

use crate::domain::project::ProjectDefaults;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub jobs: JobSettings,
    pub events: EventSettings,
    pub media: MediaSettings,
    pub defaults: ProjectDefaults,
    pub providers: ProviderSettings,
    pub scripts: ScriptSettings,
    pub engines: EngineSettings,
    /// Price overrides in USD per unit: `provider -> metric -> price`, e.g.
    /// `[prices.assemblyai] audio_seconds = 0.0001`. Unset ones keep the built-in list prices.
    pub prices: std::collections::BTreeMap<String, std::collections::BTreeMap<String, f64>>,
    pub webhooks: WebhookSettings,
    pub watch: WatchSettings,
    pub mcp: McpSettings,
    pub assets: AssetSettings,
    pub publishing: PublishSettings,
    pub links: LinkSettings,
    pub rate_limit: RateLimitSettings,
    pub collect: CollectSettings,
}

/// Signed media links (`content_url`, see `reelforge_vocab::signed`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LinkSettings {
    /// The HMAC key; unset, one is made once and shared by every replica through PostgreSQL.
    /// Setting it (or changing it) invalidates the links given out before.
    pub key: Option<SecretString>,
    /// How long a link opens, at least 60 s; links are handed out with between three quarters
    /// and all of it left.
    pub ttl_seconds: u64,
}

impl Default for LinkSettings {
    fn default() -> Self {
        Self {
            key: None,
            ttl_seconds: 3600,
        }
    }
}

/// The per-token request limit of each replica (see the app's `rate_limit`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RateLimitSettings {
    /// Requests one token may make per minute on one replica, in bursts of up to as many;
    /// 0 turns the limit off.
    pub per_minute: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        Self { per_minute: 1200 }
    }
}

/// Collections: the bounds of a dataset file import, which streams and so has its own.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CollectSettings {
    /// Largest dataset file `POST .../collections/import` takes; larger ones get 413.
    pub max_import_bytes: u64,
    /// Most items one dataset file may hold.
    pub max_import_items: u64,
    /// Covers one collection fetches and keeps at most, the best reels first (each is small,
    /// but a large import would otherwise spend minutes on them); 0 keeps none.
    pub max_covers: u32,
}

impl Default for CollectSettings {
    fn default() -> Self {
        Self {
            max_import_bytes: 256 * 1024 * 1024,
            max_import_items: 500_000,
            max_covers: 200,
        }
    }
}

/// Step 7: where the platforms are, the app credentials accounts are connected with, and the
/// key that seals their tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PublishSettings {
    /// Base64 of 32 random bytes (`openssl rand -base64 32`): seals account tokens at rest and
    /// signs OAuth states. Unset, with the local media store, the first start makes one and
    /// keeps it in `media.root` (enough for one machine; several replicas need it configured).
    pub token_key: Option<SecretString>,
    /// The service's address as browsers reach it (`https://reels.example.com`): OAuth sends
    /// users back to `{public_base_url}/oauth/{platform}/callback`.
    pub public_base_url: Option<String>,
    pub timeout_seconds: u64,
    pub instagram: InstagramSettings,
    pub youtube: YoutubeSettings,
    pub tiktok: TiktokSettings,
}

impl Default for PublishSettings {
    fn default() -> Self {
        PublishSettings {
            token_key: None,
            public_base_url: None,
            timeout_seconds: 300,
            instagram: InstagramSettings::default(),
            youtube: YoutubeSettings::default(),
            tiktok: TiktokSettings::default(),
        }
    }
}

impl Default for InstagramSettings {
    fn default() -> Self {
        InstagramSettings {
            base_url: "https://graph.facebook.com".into(),
            instagram_base_url: "https://graph.instagram.com".into(),
            graph_version: "v25.0".into(),
            source: InstagramSource::Upload,
            poll_interval_ms: 60_000,
            poll_attempts: 5,
        }
    }
}

impl Default for YoutubeSettings {
    fn default() -> Self {
        YoutubeSettings {
            base_url: "https://www.googleapis.com".into(),
            token_url: "https://oauth2.googleapis.com/token".into(),
            authorize_url: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            client: OAuthClient::default(),
            chunk_bytes: 8 << 20,
        }
    }
}

impl Default for TiktokSettings {
    fn default() -> Self {
        TiktokSettings {
            base_url: "https://open.tiktokapis.com".into(),
            authorize_url: "https://www.tiktok.com/v2/auth/authorize/".into(),
            client: OAuthClient::default(),
            chunk_bytes: 10 << 20,
            poll_interval_ms: 5_000,
            poll_attempts: 60,
            audited: false,
        }
    }
}

/// An app registered with a platform, for OAuth.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OAuthClient {
    /// Google's client id, TikTok's client key.
    pub id: Option<String>,
    pub secret: Option<SecretString>,
}

impl OAuthClient {
    pub fn credentials(&self) -> Option<(&str, &SecretString)> {
        match (&self.id, &self.secret) {
            (Some(id), Some(secret)) if !id.is_empty() => Some((id, secret)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct InstagramSettings {
    /// The Graph API host of accounts connected with Facebook Login, without a version.
    pub base_url: String,
    /// The host of accounts connected with Instagram Login (their tokens start with `IG`).
    pub instagram_base_url: String,
    /// The Graph API version both hosts are called with (`v21.0` stops working 2027-01-21).
    pub graph_version: String,
    /// `upload` sends the bytes (resumable upload, no public address needed); `url` gives
    /// Meta a signed link under `publishing.public_base_url` that expires in a day.
    pub source: InstagramSource,
    /// Meta asks for one container status poll a minute, for at most five minutes.
    pub poll_interval_ms: u64,
    pub poll_attempts: u32,
}

/// How Instagram gets a video's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstagramSource {
    Upload,
    Url,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct YoutubeSettings {
    pub base_url: String,
    pub token_url: String,
    pub authorize_url: String,
    pub client: OAuthClient,
    /// Bytes per upload request, rounded down to a multiple of 256 KiB.
    pub chunk_bytes: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TiktokSettings {
    pub base_url: String,
    pub authorize_url: String,
    pub client: OAuthClient,
    /// Bytes per chunk, 5 to 64 MiB (smaller videos go whole).
    pub chunk_bytes: u64,
    pub poll_interval_ms: u64,
    pub poll_attempts: u32,
    /// Whether TikTok has audited the app: until it has, direct posts may only be `private`
    /// (`SELF_ONLY`), and other privacies are refused when a publication is asked for.
    pub audited: bool,
}

/// Each project's media library.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AssetSettings {
    /// Bytes of uploads a project may keep (2 GiB by default).
    pub quota_bytes: u64,
    /// The largest single upload (500 MiB by default).
    pub max_file_bytes: u64,
}

impl Default for AssetSettings {
    fn default() -> Self {
        Self {
            quota_bytes: 2 << 30,
            max_file_bytes: 500 << 20,
        }
    }
}

/// The MCP server.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct McpSettings {
    /// Origins (`https://host[:port]`) of browser pages allowed to call `/mcp` besides the
    /// service's own; requests without an `Origin` header (agents, CLIs) are not affected.
    pub allowed_origins: Vec<String>,
}

/// The watchlist scheduler.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WatchSettings {
    /// How often each worker replica looks for due watchlists and automatic runs to start.
    pub tick_interval_ms: u64,
}

impl Default for WatchSettings {
    fn default() -> Self {
        Self {
            tick_interval_ms: 30_000,
        }
    }
}

/// Completion webhooks' delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// How long a receiver may take to answer one delivery.
    pub timeout_seconds: u64,
    /// Deliveries tried before giving up; the queue's backoff spaces them out.
    pub max_attempts: i32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout_seconds: 10,
            max_attempts: 8,
        }
    }
}

/// The local engine server (engines/server.py, or any OpenAI-compatible server) behind the
/// `local` transcription, rewrite and voice providers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EngineSettings {
    /// Unset: on when `scripts/setup` has installed the engines (its Python environment and the
    /// Whisper model exist in the cache), so a set-up machine defaults to the local engines.
    pub enabled: Option<bool>,
    /// Start and supervise the engine with `command` (off when it runs elsewhere, e.g. Ollama).
    pub manage: bool,
    /// The program that starts the engine; `--host` and `--port` are appended.
    pub command: Vec<String>,
    pub host: String,
    pub port: u16,
    /// The OpenAI-compatible base URL; by default the managed engine's.
    pub base_url: Option<String>,
    pub transcription_model: String,
    pub chat_model: String,
    /// Send a GBNF grammar with each rewrite request, so the model can only write plain text in
    /// the script's alphabet (the engine and llama.cpp's llama-server apply it).
    pub grammar: bool,
    /// A local model answers slowly (about 10 tokens/s on 2 cores).
    pub timeout_seconds: u64,
    pub startup_timeout_seconds: u64,
}

/// Whether `scripts/setup` has installed the local engines in the cache.
fn engines_installed() -> bool {
    let cache = std::env::var_os("REELFORGE_CACHE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/reelforge"))
        });
    cache.is_some_and(|cache| {
        cache.join("venv/bin/python").exists()
            && cache.join("models/whisper-base/model.bin").exists()
    })
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            enabled: None,
            manage: true,
            command: vec!["engines/run".into()],
            host: "127.0.0.1".into(),
            port: 8765,
            base_url: None,
            transcription_model: "whisper-base".into(),
            chat_model: "qwen2.5-coder-1.5b-instruct-q4_k_m".into(),
            grammar: true,
            timeout_seconds: 600,
            startup_timeout_seconds: 60,
        }
    }
}

impl EngineSettings {
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or_else(engines_installed)
    }

    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}/v1", self.host, self.port))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ScriptSettings {
    /// Speaking rate by language, for a script's estimated duration (165 ≈ 110 words in 40 s).
    pub words_per_minute: std::collections::BTreeMap<String, f64>,
    /// The rate for languages not in the map.
    pub default_words_per_minute: f64,
}

impl Default for ScriptSettings {
    fn default() -> Self {
        Self {
            words_per_minute: [("ru".to_owned(), 165.0), ("en".to_owned(), 165.0)].into(),
            default_words_per_minute: 165.0,
        }
    }
}

impl ScriptSettings {
    pub fn rate(&self, language: &str) -> f64 {
        let primary = language.split('-').next().unwrap_or(language);
        self.words_per_minute
            .get(primary)
            .copied()
            .unwrap_or(self.default_words_per_minute)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    /// Largest JSON body accepted; larger ones get 413.
    pub body_limit_bytes: usize,
    /// Whether `/metrics` is served without a token.
    pub public_metrics: bool,
    /// HTTP worker threads; defaults to the number of cores.
    pub http_workers: Option<usize>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            body_limit_bytes: 1024 * 1024,
            public_metrics: true,
            http_workers: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct DatabaseSettings {
    pub url: SecretString,
    /// A direct connection to the same database, for what a pooler in transaction mode cannot
    /// carry: LISTEN (the event bus, job wake-ups, token revocations) and the migrations'
    /// session lock. Unset, `url` serves for everything.
    pub listen_url: Option<SecretString>,
    pub max_connections: u32,
    pub acquire_timeout_seconds: u64,
    /// Create the database named in `url` when it does not exist yet.
    pub create_if_missing: bool,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("postgres://postgres@127.0.0.1:5432/reelforge"),
            listen_url: None,
            max_connections: 20,
            acquire_timeout_seconds: 5,
            create_if_missing: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct JobSettings {
    /// Jobs one replica runs at the same time.
    pub concurrency: usize,
    /// How long a claimed job stays leased without a heartbeat before another replica may take it.
    pub lease_seconds: u64,
    /// Fallback poll interval when no NOTIFY wakes the workers.
    pub poll_interval_ms: u64,
    pub max_attempts: i32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// On SIGTERM, how long running jobs may take to finish before they are released.
    pub shutdown_grace_seconds: u64,
}

impl Default for JobSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            lease_seconds: 30,
            poll_interval_ms: 1000,
            max_attempts: 5,
            backoff_base_ms: 1000,
            backoff_max_ms: 5 * 60 * 1000,
            shutdown_grace_seconds: 20,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EventSettings {
    pub keepalive_seconds: u64,
    /// The `retry:` hint sent to SSE clients.
    pub retry_ms: u64,
    /// Frames buffered per subscriber; a subscriber that falls this far behind is disconnected.
    pub subscriber_buffer: usize,
    /// Fallback poll interval for the event log when NOTIFY is missed.
    pub poll_interval_ms: u64,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            keepalive_seconds: 15,
            retry_ms: 3000,
            subscriber_buffer: 512,
            poll_interval_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MediaSettings {
    /// The local files (`local` store) or this replica's cache of the shared store (`s3`).
    pub root: PathBuf,
    pub store: MediaStoreKind,
    pub s3: S3Settings,
    /// Largest video downloaded for a reel.
    pub max_download_bytes: u64,
    pub download_timeout_seconds: u64,
    /// Hosts fetched even though they resolve to internal addresses (comma-separated in the
    /// environment); empty in production, a test server's host in tests.
    pub fetch_allow_hosts: Vec<String>,
    /// Server folders whose videos may be imported with `{"source": "files", "folder": ...}`
    /// (comma-separated in the environment); none by default.
    pub import_folders: Vec<PathBuf>,
}

impl Default for MediaSettings {
    fn default() -> Self {
        Self {
            root: PathBuf::from("data/media"),
            store: MediaStoreKind::Local,
            s3: S3Settings::default(),
            max_download_bytes: 200 * 1024 * 1024,
            download_timeout_seconds: 120,
            fetch_allow_hosts: Vec::new(),
            import_folders: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaStoreKind {
    Local,
    /// Any S3-compatible service; needed when replicas run on several machines.
    S3,
}

/// An S3-compatible bucket; unset fields fall back to the standard `AWS_*` variables.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct S3Settings {
    pub bucket: String,
    pub region: Option<String>,
    /// For S3-compatible services (MinIO, Ceph, R2...), e.g. `http://minio:9000`.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub allow_http: bool,
    pub virtual_hosted_style: bool,
}

/// Connection settings for one cloud API. `base_url` is configurable so tests and proxies can
/// stand in for the vendor.
#[derive(Debug, Clone, Deserialize)]
pub struct CloudProviderSettings {
    pub base_url: String,
    #[serde(default)]
    pub api_key: Option<SecretString>,
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
}

fn default_timeout_seconds() -> u64 {
    60
}

impl CloudProviderSettings {
    fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            timeout_seconds: default_timeout_seconds(),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.api_key
            .as_ref()
            .is_some_and(|key| !key.expose_secret().is_empty())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ProviderSettings {
    pub apify: CloudProviderSettings,
    pub assemblyai: CloudProviderSettings,
    pub openai: OpenAiSettings,
    pub elevenlabs: ElevenLabsSettings,
    pub heygen: HeyGenSettings,
    /// Stock B-roll search (portrait clips for each sentence), with `Authorization: <key>`.
    pub pexels: CloudProviderSettings,
    /// Stock B-roll search, with the key in the query.
    pub pixabay: CloudProviderSettings,
    /// Offer the `fake` providers, which invent their results: for tests and benchmarks only.
    pub fake: bool,
}

impl Default for ProviderSettings {
    fn default() -> Self {
        Self {
            apify: CloudProviderSettings::new("https://api.apify.com"),
            assemblyai: CloudProviderSettings::new("https://api.assemblyai.com"),
            openai: OpenAiSettings {
                api: CloudProviderSettings::new("https://api.openai.com/v1"),
                chat_model: default_chat_model(),
                transcription_model: default_transcription_model(),
                max_upload_bytes: default_max_upload_bytes(),
                chunk_seconds: default_chunk_seconds(),
                speech_model: default_speech_model(),
                speech_voice: default_speech_voice(),
                grammar: false,
            },
            elevenlabs: ElevenLabsSettings {
                api: CloudProviderSettings::new("https://api.elevenlabs.io"),
                voice_id: default_elevenlabs_voice(),
                model: default_elevenlabs_model(),
            },
            heygen: HeyGenSettings {
                api: CloudProviderSettings::new("https://api.heygen.com"),
                avatar_id: None,
                background: default_heygen_background(),
                poll_interval_ms: default_heygen_poll_ms(),
            },
            pexels: CloudProviderSettings::new("https://api.pexels.com"),
            pixabay: CloudProviderSettings::new("https://pixabay.com/api"),
            fake: false,
        }
    }
}

/// OpenAI or any OpenAI-compatible server (Ollama, vLLM, llama.cpp, the local engine).
#[derive(Debug, Clone, Deserialize)]
pub struct OpenAiSettings {
    #[serde(flatten)]
    pub api: CloudProviderSettings,
    #[serde(default = "default_chat_model")]
    pub chat_model: String,
    #[serde(default = "default_transcription_model")]
    pub transcription_model: String,
    /// Audio files larger than this are sent in chunks (OpenAI's limit is 25 MB).
    #[serde(default = "default_max_upload_bytes")]
    pub max_upload_bytes: u64,
    /// Length of each chunk when audio must be split.
    #[serde(default = "default_chunk_seconds")]
    pub chunk_seconds: u32,
    #[serde(default = "default_speech_model")]
    pub speech_model: String,
    #[serde(default = "default_speech_voice")]
    pub speech_voice: String,
    /// Send a GBNF grammar with each rewrite request: for a llama.cpp server behind `base_url`;
    /// OpenAI itself refuses the field.
    #[serde(default)]
    pub grammar: bool,
}

fn default_speech_model() -> String {
    "tts-1".into()
}

fn default_speech_voice() -> String {
    "alloy".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct ElevenLabsSettings {
    #[serde(flatten)]
    pub api: CloudProviderSettings,
    #[serde(default = "default_elevenlabs_voice")]
    pub voice_id: String,
    #[serde(default = "default_elevenlabs_model")]
    pub model: String,
}

fn default_elevenlabs_voice() -> String {
    // "Rachel", a premade voice every account has.
    "21m00Tcm4TlvDq8ikWAM".into()
}

fn default_elevenlabs_model() -> String {
    "eleven_multilingual_v2".into()
}

#[derive(Debug, Clone, Deserialize)]
pub struct HeyGenSettings {
    #[serde(flatten)]
    pub api: CloudProviderSettings,
    /// The avatar to render; requests may name another with `options.avatar_id`.
    #[serde(default)]
    pub avatar_id: Option<String>,
    /// Background colour behind the avatar.
    #[serde(default = "default_heygen_background")]
    pub background: String,
    /// First status poll delay; doubles up to 30 s.
    #[serde(default = "default_heygen_poll_ms")]
    pub poll_interval_ms: u64,
}

fn default_heygen_poll_ms() -> u64 {
    5000
}

fn default_heygen_background() -> String {
    "#101010".into()
}

fn default_chat_model() -> String {
    "gpt-4o-mini".into()
}

fn default_transcription_model() -> String {
    "whisper-1".into()
}

fn default_max_upload_bytes() -> u64 {
    25 * 1024 * 1024
}

fn default_chunk_seconds() -> u32 {
    600
}

impl OpenAiSettings {
    /// A key, or a base URL other than OpenAI's (local servers need no key).
    pub fn is_configured(&self) -> bool {
        self.api.is_configured() || !self.api.base_url.starts_with("https://api.openai.com")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration is invalid: {0}")]
    Invalid(#[from] config::ConfigError),
}

impl Settings {
    /// Tells the redactor every credential this process holds, so none is echoed back in an
    /// error or a log line.
    pub fn register_secrets(&self) {
        let providers = &self.providers;
        let keys = [
            &providers.apify.api_key,
            &providers.assemblyai.api_key,
            &providers.openai.api.api_key,
            &providers.elevenlabs.api.api_key,
            &providers.heygen.api.api_key,
            &providers.pexels.api_key,
            &providers.pixabay.api_key,
            &self.media.s3.secret_access_key,
            &self.publishing.token_key,
            &self.publishing.youtube.client.secret,
            &self.publishing.tiktok.client.secret,
        ];
        for key in keys.into_iter().flatten() {
            crate::redact::register(key.expose_secret());
        }
        if let Ok(url) = url::Url::parse(self.database.url.expose_secret()) {
            if let Some(password) = url.password() {
                crate::redact::register(password);
            }
        }
    }

    /// Loads settings from `file` (optional) and the environment. `DATABASE_URL` is honoured
    /// unless `REELFORGE__DATABASE__URL` is set.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut builder = config::Config::builder();
        if let Some(path) = file {
            builder = builder.add_source(config::File::from(path).required(true));
        } else {
            builder = builder.add_source(config::File::with_name("reelforge").required(false));
        }
        // Vendor URLs as defaults, so setting only `..__API_KEY` in the environment works.
        let vendors = ProviderSettings::default();
        for (name, base_url) in [
            ("apify", &vendors.apify.base_url),
            ("assemblyai", &vendors.assemblyai.base_url),
            ("openai", &vendors.openai.api.base_url),
            ("elevenlabs", &vendors.elevenlabs.api.base_url),
            ("heygen", &vendors.heygen.api.base_url),
            ("pexels", &vendors.pexels.base_url),
            ("pixabay", &vendors.pixabay.base_url),
        ] {
            builder =
                builder.set_default(format!("providers.{name}.base_url"), base_url.as_str())?;
        }
        // Every project default as a default too, so one field (say
        // `REELFORGE__DEFAULTS__SETTINGS__PROVIDERS__VOICE`) can be set without the rest.
        let project_defaults =
            serde_json::to_value(ProjectDefaults::default()).expect("the defaults serialize");
        builder = set_defaults(builder, "defaults", &project_defaults)?;
        // The managed engine loads the GGUF this names, and the file is named after its model:
        // so `auto` sizes the model the engine really runs, unless a name is configured.
        if let Some(model) = std::env::var_os("REELFORGE_ENGINE_GGUF")
            .as_deref()
            .and_then(gguf_model_name)
        {
            builder = builder.set_default("engines.chat_model", model)?;
        }
        if std::env::var_os("REELFORGE__DATABASE__URL").is_none() {
            if let Ok(url) = std::env::var("DATABASE_URL") {
                builder = builder.set_override("database.url", url)?;
            }
        }
        let settings = builder
            .add_source(
                config::Environment::with_prefix("REELFORGE")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("media.fetch_allow_hosts")
                    .with_list_parse_key("media.import_folders")
                    .with_list_parse_key("engines.command")
                    .with_list_parse_key("mcp.allowed_origins")
                    .try_parsing(true),
            )
            .build()?
            .try_deserialize()?;
        Ok(settings)
    }
}

/// The model a GGUF file holds, by its file name: `/m/Qwen2.5-7B-Instruct-Q4_K_M.gguf` is
/// `Qwen2.5-7B-Instruct-Q4_K_M`.
fn gguf_model_name(path: &std::ffi::OsStr) -> Option<String> {
    let name = Path::new(path).file_name()?.to_str()?;
    Some(name.strip_suffix(".gguf").unwrap_or(name).to_owned())
}

type Builder = config::ConfigBuilder<config::builder::DefaultState>;

/// Sets every leaf of `value` as a default under `prefix`.
fn set_defaults(
    mut builder: Builder,
    prefix: &str,
    value: &serde_json::Value,
) -> Result<Builder, config::ConfigError> {
    use serde_json::Value;
    match value {
        Value::Object(fields) => {
            for (name, field) in fields {
                builder = set_defaults(builder, &format!("{prefix}.{name}"), field)?;
            }
            Ok(builder)
        }
        Value::Bool(flag) => builder.set_default(prefix, *flag),
        Value::Number(number) => match number.as_i64() {
            Some(whole) => builder.set_default(prefix, whole),
            None => builder.set_default(prefix, number.as_f64().unwrap_or_default()),
        },
        Value::String(text) => builder.set_default(prefix, text.as_str()),
        // Unset options stay unset; no default holds a list.
        Value::Null | Value::Array(_) => Ok(builder),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gguf_file_names_its_model() {
        let model = gguf_model_name("/models/Qwen2.5-7B-Instruct-Q4_K_M.gguf".as_ref()).unwrap();
        assert_eq!(model, "Qwen2.5-7B-Instruct-Q4_K_M");
        assert_eq!(
            crate::domain::provider::chat::billions_in_name(&model),
            Some(7.0)
        );
        assert_eq!(gguf_model_name("/".as_ref()), None);
    }

    #[test]
    fn a_file_may_set_only_a_key_and_the_vendor_url_stays() {
        let file = std::env::temp_dir().join(format!("reelforge-{}.toml", uuid::Uuid::new_v4()));
        std::fs::write(
            &file,
            "[providers.openai]\napi_key = \"sk-x\"\nchat_model = \"qwen2.5\"\ntimeout_seconds = 5\n\
             [providers.assemblyai]\napi_key = \"aai\"\n\
             [media]\nstore = \"s3\"\n[media.s3]\nbucket = \"b\"\n\
             [scripts.words_per_minute]\nru = 150.0\n\
             [defaults.settings.providers]\nvoice = \"fake\"\n",
        )
        .unwrap();
        let settings = Settings::load(Some(&file)).unwrap();
        std::fs::remove_file(file).unwrap();
        let openai = &settings.providers.openai;
        assert_eq!(openai.api.base_url, "https://api.openai.com/v1");
        assert_eq!(openai.api.timeout_seconds, 5);
        assert_eq!(openai.chat_model, "qwen2.5");
        assert_eq!(openai.transcription_model, "whisper-1");
        assert!(openai.is_configured());
        assert_eq!(
            settings.providers.assemblyai.base_url,
            "https://api.assemblyai.com"
        );
        assert_eq!(settings.media.store, MediaStoreKind::S3);
        assert_eq!(settings.scripts.rate("ru-RU"), 150.0);
        assert_eq!(settings.scripts.rate("en"), 165.0);
        let project = &settings.defaults.settings;
        assert_eq!(project.providers.voice, "fake");
        assert_eq!(
            project.providers.render, "auto",
            "the other steps keep theirs"
        );
        assert_eq!((project.words.min, project.words.max), (100, 120));
        assert_eq!(project.trend_weights.engagement, 0.5);
    }
}
