//! What each step accepts as `options`, and which provider honours each one. Options are checked
//! when a step or run is started (a 422 naming the field, nothing queued), stored as checked, and
//! read back typed by the job and its provider.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use utoipa::ToSchema;

use super::provider::{
    assemblyai, chat, elevenlabs,
    fake::{self, FakeBehaviour},
    heygen, whisper, RequiredOption, LOCAL,
};
use super::{
    asset::AssetKind,
    project::{language_problem, FieldError},
    resource::StepInput,
    step::Step,
    video_format::VideoFormat,
};

/// What options are checked against besides themselves: the project's media, and what this
/// deployment offers.
#[derive(Debug, Clone, Default)]
pub struct OptionScope {
    /// The project's media prefix: options may name no other media.
    pub own_media: String,
    /// The stock B-roll libraries configured here.
    pub stock_libraries: Vec<&'static str>,
}

/// Each option of a step, with the providers that take it (empty: every provider).
pub type OptionProviders = &'static [(&'static str, &'static [&'static str])];

/// Every provider of the step honours the option.
const ANY: &[&str] = &[];

/// A step's options: a struct whose fields are all optional, with the providers each honours.
pub trait StepOptions: Serialize + DeserializeOwned + Default + Clone + Send + Sync {
    /// Each option that is set, with the providers that honour it (empty: all of them).
    fn given(&self) -> Vec<(&'static str, &'static [&'static str])>;

    /// The fake provider's test knobs.
    fn fake(&self) -> FakeBehaviour;

    /// Values their types allow but the step does not, or this deployment cannot serve, each
    /// with the option that holds it.
    fn problems(&self, scope: &OptionScope) -> Vec<FieldError>;

    /// The media library files these options name, which must exist and be of the right kind
    /// when the step starts.
    fn library_keys(&self) -> Vec<LibraryKey> {
        Vec::new()
    }

    /// Every problem of these options for `provider`, fields prefixed with `prefix` (such as
    /// `options` or `options.voice`). `required` are options the provider needs here.
    fn check(
        &self,
        provider: &str,
        prefix: &str,
        scope: &OptionScope,
        required: &[RequiredOption],
    ) -> Vec<FieldError> {
        let mut errors: Vec<FieldError> = self
            .problems(scope)
            .into_iter()
            .map(|error| FieldError::new(format!("{prefix}.{}", error.field), error.message))
            .collect();
        let given = self.given();
        for required in required {
            if !given.iter().any(|(option, _)| *option == required.option) {
                let instead = required
                    .setting
                    .map_or(String::new(), |setting| format!(", or set {setting}"));
                errors.push(FieldError::new(
                    format!("{prefix}.{}", required.option),
                    format!("the {provider} provider needs it here: give it{instead}"),
                ));
            }
        }
        // The fake provider stands in for every provider in tests, so it takes every option.
        if provider != fake::NAME {
            for (option, honoured_by) in given {
                if !honoured_by.is_empty() && !honoured_by.contains(&provider) {
                    errors.push(FieldError::new(
                        format!("{prefix}.{option}"),
                        format!(
                            "the {provider} provider does not take this option; it is for {}",
                            honoured_by.join(", ")
                        ),
                    ));
                }
            }
        }
        errors
    }
}

/// Declares a step's options: every field optional, unknown ones refused, and the fake
/// provider's knobs accepted but left out of the published schema.
macro_rules! step_options {
    ($(#[$meta:meta])* $name:ident {
        $( $(#[$field_meta:meta])* $field:ident : $ty:ty => $providers:expr ),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(ignore)]
            pub delay_ms: Option<u64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(ignore)]
            pub fail: Option<fake::FailMode>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            #[schema(ignore)]
            pub fail_attempts: Option<u32>,
        }

        impl $name {
            /// Each option with the providers that take it (empty: every provider).
            pub const PROVIDERS_BY_OPTION: OptionProviders =
                &[$((stringify!($field), $providers)),*];

            fn set_options(&self) -> Vec<(&'static str, &'static [&'static str])> {
                let fake: &'static [&'static str] = &[fake::NAME];
                let mut given: Vec<(&'static str, &'static [&'static str])> = Vec::new();
                $( if self.$field.is_some() { given.push((stringify!($field), $providers)); } )*
                if self.delay_ms.is_some() { given.push(("delay_ms", fake)); }
                if self.fail.is_some() { given.push(("fail", fake)); }
                if self.fail_attempts.is_some() { given.push(("fail_attempts", fake)); }
                given
            }

            fn fake_behaviour(&self) -> FakeBehaviour {
                FakeBehaviour {
                    delay_ms: self.delay_ms.unwrap_or_default(),
                    fail: self.fail,
                    fail_attempts: self.fail_attempts.unwrap_or_default(),
                }
            }
        }
    };
}

/// A media library file an option names, and the kinds of asset it may be.
#[derive(Debug, Clone, PartialEq)]
pub struct LibraryKey {
    /// The option's path under the step's options (`clip_keys[1]`).
    pub field: String,
    /// The asset's key; `None` when any asset of `kinds` will do.
    pub key: Option<String>,
    pub kinds: &'static [AssetKind],
}

/// Implements [`StepOptions`] for a struct declared by `step_options!`; `library` lists the
/// media library files the options name.
macro_rules! impl_step_options {
    ($name:ident, |$options:ident, $scope:pat_param| $problems:expr, library: |$lib:ident| $keys:expr) => {
        impl_step_options!(@impl $name, |$options, $scope| $problems, {
            fn library_keys(&self) -> Vec<LibraryKey> {
                let $lib = self;
                $keys
            }
        });
    };
    ($name:ident, |$options:ident, $scope:pat_param| $problems:expr) => {
        impl_step_options!(@impl $name, |$options, $scope| $problems, {});
    };
    (@impl $name:ident, |$options:ident, $scope:pat_param| $problems:expr, { $($library:tt)* }) => {
        impl StepOptions for $name {
            $($library)*

            fn given(&self) -> Vec<(&'static str, &'static [&'static str])> {
                self.set_options()
            }

            fn fake(&self) -> FakeBehaviour {
                self.fake_behaviour()
            }

            fn problems(&self, scope: &OptionScope) -> Vec<FieldError> {
                let $options = self;
                let $scope = scope;
                $problems
            }
        }
    };
}

step_options! {
    /// Options of collecting reels and of preparing one: the collectors take none today.
    CollectOptions {}
}
impl_step_options!(CollectOptions, |_options, _| Vec::new());

step_options! {
    /// Options of a transcribe step.
    TranscribeOptions {
        /// The language spoken in the reel (`ru`, `en`, `pt-BR`). Without it the cloud providers
        /// detect it and the local engine assumes the project's language.
        #[schema(example = "ru")]
        language: String => ANY,
        /// The transcription model, instead of the configured one (`whisper-1`,
        /// `gpt-4o-transcribe`, or a compatible server's model name).
        #[schema(example = "whisper-1")]
        model: String => &[whisper::NAME, LOCAL],
        /// AssemblyAI's speech models in order of preference (default `["universal-2"]`, which
        /// covers Russian). `universal-3-pro` knows only en, es, pt, fr, de and it: alone, it is
        /// refused for any other `language`.
        #[schema(example = json!(["universal-3-pro", "universal-2"]))]
        speech_models: Vec<String> => &[assemblyai::NAME],
    }
}
impl_step_options!(TranscribeOptions, |options, _| {
    let mut errors = Vec::new();
    language(&options.language, &mut errors);
    not_blank("model", &options.model, &mut errors);
    if let Some(models) = &options.speech_models {
        if models.is_empty() || models.iter().any(|m| m.trim().is_empty()) {
            errors.push(FieldError::new(
                "speech_models",
                "must list at least one model name",
            ));
        } else if let Some(problem) = options
            .language
            .as_deref()
            .and_then(|language| assemblyai::speech_models_problem(models, language))
        {
            errors.push(FieldError::new("speech_models", problem));
        }
    }
    errors
});

step_options! {
    /// Options of writing a post's words (step 7) with the project's rewrite provider.
    PostOptions {
        /// The chat model, instead of the configured one.
        #[schema(example = "gpt-4o-mini")]
        model: String => &[chat::NAME, LOCAL],
        /// Sampling temperature, 0 to 2 (default 0.7).
        #[schema(example = 0.7, minimum = 0.0, maximum = 2.0)]
        temperature: f64 => &[chat::NAME, LOCAL],
        /// The cover frame, in milliseconds into the video (default: a third of the way in).
        #[schema(example = 1500)]
        cover_offset_ms: u64 => ANY,
        /// Hashtags the post must carry (without `#`), besides those the model picks.
        #[schema(example = json!(["мотивация"]))]
        hashtags: Vec<String> => ANY,
    }
}
impl_step_options!(PostOptions, |options, _| {
    let mut errors = Vec::new();
    not_blank("model", &options.model, &mut errors);
    within("temperature", options.temperature, 0.0, 2.0, &mut errors);
    if let Some(tags) = &options.hashtags {
        if tags.len() > super::post_copy::MAX_HASHTAGS {
            errors.push(FieldError::new(
                "hashtags",
                format!("at most {} hashtags", super::post_copy::MAX_HASHTAGS),
            ));
        }
        for (index, tag) in tags.iter().enumerate() {
            if let Err(problem) = super::post_copy::hashtag_problem(tag.trim_start_matches('#')) {
                errors.push(FieldError::new(format!("hashtags[{index}]"), problem));
            }
        }
    }
    errors
});

step_options! {
    /// Options of a rewrite step.
    RewriteOptions {
        /// The script's language when it differs from the project's: the script is then a
        /// translation of the reel.
        #[schema(example = "en")]
        language: String => ANY,
        /// The chat model, instead of the configured one.
        #[schema(example = "gpt-4o-mini")]
        model: String => &[chat::NAME, LOCAL],
        /// Sampling temperature, 0 to 2 (default 0.8).
        #[schema(example = 0.8, minimum = 0.0, maximum = 2.0)]
        temperature: f64 => &[chat::NAME, LOCAL],
        /// The most tokens one draft may use, 16 to 8192.
        #[schema(example = 600, minimum = 16, maximum = 8192)]
        max_tokens: u32 => &[chat::NAME, LOCAL],
        /// Gone with the Assistants API: still read from inputs stored before, so those stay
        /// readable, and refused with the reason in a request.
        #[schema(ignore)]
        assistant_id: String => ANY,
    }
}
impl_step_options!(RewriteOptions, |options, _| {
    let mut errors = Vec::new();
    language(&options.language, &mut errors);
    not_blank("model", &options.model, &mut errors);
    if options.assistant_id.is_some() {
        errors.push(FieldError::new(
            "assistant_id",
            super::step::ASSISTANTS.detail(),
        ));
    }
    within("temperature", options.temperature, 0.0, 2.0, &mut errors);
    // A reasoning model takes only its default temperature, so asking it for another is a
    // mistake to say now, not to drop silently later.
    if let (Some(model), Some(temperature)) = (&options.model, options.temperature) {
        if chat::is_reasoning_model(model) && temperature != 1.0 {
            errors.push(FieldError::new(
                "temperature",
                format!("`{model}` is a reasoning model and takes only its default temperature (1): leave temperature out"),
            ));
        }
    }
    within(
        "max_tokens",
        options.max_tokens.map(f64::from),
        16.0,
        8192.0,
        &mut errors,
    );
    errors
});

/// What OpenAI's speech endpoint returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SpeechFormat {
    Mp3,
    Wav,
    Opus,
    Flac,
}

impl SpeechFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SpeechFormat::Mp3 => "mp3",
            SpeechFormat::Wav => "wav",
            SpeechFormat::Opus => "opus",
            SpeechFormat::Flac => "flac",
        }
    }
}

/// ElevenLabs' voice settings; `speed` comes from the step's own `speed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoiceSettings {
    /// 0 to 1 (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub stability: Option<f64>,
    /// 0 to 1 (default 0.75).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub similarity_boost: Option<f64>,
    /// 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub style: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_speaker_boost: Option<bool>,
}

step_options! {
    /// Options of a voice step.
    VoiceOptions {
        /// The pace, 0.25 to 4 (1 is the voice's own); each provider keeps within its own range.
        #[schema(example = 1.1, minimum = 0.25, maximum = 4.0)]
        speed: f64 => ANY,
        /// How far from the project's target duration the voiceover may end before it is
        /// refitted, 0 to 30 seconds.
        #[schema(example = 2.0, minimum = 0.0, maximum = 30.0)]
        tolerance_seconds: f64 => ANY,
        /// The voice: an ElevenLabs voice id, an OpenAI voice (`alloy`), an espeak-ng voice
        /// (`ru`) or the local engine's voice name.
        #[schema(example = "alloy")]
        voice: String => &[elevenlabs::NAME, super::provider::voice_openai::NAME, LOCAL],
        /// The speech model, instead of the configured one (`eleven_multilingual_v2`, `tts-1`).
        #[schema(example = "eleven_multilingual_v2")]
        model: String => &[elevenlabs::NAME, super::provider::voice_openai::NAME],
        /// The audio format OpenAI returns (default `wav`).
        format: SpeechFormat => &[super::provider::voice_openai::NAME],
        /// ElevenLabs' `codec_samplerate[_bitrate]` (default `mp3_44100_128`).
        #[schema(example = "mp3_44100_128", pattern = "^(mp3|pcm|ulaw|alaw|opus)_[0-9]+(_[0-9]+)?$")]
        output_format: String => &[elevenlabs::NAME],
        /// Ask ElevenLabs for character timings (default true); without them words are timed by
        /// their length.
        timestamps: bool => &[elevenlabs::NAME],
        voice_settings: VoiceSettings => &[elevenlabs::NAME],
        /// Shorten pauses over 300 ms before fitting (default true); false keeps the voice's
        /// own pauses.
        trim_silences: bool => ANY,
        /// Your own voiceover instead of synthesis: a library audio asset's key (the
        /// `recording` provider needs it). Its words are timed by transcribing it.
        recording_key: String => &[super::provider::recording::NAME],
    }
}
impl_step_options!(VoiceOptions, |options, _| {
    let mut errors = Vec::new();
    within("speed", options.speed, 0.25, 4.0, &mut errors);
    within(
        "tolerance_seconds",
        options.tolerance_seconds,
        0.0,
        30.0,
        &mut errors,
    );
    not_blank("voice", &options.voice, &mut errors);
    not_blank("model", &options.model, &mut errors);
    if let Some(format) = &options.output_format {
        let mut parts = format.split('_');
        let codec_ok = parts
            .next()
            .is_some_and(|codec| ["mp3", "pcm", "ulaw", "alaw", "opus"].contains(&codec));
        let rest: Vec<&str> = parts.collect();
        let numbers_ok = (1..=2).contains(&rest.len())
            && rest
                .iter()
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if !(codec_ok && numbers_ok) {
            errors.push(FieldError::new(
                "output_format",
                "must be codec_samplerate[_bitrate], such as mp3_44100_128",
            ));
        }
    }
    if let Some(settings) = &options.voice_settings {
        for (field, value) in [
            ("stability", settings.stability),
            ("similarity_boost", settings.similarity_boost),
            ("style", settings.style),
        ] {
            within(
                &format!("voice_settings.{field}"),
                value,
                0.0,
                1.0,
                &mut errors,
            );
        }
    }
    errors
}, library: |options| {
    options
        .recording_key
        .iter()
        .map(|key| LibraryKey {
            field: "recording_key".into(),
            key: Some(key.clone()),
            kinds: &[AssetKind::Audio],
        })
        .collect()
});

/// What fills the frame behind the subtitles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BackgroundKind {
    /// A slowly moving gradient made from `colour` (the default when the project's library
    /// has no videos or images): another creator's footage is not reused unless asked for.
    Generated,
    /// The source reel's own video, when asked for (it is another creator's footage).
    Reel,
    /// B-roll: `clip_keys` (or, without them, the project's library videos and images), one
    /// per sentence, each cut to its sentence and crossfaded into the next.
    Clips,
    /// Stock B-roll (Pexels or Pixabay, `stock_library`) found by the script's English search
    /// words, a clip per sentence; the default when a library is configured. Without matches,
    /// the project's library videos stand in, else the generated background.
    Stock,
    /// A still image, `image_key`.
    Image,
    /// A plain `colour`.
    #[serde(alias = "color")]
    Colour,
}

/// Where the subtitles sit; every place is inside the Reels safe area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubtitlePosition {
    #[default]
    Bottom,
    Center,
    Top,
}

/// A look for the burned-in subtitles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubtitlePreset {
    /// The cue in `colour`, the spoken word recoloured in `highlight_colour` (the default).
    #[default]
    Karaoke,
    /// A few words at a time; the spoken word grows and turns bold in `highlight_colour`.
    Pop,
    /// The cue on a rounded `box_colour` box, the spoken word in `highlight_colour`.
    Boxed,
    /// Small plain text with a thin outline, no highlight.
    Minimal,
}

/// How the burned-in subtitles look.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubtitleOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<SubtitlePreset>,
    /// At most this many words on screen at once, 1 to 12 (default: as many as fit two short
    /// lines; `pop` shows 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 3, minimum = 1, maximum = 12)]
    pub words_per_cue: Option<u32>,
    /// A font from the project's library (its asset `key`), instead of `font`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font_key: Option<String>,
    /// `#RRGGBB` of the `boxed` style's box (default black, drawn three-quarters opaque).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "#000000", pattern = "^#[0-9A-Fa-f]{6}$")]
    pub box_colour: Option<String>,
    /// A font installed on the server (default `DejaVu Sans`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "DejaVu Sans")]
    pub font: Option<String>,
    /// 20 to 200 pixels (default 76; `minimal` 60). Every format is 1080 pixels on its shorter
    /// side, so text is as big in each; a preview scales it with the frame.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = 76, minimum = 20, maximum = 200)]
    pub font_size: Option<u32>,
    /// `#RRGGBB` (default white).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "#FFFFFF", pattern = "^#[0-9A-Fa-f]{6}$")]
    pub colour: Option<String>,
    /// `#RRGGBB` of the word being spoken (default yellow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "#FFD400", pattern = "^#[0-9A-Fa-f]{6}$")]
    pub highlight_colour: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<SubtitlePosition>,
    /// Draw the script's key words (chosen by the writer) in `emphasis_colour` (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emphasis: Option<bool>,
    /// `#RRGGBB` of the key words while they are not being spoken (default pink).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(example = "#FF5C8A", pattern = "^#[0-9A-Fa-f]{6}$")]
    pub emphasis_colour: Option<String>,
}

step_options! {
    /// Options of a render step. Media keys name files of the project's own media (uploads).
    RenderOptions {
        background: BackgroundKind => &[LOCAL],
        /// `#RRGGBB` behind everything, and the base of the generated background (default
        /// `#101820`; HeyGen's default is configured).
        #[schema(example = "#101820", pattern = "^#[0-9A-Fa-f]{6}$")]
        colour: String => &[LOCAL, heygen::NAME],
        /// The media key of the still image for `background: image`.
        image_key: String => &[LOCAL],
        /// The media key of music mixed under the voice.
        music_key: String => &[LOCAL],
        /// The media key of a logo drawn in a corner.
        logo_key: String => &[LOCAL],
        /// Library videos and images (asset keys, 1 to 60) for `background: clips`, used in
        /// this order, one per sentence and again from the first when there are more sentences.
        clip_keys: Vec<String> => &[LOCAL],
        /// Where stock B-roll is searched: `pexels` or `pixabay` (default: the first configured,
        /// in that order).
        #[schema(example = "pexels")]
        stock_library: String => &[LOCAL],
        subtitles: SubtitleOptions => &[LOCAL],
        /// The frame shapes to render, each with its own safe areas (default `["9:16"]`). The
        /// first is `video.mp4`; every one is listed in the output's `renditions`.
        #[schema(example = json!(["9:16", "1:1"]))]
        formats: Vec<VideoFormat> => &[LOCAL],
        /// A fast draft at half size (540x960 for 9:16) to iterate on; render again without it
        /// for the final video.
        preview: bool => &[LOCAL],
        /// The HeyGen avatar, instead of `providers.heygen.avatar_id`.
        #[schema(example = "Daisy-inskirt-20220818")]
        avatar_id: String => &[heygen::NAME],
    }
}
impl_step_options!(RenderOptions, |options, scope| {
    let mut errors = options.foreign_assets(&scope.own_media);
    stock_problems(options, &scope.stock_libraries, &mut errors);
    colour("colour", &options.colour, &mut errors);
    not_blank("avatar_id", &options.avatar_id, &mut errors);
    if options.background == Some(BackgroundKind::Image) && options.image_key.is_none() {
        errors.push(FieldError::new(
            "image_key",
            "`background: image` needs `image_key`, a media key of the image",
        ));
    }
    if let Some(subtitles) = &options.subtitles {
        not_blank("subtitles.font", &subtitles.font, &mut errors);
        within(
            "subtitles.font_size",
            subtitles.font_size.map(f64::from),
            20.0,
            200.0,
            &mut errors,
        );
        colour("subtitles.colour", &subtitles.colour, &mut errors);
        colour(
            "subtitles.highlight_colour",
            &subtitles.highlight_colour,
            &mut errors,
        );
        colour("subtitles.box_colour", &subtitles.box_colour, &mut errors);
        colour(
            "subtitles.emphasis_colour",
            &subtitles.emphasis_colour,
            &mut errors,
        );
        if subtitles.font_key.is_some() && subtitles.font.is_some() {
            errors.push(FieldError::new(
                "subtitles.font_key",
                "give `font` (an installed font) or `font_key` (a library font), not both",
            ));
        }
        within(
            "subtitles.words_per_cue",
            subtitles.words_per_cue.map(f64::from),
            1.0,
            12.0,
            &mut errors,
        );
    }
    if let Some(clips) = &options.clip_keys {
        if !(1..=MAX_CLIPS).contains(&clips.len()) {
            errors.push(FieldError::new(
                "clip_keys",
                format!("must name 1 to {MAX_CLIPS} clips"),
            ));
        }
        if options.background.is_some_and(|kind| kind != BackgroundKind::Clips) {
            errors.push(FieldError::new(
                "clip_keys",
                "clips are for `background: clips` (or no `background`)",
            ));
        }
    }
    if let Some(formats) = &options.formats {
        if formats.is_empty() {
            errors.push(FieldError::new("formats", "must name at least one format"));
        }
        for (index, format) in formats.iter().enumerate() {
            if formats[..index].contains(format) {
                errors.push(FieldError::new(
                    format!("formats[{index}]"),
                    format!("`{}` is asked for twice", format.ratio()),
                ));
            }
        }
    }
    errors
}, library: |options| {
    let mut keys: Vec<LibraryKey> = options
        .clip_keys
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, key)| LibraryKey {
            field: format!("clip_keys[{index}]"),
            key: Some(key.clone()),
            kinds: &[AssetKind::Video, AssetKind::Image],
        })
        .collect();
    // Files of the library must be of a kind the option plays; other project media (a reel's
    // files) is taken as it is.
    let singles: [(&str, &Option<String>, &'static [AssetKind]); 3] = [
        ("image_key", &options.image_key, &[AssetKind::Image]),
        ("logo_key", &options.logo_key, &[AssetKind::Image]),
        ("music_key", &options.music_key, &[AssetKind::Audio, AssetKind::Video]),
    ];
    for (field, key, kinds) in singles {
        if let Some(key) = key.as_ref().filter(|key| is_library_key(key)) {
            keys.push(LibraryKey {
                field: field.into(),
                key: Some(key.clone()),
                kinds,
            });
        }
    }
    if options.background == Some(BackgroundKind::Clips) && options.clip_keys.is_none() {
        keys.push(LibraryKey {
            field: "background".into(),
            key: None,
            kinds: &[AssetKind::Video, AssetKind::Image],
        });
    }
    if let Some(key) = options.subtitles.as_ref().and_then(|s| s.font_key.clone()) {
        keys.push(LibraryKey {
            field: "subtitles.font_key".into(),
            key: Some(key),
            kinds: &[AssetKind::Font],
        });
    }
    keys
});

/// Stock B-roll needs a configured library, and the one named must be.
fn stock_problems(options: &RenderOptions, configured: &[&str], errors: &mut Vec<FieldError>) {
    let settings = super::provider::STOCK_KEY_SETTINGS
        .map(|(_, setting)| format!("set {setting}"))
        .join(" or ");
    if let Some(asked) = &options.stock_library {
        if !configured.contains(&asked.as_str()) {
            let offered = if configured.is_empty() {
                format!("no stock library is configured here: {settings}")
            } else {
                format!("configured here: {}", configured.join(", "))
            };
            errors.push(FieldError::new(
                "stock_library",
                format!("`{asked}` is not a stock library of this deployment; {offered}"),
            ));
        }
        if options
            .background
            .is_some_and(|kind| kind != BackgroundKind::Stock)
        {
            errors.push(FieldError::new(
                "stock_library",
                "a stock library is for `background: stock` (or no `background`)",
            ));
        }
    }
    if options.background == Some(BackgroundKind::Stock) && configured.is_empty() {
        errors.push(FieldError::new(
            "background",
            format!("`stock` needs a stock library: {settings}"),
        ));
    }
}

/// Whether a media key is a file of a project's media library (`projects/{id}/assets/...`).
pub fn is_library_key(key: &str) -> bool {
    key.split('/').nth(2) == Some("assets")
}

/// The most clips one render cuts between.
pub const MAX_CLIPS: usize = 60;

impl RenderOptions {
    /// The formats to render, the primary one first.
    pub fn formats(&self) -> Vec<VideoFormat> {
        match &self.formats {
            Some(formats) if !formats.is_empty() => formats.clone(),
            _ => vec![VideoFormat::Vertical],
        }
    }

    /// The media files the options name, by option.
    pub fn asset_keys(&self) -> Vec<(String, &str)> {
        let font_key = self.subtitles.as_ref().and_then(|s| s.font_key.as_ref());
        let mut keys: Vec<(String, &str)> = [
            ("image_key", self.image_key.as_ref()),
            ("music_key", self.music_key.as_ref()),
            ("logo_key", self.logo_key.as_ref()),
            ("subtitles.font_key", font_key),
        ]
        .into_iter()
        .filter_map(|(option, key)| key.map(|key| (option.to_owned(), key.as_str())))
        .collect();
        for (index, key) in self.clip_keys.iter().flatten().enumerate() {
            keys.push((format!("clip_keys[{index}]"), key.as_str()));
        }
        keys
    }

    /// Media keys outside the project's own media, which a render may not read.
    pub fn foreign_assets(&self, own_media: &str) -> Vec<FieldError> {
        let own = format!("{own_media}/");
        self.asset_keys()
            .into_iter()
            .filter(|(_, key)| !key.starts_with(&own))
            .map(|(option, _)| {
                FieldError::new(
                    option,
                    format!("must be a media key of this project (starting with `{own}`)"),
                )
            })
            .collect()
    }
}

/// Each step's options schema, with the providers each option is for: the OpenAPI document
/// says so on every option.
pub fn providers_by_option() -> [(&'static str, OptionProviders); 6] {
    [
        ("CollectOptions", CollectOptions::PROVIDERS_BY_OPTION),
        ("TranscribeOptions", TranscribeOptions::PROVIDERS_BY_OPTION),
        ("RewriteOptions", RewriteOptions::PROVIDERS_BY_OPTION),
        ("VoiceOptions", VoiceOptions::PROVIDERS_BY_OPTION),
        ("RenderOptions", RenderOptions::PROVIDERS_BY_OPTION),
        ("PostOptions", PostOptions::PROVIDERS_BY_OPTION),
    ]
}

/// Per-step options of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcribe: Option<TranscribeOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<RewriteOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<VoiceOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub render: Option<RenderOptions>,
}

impl RunOptions {
    /// What a run stores as `step`'s input: what starting the step alone would store, so an
    /// earlier output of either can be reused.
    pub fn step_input(&self, step: Step) -> serde_json::Value {
        fn input<O: StepOptions>(options: &Option<O>) -> serde_json::Value {
            serde_json::to_value(StepInput {
                options: options.clone().unwrap_or_default(),
            })
            .unwrap_or_default()
        }
        match step {
            Step::Transcribe => input(&self.transcribe),
            Step::Rewrite => input(&self.rewrite),
            Step::Voice => input(&self.voice),
            Step::Render => input(&self.render),
            Step::Collect => input::<CollectOptions>(&None),
            // A run's post is written with the writer's defaults: a run takes no post options.
            Step::WritePost => input::<PostOptions>(&None),
        }
    }

    /// Every problem of `step`'s options for `provider`.
    pub fn check(
        &self,
        step: Step,
        provider: &str,
        scope: &OptionScope,
        required: &[RequiredOption],
    ) -> Vec<FieldError> {
        fn check<O: StepOptions>(
            options: &Option<O>,
            step: Step,
            provider: &str,
            scope: &OptionScope,
            required: &[RequiredOption],
        ) -> Vec<FieldError> {
            options.clone().unwrap_or_default().check(
                provider,
                &format!("options.{step}"),
                scope,
                required,
            )
        }
        match step {
            Step::Transcribe => check(&self.transcribe, step, provider, scope, required),
            Step::Rewrite => check(&self.rewrite, step, provider, scope, required),
            Step::Voice => check(&self.voice, step, provider, scope, required),
            Step::Render => check(&self.render, step, provider, scope, required),
            Step::Collect | Step::WritePost => Vec::new(),
        }
    }
}

fn language(value: &Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(problem) = value.as_deref().and_then(language_problem) {
        errors.push(FieldError::new("language", problem));
    }
}

fn not_blank(field: &str, value: &Option<String>, errors: &mut Vec<FieldError>) {
    if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
        errors.push(FieldError::new(field, "must not be empty"));
    }
}

fn within(field: &str, value: Option<f64>, min: f64, max: f64, errors: &mut Vec<FieldError>) {
    if value.is_some_and(|v| !(min..=max).contains(&v)) {
        errors.push(FieldError::new(
            field,
            format!("must be between {min} and {max}"),
        ));
    }
}

fn colour(field: &str, value: &Option<String>, errors: &mut Vec<FieldError>) {
    if value.as_deref().is_some_and(|hex| !is_hex_colour(hex)) {
        errors.push(FieldError::new(field, "must be a colour such as #FFD400"));
    }
}

pub fn is_hex_colour(value: &str) -> bool {
    value.len() == 7 && value.starts_with('#') && value[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> OptionScope {
        OptionScope {
            own_media: "p".into(),
            stock_libraries: Vec::new(),
        }
    }

    fn parse<O: StepOptions>(json: serde_json::Value) -> O {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn an_option_for_another_provider_is_named() {
        let options: RenderOptions = parse(serde_json::json!({"avatar_id": "a1"}));
        assert!(options
            .check(heygen::NAME, "options", &scope(), &[])
            .is_empty());
        let errors = options.check(LOCAL, "options", &scope(), &[]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "options.avatar_id");
        assert!(
            errors[0].message.contains("heygen"),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn out_of_range_values_are_named_with_their_path() {
        let options: VoiceOptions = parse(serde_json::json!({
            "speed": 9.0,
            "voice_settings": {"stability": 2.0}
        }));
        let fields: Vec<String> = options
            .check(elevenlabs::NAME, "options.voice", &scope(), &[])
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "options.voice.speed",
                "options.voice.voice_settings.stability"
            ]
        );
    }

    #[test]
    fn the_fake_knobs_are_for_the_fake_provider_only() {
        let options: TranscribeOptions = parse(serde_json::json!({"fail": "fatal"}));
        assert!(options
            .check(fake::NAME, "options", &scope(), &[])
            .is_empty());
        assert_eq!(
            options.check(LOCAL, "options", &scope(), &[])[0].field,
            "options.fail"
        );
    }

    #[test]
    fn unknown_options_are_refused() {
        assert!(
            serde_json::from_value::<RewriteOptions>(serde_json::json!({"temprature": 1})).is_err()
        );
    }
}
