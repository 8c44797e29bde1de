//! Subtitles from word timings: cues of a few words (broken at sentence ends and pauses), as ASS
//! with the spoken word highlighted (karaoke), and as SRT and VTT for download.

use std::fmt::Write;

use crate::{domain::options::SubtitlePosition, providers::transcribe::WordTiming};

/// Characters per subtitle line and lines per cue: short, as Reels captions are.
const LINE_CHARS: usize = 18;
const MAX_LINES: usize = 2;
/// A pause this long starts a new cue.
const PAUSE_MS: u64 = 700;

#[derive(Debug, Clone, PartialEq)]
pub struct Cue {
    pub words: Vec<WordTiming>,
}

impl Cue {
    pub fn start_ms(&self) -> u64 {
        self.words.first().map_or(0, |w| w.start_ms)
    }

    pub fn end_ms(&self) -> u64 {
        self.words.last().map_or(0, |w| w.end_ms)
    }

    /// The cue's words broken into lines; `highlight` wraps one word.
    fn lines(
        &self,
        highlight: Option<(usize, &str, &str)>,
        escape: fn(&str) -> String,
    ) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut width = 0;
        for (index, word) in self.words.iter().enumerate() {
            let text = escape(&word.text);
            let shown = match highlight {
                Some((current, open, close)) if current == index => format!("{open}{text}{close}"),
                _ => text,
            };
            let chars = word.text.chars().count();
            match lines.last_mut() {
                Some(line) if width + 1 + chars <= LINE_CHARS => {
                    line.push(' ');
                    line.push_str(&shown);
                    width += 1 + chars;
                }
                _ => {
                    lines.push(shown);
                    width = chars;
                }
            }
        }
        lines
    }
}

/// Groups words into cues that fit `MAX_LINES` lines, ending at sentence ends and pauses.
pub fn cues(words: &[WordTiming]) -> Vec<Cue> {
    let mut cues: Vec<Cue> = Vec::new();
    let mut current: Vec<WordTiming> = Vec::new();
    for word in words.iter().filter(|w| !w.text.trim().is_empty()) {
        if let Some(last) = current.last() {
            let mut trial = Cue {
                words: current.clone(),
            };
            trial.words.push(word.clone());
            let too_long = trial.lines(None, str::to_owned).len() > MAX_LINES;
            let sentence_ended = last.text.ends_with(['.', '!', '?', '…']);
            let paused = word.start_ms.saturating_sub(last.end_ms) >= PAUSE_MS;
            if too_long || sentence_ended || paused {
                cues.push(Cue {
                    words: std::mem::take(&mut current),
                });
            }
        }
        current.push(word.clone());
    }
    if !current.is_empty() {
        cues.push(Cue { words: current });
    }
    cues
}

/// How the burned-in subtitles look.
#[derive(Debug, Clone)]
pub struct SubtitleStyle {
    pub font: String,
    pub font_size: u32,
    /// `#RRGGBB`.
    pub colour: String,
    pub highlight: String,
    pub position: SubtitlePosition,
}

impl Default for SubtitleStyle {
    fn default() -> Self {
        SubtitleStyle {
            font: "DejaVu Sans".into(),
            font_size: 76,
            colour: "#FFFFFF".into(),
            highlight: "#FFD400".into(),
            position: SubtitlePosition::Bottom,
        }
    }
}

/// `#RRGGBB` as ASS's `&H00BBGGRR`; anything else is white.
fn ass_colour(hex: &str) -> String {
    let hex = hex.trim_start_matches('#');
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("&H00{}{}{}", &hex[4..6], &hex[2..4], &hex[0..2]).to_uppercase()
    } else {
        "&H00FFFFFF".into()
    }
}

fn ass_time(ms: u64) -> String {
    let cs = ms / 10;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

fn ass_escape(text: &str) -> String {
    text.replace('\\', "").replace('{', "(").replace('}', ")")
}

/// An ASS script for a 1080x1920 frame: one event per spoken word, showing its cue with that
/// word in the highlight colour. Margins keep text clear of the Reels buttons and caption.
pub fn ass(cues: &[Cue], style: &SubtitleStyle) -> String {
    let (alignment, margin_v) = match style.position {
        SubtitlePosition::Top => (8, 300),
        SubtitlePosition::Center => (5, 0),
        SubtitlePosition::Bottom => (2, 520),
    };
    let mut out = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 1080\nPlayResY: 1920\nWrapStyle: 2\nScaledBorderAndShadow: yes\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,{font},{size},{colour},{colour},&H00000000,&H80000000,-1,0,0,0,100,100,0,0,1,5,1,{alignment},100,100,{margin_v},1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        font = style.font,
        size = style.font_size,
        colour = ass_colour(&style.colour),
    );
    let open = format!("{{\\c{}&}}", ass_colour(&style.highlight));
    let close = format!("{{\\c{}&}}", ass_colour(&style.colour));
    for cue in cues {
        for (index, word) in cue.words.iter().enumerate() {
            // Each word stays lit until the next one starts, so the cue never flickers.
            let end = cue
                .words
                .get(index + 1)
                .map_or(cue.end_ms(), |next| next.start_ms);
            let text = cue
                .lines(Some((index, &open, &close)), ass_escape)
                .join("\\N");
            let _ = writeln!(
                out,
                "Dialogue: 0,{},{},Default,,0,0,0,,{text}",
                ass_time(word.start_ms),
                ass_time(end.max(word.start_ms + 10))
            );
        }
    }
    out
}

fn clock(ms: u64, separator: char) -> String {
    format!(
        "{:02}:{:02}:{:02}{separator}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

pub fn srt(cues: &[Cue]) -> String {
    let mut out = String::new();
    for (index, cue) in cues.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            index + 1,
            clock(cue.start_ms(), ','),
            clock(cue.end_ms(), ','),
            cue.lines(None, str::to_owned).join("\n")
        );
    }
    out
}

pub fn vtt(cues: &[Cue]) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for cue in cues {
        let _ = write!(
            out,
            "{} --> {}\n{}\n\n",
            clock(cue.start_ms(), '.'),
            clock(cue.end_ms(), '.'),
            cue.lines(None, str::to_owned).join("\n")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(spec: &[(&str, u64, u64)]) -> Vec<WordTiming> {
        spec.iter()
            .map(|(t, s, e)| WordTiming {
                text: (*t).into(),
                start_ms: *s,
                end_ms: *e,
                confidence: None,
            })
            .collect()
    }

    #[test]
    fn cues_break_at_sentences_pauses_and_length() {
        let spoken = words(&[
            ("Вставай", 0, 400),
            ("рано.", 400, 800),
            ("Делай", 900, 1200),
            ("шаг", 1200, 1400),
            ("после", 2500, 2800),
            ("паузы", 2800, 3100),
            ("очень-очень-длинное", 3100, 3600),
            ("слово", 3600, 3900),
            ("ещё", 3900, 4100),
        ]);
        let texts: Vec<String> = cues(&spoken)
            .iter()
            .map(|c| {
                c.words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        assert_eq!(
            texts,
            vec![
                "Вставай рано.",
                "Делай шаг",
                "после паузы очень-очень-длинное",
                "слово ещё"
            ]
        );
    }

    #[test]
    fn ass_highlights_each_word_and_srt_vtt_carry_cues() {
        let spoken = words(&[("Привет", 0, 500), ("{мир}", 600, 1234)]);
        let cues = cues(&spoken);
        let script = ass(&cues, &SubtitleStyle::default());
        assert!(
            script.contains("Style: Default,DejaVu Sans,76,&H00FFFFFF"),
            "{script}"
        );
        assert!(script.contains("Dialogue: 0,0:00:00.00,0:00:00.60,Default,,0,0,0,,{\\c&H0000D4FF&}Привет{\\c&H00FFFFFF&} (мир)"), "{script}");
        assert!(script.contains("Dialogue: 0,0:00:00.60,0:00:01.23,Default,,0,0,0,,Привет {\\c&H0000D4FF&}(мир){\\c&H00FFFFFF&}"), "{script}");
        assert_eq!(
            srt(&cues),
            "1\n00:00:00,000 --> 00:00:01,234\nПривет {мир}\n\n"
        );
        assert_eq!(
            vtt(&cues),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.234\nПривет {мир}\n\n"
        );
    }
}
