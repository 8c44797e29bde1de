//! B-roll: a clip per sentence, each cut to its sentence's time and crossfaded into the next,
//! as one ffmpeg filter graph with an input per shot, so its cost grows with the number of shots
//! and no faster.

use std::path::PathBuf;

use crate::{script::words::closes_sentence, transcribe::WordTiming};

/// How long one clip fades into the next.
pub const CROSSFADE_MS: u64 = 400;
/// A sentence shorter than this shares the previous clip: cuts faster than this feel frantic.
const SHORTEST_SHOT_MS: u64 = 1500;

/// A library or stock file to cut from.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    pub path: PathBuf,
    /// A still image rather than a video.
    pub still: bool,
}

/// One stretch of the video shown over one clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shot {
    pub clip: usize,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// Whether the `index`th spoken word closes its sentence, by the rule scripts are split into
/// sentences with.
fn ends_sentence(words: &[WordTiming], index: usize) -> bool {
    closes_sentence(
        &words[index].text,
        words.get(index + 1).map(|next| next.text.as_str()),
    )
}

/// The index of the sentence being spoken at `at_ms`: how many sentences ended before it.
pub fn sentence_at(words: &[WordTiming], at_ms: u64) -> usize {
    (0..words.len())
        .take_while(|&index| words[index].start_ms < at_ms)
        .filter(|&index| ends_sentence(words, index))
        .count()
}

/// The shots for a voice of `duration_ms` with `words`: a new clip at each sentence that starts
/// at least `SHORTEST_SHOT_MS` after the last cut, the clips taken in turn.
pub fn shots(words: &[WordTiming], duration_ms: u64, clips: usize) -> Vec<Shot> {
    let mut cuts = vec![0];
    for (index, next) in words.iter().enumerate().skip(1) {
        let at = next.start_ms;
        let last = *cuts.last().unwrap_or(&0);
        if ends_sentence(words, index - 1)
            && at >= last + SHORTEST_SHOT_MS
            && at + SHORTEST_SHOT_MS <= duration_ms
        {
            cuts.push(at);
        }
    }
    cuts.iter()
        .enumerate()
        .map(|(index, &start_ms)| Shot {
            clip: index % clips.max(1),
            start_ms,
            end_ms: cuts.get(index + 1).copied().unwrap_or(duration_ms),
        })
        .collect()
}

/// Adds one input per shot to `args`.
pub fn inputs(shots: &[Shot], clips: &[Clip], args: &mut Vec<String>) {
    for shot in shots {
        let clip = &clips[shot.clip];
        if clip.still {
            args.extend(["-loop", "1", "-framerate", "30", "-i"].map(String::from));
        } else {
            args.extend(["-stream_loop", "-1", "-i"].map(String::from));
        }
        args.push(clip.path.display().to_string());
    }
}

/// The filter graph's lines for one format (`branch`) from `sources`, a label per shot's
/// pictures; they end in the label `[bg{branch}]`. `fill` scales and crops a picture to the
/// frame.
pub fn graph(shots: &[Shot], sources: &[String], fill: &str, branch: usize) -> Vec<String> {
    let fade = CROSSFADE_MS as f64 / 1000.0;
    let mut lines = Vec::new();
    for (index, (shot, source)) in shots.iter().zip(sources).enumerate() {
        // Every shot but the last runs on for the crossfade into the next.
        let last = index + 1 == shots.len();
        let length = (shot.end_ms - shot.start_ms) as f64 / 1000.0 + if last { 0.0 } else { fade };
        lines.push(format!(
            "{source}{fill},fps=30,format=yuv420p,trim=duration={length:.3},setpts=PTS-STARTPTS[c{index}f{branch}]"
        ));
    }
    let mut current = format!("[c0f{branch}]");
    for (index, shot) in shots.iter().enumerate().skip(1) {
        // Each fade starts where its sentence does; the joined stream so far ends a fade later.
        let next = format!("[x{index}f{branch}]");
        lines.push(format!(
            "{current}[c{index}f{branch}]xfade=transition=fade:duration={fade:.3}:offset={:.3}{next}",
            shot.start_ms as f64 / 1000.0
        ));
        current = next;
    }
    lines.push(format!("{current}null[bg{branch}]"));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str, start_ms: u64) -> WordTiming {
        WordTiming {
            text: text.into(),
            start_ms,
            end_ms: start_ms + 300,
            confidence: None,
        }
    }

    #[test]
    fn a_shot_per_sentence_merging_short_ones() {
        let words = [
            word("Вставай.", 0),
            word("Действуй.", 800),
            word("Иди", 2000),
            word("вперёд!", 2400),
            word("Всегда.", 4000),
            word("Да.", 9200),
        ];
        let shots = shots(&words, 10_000, 2);
        let sentences: Vec<usize> = shots
            .iter()
            .map(|shot| sentence_at(&words, shot.start_ms))
            .collect();
        // The second shot opens with the third sentence; the third with the fourth.
        assert_eq!(sentences, [0, 2, 3]);
        // An abbreviation is no sentence's end, as in the script's own sentences.
        let words = [
            word("Это", 0),
            word("т.е.", 400),
            word("хвост.", 2000),
            word("Потом", 4000),
            word("голова.", 4400),
        ];
        let cut = super::shots(&words, 8000, 1);
        assert_eq!(
            cut.iter().map(|shot| shot.start_ms).collect::<Vec<_>>(),
            [0, 4000]
        );
        assert_eq!(sentence_at(&words, 4000), 1);
        assert_eq!(
            shots,
            [
                // "Действуй." starts 0.8 s in: too soon for a cut.
                Shot {
                    clip: 0,
                    start_ms: 0,
                    end_ms: 2000
                },
                Shot {
                    clip: 1,
                    start_ms: 2000,
                    end_ms: 4000
                },
                // "Да." starts 0.8 s before the end: too late for a cut.
                Shot {
                    clip: 0,
                    start_ms: 4000,
                    end_ms: 10_000
                },
            ]
        );
    }

    #[test]
    fn shots_are_cut_and_crossfaded_at_their_sentences() {
        let clips = [
            Clip {
                path: "a.mp4".into(),
                still: false,
            },
            Clip {
                path: "b.png".into(),
                still: true,
            },
        ];
        let shots = [
            Shot {
                clip: 0,
                start_ms: 0,
                end_ms: 2000,
            },
            Shot {
                clip: 1,
                start_ms: 2000,
                end_ms: 5000,
            },
        ];
        let mut args = Vec::new();
        inputs(&shots, &clips, &mut args);
        let lines = graph(&shots, &["[3:v]".into(), "[4:v]".into()], "scale=10:10", 1);
        assert_eq!(
            args,
            [
                "-stream_loop",
                "-1",
                "-i",
                "a.mp4",
                "-loop",
                "1",
                "-framerate",
                "30",
                "-i",
                "b.png"
            ]
        );
        assert_eq!(
            lines,
            [
                "[3:v]scale=10:10,fps=30,format=yuv420p,trim=duration=2.400,setpts=PTS-STARTPTS[c0f1]",
                "[4:v]scale=10:10,fps=30,format=yuv420p,trim=duration=3.000,setpts=PTS-STARTPTS[c1f1]",
                "[c0f1][c1f1]xfade=transition=fade:duration=0.400:offset=2.000[x1f1]",
                "[x1f1]null[bg1]",
            ]
        );
    }
}
