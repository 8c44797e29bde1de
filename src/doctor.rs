//! `reelforge doctor`: every provider of every step, whether it can be used here, and why not.

use std::fmt::Write;

use crate::{config::Settings, engines, providers::LOCAL};

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

fn on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|path| path.is_file())
    })
}

fn key_status(configured: bool, variable: &str) -> String {
    if configured {
        "ready".into()
    } else {
        format!("not configured: set {variable}")
    }
}

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
    let providers = &settings.providers;
    let steps: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "collect",
            vec![
                ("fake", "ready".into()),
                (
                    "apify",
                    key_status(
                        providers.apify.is_configured(),
                        "REELFORGE__PROVIDERS__APIFY__API_KEY",
                    ),
                ),
                (
                    "import / files",
                    "ready (dataset import, uploads, allowed folders)".into(),
                ),
            ],
        ),
        (
            "transcribe",
            vec![
                ("fake", "ready".into()),
                (LOCAL, engine_status("stt")),
                (
                    "openai",
                    key_status(
                        providers.openai.is_configured(),
                        "REELFORGE__PROVIDERS__OPENAI__API_KEY or __BASE_URL",
                    ),
                ),
                (
                    "assemblyai",
                    key_status(
                        providers.assemblyai.is_configured(),
                        "REELFORGE__PROVIDERS__ASSEMBLYAI__API_KEY",
                    ),
                ),
            ],
        ),
        (
            "rewrite",
            vec![
                ("fake", "ready".into()),
                (LOCAL, engine_status("llm")),
                (
                    "openai",
                    key_status(
                        providers.openai.is_configured(),
                        "REELFORGE__PROVIDERS__OPENAI__API_KEY or __BASE_URL",
                    ),
                ),
                (
                    "openai_assistant",
                    key_status(
                        providers.openai.is_configured() && providers.openai.assistant_id.is_some(),
                        "the OpenAI key and REELFORGE__PROVIDERS__OPENAI__ASSISTANT_ID",
                    ),
                ),
                (
                    "fallback writer",
                    "ready (offline, Russian and English)".into(),
                ),
            ],
        ),
        (
            "voice",
            vec![
                ("fake", "ready".into()),
                (
                    LOCAL,
                    if engine.is_enabled() {
                        engine_status("tts")
                    } else if on_path("espeak-ng").is_some() {
                        "ready (espeak-ng; enable the engine for Festival and Piper voices)".into()
                    } else {
                        "unavailable: install espeak-ng or enable the engine".into()
                    },
                ),
                (
                    "openai",
                    key_status(
                        providers.openai.is_configured(),
                        "REELFORGE__PROVIDERS__OPENAI__API_KEY or __BASE_URL",
                    ),
                ),
                (
                    "elevenlabs",
                    key_status(
                        providers.elevenlabs.api.is_configured(),
                        "REELFORGE__PROVIDERS__ELEVENLABS__API_KEY",
                    ),
                ),
            ],
        ),
        (
            "render",
            vec![
                ("fake", "ready".into()),
                (
                    LOCAL,
                    if on_path("ffmpeg").is_some() {
                        "ready (ffmpeg composer)".into()
                    } else {
                        "unavailable: install ffmpeg".into()
                    },
                ),
                (
                    "heygen",
                    key_status(
                        providers.heygen.api.is_configured()
                            && providers.heygen.avatar_id.is_some(),
                        "REELFORGE__PROVIDERS__HEYGEN__API_KEY and __AVATAR_ID",
                    ),
                ),
            ],
        ),
    ];
    for (step, rows) in steps {
        let _ = writeln!(out, "{step}");
        for (name, status) in rows {
            let _ = writeln!(out, "  {name:<17} {status}");
        }
    }
    (out, offline_ready)
}
