//! The local composer against a bare ffmpeg encode of the same length and settings, in one run:
//! 40 s of 1080x1920 from a looped 720x1280 reel, a voice track and karaoke subtitles for 110
//! words; then a half-size preview, and all four formats from one request, alternating in each
//! round. Prints a Markdown table (bench/render writes it into BENCHMARKS.md).
//!
//! `RENDER_BENCH_ROUNDS` sets the rounds (3 by default); `RENDER_BENCH_ONE_FORMAT=1` times only
//! the one-format render against the bare encode, which is the ratio with the smallest margin:
//! more rounds of it alone say more than three of everything.

use std::{path::Path, process::Command, time::Instant};

use async_trait::async_trait;
use reelforge::{
    domain::{
        options::{BackgroundKind, RenderOptions},
        project::WordRange,
        video_format::VideoFormat,
    },
    providers::{
        render::{
            broll::{self, Clip},
            local::{Encoding, FfmpegComposer},
            RenderRequest, Renderer,
        },
        transcribe::WordTiming,
        voice::estimate_timings,
        CallContext, NoCheckpoints, ProgressSink,
    },
    script::{fallback, Contract},
};

const SECONDS: u64 = 40;
const RUNS: usize = 3;
const BROLL_SECONDS: u64 = 120;
const BROLL_SENTENCES: [usize; 3] = [5, 20, 60];

/// The rounds asked for in `RENDER_BENCH_ROUNDS`, else [`RUNS`].
fn rounds() -> usize {
    std::env::var("RENDER_BENCH_ROUNDS")
        .ok()
        .and_then(|rounds| rounds.parse().ok())
        .filter(|&rounds| rounds > 0)
        .unwrap_or(RUNS)
}

/// A voice's length and word timings.
#[derive(Clone, Copy)]
struct Take<'a> {
    voice: &'a Path,
    seconds: u64,
    words: &'a [WordTiming],
}

/// Word timings with a sentence ending every `duration_ms / count`: `count` shots of B-roll.
fn sentences(count: usize, duration_ms: u64) -> Vec<WordTiming> {
    let every = duration_ms / count as u64;
    (0..count as u64)
        .flat_map(|sentence| {
            let start = sentence * every;
            [
                WordTiming {
                    text: "Шаг".into(),
                    start_ms: start,
                    end_ms: start + every / 2,
                    confidence: None,
                },
                WordTiming {
                    text: "вперёд.".into(),
                    start_ms: start + every / 2,
                    end_ms: start + every,
                    confidence: None,
                },
            ]
        })
        .collect()
}

struct Quiet;

#[async_trait]
impl ProgressSink for Quiet {
    async fn report(&self, _percent: u8, _stage: &str) {}
}

fn ffmpeg(args: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .status()
        .expect("ffmpeg runs");
    assert!(status.success(), "ffmpeg {args:?}");
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[samples.len() / 2]
}

/// Every round's ratio, for the table: with a margin of a few percent, their spread says as
/// much as their median.
fn each(ratios: &[f64]) -> String {
    let each: Vec<String> = ratios.iter().map(|ratio| format!("{ratio:.3}")).collect();
    each.join(", ")
}

fn bare_encode(reel: &Path, voice: &Path, out: &Path) {
    bare_encode_for(reel, voice, SECONDS, out);
}

fn bare_encode_for(reel: &Path, voice: &Path, seconds: u64, out: &Path) {
    let seconds = seconds.to_string();
    ffmpeg(&[
        "-stream_loop", "-1", "-i", reel.to_str().unwrap(), "-i", voice.to_str().unwrap(),
        "-filter_complex", "[0:v]scale=1080:1920:force_original_aspect_ratio=increase,crop=1080:1920,setsar=1,fps=30[v]",
        "-map", "[v]", "-map", "1:a", "-t", &seconds, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
        "-pix_fmt", "yuv420p", "-r", "30", "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-movflags", "+faststart",
        out.to_str().unwrap(),
    ]);
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("reelforge-render-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reel = dir.join("reel.mp4");
    let voice = dir.join("voice.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=720x1280:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:sample_rate=44100",
        "-t",
        "12",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        reel.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=180:sample_rate=24000:duration={SECONDS}"),
        "-ac",
        "1",
        voice.to_str().unwrap(),
    ]);
    let contract = Contract {
        language: "ru".into(),
        words: WordRange { min: 100, max: 120 },
        max_reuse: 0.2,
    };
    let script = fallback::write(&contract, 7).unwrap();
    let words = estimate_timings(&script, SECONDS * 1000);

    // The service's encodings (crates/providers/src/lib.rs).
    let composer = FfmpegComposer {
        encoding: Encoding::new("veryfast", 23),
        further: Encoding::new("superfast", 26),
    };
    let ctx = CallContext {
        attempt: 1,
        progress: &Quiet,
        checkpoints: &NoCheckpoints,
    };
    let mut renders = 0;
    let mut render = |options: RenderOptions, take: Take, clips: Vec<Clip>| {
        renders += 1;
        let output_dir = dir.join(format!("out-{renders}"));
        std::fs::create_dir_all(&output_dir).unwrap();
        let request = RenderRequest {
            audio: take.voice.to_path_buf(),
            audio_format: "wav".into(),
            audio_duration_ms: take.seconds * 1000,
            words: take.words.to_vec(),
            reel_video: Some(reel.clone()),
            assets: Default::default(),
            clips,
            font: None,
            output_dir,
            video_id: uuid::Uuid::nil(),
            key_words: Vec::new(),
            options,
        };
        let (composer, ctx) = (&composer, &ctx);
        async move {
            let started = Instant::now();
            composer
                .render(&request, ctx)
                .await
                .expect("the composer renders");
            started.elapsed().as_secs_f64()
        }
    };
    let short = Take {
        voice: &voice,
        seconds: SECONDS,
        words: &words,
    };
    let over_reel = RenderOptions {
        background: Some(BackgroundKind::Reel),
        ..Default::default()
    };
    let every_format = RenderOptions {
        formats: Some(VideoFormat::ALL.to_vec()),
        ..over_reel.clone()
    };
    let (mut composed, mut bare, mut previews) = (Vec::new(), Vec::new(), Vec::new());
    let (mut formats, mut composed_ratios, mut format_ratios) =
        (Vec::new(), Vec::new(), Vec::new());
    let rounds = rounds();
    let one_format_only = std::env::var("RENDER_BENCH_ONE_FORMAT").is_ok_and(|only| only == "1");
    for run in 0..rounds {
        // Alternate them so machine noise hits all alike; each ratio is taken within a round,
        // and every other round encodes bare first so that a drift does not favour either.
        let bare_encode_timed = || {
            let started = Instant::now();
            bare_encode(&reel, &voice, &dir.join(format!("bare-{run}.mp4")));
            started.elapsed().as_secs_f64()
        };
        let bare_first = run % 2 == 1;
        let early = bare_first.then(bare_encode_timed);
        let one = render(over_reel.clone(), short, Vec::new()).await;
        let encode = early.unwrap_or_else(bare_encode_timed);
        composed_ratios.push(one / encode);
        composed.push(one);
        bare.push(encode);
        if one_format_only {
            continue;
        }
        previews.push(
            render(
                RenderOptions {
                    preview: Some(true),
                    ..Default::default()
                },
                short,
                Vec::new(),
            )
            .await,
        );
        let four = render(every_format.clone(), short, Vec::new()).await;
        format_ratios.push(four / one);
        formats.push(four);
    }
    println!("| measure | result | baseline | ratio |");
    println!("|---|---|---|---|");
    {
        let (composed, bare) = (median(composed.clone()), median(bare));
        println!(
            "| local render, {SECONDS} s 1080x1920 (reel background, voice, {} subtitle words, loudness, checks, thumbnail), median of {rounds} | {composed:.2} s ({:.2}x real time) | bare ffmpeg encode, same inputs and settings: {bare:.2} s | {:.3}x (median of the rounds' ratios: {}) |",
            words.len(),
            composed / SECONDS as f64,
            median(composed_ratios.clone()),
            each(&composed_ratios)
        );
    }
    if one_format_only {
        std::fs::remove_dir_all(dir).unwrap();
        return;
    }
    // B-roll over a two-minute voice: 5, 20 and 60 shots cycling through five library clips.
    let long_voice = dir.join("long.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("sine=frequency=180:sample_rate=24000:duration={BROLL_SECONDS}"),
        "-ac",
        "1",
        long_voice.to_str().unwrap(),
    ]);
    let library: Vec<Clip> = (0..5)
        .map(|index| {
            let path = dir.join(format!("clip-{index}.mp4"));
            ffmpeg(&[
                "-f",
                "lavfi",
                "-i",
                &format!("testsrc2=size=720x1280:rate=30:d=4,hue=h={}", index * 60),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-pix_fmt",
                "yuv420p",
                path.to_str().unwrap(),
            ]);
            Clip { path, still: false }
        })
        .collect();
    let bare_long = {
        let started = Instant::now();
        bare_encode_for(
            &reel,
            &long_voice,
            BROLL_SECONDS,
            &dir.join("bare-long.mp4"),
        );
        started.elapsed().as_secs_f64()
    };
    let mut broll = Vec::new();
    for shots in BROLL_SENTENCES {
        let words = sentences(shots, BROLL_SECONDS * 1000);
        let take = Take {
            voice: &long_voice,
            seconds: BROLL_SECONDS,
            words: &words,
        };
        let options = RenderOptions {
            background: Some(BackgroundKind::Clips),
            ..Default::default()
        };
        // The cut rules may merge the last short sentence: report the shots actually cut.
        let cut = broll::shots(&words, BROLL_SECONDS * 1000, library.len()).len();
        broll.push((cut, render(options, take, library.clone()).await));
    }
    let (composed, preview) = (median(composed), median(previews));
    let every_format = median(formats);
    println!(
        "| preview, {SECONDS} s 540x960 (generated background, ultrafast, one loudness measurement), median of {rounds} | {preview:.2} s | the final render above | {:.2}x |",
        preview / composed
    );
    println!(
        "| all four formats (9:16, 4:5, 1:1, 16:9) from one request (one ffmpeg process), median of {rounds} | {every_format:.2} s | the 9:16 render above | {:.3}x (median of the rounds' ratios: {}) |",
        median(format_ratios.clone()),
        each(&format_ratios)
    );
    for (shots, seconds) in &broll {
        println!(
            "| B-roll, {BROLL_SECONDS} s 1080x1920 cut between {shots} clips with crossfades, once | {seconds:.2} s | bare encode of {BROLL_SECONDS} s from one reel: {bare_long:.2} s | {:.2}x |",
            seconds / bare_long
        );
    }
    if let (Some((few, first)), Some((many, last))) = (broll.first(), broll.last()) {
        println!(
            "| B-roll cost of each clip past the first {few} | {:.3} s per clip | | |",
            (last - first) / (*many - *few) as f64
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}
