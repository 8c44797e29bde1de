//! `reelforge doctor`: every provider of every step, whether it can be used here, and why not.

use std::fmt::Write;

use crate::{
    config::Settings,
    domain::step::{Step, RETIRED},
    engines,
    providers::{fake, process::on_path, voice, Providers, LOCAL},
};

/// A tool the local providers run, and what to install for it.
const TOOLS: &[(&str, &str, &str)] = &[
    (
        "ffmpeg",
        "media preparation, voice fitting, the local composer",
        "apt-get install ffmpeg",
    ),
    (
        "ffprobe",
        "checking every video and audio file",
        "apt-get install ffmpeg",
    ),
    (
        "espeak-ng",
        "the local voice without the engine; the engine's last resort",
        "apt-get install espeak-ng",
    ),
    (
        "text2wave",
        "the engine's Russian voice (Festival)",
        "apt-get install festival festvox-ru",
    ),
];

/// The report, and whether everything the offline pipeline needs is installed.
pub async fn report(settings: &Settings) -> (String, bool) {
    let mut out = String::new();
    let mut offline_ready = true;
    let _ = writeln!(out, "tools");
    for (program, used_for, install) in TOOLS {
        match on_path(program) {
            Some(path) => {
                let _ = writeln!(out, "  {program:<10} ok       {}", path.display());
            }
            None => {
                offline_ready &= *program == "text2wave";
                let _ = writeln!(
                    out,
                    "  {program:<10} MISSING  needed for {used_for} ({install})"
                );
            }
        }
    }

    let _ = writeln!(out, "database");
    match crate::db::pooler::probe(&settings.database).await {
        Ok(findings) => {
            offline_ready &= findings.is_usable();
            for (what, status) in findings.lines(&settings.database) {
                let _ = writeln!(out, "  {what:<10} {status}");
            }
        }
        // `serve` says the same when it starts; the rest of the report still helps.
        Err(error) => {
            let _ = writeln!(out, "  url        unreachable: {error}");
        }
    }

    let engine = &settings.engines;
    // A stopped engine is fine (`serve` starts it); a missing one is not.
    offline_ready &= engine.is_enabled();
    let health = if engine.is_enabled() {
        engines::health(engine).await
    } else {
        None
    };
    let engine_status = |part: &str| -> String {
        if !engine.is_enabled() {
            return "not installed: run scripts/setup (or set REELFORGE__ENGINES__ENABLED=true with engines.base_url)"
                .into();
        }
        match health
            .as_ref()
            .and_then(|h| h.pointer(&format!("/engines/{part}")))
        {
            Some(serde_json::Value::String(status)) if status == "ok" => {
                format!("ready ({})", engine.base_url())
            }
            Some(status) => format!("unavailable: {}", status.as_str().unwrap_or_default()),
            None => format!(
                "unavailable: the engine does not answer at {} (it starts with `reelforge serve`)",
                engines::health_url(engine)
            ),
        }
    };
    let voices: Vec<engines::EngineVoice> = health
        .as_ref()
        .and_then(|health| serde_json::from_value(health["voices"].clone()).ok())
        .unwrap_or_default();
    let registry = match Providers::from_settings(settings) {
        Ok(registry) => registry,
        Err(error) => {
            let _ = writeln!(out, "providers: cannot be set up: {error}");
            return (out, false);
        }
    };
    // The same registry the jobs use says what is usable; the step table says what else could
    // be, and how to enable it.
    for step in Step::with_provider_setting() {
        let usable = registry.names(step);
        let auto = match registry.preferred(step) {
            Some(name) => format!("auto: {name}"),
            None => format!("auto: nothing usable; {}", step.configure_hint()),
        };
        let _ = writeln!(out, "{step} ({auto})");
        let offered = usable.contains(&fake::NAME).then_some(fake::NAME);
        let rows = step
            .info()
            .providers
            .iter()
            .map(|entry| (entry.name, Some(entry.enable)))
            .chain(offered.map(|name| (name, None)));
        for (name, enable) in rows {
            let status = match (usable.contains(&name), enable) {
                (true, _) if name == LOCAL => {
                    local_detail(step, engine.is_enabled(), &engine_status, &voices)
                }
                // The configured model decides whether Russian is enforced or guessed.
                (true, _) if name == voice::elevenlabs::NAME => format!(
                    "ready ({})",
                    voice::elevenlabs::language_note(&settings.providers.elevenlabs.model)
                ),
                (true, _) => "ready".into(),
                (false, Some(enable)) => format!("not configured: {enable}"),
                (false, None) => "not offered".into(),
            };
            let _ = writeln!(out, "  {name:<17} {status}");
        }
        // Said once here, so that an operator who configured one learns why it is gone.
        for retired in RETIRED.iter().filter(|retired| retired.step == step) {
            let _ = writeln!(
                out,
                "  {:<17} retired, use {}: {}",
                retired.name, retired.instead, retired.why
            );
        }
    }
    let _ = writeln!(
        out,
        "stock b-roll (the local composer's default background)"
    );
    for (name, setting) in crate::providers::stock::KEY_SETTINGS {
        let status = if registry.stock.libraries.contains_key(name) {
            "ready".to_owned()
        } else {
            format!("not configured: set {setting}")
        };
        let _ = writeln!(out, "  {name:<17} {status}");
    }
    let _ = writeln!(out, "publish");
    for (what, status) in crate::publish::readiness(&settings.publishing, &settings.media) {
        let _ = writeln!(out, "  {what:<17} {status}");
    }
    (out, offline_ready)
}

/// What the local provider of `step` runs on, and how it is doing.
fn local_detail(
    step: Step,
    engine_enabled: bool,
    engine_status: &dyn Fn(&str) -> String,
    voices: &[engines::EngineVoice],
) -> String {
    match step {
        Step::Collect => "ready".into(),
        Step::Transcribe => engine_status("stt"),
        Step::Rewrite | Step::WritePost => engine_status("llm"),
        // A silent engine says why; it lists its voices once it answers.
        Step::Voice if engine_enabled && voices.is_empty() => engine_status("tts"),
        Step::Voice if engine_enabled => {
            let voices = voices
                .iter()
                .map(|v| format!("{} ({}, {})", v.name, v.language, v.licence))
                .collect::<Vec<_>>()
                .join(", ");
            format!("{}; voices: {voices}", engine_status("tts"))
        }
        Step::Voice => {
            "ready (espeak-ng; run scripts/setup for the engine's RHVoice, Festival and Piper voices)".into()
        }
        Step::Render => "ready (ffmpeg composer)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_silent_engine_says_why_instead_of_an_empty_voice_list() {
        let status = |_: &str| "unavailable: the engine does not answer".to_owned();
        assert_eq!(
            local_detail(Step::Voice, true, &status, &[]),
            "unavailable: the engine does not answer"
        );
    }
}
