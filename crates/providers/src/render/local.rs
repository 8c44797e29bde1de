//! The local composer: ffmpeg makes an H.264/AAC MP4 as long as the voice in each format asked
//! for (9:16 1080x1920 by default; half size for a preview), over a generated moving gradient,
//! the reel's own video when asked for (muted, cropped to fill, looped or trimmed), a still image
//! with a slow zoom, or a solid colour; with burned-in subtitles in the chosen look, optional
//! ducked music and logo, and the mix brought to -14 LUFS (see [`loudness`]). Every format
//! comes from one ffmpeg process that decodes the background once and splits it, since separate
//! runs each decoded it again; the formats of one width cut from a tall reel also share its
//! scaling and the subtitles drawn on it (see [`scales_first`]); the first format keeps the
//! composer's encoding and the further ones take a cheaper one of the same picture quality (see
//! [`FfmpegComposer::further`]). The
//! same process takes the thumbnail from the first format's picture. The sound is mixed,
//! normalised, encoded once and measured with `ebur128` while the pictures encode; each format's
//! picture and that sound are then put together without encoding again, and checked with
//! ffprobe.

use crate::error_code::ErrorCode;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::{
    broll::{self, Clip},
    fonts::FontMetrics,
    loudness,
    subtitles::{self, Layout, SafeArea, SubtitleStyle},
    RenderRequest, Rendered, Renderer, THUMBNAIL_FILE,
};
use crate::{
    domain::{
        options::{is_hex_colour, BackgroundKind, RenderOptions, SubtitlePosition, SubtitlePreset},
        video_format::VideoFormat,
    },
    {process, CallContext, ProviderError},
};

/// The rendered video may differ from the voice by this much.
const DURATION_TOLERANCE_MS: u64 = 200;
/// Rendering is slower than probing: allow ten minutes.
const RENDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
/// The sound every format carries, encoded once.
const SOUND_FILE: &str = "sound.m4a";

pub struct FfmpegComposer {
    /// The first format's encoding: `veryfast` at CRF 23 keeps a 40 s render faster than real
    /// time on 2 cores.
    pub encoding: Encoding,
    /// The further formats' encoding, so that four formats cost at most 2.5 times one (the
    /// encoder's work follows the pixels, and the four frames have 3.26 times the first's).
    /// `superfast` at CRF 26 costs the encoder less than `veryfast` at 23 (with the crop before
    /// the scale, four formats went from 3.24 to 2.66 times one) for a picture at least as close
    /// to the unencoded frames (SSIM and PSNR equal or higher), in files 1.1 to 1.8 times as
    /// large: without `veryfast`'s macroblock tree the same CRF spends more bits still, and the
    /// higher CRF takes some back (`bench/render-quality`, BENCHMARKS.md "Render").
    pub further: Encoding,
}

/// How x264 encodes a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// x264's `-preset`: the faster, the less the encoder searches for a cheap way to code each
    /// picture.
    pub preset: String,
    /// x264's `-crf`: the lower, the more detail kept, in a bigger file.
    pub crf: u8,
}

impl Encoding {
    pub fn new(preset: &str, crf: u8) -> Encoding {
        Encoding {
            preset: preset.to_owned(),
            crf,
        }
    }

    /// A preview trades size and detail for speed, in every format.
    fn preview() -> Encoding {
        Encoding::new("ultrafast", 30)
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} crf {}", self.preset, self.crf)
    }
}

/// One file to make: its format and pixel size, and whether it is a draft.
#[derive(Debug, Clone, Copy)]
struct Canvas {
    format: VideoFormat,
    width: u32,
    height: u32,
    preview: bool,
}

impl Canvas {
    fn new(format: VideoFormat, preview: bool) -> Canvas {
        let (width, height) = format.frame_size(preview);
        Canvas {
            format,
            width,
            height,
            preview,
        }
    }

    /// Pixels of this canvas per pixel of the format's full size.
    fn scale(&self) -> f64 {
        f64::from(self.width) / f64::from(self.format.size().0)
    }

    /// The picture's middle at this canvas's shape and size: see [`fill`].
    fn fill(&self) -> String {
        fill(self.width, self.height)
    }

    /// The scaled value of `pixels` of the full-size frame, as an even number.
    fn scaled(&self, pixels: u32) -> u32 {
        ((f64::from(pixels) * self.scale() / 2.0).round() as u32) * 2
    }
}

/// Where the picture comes from.
enum Background<'a> {
    Reel(&'a Path),
    Clips(&'a [Clip]),
    Image(&'a Path),
    Colour(String),
    /// ffmpeg colours of a gradient: the base, a deeper accent, a lighter tint.
    Generated([String; 3]),
}

fn style(options: &RenderOptions, key_words: &[String]) -> SubtitleStyle {
    let mut style = SubtitleStyle {
        emphasis: key_words
            .iter()
            .map(|word| subtitles::key_of(word))
            .collect(),
        ..SubtitleStyle::default()
    };
    let Some(subtitles) = &options.subtitles else {
        return style;
    };
    if subtitles.emphasis == Some(false) {
        style.emphasis.clear();
    }
    style.font_size = subtitles.font_size;
    style.preset = subtitles.style.unwrap_or_default();
    style.words_per_cue = subtitles.words_per_cue.map(|words| words as usize);
    if let Some(position) = subtitles.position {
        style.position = position;
    }
    for (value, target) in [
        (&subtitles.colour, &mut style.colour),
        (&subtitles.highlight_colour, &mut style.highlight),
        (&subtitles.box_colour, &mut style.box_colour),
        (&subtitles.emphasis_colour, &mut style.emphasis_colour),
        (&subtitles.font, &mut style.font),
    ] {
        if let Some(value) = value {
            target.clone_from(value);
        }
    }
    style
}

/// The default base colour, a dark blue-grey.
const DEFAULT_COLOUR: [u8; 3] = [0x10, 0x18, 0x20];

/// The `#RRGGBB` given, or the default, as channels.
fn rgb(value: Option<&str>) -> [u8; 3] {
    match value {
        Some(hex) if is_hex_colour(hex) => {
            let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
            [channel(1), channel(3), channel(5)]
        }
        _ => DEFAULT_COLOUR,
    }
}

fn ffmpeg_hex([r, g, b]: [u8; 3]) -> String {
    format!("0x{r:02x}{g:02x}{b:02x}")
}

/// `#RRGGBB` for ffmpeg's colour source; without one, a dark grey.
fn ffmpeg_colour(value: Option<&str>) -> String {
    ffmpeg_hex(rgb(value))
}

/// `share` of the way from `from` to `to`.
fn blend(from: [u8; 3], to: [u8; 3], share: f64) -> [u8; 3] {
    std::array::from_fn(|i| {
        (f64::from(from[i]) * (1.0 - share) + f64::from(to[i]) * share).round() as u8
    })
}

/// The generated background's colours: the base, then towards an accent blue, then a tint.
fn gradient_colours(value: Option<&str>) -> [String; 3] {
    let base = rgb(value);
    [
        ffmpeg_hex(base),
        ffmpeg_hex(blend(base, [0x3b, 0x5b, 0xdb], 0.6)),
        ffmpeg_hex(blend(base, [0xff, 0xff, 0xff], 0.25)),
    ]
}

/// Fills a `width`x`height` frame with the middle of the picture at that shape, scaled to size.
/// Cropping before scaling scales only the pixels kept: a tall reel scaled to 1920 wide before
/// cutting 16:9 out of it had three times as many pixels to scale. The framing is the same but
/// for rounding, within a pixel of the picture.
fn fill(width: u32, height: u32) -> String {
    format!(
        "crop='min(iw,ih*{width}/{height})':'min(ih,iw*{height}/{width})',scale={width}:{height},setsar=1"
    )
}

/// Whether `canvas` takes the reel (`width`x`height` as shown) scaled to the canvas's width and
/// then cut to its height, rather than cut to its shape and then scaled ([`fill`]). Scaling
/// first lets the formats of one width share one scaling and one drawing of their subtitles:
/// from a 9:16 reel, 9:16, 4:5 and 1:1 are all the reel at 1080 wide, and the two drawings
/// saved were 13% of a four-format render (BENCHMARKS.md). It scales the rows that are cut
/// away, so it is taken only while those are fewer than the canvas's own (a lone 1:1 from a
/// 9:16 reel scales 1.8 times its rows); 16:9 from a tall reel would scale three times its rows
/// and is cut first. The rule looks at the reel and the canvas alone, not at the other formats
/// asked for, so a format made with others has the same pixels as the format made alone.
fn scales_first(reel_size: Option<(u32, u32)>, canvas: Canvas) -> bool {
    let Some((width, height)) = reel_size.filter(|(width, height)| *width > 0 && *height > 0)
    else {
        return false;
    };
    let (canvas_width, canvas_height) = (u64::from(canvas.width), u64::from(canvas.height));
    let (width, height) = (u64::from(width), u64::from(height));
    // Narrower than the canvas's shape, so the width decides the scale; the scaled height at
    // most twice the canvas's.
    width * canvas_height <= height * canvas_width
        && height * canvas_width <= 2 * canvas_height * width
}

/// The height of a reel of `reel_size` scaled to `width` by its shape, as ffmpeg's `scale` with
/// `force_original_aspect_ratio=increase:force_divisible_by=2` makes it when the width decides
/// ([`scales_first`]): rounded to the nearest pixel, then up to an even one.
fn scaled_height((reel_width, reel_height): (u32, u32), width: u32) -> u32 {
    let (reel_width, reel_height) = (u64::from(reel_width.max(1)), u64::from(reel_height));
    let height = (u64::from(width) * reel_height + reel_width / 2) / reel_width;
    u32::try_from(height + height % 2).unwrap_or(u32::MAX)
}

/// Adds to `graph` the reel (`source`) brought to each output's canvas, as `[bg{branch}]` at 30
/// frames a second: the canvases that scale first ([`scales_first`]) share one scaling per
/// width, and the subtitles drawn on it when they have a `drawing`, and cut their height from
/// it; the others are cut and scaled each on its own. The reel's size only chooses between the
/// two: the scaling covers the tallest canvas of its width by the reel's shape as decoded, so
/// a wrong size still gives every canvas its frame.
fn reel_fills(
    source: &str,
    reel_size: Option<(u32, u32)>,
    outputs: &[Output],
    fonts_dir: &str,
    graph: &mut Vec<String>,
) {
    let mut widths: Vec<(u32, Vec<usize>)> = Vec::new();
    let mut cut_first = Vec::new();
    for (branch, output) in outputs.iter().enumerate() {
        let canvas = output.canvas;
        if !scales_first(reel_size, canvas) {
            cut_first.push(branch);
            continue;
        }
        match widths.iter_mut().find(|(width, _)| *width == canvas.width) {
            Some((_, branches)) => branches.push(branch),
            None => widths.push((canvas.width, vec![branch])),
        }
    }
    let sources = copies(source, widths.len() + cut_first.len(), graph);
    let (scaled_sources, cut_sources) = sources.split_at(widths.len());
    for ((width, branches), source) in widths.iter().zip(scaled_sources) {
        let tallest = branches
            .iter()
            .map(|&branch| outputs[branch].canvas.height)
            .max()
            .unwrap_or_default();
        // The formats of one width draw one script (`subtitles::Layout::centred_in`).
        let drawing = branches
            .iter()
            .find_map(|&branch| outputs[branch].drawn_before_cut(reel_size))
            .map_or(String::new(), |drawing| {
                format!(",ass='{}'{fonts_dir}", filter_path(drawing))
            });
        let scaled = format!("[w{width}]");
        graph.push(format!(
            "{source}scale={width}:{tallest}:force_original_aspect_ratio=increase:force_divisible_by=2,setsar=1,fps=30{drawing}{scaled}"
        ));
        for (&branch, copy) in branches.iter().zip(copies(&scaled, branches.len(), graph)) {
            let Canvas { width, height, .. } = outputs[branch].canvas;
            graph.push(format!("{copy}crop={width}:{height}[bg{branch}]"));
        }
    }
    for (&branch, source) in cut_first.iter().zip(cut_sources) {
        graph.push(format!(
            "{source}{},fps=30[bg{branch}]",
            outputs[branch].canvas.fill()
        ));
    }
}

/// Filter-graph paths: libass wants `:` and `\` escaped.
fn filter_path(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('\\', "\\\\")
        .replace(':', "\\:")
        .replace('\'', "\\'")
}

impl FfmpegComposer {
    fn background<'a>(&self, request: &'a RenderRequest) -> Result<Background<'a>, ProviderError> {
        let colour = || Background::Colour(ffmpeg_colour(request.options.colour.as_deref()));
        Ok(match request.options.background {
            Some(BackgroundKind::Colour) => colour(),
            Some(BackgroundKind::Image) => {
                Background::Image(request.assets.get("image_key").ok_or_else(|| {
                    ProviderError::fatal(
                        ErrorCode::InvalidOptions,
                        "`background: image` needs `image_key`, a media store key",
                    )
                })?)
            }
            Some(BackgroundKind::Reel) => {
                Background::Reel(request.reel_video.as_deref().ok_or_else(|| {
                    ProviderError::fatal(
                        ErrorCode::NoReelVideo,
                        "the reel has no stored video to use as background",
                    )
                })?)
            }
            Some(BackgroundKind::Clips) if request.clips.is_empty() => {
                return Err(ProviderError::fatal(
                    ErrorCode::InvalidOptions,
                    "`background: clips` needs clips: give `clip_keys` or upload videos or images to the project's library",
                ))
            }
            Some(BackgroundKind::Clips) => Background::Clips(&request.clips),
            // Stock clips that were not found leave the library's, else the generated picture.
            Some(BackgroundKind::Stock) | None if !request.clips.is_empty() => {
                Background::Clips(&request.clips)
            }
            Some(BackgroundKind::Generated | BackgroundKind::Stock) | None => {
                Background::Generated(gradient_colours(request.options.colour.as_deref()))
            }
        })
    }

    /// The reel's size as shown, when the picture comes from a reel: it chooses how each format
    /// is cut from it ([`scales_first`]). Unknown, every format is cut first, as from any clip.
    async fn reel_size(&self, request: &RenderRequest) -> Option<(u32, u32)> {
        let Ok(Background::Reel(path)) = self.background(request) else {
            return None;
        };
        let info = process::probe(path).await.ok()?;
        info.width.zip(info.height)
    }

    /// The integrated loudness of the mix (the voice, and the music ducked under it) through
    /// `chain`: the audio alone, no picture decoded, and no true peak, which the search does not
    /// read.
    async fn measure_mix(
        &self,
        request: &RenderRequest,
        chain: &str,
    ) -> Result<f64, ProviderError> {
        let mut args = mix_arguments(
            request,
            &format!("{chain},{}", loudness::MEASURE_INTEGRATED),
        );
        args.extend(["-f", "null", "-"].map(String::from));
        let output = process::run_output("ffmpeg", args, RENDER_TIMEOUT).await?;
        loudness::parse_integrated(&String::from_utf8_lossy(&output.stderr))
    }

    /// The sound of every format: the mix brought to the target (the gain searched as
    /// [`Self::loudness_gain`] does), encoded once into `file` and measured there, so the
    /// loudness recorded is the one of the AAC stream each video carries. It all runs while the
    /// pictures encode.
    async fn sound(
        &self,
        request: &RenderRequest,
        preview: bool,
        file: &Path,
    ) -> Result<loudness::Loudness, ProviderError> {
        let gain = self.loudness_gain(request, preview).await?;
        let mut args = mix_arguments(request, &loudness::chain(gain));
        args.extend(AUDIO_ENCODING.map(String::from));
        args.push(file.display().to_string());
        process::run("ffmpeg", args, RENDER_TIMEOUT).await?;
        loudness::measure(file).await
    }

    /// The gain that brings the mix to the target, searched by measuring the audio alone. A
    /// preview takes the first estimate from one measurement: up to the limiter the gain adds
    /// exactly, so it is off only by what the limiter takes (a fraction of a decibel to about
    /// one), which a draft can carry; each further pass would add about a tenth of its time.
    async fn loudness_gain(
        &self,
        request: &RenderRequest,
        preview: bool,
    ) -> Result<f64, ProviderError> {
        let evened = self.measure_mix(request, loudness::EVEN).await?;
        let mut gain = loudness::GainSearch::start(evened);
        if preview {
            return Ok(gain);
        }
        let mut search = loudness::GainSearch::default();
        for _ in 1..loudness::MAX_MEASUREMENTS {
            let measured = self.measure_mix(request, &loudness::chain(gain)).await?;
            match search.next(gain, measured) {
                Some(next) => gain = next,
                None => break,
            }
        }
        Ok(gain)
    }

    /// The ffmpeg arguments for the picture in every format of `outputs`, as one process: each
    /// input is decoded once and split into a branch per format, and each branch is scaled,
    /// subtitled and encoded as a render of that format alone with its encoding would be, into
    /// the output's `picture` file (the sound is added after, see [`mux`]). The first format's
    /// picture also gives the `thumbnail`, before it is encoded: a second process decoding the
    /// file for it took about half a second after each render.
    fn picture_arguments(
        &self,
        request: &RenderRequest,
        reel_size: Option<(u32, u32)>,
        outputs: &[Output],
        thumbnail: &Path,
    ) -> Result<Vec<String>, ProviderError> {
        let seconds = seconds(request);
        let count = outputs.len();
        let fonts_dir = request
            .font
            .as_ref()
            .and_then(|font| font.path.parent())
            .map_or(String::new(), |dir| {
                format!(":fontsdir='{}'", filter_path(dir))
            });
        let mut args: Vec<String> = ["-v", "error", "-y"].map(String::from).to_vec();
        let mut graph = Vec::new();
        match self.background(request)? {
            Background::Reel(path) => {
                args.extend(["-stream_loop", "-1", "-i"].map(String::from));
                args.push(path.display().to_string());
                reel_fills("[0:v]", reel_size, outputs, &fonts_dir, &mut graph);
            }
            Background::Clips(clips) => {
                let shots = broll::shots(&request.words, request.audio_duration_ms, clips.len());
                broll::inputs(&shots, clips, &mut args);
                let shot_copies: Vec<Vec<String>> = (0..shots.len())
                    .map(|input| copies(&format!("[{input}:v]"), count, &mut graph))
                    .collect();
                for (branch, output) in outputs.iter().enumerate() {
                    let sources: Vec<String> = shot_copies
                        .iter()
                        .map(|copies| copies[branch].clone())
                        .collect();
                    graph.extend(broll::graph(
                        &shots,
                        &sources,
                        &output.canvas.fill(),
                        branch,
                    ));
                }
            }
            Background::Image(path) => {
                args.extend(["-loop", "1", "-framerate", "30", "-i"].map(String::from));
                args.push(path.display().to_string());
                let sources = copies("[0:v]", count, &mut graph);
                // A slow push-in: 1.0 to about 1.15 over the video.
                let frames = (request.audio_duration_ms * 30 / 1000).max(1);
                for (branch, (output, source)) in outputs.iter().zip(sources).enumerate() {
                    let Canvas { width, height, .. } = output.canvas;
                    graph.push(format!(
                        "{source}{},zoompan=z='1+0.15*on/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s={width}x{height}:fps=30,setsar=1[bg{branch}]",
                        fill(width * 2, height * 2)
                    ));
                }
            }
            // Drawn sources are drawn at each format's size: there is nothing to decode.
            Background::Colour(colour) => {
                for (branch, output) in outputs.iter().enumerate() {
                    let Canvas { width, height, .. } = output.canvas;
                    args.extend(["-f", "lavfi", "-i"].map(String::from));
                    args.push(format!("color=c={colour}:s={width}x{height}:r=30"));
                    graph.push(format!("[{branch}:v]null[bg{branch}]"));
                }
            }
            Background::Generated([base, accent, tint]) => {
                for (branch, output) in outputs.iter().enumerate() {
                    let Canvas { width, height, .. } = output.canvas;
                    // Drawn at a quarter of the size and scaled up: a smooth gradient loses
                    // nothing, and drawing it at full size costs more than the encode.
                    args.extend(["-f", "lavfi", "-i"].map(String::from));
                    args.push(format!(
                        "gradients=s={}x{}:r=30:c0={base}:c1={accent}:c2={tint}:nb_colors=3:speed=0.015",
                        width / 4,
                        height / 4
                    ));
                    graph.push(format!(
                        "[{branch}:v]scale={width}:{height},setsar=1[bg{branch}]"
                    ));
                }
            }
        }
        let logos = match request.assets.get("logo_key") {
            Some(logo) => {
                let input = args.iter().filter(|arg| *arg == "-i").count();
                args.extend(["-i".to_owned(), logo.display().to_string()]);
                copies(&format!("[{input}:v]"), count, &mut graph)
            }
            None => Vec::new(),
        };
        let mut videos = Vec::new();
        for (branch, output) in outputs.iter().enumerate() {
            let canvas = output.canvas;
            let subtitled = if output.drawn_before_cut(reel_size).is_some() {
                format!("[bg{branch}]")
            } else {
                graph.push(format!(
                    "[bg{branch}]ass='{}'{fonts_dir}[sub{branch}]",
                    filter_path(&output.ass)
                ));
                format!("[sub{branch}]")
            };
            let Some(logo) = logos.get(branch) else {
                videos.push(subtitled);
                continue;
            };
            // Top right, inside the format's safe area.
            let area = SafeArea::of(canvas.format);
            graph.push(format!(
                "{logo}scale={}:-1[logo{branch}]",
                canvas.scaled(200)
            ));
            graph.push(format!(
                "{subtitled}[logo{branch}]overlay=W-w-{}:{}[pic{branch}]",
                canvas.scaled(area.side),
                canvas.scaled(area.top)
            ));
            videos.push(format!("[pic{branch}]"));
        }
        let first = copies(&videos[0], 2, &mut graph);
        videos[0].clone_from(&first[0]);
        // One frame, then the branch ends: left open, it kept ffmpeg reading the looped
        // inputs for ever once every video was done. The JPEG's full-range colours are made by
        // the branch's own `scale`: else ffmpeg picks them for the `split` and the video's
        // picture goes through them and back.
        graph.push(format!(
            "{}trim=start={:.3},trim=end_frame=1,scale[thumbnail]",
            first[1],
            thumbnail_at(request.audio_duration_ms) as f64 / 1000.0
        ));
        args.extend(["-filter_complex".to_owned(), graph.join(";")]);
        for (output, video) in outputs.iter().zip(videos) {
            let Encoding { preset, crf } = &output.encoding;
            args.extend(["-map".to_owned(), video]);
            args.extend(
                [
                    "-t",
                    &seconds,
                    "-c:v",
                    "libx264",
                    "-preset",
                    preset,
                    "-crf",
                    &crf.to_string(),
                    "-pix_fmt",
                    "yuv420p",
                    "-r",
                    "30",
                ]
                .map(String::from),
            );
            args.push(output.picture.display().to_string());
        }
        args.extend(["-map", "[thumbnail]", "-frames:v", "1", "-q:v", "3"].map(String::from));
        args.push(thumbnail.display().to_string());
        Ok(args)
    }
}

/// One file of a render: its canvas, the subtitles burned into it, how it is encoded, where its
/// picture is encoded to and where the file with its sound goes.
struct Output {
    canvas: Canvas,
    /// The subtitles laid out on the format's own frame, as the user downloads them.
    ass: PathBuf,
    /// When the subtitles are drawn on the reel scaled to the canvas's width before the cut
    /// (shared by the formats of that width): that frame's script, the same text in the same
    /// place once cut.
    drawing: Option<PathBuf>,
    encoding: Encoding,
    picture: PathBuf,
    path: PathBuf,
}

impl Output {
    /// The drawing this output's picture takes from the scaled reel, if it is cut from one.
    fn drawn_before_cut(&self, reel_size: Option<(u32, u32)>) -> Option<&Path> {
        self.drawing
            .as_deref()
            .filter(|_| scales_first(reel_size, self.canvas))
    }
}

/// How the sound is encoded, once for every format.
const AUDIO_ENCODING: [&str; 6] = ["-c:a", "aac", "-b:a", "128k", "-ar", "44100"];

/// The arguments that read the voice (and the music, looped) and pass their mix through
/// `filters` to the output that follows, as long as the voice.
fn mix_arguments(request: &RenderRequest, filters: &str) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-nostats", "-i"]
        .map(String::from)
        .to_vec();
    args.push(request.audio.display().to_string());
    let music = request.assets.get("music_key").map(|music| {
        args.extend(["-stream_loop", "-1", "-i"].map(String::from));
        args.push(music.display().to_string());
        1
    });
    let mut graph = Vec::new();
    let mix = audio_mix(0, music, &mut graph);
    graph.push(format!("{mix}{filters}[mixed]"));
    args.extend(["-filter_complex".to_owned(), graph.join(";")]);
    args.extend(["-map", "[mixed]", "-t"].map(String::from));
    args.push(seconds(request));
    args
}

/// Puts `picture` and `sound` together into `file` without encoding either again, with the
/// index first so that a player starts before the whole file is read.
async fn mux(picture: &Path, sound: &Path, file: &Path) -> Result<(), ProviderError> {
    let [picture, sound, file] = [picture, sound, file].map(|path| path.display().to_string());
    process::run(
        "ffmpeg",
        [
            "-v",
            "error",
            "-y",
            "-i",
            &picture,
            "-i",
            &sound,
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            &file,
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    tokio::fs::remove_file(&picture).await.map_err(|error| {
        ProviderError::retryable(format!("removing the picture-only file: {error}"))
    })
}

/// Labels for `count` copies of the picture `source`: the stream itself when one is wanted,
/// else the branches of a `split`, so that one decode feeds every format.
fn copies(source: &str, count: usize, graph: &mut Vec<String>) -> Vec<String> {
    if count == 1 {
        return vec![source.to_owned()];
    }
    let name: String = source.chars().filter(char::is_ascii_alphanumeric).collect();
    let labels: Vec<String> = (0..count)
        .map(|branch| format!("[{name}f{branch}]"))
        .collect();
    graph.push(format!("{source}split={count}{}", labels.concat()));
    labels
}

/// The voice's length, as ffmpeg's `-t`.
fn seconds(request: &RenderRequest) -> String {
    format!("{:.3}", request.audio_duration_ms as f64 / 1000.0)
}

/// Adds to `graph` the mix of the voice (input `voice`) with the music (input `music`, if any)
/// dipping under it (sidechain), mixed without renormalising the voice's level; answers the
/// mix's label.
fn audio_mix(voice: usize, music: Option<usize>, graph: &mut Vec<String>) -> String {
    let Some(music) = music else {
        return format!("[{voice}:a]");
    };
    graph.push(format!("[{voice}:a]asplit=2[voice][key]"));
    graph.push(format!("[{music}:a]volume=0.35[music]"));
    graph.push(
        "[music][key]sidechaincompress=threshold=0.02:ratio=12:attack=20:release=400[ducked]"
            .into(),
    );
    graph.push("[voice][ducked]amix=inputs=2:duration=first:normalize=0[mix]".into());
    "[mix]".to_owned()
}

async fn write(path: PathBuf, text: String) -> Result<(), ProviderError> {
    tokio::fs::write(&path, text).await.map_err(|error| {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        ProviderError::retryable(format!("writing {name}: {error}"))
    })
}

/// Where a video's thumbnail is taken: a second in, or mid-video for shorter ones.
fn thumbnail_at(duration_ms: u64) -> u64 {
    (duration_ms / 2).min(1000)
}

/// The frame [`thumbnail_at`] of `video` as a JPEG.
pub async fn thumbnail(video: &Path, duration_ms: u64, output: &Path) -> Result<(), ProviderError> {
    frame(video, thumbnail_at(duration_ms), output).await
}

/// One frame of `video`, `at_ms` in, as a JPEG.
pub async fn frame(video: &Path, at_ms: u64, output: &Path) -> Result<(), ProviderError> {
    let at = format!("{:.3}", at_ms as f64 / 1000.0);
    process::run(
        "ffmpeg",
        [
            "-v",
            "error",
            "-y",
            "-ss",
            &at,
            "-i",
            &video.display().to_string(),
            "-frames:v",
            "1",
            "-q:v",
            "3",
            &output.display().to_string(),
        ],
        process::TOOL_TIMEOUT,
    )
    .await?;
    found_frame(output, at_ms).await
}

/// Whether ffmpeg wrote the frame `at_ms` in to `output`: it says nothing when the video is
/// shorter.
async fn found_frame(output: &Path, at_ms: u64) -> Result<(), ProviderError> {
    if tokio::fs::try_exists(output).await.unwrap_or(false) {
        return Ok(());
    }
    Err(ProviderError::fatal(
        ErrorCode::ToolFailed,
        format!(
            "ffmpeg found no frame {:.3} s into the video",
            at_ms as f64 / 1000.0
        ),
    ))
}

/// The encoder and each file's encoding: `ffmpeg/libx264 veryfast crf 23`, then `; 4:5
/// superfast crf 26` for each further format, and ` preview` for a draft.
fn model(outputs: &[Output]) -> String {
    let mut model = format!("ffmpeg/libx264 {}", outputs[0].encoding);
    for output in &outputs[1..] {
        model.push_str(&format!(
            "; {} {}",
            output.canvas.format.ratio(),
            output.encoding
        ));
    }
    if outputs[0].canvas.preview {
        model.push_str(" preview");
    }
    model
}

/// What is wrong with a rendered file, if anything.
fn problems(info: &process::MediaInfo, canvas: Canvas, voice_ms: u64) -> Vec<String> {
    let (width, height) = (canvas.width, canvas.height);
    [
        ((info.width, info.height) != (Some(width), Some(height))).then(|| {
            format!(
                "{}: size {:?}x{:?}, not {width}x{height}",
                canvas.format.ratio(),
                info.width,
                info.height
            )
        }),
        (info.duration_ms.abs_diff(voice_ms) > DURATION_TOLERANCE_MS).then(|| {
            format!(
                "{}: {} ms long, the voice is {voice_ms} ms",
                canvas.format.ratio(),
                info.duration_ms
            )
        }),
        info.audio_codec
            .is_none()
            .then(|| format!("{}: no audio track", canvas.format.ratio())),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[async_trait]
impl Renderer for FfmpegComposer {
    async fn render(
        &self,
        request: &RenderRequest,
        ctx: &CallContext<'_>,
    ) -> Result<Rendered, ProviderError> {
        let mut style = style(&request.options, &request.key_words);
        if let Some(font) = &request.font {
            style.font.clone_from(&font.family);
        }
        let formats = request.options.formats();
        let preview = request.options.preview == Some(true);
        let dir = &request.output_dir;
        let primary = formats[0];
        let cues = style.cues(&request.words, primary);
        let line_chars = style.line_chars(primary);
        write(dir.join("subtitles.srt"), subtitles::srt(&cues, line_chars)).await?;
        write(dir.join("subtitles.vtt"), subtitles::vtt(&cues, line_chars)).await?;
        let font = match (&request.font, style.preset) {
            (Some(library), SubtitlePreset::Boxed) => FontMetrics::read(&library.path).await,
            (None, SubtitlePreset::Boxed) => FontMetrics::find(&style.font, style.bold()).await,
            _ => None,
        };
        let further = if preview {
            Encoding::preview()
        } else {
            self.further.clone()
        };
        let reel_size = self.reel_size(request).await;
        let mut outputs = Vec::new();
        for (index, &format) in formats.iter().enumerate() {
            let ass = dir.join(match index {
                0 => "subtitles.ass".to_owned(),
                _ => format!("subtitles-{}.ass", format.ratio().replace(':', "x")),
            });
            let cues = style.cues(&request.words, format);
            let script = |layout| subtitles::ass(&cues, &style, &layout, font.as_ref());
            write(ass.clone(), script(Layout::of(format))).await?;
            let canvas = Canvas::new(format, preview);
            // A cut from the reel scaled to the canvas's width takes the subtitles drawn on that
            // scaling, but at the top: the formats' tops are not at one height from the middle.
            let drawing = match reel_size {
                Some(reel)
                    if scales_first(reel_size, canvas)
                        && style.position != SubtitlePosition::Top =>
                {
                    let drawing = dir.join(format!("drawing-{}.ass", canvas.width));
                    let height = scaled_height(reel, canvas.width) * format.size().0 / canvas.width;
                    write(drawing.clone(), script(Layout::centred_in(format, height))).await?;
                    Some(drawing)
                }
                _ => None,
            };
            outputs.push(Output {
                canvas,
                ass,
                drawing,
                encoding: match index {
                    0 if !preview => self.encoding.clone(),
                    _ => further.clone(),
                },
                picture: dir.join(format!("picture-{index}.mp4")),
                path: dir.join(format.file_name(index == 0)),
            });
        }
        let ratios: Vec<&str> = formats.iter().map(|format| format.ratio()).collect();
        ctx.progress
            .report(
                15,
                &format!("encoding {} and measuring loudness", ratios.join(", ")),
            )
            .await;
        let thumbnail_file = dir.join(THUMBNAIL_FILE);
        let sound_file = dir.join(SOUND_FILE);
        // The sound needs no picture: its loudness search, encoding and measurement take a core
        // for about a second while the pictures encode, instead of that second before and half
        // a second after them.
        let (pictures, loudness) = tokio::join!(
            process::run(
                "ffmpeg",
                self.picture_arguments(request, reel_size, &outputs, &thumbnail_file)?,
                // One process encodes every format.
                RENDER_TIMEOUT * outputs.len() as u32,
            ),
            self.sound(request, preview, &sound_file)
        );
        pictures?;
        let loudness = loudness?;
        // A drawing is a published script's text on a frame no file has: not a render file.
        let mut drawings: Vec<&PathBuf> = outputs
            .iter()
            .filter_map(|output| output.drawing.as_ref())
            .collect();
        drawings.sort();
        drawings.dedup();
        for drawing in drawings {
            tokio::fs::remove_file(drawing).await.map_err(|error| {
                ProviderError::retryable(format!("removing the subtitles' drawing: {error}"))
            })?;
        }
        found_frame(&thumbnail_file, thumbnail_at(request.audio_duration_ms)).await?;
        futures::future::try_join_all(
            outputs
                .iter()
                .map(|output| mux(&output.picture, &sound_file, &output.path)),
        )
        .await?;
        let infos = futures::future::try_join_all(
            outputs.iter().map(|output| process::probe(&output.path)),
        )
        .await?;
        let mut problems = Vec::new();
        for (info, output) in infos.iter().zip(&outputs) {
            problems.extend(self::problems(
                info,
                output.canvas,
                request.audio_duration_ms,
            ));
        }
        if !problems.is_empty() {
            return Err(ProviderError::fatal(
                ErrorCode::RenderCheckFailed,
                format!(
                    "the rendered video failed its checks: {}",
                    problems.join("; ")
                ),
            ));
        }
        Ok(Rendered {
            provider_job_id: None,
            model: model(&outputs),
            loudness: Some(loudness),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> RenderRequest {
        RenderRequest {
            audio: "voice.wav".into(),
            audio_format: "wav".into(),
            audio_duration_ms: 2000,
            words: Vec::new(),
            reel_video: Some("reel.mp4".into()),
            assets: [("logo_key".to_owned(), PathBuf::from("logo.png"))].into(),
            clips: Vec::new(),
            font: None,
            output_dir: "out".into(),
            video_id: uuid::Uuid::nil(),
            key_words: Vec::new(),
            options: RenderOptions {
                background: Some(BackgroundKind::Reel),
                ..Default::default()
            },
        }
    }

    fn graph(args: &[String]) -> &str {
        let at = args
            .iter()
            .position(|arg| arg == "-filter_complex")
            .unwrap();
        &args[at + 1]
    }

    fn composer() -> FfmpegComposer {
        FfmpegComposer {
            encoding: Encoding::new("veryfast", 23),
            further: Encoding::new("superfast", 26),
        }
    }

    /// Every format, the first with the composer's encoding and the further with the cheaper.
    fn outputs(composer: &FfmpegComposer) -> Vec<Output> {
        VideoFormat::ALL
            .into_iter()
            .enumerate()
            .map(|(index, format)| Output {
                canvas: Canvas::new(format, false),
                ass: format!("{}.ass", format.ratio().replace(':', "x")).into(),
                drawing: None,
                encoding: match index {
                    0 => composer.encoding.clone(),
                    _ => composer.further.clone(),
                },
                picture: format!("picture-{index}.mp4").into(),
                path: format.file_name(false).into(),
            })
            .collect()
    }

    #[test]
    fn every_format_comes_from_one_decode_of_each_input() {
        let composer = composer();
        let outputs = outputs(&composer);
        let request = request();
        let thumbnail = Path::new("thumbnail.jpg");
        let args = composer
            .picture_arguments(&request, None, &outputs, thumbnail)
            .unwrap();
        // The reel and the logo, each read once and split four ways (the sound is encoded
        // apart, once)...
        assert_eq!(args.iter().filter(|arg| *arg == "-i").count(), 2);
        let together = graph(&args);
        for split in ["[0:v]split=4", "[1:v]split=4"] {
            assert_eq!(together.matches(split).count(), 1, "{split} in {together}");
        }
        assert!(!together.contains("[a]"), "{together}");
        for output in &outputs {
            assert!(args.contains(&output.picture.display().to_string()));
        }
        // The first format's own encoding, then the further formats' cheaper one.
        let presets: Vec<&str> = args
            .windows(2)
            .filter(|pair| pair[0] == "-preset")
            .map(|pair| pair[1].as_str())
            .collect();
        assert_eq!(presets, ["veryfast", "superfast", "superfast", "superfast"]);
        // The thumbnail, a second in, from the first format's picture before it is encoded.
        assert!(
            together.contains("[pic0]split=2[pic0f0][pic0f1]"),
            "{together}"
        );
        assert!(together.contains("[pic0f1]trim=start=1.000,trim=end_frame=1,scale[thumbnail]"));
        assert_eq!(args.last().unwrap(), "thumbnail.jpg");
        // ...and each branch made as the format alone makes it: the middle of the reel cut to
        // 16:9 before it is scaled.
        let alone = composer
            .picture_arguments(&request, None, &outputs[3..], thumbnail)
            .unwrap();
        assert_eq!(
            graph(&alone).matches("split").count(),
            1,
            "{}",
            graph(&alone)
        );
        let fill =
            "crop='min(iw,ih*1920/1080)':'min(ih,iw*1080/1920)',scale=1920:1080,setsar=1,fps=30";
        assert!(graph(&alone).contains(&format!("[0:v]{fill}[bg0]")));
        assert!(together.contains(&format!("[0vf3]{fill}[bg3]")));
        assert!(together.contains("[bg3]ass='16x9.ass'[sub3]"));
    }

    #[test]
    fn formats_of_one_width_share_the_scaled_reel_and_its_subtitles() {
        let composer = composer();
        let mut outputs = outputs(&composer);
        for output in &mut outputs[..3] {
            output.drawing = Some("drawing-1080.ass".into());
        }
        let request = request();
        let thumbnail = Path::new("thumbnail.jpg");
        let tall_reel = Some((720, 1280));
        let args = composer
            .picture_arguments(&request, tall_reel, &outputs, thumbnail)
            .unwrap();
        let together = graph(&args);
        // 9:16, 4:5 and 1:1 are the reel at 1080 wide: scaled and subtitled once, cut three
        // ways...
        let scale = "scale=1080:1920:force_original_aspect_ratio=increase:force_divisible_by=2,setsar=1,fps=30";
        for part in [
            "[0:v]split=2[0vf0][0vf1]".to_owned(),
            format!("[0vf0]{scale},ass='drawing-1080.ass'[w1080]"),
            "[w1080]split=3[w1080f0][w1080f1][w1080f2]".to_owned(),
            "[w1080f0]crop=1080:1920[bg0]".to_owned(),
            "[w1080f1]crop=1080:1350[bg1]".to_owned(),
            "[w1080f2]crop=1080:1080[bg2]".to_owned(),
            // ...while 16:9 would scale three times its rows: cut first.
            "[0vf1]crop='min(iw,ih*1920/1080)':'min(ih,iw*1080/1920)',scale=1920:1080,setsar=1,fps=30[bg3]".to_owned(),
            "[bg3]ass='16x9.ass'[sub3]".to_owned(),
            "[bg1][logo1]overlay=".to_owned(),
        ] {
            assert!(together.contains(&part), "{part} in {together}");
        }
        assert_eq!(together.matches("scale=1080").count(), 1, "{together}");
        assert_eq!(together.matches("ass=").count(), 2, "{together}");
        // Alone, 4:5 takes the same way, so its pixels are those it has among the others: the
        // scaling covers 1080x1350 by the reel's shape, which is 1080x1920 again.
        let alone = composer
            .picture_arguments(&request, tall_reel, &outputs[1..2], thumbnail)
            .unwrap();
        assert!(
            graph(&alone).starts_with("[0:v]scale=1080:1350:force_original_aspect_ratio=increase:force_divisible_by=2,setsar=1,fps=30,ass='drawing-1080.ass'[w1080];[w1080]crop=1080:1350[bg0];"),
            "{}",
            graph(&alone)
        );
        // A reel wider than a format's shape is cut to it first, as any clip is, and so is one
        // of unknown size.
        for wide_reel in [Some((1920, 1080)), None] {
            let args = composer
                .picture_arguments(&request, wide_reel, &outputs[..3], thumbnail)
                .unwrap();
            assert!(!graph(&args).contains("force_original"), "{}", graph(&args));
            // Each then draws its own subtitles, on its own frame.
            for (branch, output) in outputs[..3].iter().enumerate() {
                let own = format!("[bg{branch}]ass='{}'", output.ass.display());
                assert!(graph(&args).contains(&own), "{own} in {}", graph(&args));
            }
        }
        // ffmpeg's rounding of the scaled height: to the nearest pixel, then up to even.
        assert_eq!(scaled_height((720, 1280), 1080), 1920);
        assert_eq!(scaled_height((720, 1280), 540), 960);
        assert_eq!(scaled_height((718, 1280), 1080), 1926);
        assert_eq!(scaled_height((1080, 1351), 1080), 1352);
    }
}
