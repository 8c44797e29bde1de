//! Long pauses taken out of a voiceover before it is fitted to its duration: synthetic voices
//! pause at every full stop, and a pause over 300 ms reads as dead air in a short video. Inner
//! pauses are shortened to 300 ms, the lead-in to 100 ms and the tail to 150 ms; word timings
//! move with the audio.

use std::path::{Path, PathBuf};

use crate::{process, transcribe::WordTiming, ProviderError};

/// Pauses at least this long are shortened to it.
pub const LONGEST_PAUSE_MS: u64 = 300;
const LEAD_IN_MS: u64 = 100;
const TAIL_MS: u64 = 150;
/// Quieter than this is silence: well under speech, above a synthetic voice's noise floor.
const SILENCE_DB: i32 = -45;

/// A span of the original audio, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start_ms: u64,
    pub end_ms: u64,
}

impl Span {
    fn length(self) -> u64 {
        self.end_ms - self.start_ms
    }
}

/// The silences `silencedetect` reports in its log; a silence running to the end of the file
/// has no end line, so it ends at `duration_ms`.
pub fn parse_silences(log: &str, duration_ms: u64) -> Vec<Span> {
    let seconds = |line: &str, key: &str| -> Option<u64> {
        let value = line.split(key).nth(1)?.split_whitespace().next()?;
        Some((value.parse::<f64>().ok()?.max(0.0) * 1000.0).round() as u64)
    };
    let mut silences = Vec::new();
    let mut start = None;
    for line in log.lines() {
        if let Some(at) = seconds(line, "silence_start: ") {
            start = Some(at.min(duration_ms));
        } else if let (Some(from), Some(to)) = (start, seconds(line, "silence_end: ")) {
            silences.push(Span {
                start_ms: from,
                end_ms: to.min(duration_ms),
            });
            start = None;
        }
    }
    if let Some(from) = start {
        silences.push(Span {
            start_ms: from,
            end_ms: duration_ms,
        });
    }
    silences
}

/// The parts of the audio to cut out, given its silences: each keeps the pause it is allowed.
/// Nothing is cut from audio that is silent throughout.
pub fn cuts(silences: &[Span], duration_ms: u64) -> Vec<Span> {
    if silences
        .iter()
        .any(|s| s.start_ms == 0 && s.end_ms >= duration_ms)
    {
        return Vec::new();
    }
    silences
        .iter()
        .filter_map(|&silence| {
            let cut = if silence.start_ms == 0 {
                Span {
                    start_ms: 0,
                    end_ms: silence.end_ms.saturating_sub(LEAD_IN_MS),
                }
            } else if silence.end_ms >= duration_ms {
                Span {
                    start_ms: silence.start_ms + TAIL_MS,
                    end_ms: duration_ms,
                }
            } else {
                // Half the pause kept on each side, so the words keep their breath.
                Span {
                    start_ms: silence.start_ms + LONGEST_PAUSE_MS / 2,
                    end_ms: silence.end_ms - LONGEST_PAUSE_MS / 2,
                }
            };
            (cut.start_ms < cut.end_ms && silence.length() > LONGEST_PAUSE_MS).then_some(cut)
        })
        .collect()
}

/// Where `at_ms` of the original falls once `cuts` are taken out (a moment inside a cut moves
/// to where the cut was).
pub fn moved(at_ms: u64, cuts: &[Span]) -> u64 {
    let removed: u64 = cuts
        .iter()
        .map(|cut| at_ms.clamp(cut.start_ms, cut.end_ms) - cut.start_ms)
        .sum();
    at_ms - removed
}

/// The spans kept between `cuts`.
fn kept(cuts: &[Span], duration_ms: u64) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut from = 0;
    for cut in cuts {
        if cut.start_ms > from {
            spans.push(Span {
                start_ms: from,
                end_ms: cut.start_ms,
            });
        }
        from = cut.end_ms;
    }
    if duration_ms > from {
        spans.push(Span {
            start_ms: from,
            end_ms: duration_ms,
        });
    }
    spans
}

/// A voiceover with its long pauses shortened.
#[derive(Debug)]
pub struct Trimmed {
    /// A WAV beside the input.
    pub path: PathBuf,
    pub removed_ms: u64,
    pub cuts: Vec<Span>,
}

impl Trimmed {
    /// Moves word timings with the audio.
    pub fn retime(&self, words: &mut [WordTiming]) {
        for word in words {
            word.start_ms = moved(word.start_ms, &self.cuts);
            word.end_ms = moved(word.end_ms, &self.cuts).max(word.start_ms);
        }
    }
}

/// Shortens the long pauses of `input` (`duration_ms` long) into a WAV beside it; `None` when
/// there is nothing to shorten.
pub async fn trim(input: &Path, duration_ms: u64) -> Result<Option<Trimmed>, ProviderError> {
    let detect = format!(
        "silencedetect=noise={SILENCE_DB}dB:d={:.3}",
        LONGEST_PAUSE_MS as f64 / 1000.0
    );
    let input_arg = input.display().to_string();
    let output = process::run_output(
        "ffmpeg",
        [
            "-hide_banner",
            "-nostats",
            "-i",
            &input_arg,
            "-af",
            &detect,
            "-f",
            "null",
            "-",
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    let silences = parse_silences(&String::from_utf8_lossy(&output.stderr), duration_ms);
    let cuts = cuts(&silences, duration_ms);
    if cuts.is_empty() {
        return Ok(None);
    }
    let spans = kept(&cuts, duration_ms);
    // `atrim` is exact to the sample; `aselect` would cut whole decoder frames.
    let mut graph: Vec<String> = spans
        .iter()
        .enumerate()
        .map(|(index, span)| {
            format!(
                "[0:a]atrim=start={:.3}:end={:.3},asetpts=PTS-STARTPTS[s{index}]",
                span.start_ms as f64 / 1000.0,
                span.end_ms as f64 / 1000.0
            )
        })
        .collect();
    let inputs: String = (0..spans.len())
        .map(|index| format!("[s{index}]"))
        .collect();
    graph.push(format!("{inputs}concat=n={}:v=0:a=1[out]", spans.len()));
    let path = input.with_extension("trimmed.wav");
    let path_arg = path.display().to_string();
    process::run(
        "ffmpeg",
        [
            "-v",
            "error",
            "-y",
            "-i",
            &input_arg,
            "-filter_complex",
            &graph.join(";"),
            "-map",
            "[out]",
            &path_arg,
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    Ok(Some(Trimmed {
        path,
        removed_ms: cuts.iter().map(|cut| cut.length()).sum(),
        cuts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start_ms: u64, end_ms: u64) -> Span {
        Span { start_ms, end_ms }
    }

    #[test]
    fn silencedetect_logs_become_spans() {
        let log = "[silencedetect @ 0x1] silence_start: 0\n\
                   [silencedetect @ 0x1] silence_end: 0.52 | silence_duration: 0.52\n\
                   size=N/A time=00:00:02.00\n\
                   [silencedetect @ 0x1] silence_start: 1.5\n\
                   [silencedetect @ 0x1] silence_end: 2.25 | silence_duration: 0.75\n\
                   [silencedetect @ 0x1] silence_start: 3.9\n";
        assert_eq!(
            parse_silences(log, 4400),
            [span(0, 520), span(1500, 2250), span(3900, 4400)]
        );
    }

    #[test]
    fn long_pauses_are_shortened_and_times_move_with_them() {
        let silences = [
            span(0, 520),
            span(1500, 2250),
            span(2600, 2800),
            span(3900, 4400),
        ];
        let cuts = cuts(&silences, 4400);
        // The lead-in keeps 100 ms, the inner pause 300 ms, the tail 150 ms; a 200 ms pause
        // stays.
        assert_eq!(cuts, [span(0, 420), span(1650, 2100), span(4050, 4400)]);
        assert_eq!(kept(&cuts, 4400), [span(420, 1650), span(2100, 4050)]);
        assert_eq!(moved(520, &cuts), 100);
        assert_eq!(moved(2250, &cuts), 2250 - 420 - 450);
        assert_eq!(moved(1800, &cuts), 1650 - 420, "inside a cut: where it was");
        assert_eq!(moved(4400, &cuts), 4400 - 420 - 450 - 350);
        assert!(self::cuts(&[span(0, 3000)], 3000).is_empty(), "all silence");
    }

    #[tokio::test]
    async fn a_real_voiceover_loses_its_long_pauses() {
        let dir = std::env::temp_dir().join(format!("reelforge-silence-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("voice.wav");
        // Tone 1 s, silence 1.2 s, tone 1 s, silence 0.8 s.
        let status = std::process::Command::new("ffmpeg")
            .args([
                "-v",
                "error",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:duration=1",
                "-f",
                "lavfi",
                "-i",
                "anullsrc=r=44100:cl=mono:d=1.2",
                "-f",
                "lavfi",
                "-i",
                "anullsrc=r=44100:cl=mono:d=0.8",
                "-filter_complex",
                "[0:a][1:a][0:a][2:a]concat=n=4:v=0:a=1[out]",
                "-map",
                "[out]",
                "-ar",
                "44100",
                "-ac",
                "1",
            ])
            .arg(&input)
            .status()
            .unwrap();
        assert!(status.success());
        let trimmed = trim(&input, 4000).await.unwrap().expect("pauses to cut");
        let length = process::duration_ms(&trimmed.path).await.unwrap();
        // 1000 + 300 + 1000 + 150.
        assert!(length.abs_diff(2450) <= 30, "{length} ms");
        assert!(trimmed.removed_ms.abs_diff(1550) <= 30, "{trimmed:?}");
        let mut words = vec![WordTiming {
            text: "два".into(),
            start_ms: 2200,
            end_ms: 3200,
            confidence: None,
        }];
        trimmed.retime(&mut words);
        assert!(words[0].start_ms.abs_diff(1300) <= 30, "{words:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
