//! Subtitles from word timings: cues of a few words (broken at sentence ends and pauses), as ASS
//! in one of four looks (see [`SubtitlePreset`]) laid out inside each format's safe area, and as
//! SRT and VTT for download.

use std::fmt::Write;

use super::fonts::{self, FontMetrics};
use crate::{
    domain::{
        options::{SubtitlePosition, SubtitlePreset},
        video_format::VideoFormat,
    },
    transcribe::WordTiming,
};

/// Lines per cue: short, as Reels captions are.
const MAX_LINES: usize = 2;
/// A pause this long starts a new cue.
const PAUSE_MS: u64 = 700;
/// `pop` shows this many words at a time unless told otherwise: one word growing inside a long
/// line reads as a jump, not a beat.
const POP_WORDS: usize = 3;
/// How much `pop` grows the spoken word, in percent.
const POP_SCALE: u32 = 125;

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

    /// The cue's words broken into lines of at most `line_chars` characters (a longer word has
    /// a line of its own); `marks` wraps the spoken word and the key words.
    fn lines(&self, line_chars: usize, marks: &Marks, escape: fn(&str) -> String) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        let mut width = 0;
        for (index, word) in self.words.iter().enumerate() {
            let text = escape(&word.text);
            let shown = match marks.highlight {
                Some((current, open, close)) if current == index => format!("{open}{text}{close}"),
                _ => match marks.emphasis {
                    Some((keys, open, close)) if keys.contains(&key_of(&word.text)) => {
                        format!("{open}{text}{close}")
                    }
                    _ => text,
                },
            };
            let chars = word.text.chars().count();
            match lines.last_mut() {
                Some(line) if width + 1 + chars <= line_chars => {
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

    fn plain_lines(&self, line_chars: usize) -> Vec<String> {
        self.lines(line_chars, &Marks::default(), str::to_owned)
    }
}

/// What a cue's text marks: the spoken word (its index) and the key words, each with the
/// override tags that open and close the mark.
#[derive(Default)]
struct Marks<'a> {
    highlight: Option<(usize, &'a str, &'a str)>,
    emphasis: Option<(&'a [String], &'a str, &'a str)>,
}

/// A word as key words are matched: lower-cased, without the punctuation around it.
pub fn key_of(word: &str) -> String {
    word.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
        .replace('ё', "е")
}

/// Groups words into cues of at most `max_words` words that fit `MAX_LINES` lines of
/// `line_chars`, ending at sentence ends and pauses.
pub fn cues(words: &[WordTiming], line_chars: usize, max_words: usize) -> Vec<Cue> {
    let mut cues: Vec<Cue> = Vec::new();
    let mut current: Vec<WordTiming> = Vec::new();
    for word in words.iter().filter(|w| !w.text.trim().is_empty()) {
        if let Some(last) = current.last() {
            let mut trial = Cue {
                words: current.clone(),
            };
            trial.words.push(word.clone());
            let too_long =
                trial.words.len() > max_words || trial.plain_lines(line_chars).len() > MAX_LINES;
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

/// The margins, in pixels of the full-size frame, that keep text clear of what each platform
/// draws over the video (buttons, caption, player controls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafeArea {
    pub top: u32,
    pub bottom: u32,
    pub side: u32,
}

impl SafeArea {
    pub fn of(format: VideoFormat) -> SafeArea {
        let (top, bottom, side) = match format {
            // Reels and TikTok: the caption, music line and buttons cover the lower quarter.
            VideoFormat::Vertical => (300, 520, 100),
            // Feed posts: only the edges are cropped by some clients. Their bottom and sides are
            // those of 9:16 measured from the middle (440 below it, 100 from each side), so that
            // the formats 1080 wide cut from one tall reel can share one drawing of their
            // subtitles (see `local::scales_first`): 4:5 keeps 235 at the bottom, 1:1 100.
            VideoFormat::Portrait => (120, 235, 100),
            VideoFormat::Square => (100, 100, 100),
            // YouTube's controls and progress bar at the bottom.
            VideoFormat::Landscape => (80, 140, 200),
        };
        SafeArea { top, bottom, side }
    }
}

/// The frame a subtitle script is laid out on: a format's own, or a taller one it is cut from
/// (a reel scaled to the format's width), with the format's margins moved by half the extra
/// height, so that the text lands where the format's own frame puts it once the middle is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub format: VideoFormat,
    /// The frame's height in pixels of the format's full size.
    pub height: u32,
    pub area: SafeArea,
}

impl Layout {
    pub fn of(format: VideoFormat) -> Layout {
        Layout {
            format,
            height: format.size().1,
            area: SafeArea::of(format),
        }
    }

    /// `format`'s frame in the middle of a frame as wide and `height` high.
    pub fn centred_in(format: VideoFormat, height: u32) -> Layout {
        let own = Layout::of(format);
        let margin = height.saturating_sub(own.height) / 2;
        Layout {
            height: own.height.max(height),
            area: SafeArea {
                top: own.area.top + margin,
                bottom: own.area.bottom + margin,
                side: own.area.side,
            },
            format,
        }
    }

    fn size(&self) -> (u32, u32) {
        (self.format.size().0, self.height)
    }
}

/// How the burned-in subtitles look.
#[derive(Debug, Clone)]
pub struct SubtitleStyle {
    pub preset: SubtitlePreset,
    pub font: String,
    /// Pixels; `None` takes the preset's size.
    pub font_size: Option<u32>,
    /// `#RRGGBB`.
    pub colour: String,
    pub highlight: String,
    pub box_colour: String,
    pub position: SubtitlePosition,
    pub words_per_cue: Option<usize>,
    /// The script's key words, lower-cased: drawn in `emphasis_colour` while not spoken.
    pub emphasis: Vec<String>,
    pub emphasis_colour: String,
}

impl Default for SubtitleStyle {
    fn default() -> Self {
        SubtitleStyle {
            preset: SubtitlePreset::Karaoke,
            font: "DejaVu Sans".into(),
            font_size: None,
            colour: "#FFFFFF".into(),
            highlight: "#FFD400".into(),
            box_colour: "#000000".into(),
            position: SubtitlePosition::Bottom,
            words_per_cue: None,
            emphasis: Vec::new(),
            emphasis_colour: "#FF5C8A".into(),
        }
    }
}

impl SubtitleStyle {
    pub fn size(&self) -> u32 {
        self.font_size.unwrap_or(match self.preset {
            SubtitlePreset::Minimal => 60,
            _ => 76,
        })
    }

    /// Whether the cue's text is bold (`pop` bolds only the spoken word).
    pub fn bold(&self) -> bool {
        matches!(self.preset, SubtitlePreset::Karaoke | SubtitlePreset::Boxed)
    }

    pub fn max_words(&self) -> usize {
        self.words_per_cue.unwrap_or(match self.preset {
            SubtitlePreset::Pop => POP_WORDS,
            _ => usize::MAX,
        })
    }

    /// Characters per line in `format`: 18 at 76 pixels across the vertical frame's 880 usable
    /// pixels, more on wider frames and with smaller text.
    pub fn line_chars(&self, format: VideoFormat) -> usize {
        let usable = f64::from(format.size().0 - 2 * SafeArea::of(format).side);
        let chars = 18.0 * usable / 880.0 * 76.0 / f64::from(self.size());
        (chars.round() as usize).max(8)
    }

    /// The cues of `words` as laid out in `format`.
    pub fn cues(&self, words: &[WordTiming], format: VideoFormat) -> Vec<Cue> {
        cues(words, self.line_chars(format), self.max_words())
    }
}

/// `#RRGGBB` as ASS's `&HAABBGGRR` with `alpha` (0 opaque); anything else is white.
fn ass_colour_alpha(hex: &str, alpha: u8) -> String {
    let hex = hex.trim_start_matches('#');
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        format!("&H{alpha:02X}{}{}{}", &hex[4..6], &hex[2..4], &hex[0..2]).to_uppercase()
    } else {
        format!("&H{alpha:02X}FFFFFF")
    }
}

fn ass_colour(hex: &str) -> String {
    ass_colour_alpha(hex, 0)
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

/// A closed rounded rectangle `width` x `height` with corner radius `radius`, its top-left
/// corner at the origin, in ASS drawing commands (cubic Béziers for the corners).
fn rounded_box(width: f64, height: f64, radius: f64) -> String {
    let r = radius.min(width / 2.0).min(height / 2.0);
    // A cubic Bézier's control points sit 0.5523 r along the tangents for a quarter circle.
    let k = r * (1.0 - 0.5523);
    let (w, h) = (width, height);
    let points = [
        ("m", vec![r, 0.0]),
        ("l", vec![w - r, 0.0]),
        ("b", vec![w - k, 0.0, w, k, w, r]),
        ("l", vec![w, h - r]),
        ("b", vec![w, h - k, w - k, h, w - r, h]),
        ("l", vec![r, h]),
        ("b", vec![k, h, 0.0, h - k, 0.0, h - r]),
        ("l", vec![0.0, r]),
        ("b", vec![0.0, k, k, 0.0, r, 0.0]),
    ];
    points
        .iter()
        .map(|(command, coordinates)| {
            let numbers: Vec<String> = coordinates
                .iter()
                .map(|c| format!("{}", c.round() as i64))
                .collect();
            format!("{command} {}", numbers.join(" "))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where a cue's text block sits: its alignment (numpad) and vertical margin.
fn anchor(position: SubtitlePosition, area: SafeArea) -> (u8, u32) {
    match position {
        SubtitlePosition::Top => (8, area.top),
        SubtitlePosition::Center => (5, 0),
        SubtitlePosition::Bottom => (2, area.bottom),
    }
}

/// The box behind a cue for the `boxed` preset: its top-left corner, width and height, from the
/// drawn width of each line. libass makes each line one font size high.
fn box_geometry(
    lines: &[String],
    style: &SubtitleStyle,
    layout: &Layout,
    font: Option<&FontMetrics>,
) -> (f64, f64, f64, f64) {
    let (width, height) = layout.size();
    let size = f64::from(style.size());
    let (pad_x, pad_y) = (0.45 * size, 0.22 * size);
    let text_width = lines
        .iter()
        .map(|line| fonts::width(font, line, size))
        .fold(0.0, f64::max);
    let text_height = lines.len() as f64 * size;
    let (alignment, margin) = anchor(style.position, layout.area);
    let text_top = match alignment {
        8 => f64::from(margin),
        5 => (f64::from(height) - text_height) / 2.0,
        _ => f64::from(height - margin) - text_height,
    };
    let box_width = text_width + 2.0 * pad_x;
    (
        (f64::from(width) - box_width) / 2.0,
        text_top - pad_y,
        box_width,
        text_height + 2.0 * pad_y,
    )
}

/// An ASS script for the `layout`'s frame: the cues in `style`, inside the format's safe area.
/// `font` measures lines for the `boxed` preset's boxes.
pub fn ass(
    cues: &[Cue],
    style: &SubtitleStyle,
    layout: &Layout,
    font: Option<&FontMetrics>,
) -> String {
    let (width, height) = layout.size();
    let area = layout.area;
    let (alignment, margin_v) = anchor(style.position, area);
    let line_chars = style.line_chars(layout.format);
    let colour = ass_colour(&style.colour);
    let outline = match style.preset {
        SubtitlePreset::Karaoke | SubtitlePreset::Pop => 5,
        SubtitlePreset::Boxed => 0,
        SubtitlePreset::Minimal => 2,
    };
    // No drop shadow: libass draws it as one more bitmap as large as the outline's, blended into
    // every frame, and under a 5-pixel black outline a 1-pixel one showed only as a fringe. It
    // was a third of the subtitles' drawing and 9% of a four-format render (BENCHMARKS.md).
    let mut out = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {width}\nPlayResY: {height}\nWrapStyle: 2\nScaledBorderAndShadow: yes\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,{font},{size},{colour},{colour},&H00000000,&H80000000,{bold},0,0,0,100,100,0,0,1,{outline},0,{alignment},{side},{side},{margin_v},1\n",
        font = style.font,
        size = style.size(),
        bold = if style.bold() { -1 } else { 0 },
        side = area.side,
    );
    if style.preset == SubtitlePreset::Boxed {
        // Three-quarters opaque, so the picture shows through a little.
        let fill = ass_colour_alpha(&style.box_colour, 0x40);
        let _ = writeln!(
            out,
            "Style: Box,{font},{size},{fill},{fill},{fill},{fill},0,0,0,0,100,100,0,0,1,0,0,7,0,0,0,1",
            font = style.font,
            size = style.size(),
        );
    }
    out.push_str("\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n");
    let highlight = ass_colour(&style.highlight);
    let emphasis_open = format!("{{\\c{}&}}", ass_colour(&style.emphasis_colour));
    let emphasis_close = format!("{{\\c{colour}&}}");
    let emphasis = (!style.emphasis.is_empty()).then_some((
        style.emphasis.as_slice(),
        emphasis_open.as_str(),
        emphasis_close.as_str(),
    ));
    let (open, close) = match style.preset {
        SubtitlePreset::Pop => (
            format!("{{\\b1\\fscx{POP_SCALE}\\fscy{POP_SCALE}\\c{highlight}&}}"),
            format!("{{\\b0\\fscx100\\fscy100\\c{colour}&}}"),
        ),
        _ => (format!("{{\\c{highlight}&}}"), format!("{{\\c{colour}&}}")),
    };
    for cue in cues {
        if style.preset == SubtitlePreset::Boxed {
            let lines = cue.plain_lines(line_chars);
            let (x, y, w, h) = box_geometry(&lines, style, layout, font);
            let _ = writeln!(
                out,
                "Dialogue: 0,{},{},Box,,0,0,0,,{{\\an7\\pos({},{})\\p1}}{}",
                ass_time(cue.start_ms()),
                ass_time(cue.end_ms().max(cue.start_ms() + 10)),
                x.round(),
                y.round(),
                rounded_box(w, h, 0.35 * f64::from(style.size())),
            );
        }
        if style.preset == SubtitlePreset::Minimal {
            let marks = Marks {
                highlight: None,
                emphasis,
            };
            let text = cue.lines(line_chars, &marks, ass_escape).join("\\N");
            let _ = writeln!(
                out,
                "Dialogue: 1,{},{},Default,,0,0,0,,{text}",
                ass_time(cue.start_ms()),
                ass_time(cue.end_ms().max(cue.start_ms() + 10)),
            );
            continue;
        }
        for (index, word) in cue.words.iter().enumerate() {
            // Each word stays lit until the next one starts, so the cue never flickers.
            let end = cue
                .words
                .get(index + 1)
                .map_or(cue.end_ms(), |next| next.start_ms);
            let marks = Marks {
                highlight: Some((index, &open, &close)),
                emphasis,
            };
            let text = cue.lines(line_chars, &marks, ass_escape).join("\\N");
            let _ = writeln!(
                out,
                "Dialogue: 1,{},{},Default,,0,0,0,,{text}",
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

/// SRT of the cues, with lines of `line_chars`.
pub fn srt(cues: &[Cue], line_chars: usize) -> String {
    let mut out = String::new();
    for (index, cue) in cues.iter().enumerate() {
        let _ = write!(
            out,
            "{}\n{} --> {}\n{}\n\n",
            index + 1,
            clock(cue.start_ms(), ','),
            clock(cue.end_ms(), ','),
            cue.plain_lines(line_chars).join("\n")
        );
    }
    out
}

/// WebVTT of the cues, with lines of `line_chars`.
pub fn vtt(cues: &[Cue], line_chars: usize) -> String {
    let mut out = String::from("WEBVTT\n\n");
    for cue in cues {
        let _ = write!(
            out,
            "{} --> {}\n{}\n\n",
            clock(cue.start_ms(), '.'),
            clock(cue.end_ms(), '.'),
            cue.plain_lines(line_chars).join("\n")
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

    fn texts(cues: &[Cue]) -> Vec<String> {
        cues.iter()
            .map(|c| {
                c.words
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn cues_break_at_sentences_pauses_length_and_word_count() {
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
        assert_eq!(
            texts(&cues(&spoken, 18, usize::MAX)),
            vec![
                "Вставай рано.",
                "Делай шаг",
                "после паузы очень-очень-длинное",
                "слово ещё"
            ]
        );
        assert_eq!(
            texts(&cues(&spoken, 18, 2)),
            vec![
                "Вставай рано.",
                "Делай шаг",
                "после паузы",
                "очень-очень-длинное слово",
                "ещё"
            ]
        );
        // A wide frame fits the long words on one line.
        let style = SubtitleStyle::default();
        assert_eq!(style.line_chars(VideoFormat::Vertical), 18);
        assert!(style.line_chars(VideoFormat::Landscape) >= 30);
        assert_eq!(
            texts(&style.cues(&spoken, VideoFormat::Landscape))[2],
            "после паузы очень-очень-длинное слово ещё"
        );
        let pop = SubtitleStyle {
            preset: SubtitlePreset::Pop,
            ..SubtitleStyle::default()
        };
        assert!(pop
            .cues(&spoken, VideoFormat::Vertical)
            .iter()
            .all(|cue| cue.words.len() <= POP_WORDS));
    }

    #[test]
    fn ass_highlights_each_word_and_srt_vtt_carry_cues() {
        let spoken = words(&[("Привет", 0, 500), ("{мир}", 600, 1234)]);
        let cues = cues(&spoken, 18, usize::MAX);
        let script = ass(
            &cues,
            &SubtitleStyle::default(),
            &Layout::of(VideoFormat::Vertical),
            None,
        );
        assert!(
            script.contains("Style: Default,DejaVu Sans,76,&H00FFFFFF"),
            "{script}"
        );
        assert!(script.contains("PlayResX: 1080\nPlayResY: 1920\n"));
        assert!(script.contains(",1,5,0,2,100,100,520,1\n"), "{script}");
        assert!(script.contains("Dialogue: 1,0:00:00.00,0:00:00.60,Default,,0,0,0,,{\\c&H0000D4FF&}Привет{\\c&H00FFFFFF&} (мир)"), "{script}");
        assert!(script.contains("Dialogue: 1,0:00:00.60,0:00:01.23,Default,,0,0,0,,Привет {\\c&H0000D4FF&}(мир){\\c&H00FFFFFF&}"), "{script}");
        assert_eq!(
            srt(&cues, 18),
            "1\n00:00:00,000 --> 00:00:01,234\nПривет {мир}\n\n"
        );
        assert_eq!(
            vtt(&cues, 18),
            "WEBVTT\n\n00:00:00.000 --> 00:00:01.234\nПривет {мир}\n\n"
        );
    }

    #[test]
    fn key_words_stand_out_until_they_are_spoken() {
        let spoken = words(&[("Делай", 0, 500), ("шаг.", 600, 1000)]);
        let cues = cues(&spoken, 18, usize::MAX);
        let style = SubtitleStyle {
            emphasis: vec![key_of("Шаг")],
            ..SubtitleStyle::default()
        };
        let karaoke = ass(&cues, &style, &Layout::of(VideoFormat::Vertical), None);
        let events: Vec<&str> = karaoke
            .lines()
            .filter(|l| l.starts_with("Dialogue"))
            .collect();
        // While "Делай" is spoken, "шаг." waits in the emphasis colour; then it is lit.
        assert!(
            events[0].ends_with(
                "{\\c&H0000D4FF&}Делай{\\c&H00FFFFFF&} {\\c&H008A5CFF&}шаг.{\\c&H00FFFFFF&}"
            ),
            "{karaoke}"
        );
        assert!(
            events[1].ends_with("Делай {\\c&H0000D4FF&}шаг.{\\c&H00FFFFFF&}"),
            "{karaoke}"
        );
        let minimal = ass(
            &cues,
            &SubtitleStyle {
                preset: SubtitlePreset::Minimal,
                ..style.clone()
            },
            &Layout::of(VideoFormat::Vertical),
            None,
        );
        assert!(
            minimal.contains(",,Делай {\\c&H008A5CFF&}шаг.{\\c&H00FFFFFF&}\n"),
            "{minimal}"
        );
        let plain = ass(
            &cues,
            &SubtitleStyle::default(),
            &Layout::of(VideoFormat::Vertical),
            None,
        );
        assert!(!plain.contains("8A5CFF"), "no key words, no emphasis");
    }

    #[test]
    fn each_preset_writes_its_own_look() {
        let spoken = words(&[("Делай", 0, 500), ("шаг", 600, 1000)]);
        let cues = cues(&spoken, 18, usize::MAX);
        let script = |preset| {
            let style = SubtitleStyle {
                preset,
                ..SubtitleStyle::default()
            };
            ass(&cues, &style, &Layout::of(VideoFormat::Square), None)
        };
        let pop = script(SubtitlePreset::Pop);
        assert!(pop.contains("{\\b1\\fscx125\\fscy125\\c&H0000D4FF&}Делай{\\b0\\fscx100\\fscy100\\c&H00FFFFFF&} шаг"), "{pop}");
        assert!(
            pop.contains(
                "Style: Default,DejaVu Sans,76,&H00FFFFFF,&H00FFFFFF,&H00000000,&H80000000,0,"
            ),
            "not bold but for the spoken word: {pop}"
        );
        let minimal = script(SubtitlePreset::Minimal);
        assert!(
            minimal.contains("Style: Default,DejaVu Sans,60,"),
            "{minimal}"
        );
        assert!(
            minimal.contains("Dialogue: 1,0:00:00.00,0:00:01.00,Default,,0,0,0,,Делай шаг\n"),
            "one plain event per cue: {minimal}"
        );
        assert!(!minimal.contains("D4FF"), "{minimal}");
        let boxed = script(SubtitlePreset::Boxed);
        assert!(
            boxed.contains("Style: Box,DejaVu Sans,76,&H40000000,"),
            "{boxed}"
        );
        // The estimated width of "Делай шаг" (9 characters): 9 x 76 x 0.62 = 424, plus padding.
        let box_line = boxed.lines().find(|l| l.contains(",Box,")).unwrap();
        assert!(
            box_line.starts_with("Dialogue: 0,0:00:00.00,0:00:01.00,Box,,0,0,0,,{\\an7\\pos(294,"),
            "{box_line}"
        );
        assert!(box_line.contains("\\p1}m 27 0 l 466 0 b "), "{box_line}");
    }

    #[test]
    fn a_rounded_box_closes_where_it_starts() {
        let path = rounded_box(200.0, 100.0, 20.0);
        assert!(
            path.starts_with("m 20 0 l 180 0 b 191 0 200 9 200 20 l 200 80"),
            "{path}"
        );
        assert!(path.ends_with("l 0 20 b 0 9 9 0 20 0"), "{path}");
    }

    #[test]
    fn the_formats_of_one_width_cut_from_one_frame_share_one_script() {
        let spoken = words(&[
            ("Делай", 0, 500),
            ("шаг", 600, 1000),
            ("сейчас.", 1100, 1600),
        ]);
        let tall = [
            VideoFormat::Vertical,
            VideoFormat::Portrait,
            VideoFormat::Square,
        ];
        for preset in [
            SubtitlePreset::Karaoke,
            SubtitlePreset::Pop,
            SubtitlePreset::Boxed,
            SubtitlePreset::Minimal,
        ] {
            for position in [SubtitlePosition::Bottom, SubtitlePosition::Center] {
                let style = SubtitleStyle {
                    preset,
                    position,
                    font_size: Some(41),
                    ..SubtitleStyle::default()
                };
                let scripts: Vec<String> = tall
                    .iter()
                    .map(|&format| {
                        let cues = style.cues(&spoken, format);
                        ass(&cues, &style, &Layout::centred_in(format, 2400), None)
                    })
                    .collect();
                assert!(
                    scripts.iter().all(|script| *script == scripts[0]),
                    "{preset:?} {position:?}"
                );
            }
        }
        // Cut from that frame, each keeps its own place: 9:16's 520 at the bottom.
        let vertical = Layout::centred_in(VideoFormat::Vertical, 2400);
        assert_eq!((vertical.height, vertical.area.bottom), (2400, 760));
        assert_eq!(
            Layout::centred_in(VideoFormat::Square, 1000),
            Layout::of(VideoFormat::Square)
        );
    }
}
