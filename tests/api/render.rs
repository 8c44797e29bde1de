//! Step 6: the local ffmpeg composer on tiny real media (checked with ffprobe and by looking at
//! the subtitle pixels). HeyGen has its own stand-in and tests in `heygen.rs`.

use serde_json::{json, Value};

use crate::{
    assets::{generated, png},
    helpers::{self, assert_refused, spawn_app_with, with_temp_file, TestApp},
    media::test_clip,
};

/// A reel from a real clip, a three-word script and its local voice (5 s); answers the audio.
pub async fn voiced_reel(app: &TestApp) -> Value {
    voiced(app, json!({"text": "Вставай. Действуй. Побеждай!"})).await
}

/// A reel's script edited by `edit` (`PATCH /v1/scripts/{id}`), voiced by the local engine.
async fn voiced(app: &TestApp, edit: Value) -> Value {
    let project = app
        .create_project(
            json!({"name": "r", "language": "ru", "settings": {"target_duration_seconds": 5}}),
        )
        .await;
    let project_id = project["id"].as_str().unwrap();
    let reel_id = app.upload_clip(project_id, test_clip()).await;
    let transcript_id = app
        .fake_step(&format!("/v1/reels/{reel_id}/transcripts"))
        .await;
    let script_id = app
        .fake_step(&format!("/v1/transcripts/{transcript_id}/scripts"))
        .await;
    let response = app
        .patch(&format!("/v1/scripts/{script_id}"), &edit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let audio = app
        .finished_step(
            &format!("/v1/scripts/{script_id}/audio"),
            json!({"provider": "local"}),
            "audio",
        )
        .await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    audio
}

/// One frame of a 1080x1920 video as RGB pixels.
fn frame_rgb(video: &[u8], at_ms: u64) -> Vec<u8> {
    helpers::frame_rgb(video, at_ms, (1080, 1920))
}

/// Pixels in rows `rows` that are far from the background colour.
fn drawn_pixels(rgb: &[u8], rows: std::ops::Range<usize>, background: [u8; 3]) -> usize {
    sized_drawn_pixels(rgb, 1080, rows, background)
}

/// Pixels in rows `rows` of a frame `width` wide that are far from the background colour.
fn sized_drawn_pixels(
    rgb: &[u8],
    width: usize,
    rows: std::ops::Range<usize>,
    background: [u8; 3],
) -> usize {
    pixels_where(rgb, width, rows, |p| {
        (0..3).any(|c| p[c].abs_diff(background[c]) > 60)
    })
    .count()
}

/// The (x, y) of pixels in `rows` of a frame `width` wide that `keep` accepts.
fn pixels_where<'a>(
    rgb: &'a [u8],
    width: usize,
    rows: std::ops::Range<usize>,
    keep: impl Fn(&[u8]) -> bool + 'a,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    rows.flat_map(move |y| (0..width).map(move |x| (x, y)))
        .filter(move |&(x, y)| keep(&rgb[(y * width + x) * 3..][..3]))
}

/// The highlight yellow (#FFD400), blended a little at the glyphs' edges.
fn yellow(p: &[u8]) -> bool {
    p[0] > 200 && p[1] > 170 && p[2] < 90
}

fn probe(video: &[u8]) -> Value {
    let output = with_temp_file(video, "mp4", |file| {
        std::process::Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
            ])
            .arg(file)
            .output()
            .unwrap()
    });
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_local_composer_makes_a_checked_vertical_video_with_drawn_subtitles() {
    let app = spawn_app_with(|_| {}).await;
    let audio = voiced_reel(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let voice_ms = audio["output"]["duration_ms"].as_u64().unwrap();

    let video = app
        .finished_step(
            &format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"background": "colour", "colour": "#102030"}}),
            "videos",
        )
        .await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    let output = &video["output"];
    assert_eq!(
        (output["width"].as_u64(), output["height"].as_u64()),
        (Some(1080), Some(1920))
    );
    assert_eq!(
        (
            output["video_codec"].as_str(),
            output["audio_codec"].as_str()
        ),
        (Some("h264"), Some("aac"))
    );
    assert!(
        output["duration_ms"].as_u64().unwrap().abs_diff(voice_ms) <= 200,
        "{output:#}"
    );
    assert_eq!(output["lineage"]["audio_id"], audio["id"]);
    assert!(output["lineage"]["reel_id"].is_string(), "{output:#}");
    // The mix is brought to -14 LUFS with its true peak under -1 dBTP, as recorded...
    let loudness = &output["loudness"];
    let integrated = loudness["integrated_lufs"].as_f64().unwrap();
    let peak = loudness["true_peak_dbtp"].as_f64().unwrap();
    println!("rendered loudness: {loudness}");
    assert!((integrated + 14.0).abs() <= 1.0, "{loudness}");
    assert!(peak <= -0.9, "{loudness}");

    let id = video["id"].as_str().unwrap();
    let mp4 = app.download(&format!("/v1/videos/{id}/content")).await;
    assert_eq!(mp4.len() as u64, output["size_bytes"].as_u64().unwrap());
    // ...and as measured here on the file served.
    let heard = with_temp_file(&mp4, "mp4", heard);
    assert!(
        (heard.integrated_lufs - integrated).abs() < 0.05,
        "{heard:?}"
    );
    assert!((heard.true_peak_dbtp - peak).abs() < 0.05, "{heard:?}");
    let probed = probe(&mp4);
    let streams = probed["streams"].as_array().unwrap();
    let picture = streams.iter().find(|s| s["codec_type"] == "video").unwrap();
    assert_eq!(picture["pix_fmt"], "yuv420p");
    assert!(streams.iter().any(|s| s["codec_type"] == "audio"));
    // `+faststart`: the index comes before the media data.
    let moov = mp4.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = mp4.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat, "moov at {moov}, mdat at {mdat}");

    // The first word is lit during its time: text pixels in the subtitle band, none above it.
    let first = &audio["output"]["words"][0];
    let at = (first["start_ms"].as_u64().unwrap() + first["end_ms"].as_u64().unwrap()) / 2;
    let rgb = frame_rgb(&mp4, at);
    let background = [0x10, 0x20, 0x30];
    let in_band = drawn_pixels(&rgb, 1150..1420, background);
    let elsewhere = drawn_pixels(&rgb, 200..900, background);
    assert!(in_band > 2000, "subtitle pixels drawn: {in_band}");
    assert_eq!(elsewhere, 0, "nothing drawn outside the subtitle band");
    let highlighted = pixels_where(&rgb, 1080, 1150..1420, yellow).count();
    assert!(
        highlighted > 300,
        "the spoken word is drawn in the highlight yellow: {highlighted}"
    );

    let srt = String::from_utf8(
        app.download(&format!("/v1/videos/{id}/files/subtitles.srt"))
            .await,
    )
    .unwrap();
    assert!(
        srt.starts_with("1\n00:00:00,000 --> ") && srt.contains("Вставай."),
        "{srt}"
    );
    let vtt = String::from_utf8(
        app.download(&format!("/v1/videos/{id}/files/subtitles.vtt"))
            .await,
    )
    .unwrap();
    assert!(
        vtt.starts_with("WEBVTT") && vtt.contains("Побеждай!"),
        "{vtt}"
    );
    let thumbnail = app
        .download(&format!("/v1/videos/{id}/files/thumbnail.jpg"))
        .await;
    assert_eq!(&thumbnail[..2], &[0xFF, 0xD8], "a JPEG");
    let missing = app
        .get(&format!("/v1/videos/{id}/files/nope.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // Over the reel's own video (180x320, looped to the voice's length).
    let over_reel = app
        .finished_step(
            &format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local"}),
            "videos",
        )
        .await;
    assert_eq!(over_reel["status"], "succeeded", "{over_reel:#}");
    assert!(
        over_reel["output"]["duration_ms"]
            .as_u64()
            .unwrap()
            .abs_diff(voice_ms)
            <= 200
    );
    assert!(
        over_reel["output"]["duration_ms"].as_u64().unwrap() > 2000,
        "longer than the 2 s clip: looped"
    );

    // Options that cannot work are refused at the start, naming the field; nothing is queued.
    let videos_before = app.get_json(&format!("/v1/audio/{audio_id}/videos")).await;
    let script_id = audio["parent_id"].as_str().unwrap();
    let foreign_logo = format!("projects/{}/logo.png", uuid::Uuid::new_v4());
    for (path, body, field, says) in [
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"background": "image"}}),
            "options.image_key",
            "needs `image_key`",
        ),
        // Another project's file cannot be pulled in as a logo.
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"logo_key": foreign_logo}}),
            "options.logo_key",
            "this project",
        ),
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"avatar_id": "Daisy"}}),
            "options.avatar_id",
            "heygen",
        ),
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"subtitles": {"font_size": 500}}}),
            "options.subtitles.font_size",
            "between 20 and 200",
        ),
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"subtitles": {"words_per_cue": 0}}}),
            "options.subtitles.words_per_cue",
            "between 1 and 12",
        ),
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"formats": ["1:1", "9:16", "1:1"]}}),
            "options.formats[2]",
            "`1:1` is asked for twice",
        ),
        (
            format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": {"formats": []}}),
            "options.formats",
            "at least one",
        ),
        (
            format!("/v1/scripts/{script_id}/audio"),
            json!({"provider": "local", "options": {"speed": 40}}),
            "options.speed",
            "between 0.25 and 4",
        ),
    ] {
        assert_refused(app.post(&path, &body), field, says).await;
    }
    assert_eq!(
        app.get_json(&format!("/v1/audio/{audio_id}/videos")).await["items"],
        videos_before["items"],
        "nothing was queued"
    );
}

/// Pixels of `rgb` (a 1080-wide frame) in rows `rows` that look like the test clip's colour
/// bars: a strongly green channel, which the generated background never has.
fn bar_pixels(rgb: &[u8], rows: std::ops::Range<usize>) -> usize {
    rows.flat_map(|y| (0..1080).map(move |x| (y * 1080 + x) * 3))
        .filter(|&i| rgb[i + 1] > 180)
        .count()
}

#[tokio::test]
async fn the_default_background_moves_and_is_not_the_source_reels_footage() {
    let app = spawn_app_with(|_| {}).await;
    let audio = voiced_reel(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let render = |options: Value| {
        let app = &app;
        async move {
            let video = app
                .finished_step(
                    &format!("/v1/audio/{audio_id}/videos"),
                    json!({"provider": "local", "options": options}),
                    "videos",
                )
                .await;
            assert_eq!(video["status"], "succeeded", "{video:#}");
            let id = video["id"].as_str().unwrap();
            app.download(&format!("/v1/videos/{id}/content")).await
        }
    };
    let generated = render(json!({})).await;
    let voice_ms = audio["output"]["duration_ms"].as_u64().unwrap();
    let (early, late) = (
        frame_rgb(&generated, 300),
        frame_rgb(&generated, voice_ms - 300),
    );
    // Above the subtitles: no trace of the clip's test pattern, and the picture changes.
    assert_eq!(bar_pixels(&early, 200..900), 0);
    let moved = (200..900usize)
        .flat_map(|y| (0..1080).map(move |x| (y * 1080 + x) * 3))
        .filter(|&i| early[i].abs_diff(late[i]) + early[i + 2].abs_diff(late[i + 2]) > 12)
        .count();
    assert!(moved > 10_000, "the gradient moves: {moved} pixels changed");
    // Bluer than it is red, as the default colours are.
    let (red, blue): (u64, u64) = (200..900usize)
        .flat_map(|y| (0..1080).map(move |x| (y * 1080 + x) * 3))
        .fold((0, 0), |(r, b), i| {
            (r + u64::from(early[i]), b + u64::from(early[i + 2]))
        });
    assert!(blue > red, "red {red}, blue {blue}");

    // The reel's own footage only when asked for.
    let reel = render(json!({"background": "reel"})).await;
    assert!(bar_pixels(&frame_rgb(&reel, 300), 200..900) > 10_000);
}

/// Renders the voiced reel with `options` over a plain blue and answers the video resource and
/// its MP4.
async fn render_over_blue(app: &TestApp, audio_id: &str, mut options: Value) -> (Value, Vec<u8>) {
    options["background"] = json!("colour");
    options["colour"] = json!("#3060C0");
    let video = app
        .finished_step(
            &format!("/v1/audio/{audio_id}/videos"),
            json!({"provider": "local", "options": options}),
            "videos",
        )
        .await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    let id = video["id"].as_str().unwrap();
    let mp4 = app.download(&format!("/v1/videos/{id}/content")).await;
    (video, mp4)
}

/// The middle of the voice's first word.
fn first_word_ms(audio: &Value) -> u64 {
    let first = &audio["output"]["words"][0];
    (first["start_ms"].as_u64().unwrap() + first["end_ms"].as_u64().unwrap()) / 2
}

const BLUE: [u8; 3] = [0x30, 0x60, 0xC0];

#[tokio::test]
async fn each_subtitle_style_is_drawn_as_it_promises() {
    let app = spawn_app_with(|_| {}).await;
    let audio = voiced_reel(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let at = first_word_ms(&audio);
    let band = 1100..1420;
    let frame = |style: &str| {
        let app = &app;
        let options = json!({"subtitles": {"style": style}});
        async move {
            let (video, mp4) = render_over_blue(app, audio_id, options).await;
            let ass = String::from_utf8(
                app.download(&format!(
                    "/v1/videos/{}/files/subtitles.ass",
                    video["id"].as_str().unwrap()
                ))
                .await,
            )
            .unwrap();
            (frame_rgb(&mp4, at), ass)
        }
    };
    let (karaoke, _) = frame("karaoke").await;
    let (pop, pop_ass) = frame("pop").await;
    let (boxed, _) = frame("boxed").await;
    let (minimal, _) = frame("minimal").await;

    // `pop`: the spoken word grows (125%) and turns bold, so it covers far more pixels.
    let lit = |rgb: &[u8]| pixels_where(rgb, 1080, band.clone(), yellow).count();
    let (karaoke_lit, pop_lit) = (lit(&karaoke), lit(&pop));
    assert!(karaoke_lit > 300, "karaoke lights the word: {karaoke_lit}");
    assert!(
        pop_lit as f64 > karaoke_lit as f64 * 1.3,
        "pop {pop_lit}, karaoke {karaoke_lit}"
    );
    assert!(pop_ass.contains("\\fscx125"), "{pop_ass}");

    // `minimal`: no highlight, and thinner, smaller text than karaoke's.
    let white = |p: &[u8]| p.iter().all(|&c| c > 200);
    assert_eq!(lit(&minimal), 0);
    let minimal_drawn = sized_drawn_pixels(&minimal, 1080, band.clone(), BLUE);
    let karaoke_drawn = sized_drawn_pixels(&karaoke, 1080, band.clone(), BLUE);
    assert!(
        minimal_drawn > 500 && minimal_drawn * 2 < karaoke_drawn,
        "minimal {minimal_drawn}, karaoke {karaoke_drawn}"
    );
    assert!(pixels_where(&minimal, 1080, band.clone(), white).count() > 300);

    // `boxed`: a dark box (black, three-quarters opaque over blue) with rounded corners, the
    // text inside it.
    let dark = |p: &[u8]| p.iter().all(|&c| c < 70);
    let box_pixels: Vec<(usize, usize)> = pixels_where(&boxed, 1080, 0..1920, dark).collect();
    assert!(
        box_pixels.len() > 20_000,
        "box pixels: {}",
        box_pixels.len()
    );
    let (left, right) = (
        box_pixels.iter().map(|p| p.0).min().unwrap(),
        box_pixels.iter().map(|p| p.0).max().unwrap(),
    );
    let (top, bottom) = (
        box_pixels.iter().map(|p| p.1).min().unwrap(),
        box_pixels.iter().map(|p| p.1).max().unwrap(),
    );
    println!("box: x {left}..{right}, y {top}..{bottom}");
    assert!(top > 1000 && bottom < 1920 - 500, "inside the safe area");
    assert!(
        (left + right).abs_diff(1080) < 8,
        "centred: {left}..{right}"
    );
    let is_box = |x: usize, y: usize| dark(&boxed[(y * 1080 + x) * 3..][..3]);
    for (x, y) in [(left, top), (right, top), (left, bottom), (right, bottom)] {
        assert!(!is_box(x, y), "corner ({x}, {y}) is rounded off");
    }
    let (middle_x, middle_y) = ((left + right) / 2, (top + bottom) / 2);
    for (x, y) in [
        (middle_x, top + 2),
        (middle_x, bottom - 2),
        (left + 2, middle_y),
        (right - 2, middle_y),
    ] {
        assert!(is_box(x, y), "edge ({x}, {y}) is the box");
    }
    let text: Vec<(usize, usize)> =
        pixels_where(&boxed, 1080, 0..1920, |p| white(p) || yellow(p)).collect();
    assert!(text.len() > 500, "text drawn: {}", text.len());
    // Text reaches near the box's sides (the box is measured from the font, not guessed large)
    // and never outside it.
    assert!(text
        .iter()
        .all(|&(x, y)| (left..=right).contains(&x) && (top..=bottom).contains(&y)));
    let text_left = text.iter().map(|p| p.0).min().unwrap();
    let text_right = text.iter().map(|p| p.0).max().unwrap();
    let margins = (text_left - left, right - text_right);
    assert!(
        margins.0 > 10 && margins.1 > 10 && margins.0 < 60 && margins.1 < 60,
        "padding {margins:?}"
    );
}

#[tokio::test]
async fn one_request_renders_every_format_in_its_safe_area_and_a_fast_preview() {
    let app = spawn_app_with(|_| {}).await;
    let audio = voiced_reel(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let voice_ms = audio["output"]["duration_ms"].as_u64().unwrap();
    let at = first_word_ms(&audio);
    let (video, _) = render_over_blue(
        &app,
        audio_id,
        json!({"formats": ["16:9", "9:16", "4:5", "1:1"]}),
    )
    .await;
    let output = &video["output"];
    let id = video["id"].as_str().unwrap();
    assert_eq!(
        (output["width"].as_u64(), output["height"].as_u64()),
        (Some(1920), Some(1080)),
        "the first format is the video"
    );
    assert_eq!(output["preview"], false);
    let renditions = output["renditions"].as_array().unwrap();
    let listed: Vec<(&str, &str)> = renditions
        .iter()
        .map(|r| (r["format"].as_str().unwrap(), r["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        listed,
        [
            ("16:9", "video.mp4"),
            ("9:16", "video-9x16.mp4"),
            ("4:5", "video-4x5.mp4"),
            ("1:1", "video-1x1.mp4")
        ]
    );
    // (width, height, bottom margin) of each format, as the safe areas promise.
    for (rendition, (width, height, bottom)) in renditions.iter().zip([
        (1920, 1080, 140),
        (1080, 1920, 520),
        (1080, 1350, 235),
        (1080, 1080, 100),
    ]) {
        let file = rendition["file"].as_str().unwrap();
        let path = match file {
            "video.mp4" => format!("/v1/videos/{id}/content"),
            other => format!("/v1/videos/{id}/files/{other}"),
        };
        let mp4 = app.download(&path).await;
        assert_eq!(mp4.len() as u64, rendition["size_bytes"].as_u64().unwrap());
        let probed = probe(&mp4);
        let picture = probed["streams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["codec_type"] == "video")
            .unwrap()
            .clone();
        assert_eq!(
            (picture["width"].as_u64(), picture["height"].as_u64()),
            (Some(width as u64), Some(height as u64)),
            "{file}"
        );
        assert_eq!(
            (rendition["width"].as_u64(), rendition["height"].as_u64()),
            (Some(width as u64), Some(height as u64))
        );
        assert!(
            rendition["duration_ms"]
                .as_u64()
                .unwrap()
                .abs_diff(voice_ms)
                <= 200
        );
        // The subtitles sit just above the bottom margin, and nowhere in the top half.
        let rgb = helpers::frame_rgb(&mp4, at, (width, height));
        let band = height - bottom - 2 * 76 - 20..height - bottom + 10;
        let in_band = sized_drawn_pixels(&rgb, width, band, BLUE);
        let above = sized_drawn_pixels(&rgb, width, 0..height / 2, BLUE);
        assert!(in_band > 2000, "{file}: {in_band} pixels drawn in the band");
        assert_eq!(above, 0, "{file}: drawn in the top half");
        let below = sized_drawn_pixels(&rgb, width, height - bottom + 10..height, BLUE);
        assert_eq!(below, 0, "{file}: drawn in the bottom margin");
    }

    let (preview, mp4) = render_over_blue(&app, audio_id, json!({"preview": true})).await;
    let output = &preview["output"];
    assert_eq!(output["preview"], true);
    assert_eq!(
        (output["width"].as_u64(), output["height"].as_u64()),
        (Some(540), Some(960))
    );
    assert!(
        output["model"].as_str().unwrap().contains("preview"),
        "{output:#}"
    );
    assert!(output["duration_ms"].as_u64().unwrap().abs_diff(voice_ms) <= 200);
    // The same layout at half size: subtitles above the scaled bottom margin.
    let rgb = helpers::frame_rgb(&mp4, at, (540, 960));
    assert!(sized_drawn_pixels(&rgb, 540, 960 - 260 - 96..960 - 255, BLUE) > 500);
    assert_eq!(sized_drawn_pixels(&rgb, 540, 0..480, BLUE), 0);
}

#[tokio::test]
async fn the_scripts_key_words_stand_out_in_the_subtitles() {
    let app = spawn_app_with(|_| {}).await;
    let audio = voiced(
        &app,
        json!({"text": "Вставай и побеждай каждый день.", "key_words": ["побеждай"]}),
    )
    .await;
    let video = app
        .finished_step(
            &format!("/v1/audio/{}/videos", audio["id"].as_str().unwrap()),
            json!({"provider": "local", "options": {"preview": false}}),
            "videos",
        )
        .await;
    assert_eq!(video["status"], "succeeded", "{video:#}");
    let mp4 = app
        .download(&format!(
            "/v1/videos/{}/content",
            video["id"].as_str().unwrap()
        ))
        .await;
    // While the first word is spoken, the key word waits in the emphasis pink.
    let first = &audio["output"]["words"][0];
    let at = (first["start_ms"].as_u64().unwrap() + first["end_ms"].as_u64().unwrap()) / 2;
    let rgb = frame_rgb(&mp4, at);
    let pink = |p: &[u8]| p[0] > 200 && (50..140).contains(&p[1]) && (100..180).contains(&p[2]);
    let emphasised = pixels_where(&rgb, 1080, 1150..1420, pink).count();
    assert!(emphasised > 300, "the key word is drawn pink: {emphasised}");
    assert!(pixels_where(&rgb, 1080, 1150..1420, yellow).count() > 300);
    // Only the text's own words can be stressed.
    crate::helpers::assert_refused(
        app.patch(
            &format!("/v1/scripts/{}", audio["parent_id"].as_str().unwrap()),
            &json!({"text": "Вставай и побеждай каждый день.", "key_words": ["кофе"]}),
        ),
        "key_words",
        "not a word of the text",
    )
    .await;
    // Without emphasis, no pink.
    let plain = app
        .finished_step(
            &format!("/v1/audio/{}/videos", audio["id"].as_str().unwrap()),
            json!({"provider": "local", "options": {"subtitles": {"emphasis": false}}}),
            "videos",
        )
        .await;
    let mp4 = app
        .download(&format!(
            "/v1/videos/{}/content",
            plain["id"].as_str().unwrap()
        ))
        .await;
    let rgb = frame_rgb(&mp4, at);
    assert_eq!(pixels_where(&rgb, 1080, 1150..1420, pink).count(), 0);
}

/// What ffmpeg prints reading `file` into `outputs` (after `-hide_banner -nostats`).
fn ffmpeg_reading(file: &std::path::Path, outputs: &[&str]) -> std::process::Output {
    let output = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(file)
        .args(outputs)
        .output()
        .unwrap();
    assert!(output.status.success(), "ffmpeg {outputs:?}");
    output
}

/// The decoded frames and audio of every stream of `file`, as ffmpeg's per-frame checksums.
fn frame_checksums(file: &std::path::Path) -> Vec<String> {
    let output = ffmpeg_reading(file, &["-map", "0", "-f", "framemd5", "-"]);
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The loudness of `file` as ffmpeg's `ebur128` prints it.
fn heard(file: &std::path::Path) -> reelforge::providers::render::loudness::Loudness {
    let output = ffmpeg_reading(file, &["-af", "ebur128=peak=true", "-f", "null", "-"]);
    reelforge::providers::render::loudness::parse_ebur128(&String::from_utf8_lossy(&output.stderr))
        .unwrap()
}

/// The settings x264 writes into the stream it makes (`… options: cabac=1 ref=1 …`).
fn x264_settings(file: &std::path::Path) -> String {
    let bytes = std::fs::read(file).unwrap();
    let at = bytes
        .windows(8)
        .position(|window| window == b"options:")
        .expect("x264's settings in the stream");
    let end = bytes[at..].iter().position(|&byte| byte == 0).unwrap_or(0);
    String::from_utf8_lossy(&bytes[at..at + end]).into_owned()
}

#[tokio::test]
async fn every_format_from_one_process_has_the_frames_of_its_own_render_and_the_target_loudness() {
    use reelforge::{
        domain::{
            options::{BackgroundKind, RenderOptions},
            video_format::VideoFormat,
        },
        providers::{
            render::{
                local::{Encoding, FfmpegComposer},
                RenderRequest, Renderer,
            },
            voice::estimate_timings,
        },
    };
    let dir = std::env::temp_dir().join(format!("reelforge-formats-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str| dir.join(name);
    // A reel, a quiet voice that rises and falls with short bursts (the gain lifts it by about
    // 10 dB, where the limiter holds its peaks), music to duck under it and a logo.
    for (name, args) in [
        (
            "reel.mp4",
            &[
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=360x640:rate=30:d=1",
                "-pix_fmt",
                "yuv420p",
            ][..],
        ),
        (
            "voice.wav",
            &[
                "-f",
                "lavfi",
                "-i",
                "aevalsrc=0.1*sin(2*PI*220*t)*(0.2+0.8*pow(abs(sin(2*t))\\,3))+0.08*sin(2*PI*1320*t)*lt(mod(t\\,0.7)\\,0.05):s=24000:d=3",
            ],
        ),
        (
            "music.wav",
            &[
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440:sample_rate=44100:duration=2",
            ],
        ),
    ] {
        let extension = name.rsplit('.').next().unwrap();
        std::fs::write(file(name), generated(extension, args)).unwrap();
    }
    std::fs::write(file("logo.png"), png("red")).unwrap();
    // The further formats take a cheaper encoding than the first: each is compared with its
    // format rendered alone with that encoding.
    let composer = FfmpegComposer {
        encoding: Encoding::new("ultrafast", 23),
        further: Encoding::new("superfast", 26),
    };
    let further = FfmpegComposer {
        encoding: composer.further.clone(),
        further: composer.further.clone(),
    };
    // `cheaper`: every format with the further formats' encoding.
    let render = |name: &str, formats: Vec<VideoFormat>, preview: bool, cheaper: bool| {
        let output_dir = file(name);
        std::fs::create_dir_all(&output_dir).unwrap();
        let request = RenderRequest {
            audio: file("voice.wav"),
            audio_format: "wav".into(),
            audio_duration_ms: 3000,
            words: estimate_timings("Вставай. Действуй. Побеждай каждый день!", 3000),
            reel_video: Some(file("reel.mp4")),
            assets: [("logo_key", "logo.png"), ("music_key", "music.wav")]
                .into_iter()
                .map(|(option, name)| (option.to_owned(), file(name)))
                .collect(),
            clips: Vec::new(),
            font: None,
            output_dir,
            video_id: uuid::Uuid::nil(),
            key_words: Vec::new(),
            options: RenderOptions {
                background: Some(BackgroundKind::Reel),
                formats: Some(formats),
                preview: Some(preview),
                ..Default::default()
            },
        };
        let composer = if cheaper { &further } else { &composer };
        async move {
            composer
                .render(&request, &helpers::call_context())
                .await
                .expect("the composer renders")
        }
    };
    let formats = vec![
        VideoFormat::Landscape,
        VideoFormat::Vertical,
        VideoFormat::Square,
    ];
    let together = render("together", formats.clone(), false, false).await;
    assert_eq!(
        together.model,
        "ffmpeg/libx264 ultrafast crf 23; 9:16 superfast crf 26; 1:1 superfast crf 26"
    );
    // 9:16 and 1:1 share one drawing of the subtitles on the reel at 1080 wide: that script is
    // not a render file; each format's own is.
    let mut names: Vec<String> = std::fs::read_dir(file("together"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".ass"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["subtitles-1x1.ass", "subtitles-9x16.ass", "subtitles.ass"]
    );
    // The thumbnail is the first format's picture a second in, taken before it was encoded.
    let read = |name: &str| std::fs::read(file("together").join(name)).unwrap();
    let pictured = helpers::frame_rgb(&read("thumbnail.jpg"), 0, (1920, 1080));
    let played = helpers::frame_rgb(&read("video.mp4"), 1000, (1920, 1080));
    let off = pictured
        .iter()
        .zip(&played)
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum::<u64>()
        / pictured.len() as u64;
    assert!(
        off <= 2,
        "the thumbnail is off the video by {off} on average"
    );
    for (index, &format) in formats.iter().enumerate() {
        let (cheaper, encoding) = match index {
            0 => (false, "crf=23.0"),
            _ => (true, "crf=26.0"),
        };
        let alone = render(&format!("alone-{index}"), vec![format], false, cheaper).await;
        let made = file("together").join(format.file_name(index == 0));
        let reference = file(&format!("alone-{index}")).join(format.file_name(true));
        // The same pixels and sound as the format rendered on its own with its encoding...
        assert_eq!(
            frame_checksums(&made),
            frame_checksums(&reference),
            "{}",
            format.ratio()
        );
        // ...which is the one the file says it was made with (x264 writes its settings into
        // the stream).
        assert!(
            x264_settings(&made).contains(encoding),
            "{}: {}",
            format.ratio(),
            x264_settings(&made)
        );
        assert_eq!(alone.loudness, together.loudness);
        // Each file at the target, as ebur128 measures it.
        let loudness = heard(&made);
        println!("{}: {loudness:?}", format.ratio());
        assert!(
            (loudness.integrated_lufs + 14.0).abs() <= 0.5,
            "{loudness:?}"
        );
        assert!(loudness.true_peak_dbtp <= -0.9, "{loudness:?}");
    }
    assert_eq!(
        Some(heard(&file("together").join("video.mp4"))),
        together.loudness
    );
    // A preview takes one measurement's estimate: near the target, its peaks still held.
    let preview = render("preview", vec![VideoFormat::Vertical], true, false).await;
    let loudness = heard(&file("preview").join("video.mp4"));
    println!("preview: {loudness:?}");
    assert_eq!(Some(loudness), preview.loudness);
    assert!(
        (loudness.integrated_lufs + 14.0).abs() <= 1.5,
        "{loudness:?}"
    );
    assert!(loudness.true_peak_dbtp <= -0.9, "{loudness:?}");
    std::fs::remove_dir_all(dir).unwrap();
}
