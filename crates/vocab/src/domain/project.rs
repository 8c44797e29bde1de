use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::text_enum;

/// A body of work: reels gathered for one theme and everything made from them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub id: Uuid,
    #[schema(example = "Morning motivation")]
    pub name: String,
    /// The language scripts and voiceovers are made in (ISO 639-1, e.g. `ru`, `en`).
    #[schema(example = "ru")]
    pub language: String,
    pub settings: ProjectSettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the project's provider calls consumed and cost; only on `GET /projects/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<super::usage::UsageSummary>,
    /// This month's spending against the budget; only on `GET /projects/{id}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<super::usage::BudgetStanding>,
}

text_enum! {
    /// The tone the rewrite step aims for.
    StylePreset {
        Motivating => "motivating",
        Educational => "educational",
        Storytelling => "storytelling",
        Calm => "calm",
    }
}

/// Inclusive bounds on the script's word count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WordRange {
    #[schema(example = 100, minimum = 10, maximum = 1000)]
    pub min: u32,
    #[schema(example = 120, minimum = 10, maximum = 1000)]
    pub max: u32,
}

use super::step::Step;
pub use super::step::{ProviderOverrides, StepProviders};

/// Weights of the composite `trend_score` (see the README for the formula).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrendWeights {
    /// Weight of log10(1 + plays).
    #[schema(example = 1.0)]
    pub plays: f64,
    /// Weight of log10(1 + plays per hour).
    #[schema(example = 1.0)]
    pub velocity: f64,
    /// Weight of the engagement rate in percent.
    #[schema(example = 0.5)]
    pub engagement: f64,
    /// Weight of log2(outlier score).
    #[schema(example = 1.0)]
    pub outlier: f64,
}

impl Default for TrendWeights {
    fn default() -> Self {
        TrendWeights {
            plays: 1.0,
            velocity: 1.0,
            engagement: 0.5,
            outlier: 1.0,
        }
    }
}

/// Per-project settings; every field has a default from configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProjectSettings {
    pub words: WordRange,
    #[schema(example = 40, minimum = 5, maximum = 600)]
    pub target_duration_seconds: u32,
    pub style_preset: StylePreset,
    pub providers: StepProviders,
    #[serde(default)]
    pub trend_weights: TrendWeights,
    #[serde(default)]
    pub rewrite: RewriteSettings,
    /// The most the project's provider calls may cost in a calendar month (UTC), in USD; runs
    /// whose estimate exceeds what is left are refused. Null: no cap.
    #[serde(default)]
    #[schema(example = 20.0, minimum = 0)]
    pub monthly_budget: Option<f64>,
    #[serde(default)]
    pub publishing: PublishingSettings,
}

/// How step 7 posts a project's videos.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PublishingSettings {
    /// Mark posts as AI-generated on every platform (`is_ai_generated`,
    /// `containsSyntheticMedia`, `is_aigc`): the voice and script are generated, so on.
    pub ai_disclosure: bool,
    /// Let a post's words hold emoji (off: like scripts, they have none).
    pub allow_emoji: bool,
}

impl Default for PublishingSettings {
    fn default() -> Self {
        PublishingSettings {
            ai_disclosure: true,
            allow_emoji: false,
        }
    }
}

/// How step 4 treats a project's scripts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RewriteSettings {
    /// Extra instructions appended to the system prompt (the style preset sets the tone).
    #[schema(example = "Mention morning routines.")]
    pub instructions: Option<String>,
    /// Revisions asked of the model when a draft misses a check.
    #[schema(example = 2, minimum = 0, maximum = 5)]
    pub revisions: u32,
    /// Highest share of the script's word 5-grams that may be copied from the transcript.
    #[schema(example = 0.2, minimum = 0.0, maximum = 1.0)]
    pub max_reuse: f64,
    /// Write a stock-sentence script offline when every model path fails.
    pub allow_fallback: bool,
    /// How a model writes: the whole script at once, one sentence at a time (better for small
    /// models, which copy a transcript they are shown whole), or `through_english`: the
    /// transcript translated to English, the script written there sentence by sentence and
    /// each sentence translated back under the language's spelling gate; `auto` picks what
    /// `bench/writer` measured best for the language and the model's size.
    #[serde(default)]
    pub strategy: WriterStrategy,
}

text_enum! {
    /// How a model writes a script.
    WriterStrategy {
        Auto => "auto",
        Whole => "whole",
        Sentences => "sentences",
        ThroughEnglish => "through_english",
    }
}

// `text_enum!` fixes the derives, so `Default` is written out.
#[allow(clippy::derivable_impls)]
impl Default for WriterStrategy {
    fn default() -> Self {
        WriterStrategy::Auto
    }
}

impl Default for RewriteSettings {
    fn default() -> Self {
        RewriteSettings {
            instructions: None,
            revisions: 2,
            max_reuse: 0.2,
            allow_fallback: true,
            strategy: WriterStrategy::Auto,
        }
    }
}

/// A partial update of [`ProjectSettings`]; absent fields keep their value.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectSettingsPatch {
    pub words: Option<WordRange>,
    #[schema(example = 40, minimum = 5, maximum = 600)]
    pub target_duration_seconds: Option<u32>,
    pub style_preset: Option<StylePreset>,
    pub providers: Option<ProviderOverrides>,
    pub trend_weights: Option<TrendWeights>,
    pub rewrite: Option<RewriteSettings>,
    pub publishing: Option<PublishingSettings>,
    /// USD per calendar month; null removes the cap.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>, example = 20.0, minimum = 0)]
    pub monthly_budget: Option<Option<f64>>,
}

/// A field that may be set to null: absent is `None`, null is `Some(None)`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    #[schema(example = "Morning motivation")]
    pub name: String,
    #[schema(example = "ru")]
    pub language: Option<String>,
    pub settings: Option<ProjectSettingsPatch>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProject {
    #[schema(example = "Evening motivation")]
    pub name: Option<String>,
    #[schema(example = "en")]
    pub language: Option<String>,
    pub settings: Option<ProjectSettingsPatch>,
}

/// Configured defaults for new projects.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ProjectDefaults {
    pub language: String,
    pub settings: ProjectSettings,
}

/// A step provider chosen when the project is created: the best one this deployment has (a
/// configured cloud provider, else the local engine, else `fake`).
pub const AUTO_PROVIDER: &str = "auto";

impl StepProviders {
    /// Replaces every `auto` with `choose(step)`; an `auto` nothing can serve yet stays, and is
    /// resolved (or refused) when the step is started.
    pub fn resolve_auto(&mut self, choose: impl Fn(Step) -> Option<&'static str>) {
        for step in Step::with_provider_setting() {
            let current = self.get_mut(step);
            if current == AUTO_PROVIDER {
                if let Some(chosen) = choose(step) {
                    *current = chosen.to_owned();
                }
            }
        }
    }
}

impl Default for ProjectDefaults {
    fn default() -> Self {
        Self {
            language: "ru".into(),
            settings: ProjectSettings {
                words: WordRange { min: 100, max: 120 },
                target_duration_seconds: 40,
                style_preset: StylePreset::Motivating,
                providers: StepProviders::from_fn(|_| AUTO_PROVIDER.to_owned()),
                trend_weights: TrendWeights::default(),
                rewrite: RewriteSettings::default(),
                publishing: PublishingSettings::default(),
                monthly_budget: None,
            },
        }
    }
}

/// One reason a request was refused, tied to the field that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    #[schema(example = "settings.words")]
    pub field: String,
    #[schema(example = "min must not exceed max")]
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

pub const NAME_MAX_CHARS: usize = 200;

pub fn validate_name(name: &str, errors: &mut Vec<FieldError>) {
    let trimmed = name.trim();
    if trimmed.is_empty() {
        errors.push(FieldError::new("name", "must not be empty"));
    } else if let Some(problem) = super::storable::label_problem(name) {
        errors.push(FieldError::new("name", problem));
    } else if trimmed.chars().count() > NAME_MAX_CHARS {
        errors.push(FieldError::new(
            "name",
            format!("must be at most {NAME_MAX_CHARS} characters"),
        ));
    }
}

/// ISO 639-1/639-3 code with an optional region (`ru`, `en`, `pt-BR`).
pub fn validate_language(language: &str, errors: &mut Vec<FieldError>) {
    if let Some(problem) = language_problem(language) {
        errors.push(FieldError::new("language", problem));
    }
}

/// Why `language` is not a language code, if it is not.
pub fn language_problem(language: &str) -> Option<&'static str> {
    let mut parts = language.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    (!(primary_ok && rest_ok)).then_some("must be a language code such as `ru` or `en`")
}

impl ProjectSettings {
    /// Applies a patch; provider names are checked separately against the registry.
    pub fn apply(&mut self, patch: ProjectSettingsPatch) {
        if let Some(words) = patch.words {
            self.words = words;
        }
        if let Some(duration) = patch.target_duration_seconds {
            self.target_duration_seconds = duration;
        }
        if let Some(style) = patch.style_preset {
            self.style_preset = style;
        }
        if let Some(weights) = patch.trend_weights {
            self.trend_weights = weights;
        }
        if let Some(publishing) = patch.publishing {
            self.publishing = publishing;
        }
        if let Some(rewrite) = patch.rewrite {
            self.rewrite = rewrite;
        }
        if let Some(budget) = patch.monthly_budget {
            self.monthly_budget = budget;
        }
        if let Some(providers) = patch.providers {
            for (step, choice) in providers.iter() {
                if let Some(name) = choice {
                    self.providers.get_mut(step).clone_from(name);
                }
            }
        }
    }

    pub fn validate(&self, errors: &mut Vec<FieldError>) {
        let WordRange { min, max } = self.words;
        if !(10..=1000).contains(&min) || !(10..=1000).contains(&max) {
            errors.push(FieldError::new(
                "settings.words",
                "bounds must be between 10 and 1000",
            ));
        }
        if min > max {
            errors.push(FieldError::new("settings.words", "min must not exceed max"));
        }
        let TrendWeights {
            plays,
            velocity,
            engagement,
            outlier,
        } = self.trend_weights;
        if [plays, velocity, engagement, outlier]
            .iter()
            .any(|w| !(0.0..=100.0).contains(w))
        {
            errors.push(FieldError::new(
                "settings.trend_weights",
                "weights must be between 0 and 100",
            ));
        }
        if self
            .monthly_budget
            .is_some_and(|b| !b.is_finite() || !(0.0..=1_000_000.0).contains(&b))
        {
            errors.push(FieldError::new(
                "settings.monthly_budget",
                "must be 0 to 1000000 (USD)",
            ));
        }
        if self.rewrite.revisions > 5 {
            errors.push(FieldError::new(
                "settings.rewrite.revisions",
                "must be at most 5",
            ));
        }
        if !(0.0..=1.0).contains(&self.rewrite.max_reuse) {
            errors.push(FieldError::new(
                "settings.rewrite.max_reuse",
                "must be between 0 and 1",
            ));
        }
        if let Some(problem) = self
            .rewrite
            .instructions
            .as_deref()
            .and_then(super::storable::text_problem)
        {
            errors.push(FieldError::new("settings.rewrite.instructions", problem));
        }
        if self
            .rewrite
            .instructions
            .as_ref()
            .is_some_and(|i| i.chars().count() > 4000)
        {
            errors.push(FieldError::new(
                "settings.rewrite.instructions",
                "must be at most 4000 characters",
            ));
        }
        if !(5..=600).contains(&self.target_duration_seconds) {
            errors.push(FieldError::new(
                "settings.target_duration_seconds",
                "must be between 5 and 600",
            ));
        }
    }
}
