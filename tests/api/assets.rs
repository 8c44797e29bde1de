//! The project media library: uploads typed by their content, the quota, deletion, and renders
//! that cut between library clips and draw subtitles in a library font.

use serde_json::{json, Value};

use crate::{
    helpers::{assert_refused, frame_rgb, send_problem, spawn_app_with, TestApp},
    media::test_clip,
};

/// Bytes of a file ffmpeg makes from `args` (inputs and filters) into `extension`.
pub fn generated(extension: &str, args: &[&str]) -> Vec<u8> {
    let out = std::env::temp_dir().join(format!(
        "reelforge-asset-{}.{extension}",
        uuid::Uuid::new_v4().simple()
    ));
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "ffmpeg {args:?}");
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(out).unwrap();
    bytes
}

/// A still of one colour.
pub fn png(colour: &str) -> Vec<u8> {
    generated(
        "png",
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("color=c={colour}:s=320x240"),
            "-frames:v",
            "1",
        ],
    )
}

/// Two seconds of a moving picture of one colour (noise keeps it from being a still).
pub fn clip(colour: &str) -> Vec<u8> {
    generated(
        "mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            &format!("color=c={colour}:s=240x320:r=30:d=2"),
            "-vf",
            "noise=alls=8:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    )
}

const DEJAVU_BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

#[tokio::test]
async fn uploads_are_typed_by_content_counted_served_and_deleted() {
    let app = spawn_app_with(|_| {}).await;
    let project = app.create_project(json!({"name": "lib"})).await;
    let project_id = project["id"].as_str().unwrap();
    let assets_path = format!("/v1/projects/{project_id}/assets");

    let video_bytes = test_clip();
    // Named as something else: the content decides.
    let video = app
        .upload_asset(project_id, "holiday.bin", video_bytes.clone())
        .await;
    assert_eq!(video["kind"], "video");
    assert_eq!(video["name"], "holiday.bin");
    assert_eq!(
        (video["width"].as_u64(), video["height"].as_u64()),
        (Some(180), Some(320))
    );
    assert!(
        video["duration_ms"].as_u64().unwrap().abs_diff(2000) <= 100,
        "{video}"
    );
    assert!(video["key"]
        .as_str()
        .unwrap()
        .starts_with(&format!("projects/{project_id}/assets/")));
    let image = app.upload_asset(project_id, "red.png", png("red")).await;
    assert_eq!(image["kind"], "image");
    assert_eq!(
        (image["width"].as_u64(), image["height"].as_u64()),
        (Some(320), Some(240))
    );
    assert!(image["duration_ms"].is_null());
    let tone = generated(
        "m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1.5",
            "-c:a",
            "aac",
        ],
    );
    // Named `.html`: stored and served by what it is.
    let audio = app.upload_asset(project_id, "music.html", tone).await;
    assert_eq!(audio["kind"], "audio");
    assert!(audio["width"].is_null());
    assert!(audio["key"].as_str().unwrap().ends_with(".m4a"), "{audio}");
    let served = app
        .get(&format!(
            "/v1/assets/{}/content",
            audio["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert!(
        served.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("audio/"),
        "{:?}",
        served.headers()
    );
    // Cover art does not make a song a video.
    let cover = std::env::temp_dir().join(format!("reelforge-cover-{}.png", uuid::Uuid::new_v4()));
    std::fs::write(&cover, png("green")).unwrap();
    let song = generated(
        "mp3",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=1.5",
            "-i",
            cover.to_str().unwrap(),
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:a",
            "libmp3lame",
            "-c:v",
            "png",
            "-disposition:v",
            "attached_pic",
            "-id3v2_version",
            "3",
        ],
    );
    std::fs::remove_file(cover).unwrap();
    let song = app.upload_asset(project_id, "song.mp3", song).await;
    assert_eq!(
        (song["kind"].as_str(), song["width"].as_u64()),
        (Some("audio"), None),
        "{song}"
    );
    assert!(song["key"].as_str().unwrap().ends_with(".mp3"), "{song}");
    let font = app
        .upload_asset(project_id, "brand.ttf", std::fs::read(DEJAVU_BOLD).unwrap())
        .await;
    assert_eq!(
        (font["kind"].as_str(), font["font_family"].as_str()),
        (Some("font"), Some("DejaVu Sans"))
    );

    // Served as uploaded.
    let id = video["id"].as_str().unwrap();
    assert_eq!(
        app.download(&format!("/v1/assets/{id}/content")).await,
        video_bytes
    );

    // Listed newest first, filtered by kind, with the quota's use.
    let all = app.get_json(&assets_path).await;
    let kinds: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["font", "audio", "audio", "image", "video"]);
    let sizes: u64 = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["size_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(all["usage"]["count"], 5);
    assert_eq!(all["usage"]["used_bytes"], sizes);
    assert_eq!(all["usage"]["quota_bytes"], 2u64 << 30);
    let images = app.get_json(&format!("{assets_path}?kind=image")).await;
    assert_eq!(images["items"].as_array().unwrap().len(), 1);
    assert_eq!(images["items"][0]["id"], image["id"]);

    // Not media at all: refused, nothing kept.
    let (status, problem) =
        send_problem(app.upload_to(&assets_path, "notes.txt", b"just words".to_vec())).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (422, Some("unsupported_asset")),
        "{problem}"
    );
    assert_eq!(app.get_json(&assets_path).await["usage"]["count"], 5);

    // Deleted with its file.
    let deleted = app
        .delete(&format!("/v1/assets/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for path in [
        format!("/v1/assets/{id}"),
        format!("/v1/assets/{id}/content"),
    ] {
        assert_eq!(app.get(&path).send().await.unwrap().status(), 404, "{path}");
    }
    let after = app.get_json(&assets_path).await;
    assert_eq!(after["usage"]["count"], 4);
    assert_eq!(
        after["usage"]["used_bytes"],
        sizes - video["size_bytes"].as_u64().unwrap()
    );
    let missing = app
        .delete(&format!("/v1/assets/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_quota_refuses_an_upload_that_would_pass_it() {
    let image = png("blue");
    let quota = image.len() as u64 + 100;
    let app = spawn_app_with(move |s| s.assets.quota_bytes = quota).await;
    let project = app.create_project(json!({"name": "q"})).await;
    let project_id = project["id"].as_str().unwrap();
    let assets_path = format!("/v1/projects/{project_id}/assets");
    app.upload_asset(project_id, "a.png", image.clone()).await;
    let (status, problem) = send_problem(app.upload_to(&assets_path, "b.png", image)).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (413, Some("asset_quota_exceeded")),
        "{problem}"
    );
    assert_eq!(problem["params"]["limit_bytes"], quota, "{problem}");
    assert!(
        problem["params"]["used_bytes"].as_u64().unwrap() > 0,
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("of its {quota} bytes")),
        "{problem}"
    );
    let listed = app.get_json(&assets_path).await;
    assert_eq!(listed["usage"]["count"], 1);
}

/// A project with a voiced three-sentence script (8 s); answers the project id and the audio.
pub async fn voiced(app: &TestApp) -> (String, Value) {
    let project = app
        .create_project(
            json!({"name": "broll", "language": "ru", "settings": {"target_duration_seconds": 8}}),
        )
        .await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let script_id = app
        .script_with_text(
            &project_id,
            "Вставай рано каждый день. Делай один шаг к своей мечте. Подпишись и побеждай вместе с нами!",
        )
        .await;
    let audio = app
        .finished_step(
            &format!("/v1/scripts/{script_id}/audio"),
            json!({"provider": "local"}),
            "audio",
        )
        .await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    (project_id, audio)
}

/// The average colour of rows 100..700 of a 1080x1920 frame at `at_ms`.
pub fn average_colour(mp4: &[u8], at_ms: u64) -> [f64; 3] {
    let rgb = frame_rgb(mp4, at_ms, (1080, 1920));
    let band = &rgb[100 * 1080 * 3..700 * 1080 * 3];
    let pixels = (band.len() / 3) as f64;
    std::array::from_fn(|c| {
        band.iter()
            .skip(c)
            .step_by(3)
            .map(|&v| f64::from(v))
            .sum::<f64>()
            / pixels
    })
}

pub async fn rendered(app: &TestApp, audio_id: &str, options: Value) -> (Value, Vec<u8>) {
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

#[tokio::test]
async fn renders_cut_between_library_clips_at_the_sentences() {
    let app = spawn_app_with(|_| {}).await;
    let (project_id, audio) = voiced(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let videos_path = format!("/v1/audio/{audio_id}/videos");

    // With an empty library, `background: clips` is refused at the start.
    assert_refused(
        app.post(
            &videos_path,
            &json!({"provider": "local", "options": {"background": "clips"}}),
        ),
        "options.background",
        "no video or image assets",
    )
    .await;

    let red = app.upload_asset(&project_id, "red.mp4", clip("red")).await;
    let blue = app.upload_asset(&project_id, "blue.png", png("blue")).await;
    app.upload_asset(&project_id, "green.mp4", clip("0x00FF00"))
        .await;
    let font = app
        .upload_asset(&project_id, "font.ttf", std::fs::read(DEJAVU_BOLD).unwrap())
        .await;

    // Named clips must be the library's videos or images.
    for (options, field, says) in [
        (
            json!({"clip_keys": [format!("projects/{project_id}/assets/nope.mp4")]}),
            "options.clip_keys[0]",
            "not in this project's media library",
        ),
        (
            json!({"clip_keys": [red["key"], font["key"]]}),
            "options.clip_keys[1]",
            "is a library font file",
        ),
        (
            json!({"subtitles": {"font_key": red["key"]}}),
            "options.subtitles.font_key",
            "is a library video file",
        ),
        (
            json!({"clip_keys": [red["key"]], "background": "colour"}),
            "options.clip_keys",
            "background: clips",
        ),
        (
            json!({"music_key": font["key"]}),
            "options.music_key",
            "is a library font file",
        ),
    ] {
        assert_refused(
            app.post(
                &videos_path,
                &json!({"provider": "local", "options": options}),
            ),
            field,
            says,
        )
        .await;
    }

    // No background chosen: the library's videos (not its images, which may be logos), in
    // upload order, one per sentence.
    let (video, mp4) = rendered(&app, audio_id, json!({})).await;
    let duration = video["output"]["duration_ms"].as_u64().unwrap();
    let words: Vec<reelforge::providers::transcribe::WordTiming> =
        serde_json::from_value(audio["output"]["words"].clone()).unwrap();
    let shots = reelforge::providers::render::broll::shots(&words, duration, 2);
    println!("shots: {shots:?}");
    assert!(
        shots.len() >= 2,
        "three sentences over 8 s make at least two shots: {shots:?}"
    );
    for shot in &shots {
        // Mid-shot, clear of the crossfade at its start.
        let at = (shot.start_ms + 400 + shot.end_ms) / 2;
        let [r, g, b] = average_colour(&mp4, at);
        let seen = if r > g + 80.0 && r > b + 80.0 {
            "red"
        } else if g > r + 80.0 && g > b + 80.0 {
            "green"
        } else {
            "neither"
        };
        let expected = ["red", "green"][shot.clip];
        assert_eq!(
            seen, expected,
            "shot {shot:?} at {at} ms: rgb {r:.0} {g:.0} {b:.0}"
        );
    }
    // Named clips in the order given.
    let (_, reversed) = rendered(
        &app,
        audio_id,
        json!({"background": "clips", "clip_keys": [blue["key"], red["key"]]}),
    )
    .await;
    let [r, _, b] = average_colour(&reversed, 300);
    assert!(
        b > r + 80.0,
        "the first named clip opens: red {r:.0}, blue {b:.0}"
    );
}

/// DejaVu Sans Mono under another family name, so no installed font can stand in for it.
fn renamed_mono() -> Vec<u8> {
    let mut font = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf").unwrap();
    let (from, to) = ("DejaVu Sans Mono", "Reelforge Test M");
    let utf16 =
        |text: &str| -> Vec<u8> { text.encode_utf16().flat_map(u16::to_be_bytes).collect() };
    for (old, new) in [
        (from.as_bytes().to_vec(), to.as_bytes().to_vec()),
        (utf16(from), utf16(to)),
    ] {
        let mut at = 0;
        while let Some(found) = font[at..]
            .windows(old.len())
            .position(|w| w == old.as_slice())
        {
            font[at + found..at + found + new.len()].copy_from_slice(&new);
            at += found + new.len();
        }
    }
    font
}

/// Pixels of the subtitle band (rows 1150..1420) of a frame at `at_ms`.
fn subtitle_band(mp4: &[u8], at_ms: u64) -> Vec<u8> {
    frame_rgb(mp4, at_ms, (1080, 1920))[1150 * 1080 * 3..1420 * 1080 * 3].to_vec()
}

fn differing(a: &[u8], b: &[u8]) -> usize {
    a.chunks(3)
        .zip(b.chunks(3))
        .filter(|(x, y)| x.iter().zip(y.iter()).any(|(p, q)| p.abs_diff(*q) > 40))
        .count()
}

#[tokio::test]
async fn subtitles_are_drawn_in_a_library_font() {
    let app = spawn_app_with(|_| {}).await;
    let (project_id, audio) = voiced(&app).await;
    let audio_id = audio["id"].as_str().unwrap();
    let font = app
        .upload_asset(&project_id, "brand.ttf", renamed_mono())
        .await;
    assert_eq!(font["font_family"], "Reelforge Test M");
    let at = {
        let first = &audio["output"]["words"][0];
        (first["start_ms"].as_u64().unwrap() + first["end_ms"].as_u64().unwrap()) / 2
    };
    let plain = json!({"background": "colour", "colour": "#102030"});
    let with = |subtitles: Value| {
        let mut options = plain.clone();
        options["subtitles"] = subtitles;
        options
    };
    // `minimal` is not bold: the installed font has a bold face, the library font would be
    // emboldened by libass, and the two would differ for that alone.
    let (library, library_mp4) = rendered(
        &app,
        audio_id,
        with(json!({"style": "minimal", "font_key": font["key"]})),
    )
    .await;
    let (_, installed_mp4) = rendered(
        &app,
        audio_id,
        with(json!({"style": "minimal", "font": "DejaVu Sans Mono"})),
    )
    .await;
    let (_, default_mp4) = rendered(&app, audio_id, with(json!({"style": "minimal"}))).await;
    let ass = String::from_utf8(
        app.download(&format!(
            "/v1/videos/{}/files/subtitles.ass",
            library["id"].as_str().unwrap()
        ))
        .await,
    )
    .unwrap();
    assert!(ass.contains("Style: Default,Reelforge Test M,60,"), "{ass}");
    assert!(
        !library["output"]["files"]
            .as_object()
            .unwrap()
            .keys()
            .any(|name| name.ends_with(".ttf")),
        "the font is not a video file"
    );
    // The library font draws exactly what the same font installed draws, and not the default.
    let (library_band, installed_band, default_band) = (
        subtitle_band(&library_mp4, at),
        subtitle_band(&installed_mp4, at),
        subtitle_band(&default_mp4, at),
    );
    let same = differing(&library_band, &installed_band);
    let other = differing(&library_band, &default_band);
    assert!(
        same < 200 && other > 2000,
        "differing pixels: same font {same}, default font {other}"
    );
}

#[tokio::test]
async fn your_own_recording_from_the_library_is_the_voiceover() {
    let app = spawn_app_with(|_| {}).await;
    let (project_id, synthesised) = voiced(&app).await;
    let script_id = synthesised["parent_id"].as_str().unwrap();
    let audio_path = format!("/v1/scripts/{script_id}/audio");
    // A recording of the script: here the local voice's take, as a creator would upload theirs.
    let id = synthesised["id"].as_str().unwrap();
    let take = app.download(&format!("/v1/audio/{id}/content")).await;
    let recording = app.upload_asset(&project_id, "me.wav", take).await;
    let image = app.upload_asset(&project_id, "red.png", png("red")).await;

    for (options, field, says) in [
        (json!({}), "options.recording_key", "needs it here"),
        (
            json!({"recording_key": image["key"]}),
            "options.recording_key",
            "is a library image file",
        ),
    ] {
        assert_refused(
            app.post(
                &audio_path,
                &json!({"provider": "recording", "options": options}),
            ),
            field,
            says,
        )
        .await;
    }

    let audio = app
        .finished_step(
            &audio_path,
            json!({"provider": "recording", "options": {"recording_key": recording["key"], "tolerance_seconds": 30}}),
            "audio",
        )
        .await;
    assert_eq!(audio["status"], "succeeded", "{audio:#}");
    let output = &audio["output"];
    assert_eq!(
        (output["voice"].as_str(), output["characters"].as_u64()),
        (Some("recording"), Some(0))
    );
    // Without the local engine's transcriber the words are spread by syllables; the engine
    // test checks that they are heard when it runs.
    assert_eq!(output["timing_method"], "estimated", "{output:#}");
    let words = output["words"].as_array().unwrap();
    assert_eq!(words.len(), 16, "the script's own words: {output:#}");
    assert_eq!(words[15]["text"], "нами!");
    assert!(
        output["duration_ms"]
            .as_u64()
            .unwrap()
            .abs_diff(synthesised["output"]["duration_ms"].as_u64().unwrap())
            <= 300,
        "{output:#}"
    );
}
