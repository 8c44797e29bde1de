//! Loudness: the final mix is brought to what the platforms play back at (-14 LUFS integrated,
//! true peak at most -1 dBTP) and the rendered file is measured again with `ebur128`, so the
//! output records what a listener gets.
//!
//! Synthetic speech has its peaks about 19 dB above its loudness. A plain gain to -14 LUFS would
//! put them above 0 dBFS, so the chain first evens the speech out (`speechnorm`, which raises
//! quiet stretches towards the peaks), then applies a gain, then holds the peaks with a
//! limiter. The limiter makes the result non-linear in the gain, so the gain is found by
//! measuring the audio alone a few times (a secant search), starting from the evened speech's
//! own loudness: up to the limiter the gain adds exactly, so the first guess is only off by what
//! the limiter takes. The search reads only the integrated loudness, so it measures without the
//! true peak (4x oversampling, half the cost of a measurement). ffmpeg's two-pass `loudnorm` was
//! tried first. It can only apply a linear gain when the peaks leave room; otherwise it falls
//! back to a dynamic mode built for programmes of minutes, and that left a 3-second voice at
//! -15.5 LUFS.

use crate::{process, ProviderError};

/// Integrated loudness the mix is brought to, in LUFS.
pub const TARGET_LUFS: f64 = -14.0;
/// The highest true peak allowed, in dBTP.
pub const TARGET_PEAK_DBTP: f64 = -1.0;
/// Where the limiter holds sample peaks (-3 dBFS): two decibels of room for what it lets
/// through and for the peaks between samples that a true-peak meter sees.
const LIMIT: f64 = 0.708;
/// The gains tried; beyond them, silence would be amplified into noise.
const GAIN_RANGE_DB: std::ops::RangeInclusive<f64> = -30.0..=30.0;
/// Close enough to the target.
const TOLERANCE_LU: f64 = 0.3;
/// Measurements of the audio alone before the render.
pub const MAX_MEASUREMENTS: usize = 5;

/// The chain's first filter: speech evened out, before any gain.
pub const EVEN: &str = "speechnorm=p=0.5:e=3:r=0.0005:l=1";

/// The filters that bring the mix to the target with `gain_db`, then 44.1 kHz in stereo, a
/// layout the encoder always takes (a voice file may name none).
pub fn chain(gain_db: f64) -> String {
    format!(
        "{EVEN},volume={:.2}dB,alimiter=limit={LIMIT}:attack=2:release=30:level=disabled,aresample=44100,aformat=channel_layouts=stereo",
        gain_db.clamp(*GAIN_RANGE_DB.start(), *GAIN_RANGE_DB.end())
    )
}

/// The search for the gain: each measurement of the chain at a gain gives the next gain to
/// try, or `None` when the last one is close enough (or no other would do better).
#[derive(Debug, Default)]
pub struct GainSearch {
    tried: Vec<(f64, f64)>,
}

impl GainSearch {
    /// The first gain to try, from the integrated loudness (LUFS) of the mix through [`EVEN`].
    pub fn start(evened_lufs: f64) -> f64 {
        (TARGET_LUFS - evened_lufs).clamp(*GAIN_RANGE_DB.start(), *GAIN_RANGE_DB.end())
    }

    /// The next gain after `gain` gave `measured_lufs` through the whole chain.
    pub fn next(&mut self, gain: f64, measured_lufs: f64) -> Option<f64> {
        let error = TARGET_LUFS - measured_lufs;
        if error.abs() <= TOLERANCE_LU {
            return None;
        }
        // How much loudness a decibel of gain buys here, from the last two tries; the limiter
        // makes it less than one.
        let slope = match self.tried.last() {
            Some(&(previous_gain, previous)) if (gain - previous_gain).abs() > 0.01 => {
                ((measured_lufs - previous) / (gain - previous_gain)).clamp(0.1, 1.0)
            }
            _ => 1.0,
        };
        self.tried.push((gain, measured_lufs));
        let next = (gain + error / slope).clamp(*GAIN_RANGE_DB.start(), *GAIN_RANGE_DB.end());
        ((next - gain).abs() > 0.05).then_some(next)
    }
}

/// The filter that measures what passes through it; its summary goes to stderr.
pub const MEASURE: &str = "ebur128=peak=true";
/// [`MEASURE`] without the true peak, for the gain search.
pub const MEASURE_INTEGRATED: &str = "ebur128";

fn unreadable(what: &str) -> ProviderError {
    ProviderError::fatal(
        crate::error_code::ErrorCode::RenderCheckFailed,
        format!("could not read {what}"),
    )
}

pub use reelforge_vocab::domain::output::Loudness;

/// The summary `ebur128` prints at the end.
struct Summary<'a>(&'a str);

impl<'a> Summary<'a> {
    fn of(stderr: &'a str) -> Result<Summary<'a>, ProviderError> {
        stderr
            .rfind("Summary:")
            .map(|at| Summary(&stderr[at..]))
            .ok_or_else(|| unreadable("ebur128's summary"))
    }

    /// The number on the line starting with `label` in `section`.
    fn value(&self, section: &str, label: &str) -> Option<f64> {
        let from = self.0.find(section)?;
        let line = self.0[from..]
            .lines()
            .find(|line| line.trim_start().starts_with(label))?;
        let text = line
            .trim_start()
            .trim_start_matches(label)
            .split_whitespace()
            .next()?;
        match text {
            "-inf" => Some(-99.0),
            other => other.parse().ok(),
        }
    }

    /// `I: … LUFS` under "Integrated loudness".
    fn integrated(&self) -> Result<f64, ProviderError> {
        self.value("Integrated loudness", "I:")
            .ok_or_else(|| unreadable("the integrated loudness"))
    }
}

/// Reads the summary `ebur128=peak=true` prints at the end: `I: … LUFS` under "Integrated
/// loudness" and `Peak: … dBFS` under "True peak".
pub fn parse_ebur128(stderr: &str) -> Result<Loudness, ProviderError> {
    let summary = Summary::of(stderr)?;
    Ok(Loudness {
        integrated_lufs: summary.integrated()?,
        true_peak_dbtp: summary
            .value("True peak", "Peak:")
            .ok_or_else(|| unreadable("the true peak"))?,
    })
}

/// Reads the integrated loudness from the summary of [`MEASURE_INTEGRATED`].
pub fn parse_integrated(stderr: &str) -> Result<f64, ProviderError> {
    Summary::of(stderr)?.integrated()
}

/// Measures a rendered file's loudness.
pub async fn measure(file: &std::path::Path) -> Result<Loudness, ProviderError> {
    let output = process::run_output(
        "ffmpeg",
        [
            "-hide_banner",
            "-nostats",
            "-i",
            &file.display().to_string(),
            "-map",
            "0:a:0",
            "-af",
            MEASURE,
            "-f",
            "null",
            "-",
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    parse_ebur128(&String::from_utf8_lossy(&output.stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gain_search_closes_in_on_the_target_through_a_limiter() {
        // A stand-in for the limited chain: the first 8 dB count fully, the rest a quarter.
        let loudness_at = |gain: f64| -22.0 + gain.min(8.0) + (gain - 8.0).max(0.0) / 4.0;
        let mut search = GainSearch::default();
        let mut gain = GainSearch::start(loudness_at(0.0));
        let mut measurements = 1;
        while let Some(next) = search.next(gain, loudness_at(gain)) {
            gain = next;
            measurements += 1;
        }
        assert!((loudness_at(gain) - TARGET_LUFS).abs() <= TOLERANCE_LU);
        assert!(
            measurements <= MAX_MEASUREMENTS,
            "{measurements} measurements"
        );
        // Out of reach: the search stops at the largest gain instead of spinning.
        let mut search = GainSearch::default();
        assert_eq!(search.next(30.0, -70.0), None);
    }

    #[test]
    fn the_summary_is_read_as_ffmpeg_prints_it() {
        let loudness = parse_ebur128(
            "[Parsed_ebur128_0 @ 0x5] Summary:\n\n  Integrated loudness:\n    I:         -14.1 LUFS\n    Threshold: -24.3 LUFS\n\n  Loudness range:\n    LRA:         2.4 LU\n\n  True peak:\n    Peak:       -1.3 dBFS\n",
        )
        .unwrap();
        assert_eq!(
            loudness,
            Loudness {
                integrated_lufs: -14.1,
                true_peak_dbtp: -1.3
            }
        );
        assert!(parse_ebur128("no summary").is_err());
        assert_eq!(
            parse_integrated(
                "[Parsed_ebur128_0 @ 0x5] Summary:\n\n  Integrated loudness:\n    I:         -20.7 LUFS\n    Threshold: -30.9 LUFS\n\n  Loudness range:\n    LRA:         0.0 LU\n"
            )
            .unwrap(),
            -20.7
        );
        assert!(
            chain(85.0).contains("volume=30.00dB,"),
            "silence is not raised past 30 dB"
        );
    }
}
