//! A project's voice library: voices cloned at a provider from the creator's own recordings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::project::FieldError;

/// The most samples one clone is made from.
pub const MAX_SAMPLES: usize = 25;
/// The most bytes of samples sent for one clone: they are sent in one request.
pub const MAX_SAMPLE_BYTES: u64 = 100 << 20;
/// The labels ElevenLabs documents for a voice.
const LABELS: [&str; 4] = ["language", "accent", "gender", "age"];

/// A voice to clone from library recordings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVoice {
    /// 1 to 100 characters.
    #[schema(example = "Anna, calm")]
    pub name: String,
    /// Library audio assets (keys) of the creator speaking, 1 to 25 and 100 MiB in all: clean
    /// speech, a minute or more.
    pub sample_keys: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// ElevenLabs labels, such as `{"language": "ru", "gender": "female"}`.
    #[serde(default)]
    pub labels: Option<std::collections::BTreeMap<String, String>>,
    /// Ask ElevenLabs to remove background noise (it hurts clean recordings).
    #[serde(default)]
    pub remove_background_noise: bool,
    /// Make it the project's default voice for the `elevenlabs` provider (not done when
    /// ElevenLabs asks for the voice to be verified first).
    #[serde(default)]
    pub default: bool,
}

impl NewVoice {
    /// Problems a request can be refused for before anything is sent.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        if !(1..=100).contains(&self.name.trim().chars().count()) {
            problems.push(FieldError::new("name", "must be 1 to 100 characters"));
        }
        if !(1..=MAX_SAMPLES).contains(&self.sample_keys.len()) {
            problems.push(FieldError::new(
                "sample_keys",
                format!("must name 1 to {MAX_SAMPLES} recordings"),
            ));
        }
        if self
            .description
            .as_deref()
            .is_some_and(|d| d.chars().count() > 500)
        {
            problems.push(FieldError::new(
                "description",
                "must be at most 500 characters",
            ));
        }
        for (index, key) in self.sample_keys.iter().enumerate() {
            if self.sample_keys[..index].contains(key) {
                problems.push(FieldError::new(
                    format!("sample_keys[{index}]"),
                    "names a recording already given",
                ));
            }
        }
        for key in self.labels.iter().flat_map(|labels| labels.keys()) {
            if !LABELS.contains(&key.as_str()) {
                problems.push(FieldError::new(
                    format!("labels.{key}"),
                    format!("ElevenLabs takes the labels {}", LABELS.join(", ")),
                ));
            }
        }
        problems
    }
}

/// A cloned voice. Voice steps with the `elevenlabs` provider speak with the project's default
/// voice unless `options.voice` names another (`provider_voice_id` of any voice here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ClonedVoice {
    pub id: Uuid,
    pub project_id: Uuid,
    pub name: String,
    /// `elevenlabs`.
    pub provider: String,
    /// The provider's id of the voice, for `options.voice`.
    #[schema(example = "c38kUX8pkfYO2kHyqfFy")]
    pub provider_voice_id: String,
    pub sample_keys: Vec<String>,
    pub description: Option<String>,
    /// ElevenLabs asks the account owner to verify the voice before it can be used.
    pub requires_verification: bool,
    pub default: bool,
    pub created_at: DateTime<Utc>,
}

/// A change to a cloned voice.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoicePatch {
    /// `true` makes it the project's default voice; `false` leaves the project without one.
    pub default: bool,
}
