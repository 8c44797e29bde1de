//! Provider names and the rules about providers that options and settings check: pure
//! facts, so the vocabulary can validate a request without knowing any vendor client.

use super::step::Step;

/// The name the local engine's providers go by.
pub const LOCAL: &str = "local";

/// An option a provider needs in every request when its deployment-wide setting is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequiredOption {
    pub step: Step,
    pub provider: &'static str,
    pub option: &'static str,
    /// The deployment-wide setting that would stand in for it, if there is one.
    pub setting: Option<&'static str>,
}

/// The `fake` providers, for tests and benchmarks only.
pub mod fake {
    use serde::{Deserialize, Serialize};

    pub const NAME: &str = "fake";

    /// How a fake provider fails when a test asks it to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum FailMode {
        Retryable,
        Fatal,
        /// Report success without writing the step's file (voice and render).
        NoOutput,
        /// Panic, as a bug in a step would.
        Panic,
    }

    /// The fake providers' test knobs, read from the step's options.
    #[derive(Debug, Clone, Default)]
    pub struct FakeBehaviour {
        /// Time spent per progress step (four steps).
        pub delay_ms: u64,
        pub fail: Option<FailMode>,
        /// Fail only the first N attempts; 0 means every attempt.
        pub fail_attempts: u32,
    }

    impl FakeBehaviour {
        /// Whether the provider should skip writing its file and still report success.
        pub fn withholds_output(&self) -> bool {
            self.fail == Some(FailMode::NoOutput)
        }
    }
}

/// AssemblyAI's speech models and the languages each knows.
pub mod assemblyai {
    pub const NAME: &str = "assemblyai";

    /// The models sent when the options name none: Universal-2 speaks 99 languages, Russian
    /// among them, at the listed price.
    pub const DEFAULT_SPEECH_MODELS: &[&str] = &["universal-2"];

    /// AssemblyAI's models that know only English, Spanish, Portuguese, French, German and
    /// Italian.
    pub const SIX_LANGUAGE_MODELS: &[&str] = &["universal-3-pro"];
    pub const SIX_LANGUAGES: &[&str] = &["en", "es", "pt", "fr", "de", "it"];

    /// Why `models` cannot transcribe `language` (a code such as `ru` or `pt-BR`): every model in
    /// the list is one of the six-language ones and the language is not among the six.
    pub fn speech_models_problem(models: &[String], language: &str) -> Option<String> {
        let base = language
            .split(['-', '_'])
            .next()
            .unwrap_or(language)
            .to_lowercase();
        let only_six = models
            .iter()
            .all(|model| SIX_LANGUAGE_MODELS.contains(&model.trim()));
        (only_six && !SIX_LANGUAGES.contains(&base.as_str())).then(|| {
            format!(
                "{} transcribe only {}; add universal-2 for `{language}`",
                models.join(", "),
                SIX_LANGUAGES.join(", ")
            )
        })
    }
}

/// Chat models (the OpenAI-compatible writer) by their names.
pub mod chat {
    /// The OpenAI-compatible writer.
    pub const NAME: &str = "openai";

    /// Whether `model` is one of OpenAI's reasoning models (`o1`, `o3-mini`, `o4-mini`, `gpt-5`,
    /// `gpt-5.1-mini`, later `gpt-N`), by its name; a `vendor/` prefix (routers) is ignored.
    pub fn is_reasoning_model(model: &str) -> bool {
        let name = model.trim().to_ascii_lowercase();
        let name = name.rsplit('/').next().unwrap_or_default();
        let leading_number = |rest: &str| -> Option<u32> {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        if let Some(rest) = name.strip_prefix('o') {
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            return digits > 0 && matches!(rest[digits..].chars().next(), None | Some('-'));
        }
        name.strip_prefix("gpt-")
            .and_then(leading_number)
            .is_some_and(|major| major >= 5)
    }

    /// The parameter count a model's name gives, in billions: `qwen2.5-coder-1.5b-instruct` is 1.5,
    /// `llama-3.1-8b-instruct` 8.
    pub fn billions_in_name(model: &str) -> Option<f64> {
        model
            .to_lowercase()
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .filter_map(|part| part.strip_suffix('b'))
            .find_map(|number| {
                number
                    .parse::<f64>()
                    .ok()
                    .filter(|n| *n > 0.0 && *n < 1000.0)
            })
    }
}

/// HeyGen's avatar renderer.
pub mod heygen {
    pub const NAME: &str = "heygen";
}

/// ElevenLabs' voices.
pub mod elevenlabs {
    pub const NAME: &str = "elevenlabs";
}

/// The OpenAI-compatible speech endpoint.
pub mod voice_openai {
    pub const NAME: &str = "openai";
}

/// The creator's own recording.
pub mod recording {
    pub const NAME: &str = "recording";
}

/// The OpenAI-compatible transcription endpoint.
pub mod whisper {
    pub const NAME: &str = "openai";
}

/// Pexels' stock videos.
pub mod pexels {
    pub const NAME: &str = "pexels";
}

/// Pixabay's stock videos.
pub mod pixabay {
    pub const NAME: &str = "pixabay";
}

/// Apify's Instagram scraper.
pub mod apify {
    pub const NAME: &str = "apify";
}

/// Reels fetched from their URLs.
pub mod download {
    pub const NAME: &str = "download";
}

/// The creator's own files.
pub mod upload {
    pub const NAME: &str = "upload";
}

/// Each library, with the setting that configures it.
pub const STOCK_KEY_SETTINGS: [(&str, &str); 2] = [
    (pexels::NAME, "REELFORGE__PROVIDERS__PEXELS__API_KEY"),
    (pixabay::NAME, "REELFORGE__PROVIDERS__PIXABAY__API_KEY"),
];
