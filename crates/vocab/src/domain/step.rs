//! What a pipeline step is, said once: what each step makes and the job that makes it, which
//! of them a run drives, whose provider setting each uses, every provider each can have with
//! what enables it, and which of those `auto` prefers. Project settings, run overrides and
//! options, a run's steps, `/v1/providers`, `doctor`, the queue and the provider registry all
//! read this table; a new step is one more row here and its own files.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use utoipa::openapi::{
    schema::{AdditionalProperties, ObjectBuilder, Schema, Type},
    RefOr,
};

use super::provider::{fake, LOCAL};
use super::{JobKind, ResourceKind};

super::text_enum! {
    /// A pipeline step, by the name project settings, run overrides, options and a run's steps
    /// use. `write_post` writes the words a video is published with; it has no provider setting
    /// of its own (the project's `rewrite` writer writes it) and a run takes it only when it
    /// publishes.
    Step {
        Collect => "collect",
        Transcribe => "transcribe",
        Rewrite => "rewrite",
        Voice => "voice",
        Render => "render",
        WritePost => "write_post",
    }
}

/// A provider a step can have, and what makes it usable.
#[derive(Debug)]
pub struct ProviderEntry {
    pub name: &'static str,
    /// What an operator does so that this provider is offered.
    pub enable: &'static str,
}

#[derive(Debug)]
pub struct StepInfo {
    /// The resource the step makes.
    pub resource: ResourceKind,
    /// The job that makes it; its name is the step's own.
    pub job: JobKind,
    /// The step whose provider setting (project settings, run overrides) this one uses: its
    /// own, but for the post's words, which the project's writer writes.
    pub provider_of: Step,
    /// Whether a run drives the step in its fixed order (runs start from collected reels, and
    /// write a post only when they publish).
    pub in_runs: bool,
    /// Every provider the step can have, in the order `auto` prefers them (`fake`, for tests,
    /// comes last and only where configuration offers it).
    pub providers: &'static [ProviderEntry],
    /// How many of `providers`, from the first, `auto` may choose: the rest are used only when
    /// asked for by name (a paid avatar video is a deliberate choice, not a default).
    pub auto: usize,
}

const OPENAI_KEY: &str = "set REELFORGE__PROVIDERS__OPENAI__API_KEY (or REELFORGE__PROVIDERS__OPENAI__BASE_URL of an OpenAI-compatible server such as Ollama)";
const ENGINE: &str = "run scripts/setup for the local engine";

/// The writers of scripts and posts.
const WRITERS: &[ProviderEntry] = &[
    ProviderEntry {
        name: "openai",
        enable: OPENAI_KEY,
    },
    ProviderEntry {
        name: LOCAL,
        enable: ENGINE,
    },
];

/// One row per step, in the order of [`Step::ALL`].
const STEPS: [StepInfo; 6] = [
    StepInfo {
        resource: ResourceKind::Collection,
        job: JobKind::Collect,
        provider_of: Step::Collect,
        in_runs: false,
        providers: &[ProviderEntry {
            name: "apify",
            enable: "set REELFORGE__PROVIDERS__APIFY__API_KEY to scrape (importing a dataset or your own videos needs nothing)",
        }],
        auto: 1,
    },
    StepInfo {
        resource: ResourceKind::Transcript,
        job: JobKind::Transcribe,
        provider_of: Step::Transcribe,
        in_runs: true,
        providers: &[
            ProviderEntry {
                name: "assemblyai",
                enable: "set REELFORGE__PROVIDERS__ASSEMBLYAI__API_KEY",
            },
            ProviderEntry {
                name: "openai",
                enable: OPENAI_KEY,
            },
            ProviderEntry {
                name: LOCAL,
                enable: ENGINE,
            },
        ],
        auto: 3,
    },
    StepInfo {
        resource: ResourceKind::Script,
        job: JobKind::Rewrite,
        provider_of: Step::Rewrite,
        in_runs: true,
        providers: WRITERS,
        auto: 2,
    },
    StepInfo {
        resource: ResourceKind::Audio,
        job: JobKind::Voice,
        provider_of: Step::Voice,
        in_runs: true,
        providers: &[
            ProviderEntry {
                name: "elevenlabs",
                enable: "set REELFORGE__PROVIDERS__ELEVENLABS__API_KEY",
            },
            ProviderEntry {
                name: "openai",
                enable: OPENAI_KEY,
            },
            ProviderEntry {
                name: LOCAL,
                enable: "install espeak-ng, or run scripts/setup for the local engine's voices",
            },
        ],
        auto: 3,
    },
    StepInfo {
        resource: ResourceKind::Video,
        job: JobKind::Render,
        provider_of: Step::Render,
        in_runs: true,
        providers: &[
            ProviderEntry {
                name: LOCAL,
                enable: "install ffmpeg (scripts/setup)",
            },
            ProviderEntry {
                name: "heygen",
                enable: "set REELFORGE__PROVIDERS__HEYGEN__API_KEY and __AVATAR_ID (or give options.avatar_id)",
            },
        ],
        auto: 1,
    },
    StepInfo {
        resource: ResourceKind::Post,
        job: JobKind::WritePost,
        provider_of: Step::Rewrite,
        in_runs: false,
        providers: WRITERS,
        auto: 2,
    },
];

/// A provider a step once had and can no longer have, because its vendor shut the API down.
/// Naming it (a request, a run, project settings) is refused with `provider_retired`, saying why
/// and what to use; it is still recognised so that the refusal says more than "unknown".
#[derive(Debug)]
pub struct RetiredProvider {
    pub step: Step,
    pub name: &'static str,
    /// The provider to use instead; projects that had the retired one were moved to it.
    pub instead: &'static str,
    /// Why it went, and what carries over to `instead`.
    pub why: &'static str,
}

pub const RETIRED: &[RetiredProvider] = &[ASSISTANTS];

/// OpenAI's Assistants path; its `options.assistant_id` is refused with the same reason.
pub const ASSISTANTS: RetiredProvider = RetiredProvider {
    step: Step::Rewrite,
    name: "openai_assistant",
    instead: "openai",
    why: "OpenAI shut the Assistants API down on 2026-08-26, and the prompt objects that replaced \
          assistants are shut down too. Use `openai` (Chat Completions) instead: give the \
          assistant's model as options.model (or REELFORGE__PROVIDERS__OPENAI__CHAT_MODEL) and put \
          its instructions in the project's settings.rewrite.instructions",
};

impl RetiredProvider {
    /// The refusal's text.
    pub fn detail(&self) -> String {
        format!(
            "the {} provider `{}` is retired: {}",
            self.step, self.name, self.why
        )
    }
}

impl Step {
    /// The retired provider of this step called `name`, if it is one.
    pub fn retired(self, name: &str) -> Option<&'static RetiredProvider> {
        RETIRED
            .iter()
            .find(|retired| retired.step == self && retired.name == name)
    }

    pub fn info(self) -> &'static StepInfo {
        &STEPS[self as usize]
    }

    pub fn resource(self) -> ResourceKind {
        self.info().resource
    }

    pub fn job(self) -> JobKind {
        self.info().job
    }

    /// The step whose provider setting this one uses.
    pub fn provider_step(self) -> Step {
        self.info().provider_of
    }

    /// The steps a project and a run choose a provider for, each by its own name.
    pub fn with_provider_setting() -> impl Iterator<Item = Step> {
        Step::ALL
            .iter()
            .copied()
            .filter(|step| step.provider_step() == *step)
    }

    /// The step that makes `kind`; a reel's media preparation belongs to collecting.
    pub fn of(kind: ResourceKind) -> Step {
        match kind {
            ResourceKind::Reel => Step::Collect,
            other => *Step::ALL
                .iter()
                .find(|step| step.resource() == other)
                .expect("every resource but reels has its step"),
        }
    }

    /// Where the step comes in a run, from 0; none for a step runs do not drive.
    pub fn run_index(self) -> Option<usize> {
        Step::in_runs().position(|step| step == self)
    }

    /// The steps a run drives, in order.
    pub fn in_runs() -> impl Iterator<Item = Step> {
        Step::ALL.iter().copied().filter(|step| step.info().in_runs)
    }

    /// The providers `auto` may choose, best first, then `fake`.
    pub fn auto_order(self) -> impl Iterator<Item = &'static str> {
        let info = self.info();
        info.providers[..info.auto]
            .iter()
            .map(|entry| entry.name)
            .chain([fake::NAME])
    }

    /// What an operator configures so that `auto` has a provider for this step.
    pub fn configure_hint(self) -> String {
        let info = self.info();
        info.providers[..info.auto]
            .iter()
            .map(|entry| format!("{} ({})", entry.enable, entry.name))
            .collect::<Vec<_>>()
            .join("; or ")
    }
}

/// One value per step with a provider setting of its own, keyed by the step's name: the one
/// shape of every per-step setting. Unset values are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(serialize = "T: Serialize + Unset"))]
pub struct PerStep<T> {
    #[serde(skip_serializing_if = "Unset::is_unset")]
    pub collect: T,
    #[serde(skip_serializing_if = "Unset::is_unset")]
    pub transcribe: T,
    #[serde(skip_serializing_if = "Unset::is_unset")]
    pub rewrite: T,
    #[serde(skip_serializing_if = "Unset::is_unset")]
    pub voice: T,
    #[serde(skip_serializing_if = "Unset::is_unset")]
    pub render: T,
}

/// A per-step value that may be absent.
pub trait Unset {
    fn is_unset(&self) -> bool;
}

impl Unset for String {
    fn is_unset(&self) -> bool {
        false
    }
}

impl<T> Unset for Option<T> {
    fn is_unset(&self) -> bool {
        self.is_none()
    }
}

impl<T> PerStep<T> {
    pub fn from_fn(mut value: impl FnMut(Step) -> T) -> Self {
        PerStep {
            collect: value(Step::Collect),
            transcribe: value(Step::Transcribe),
            rewrite: value(Step::Rewrite),
            voice: value(Step::Voice),
            render: value(Step::Render),
        }
    }

    /// The value `step` goes by: a post's is the writer's.
    pub fn get(&self, step: Step) -> &T {
        match step.provider_step() {
            Step::Collect => &self.collect,
            Step::Transcribe => &self.transcribe,
            Step::Rewrite => &self.rewrite,
            Step::Voice => &self.voice,
            Step::Render => &self.render,
            Step::WritePost => unreachable!("the step table gives write_post the writer's setting"),
        }
    }

    pub fn get_mut(&mut self, step: Step) -> &mut T {
        match step.provider_step() {
            Step::Collect => &mut self.collect,
            Step::Transcribe => &mut self.transcribe,
            Step::Rewrite => &mut self.rewrite,
            Step::Voice => &mut self.voice,
            Step::Render => &mut self.render,
            Step::WritePost => unreachable!("the step table gives write_post the writer's setting"),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Step, &T)> {
        Step::with_provider_setting().map(move |step| (step, self.get(step)))
    }
}

/// The provider of each step unless a request overrides it.
pub type StepProviders = PerStep<String>;
/// Per-step provider names, each optional: a patch of a project's providers, or a run's
/// overrides of them.
pub type ProviderOverrides = PerStep<Option<String>>;

/// The schema of a per-step map of provider names, built from the step table so that a new step
/// appears in the document by itself.
fn provider_map_schema(description: &str, required: bool) -> RefOr<Schema> {
    let mut object = ObjectBuilder::new()
        .description(Some(description))
        .additional_properties(Some(AdditionalProperties::FreeForm(false)));
    for step in Step::with_provider_setting() {
        let name = ObjectBuilder::new()
            .schema_type(if required {
                Type::String.into()
            } else {
                utoipa::openapi::schema::SchemaType::from_iter([Type::String, Type::Null])
            })
            .examples([serde_json::json!(LOCAL)]);
        object = object.property(step.as_str(), name);
        if required {
            object = object.required(step.as_str());
        }
    }
    RefOr::T(Schema::Object(object.build()))
}

/// Names a per-step map of provider names in the document, with its schema.
macro_rules! provider_map {
    ($map:ty, $name:literal, required: $required:expr, $description:literal) => {
        impl utoipa::PartialSchema for $map {
            fn schema() -> RefOr<Schema> {
                provider_map_schema($description, $required)
            }
        }

        impl utoipa::ToSchema for $map {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }
        }
    };
}

provider_map!(
    StepProviders,
    "StepProviders",
    required: true,
    "The provider of each step unless a request overrides it: a name from `GET /v1/providers`, or `auto`."
);
provider_map!(
    ProviderOverrides,
    "ProviderOverrides",
    required: false,
    "Provider names by step; a missing or null one leaves the project's choice. A run does not collect, so a run's `collect` must be unset."
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_has_its_own_resource_and_a_job_of_its_name() {
        for (index, step) in Step::ALL.iter().enumerate() {
            assert_eq!(Step::of(step.resource()), *step);
            assert_eq!(step.job().as_str(), step.as_str());
            assert_eq!(step.resource().job_kind(), step.job());
            assert_eq!(*step as usize, index, "STEPS is in the order of Step::ALL");
        }
        assert_eq!(Step::of(ResourceKind::Reel), Step::Collect);
        assert_eq!(Step::WritePost.provider_step(), Step::Rewrite);
        assert_eq!(
            Step::with_provider_setting().collect::<Vec<_>>(),
            [
                Step::Collect,
                Step::Transcribe,
                Step::Rewrite,
                Step::Voice,
                Step::Render
            ]
        );
        assert_eq!(
            Step::in_runs().collect::<Vec<_>>(),
            [Step::Transcribe, Step::Rewrite, Step::Voice, Step::Render]
        );
    }

    #[test]
    fn a_per_step_map_reads_and_writes_by_step_and_keeps_its_json() {
        let mut providers = StepProviders::from_fn(|step| step.as_str().to_uppercase());
        *providers.get_mut(Step::Voice) = "elevenlabs".into();
        assert_eq!(providers.get(Step::Voice), "elevenlabs");
        assert_eq!(providers.get(Step::WritePost), "REWRITE");
        let json = serde_json::to_value(&providers).unwrap();
        assert_eq!(json["transcribe"], "TRANSCRIBE");
        assert_eq!(
            json.as_object().unwrap().len(),
            Step::with_provider_setting().count()
        );
        assert!(
            serde_json::from_value::<ProviderOverrides>(serde_json::json!({"paint": "x"})).is_err()
        );
    }

    #[test]
    fn the_hint_names_every_provider_auto_may_choose() {
        let hint = Step::Transcribe.configure_hint();
        for name in ["assemblyai", "openai", "local"] {
            assert!(hint.contains(name), "{hint}");
        }
        assert!(!Step::Render.configure_hint().contains("heygen"));
    }
}
