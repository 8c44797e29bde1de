//! Preparing a selected reel: guarded download, ffprobe checks, audio extraction, and serving
//! the files with Range support. Uses a real MP4 made by ffmpeg.

use std::path::PathBuf;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use wiremock::{
    matchers::{method, path},
    Mock, MockServer, ResponseTemplate,
};

use crate::helpers::{problem, send_problem, spawn_app_with, TestApp};

/// What ffmpeg makes of `args` (inputs and encoding), as a file of type `extension`, read back.
pub fn made_by_ffmpeg(extension: &str, args: &[&str]) -> Vec<u8> {
    let out: PathBuf = std::env::temp_dir().join(format!(
        "reelforge-made-{}.{extension}",
        uuid::Uuid::new_v4().simple()
    ));
    let status = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("ffmpeg is installed (scripts/setup installs it)");
    assert!(status.success());
    let bytes = std::fs::read(&out).unwrap();
    std::fs::remove_file(out).unwrap();
    bytes
}

/// Two seconds of test pattern and a 440 Hz tone, 180x320, H.264 + AAC.
pub fn test_clip() -> Vec<u8> {
    made_by_ffmpeg(
        "mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=180x320:rate=15",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
        ],
    )
}

async fn media_app(configure: impl FnOnce(&mut reelforge::config::Settings) + 'static) -> TestApp {
    spawn_app_with(move |s| {
        s.media.fetch_allow_hosts = vec!["127.0.0.1".into()];
        configure(s);
    })
    .await
}

/// Imports one reel per URL and answers their ids, in order.
async fn import_urls(app: &TestApp, project_id: &str, urls: &[String]) -> Vec<String> {
    let items: Vec<Value> = urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"shortCode": format!("M{i}"), "videoUrl": url, "videoPlayCount": 1000 - i as i64}))
        .collect();
    let (_, job) = app
        .start_collection(project_id, json!({"source": "import", "items": items}))
        .await;
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels?sort=plays"))
        .await;
    reels["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Selects a reel and waits for its preparation to end, whatever the outcome.
async fn select_and_settle(app: &TestApp, project_id: &str, reel_id: &str) -> Value {
    let response = app
        .post(
            &format!("/v1/projects/{project_id}/reels/{reel_id}/select"),
            &json!({}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    let job_id = body["job"]["id"].as_str().unwrap().to_owned();
    app.wait_for_job(&job_id, std::time::Duration::from_secs(30), |j| {
        matches!(j["status"].as_str(), Some("succeeded" | "failed"))
    })
    .await;
    app.get_json(&format!("/v1/reels/{reel_id}")).await
}

#[tokio::test]
async fn a_selected_reel_is_downloaded_checked_and_served_with_ranges() {
    let clip = test_clip();
    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v/clip.mp4"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(clip.clone(), "video/mp4"))
        .mount(&cdn)
        .await;
    let app = media_app(|_| {}).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let ids = import_urls(&app, project_id, &[format!("{}/v/clip.mp4", cdn.uri())]).await;

    let pending = app
        .get(&format!("/v1/reels/{}/video", ids[0]))
        .send()
        .await
        .unwrap();
    let (status, body) = problem(pending).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("media_not_ready"))
    );

    let reel = select_and_settle(&app, project_id, &ids[0]).await;
    assert_eq!(reel["status"], "succeeded", "{reel:#}");
    let media = &reel["media"];
    assert_eq!(
        (media["width"].as_u64(), media["height"].as_u64()),
        (Some(180), Some(320))
    );
    assert!(
        (1900..=2100).contains(&media["duration_ms"].as_u64().unwrap()),
        "{media}"
    );
    assert_eq!(media["video_codec"], "h264");
    assert_eq!(media["has_audio"], true);
    assert_eq!(media["size_bytes"], clip.len());
    assert_eq!(media["sha256"], hex::encode(Sha256::digest(&clip)));

    let video = app
        .get(&format!("/v1/reels/{}/video", ids[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(video.status(), 200);
    assert_eq!(video.headers()["content-type"], "video/mp4");
    let etag = video.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(video.bytes().await.unwrap().as_ref(), clip.as_slice());

    let range = app
        .get(&format!("/v1/reels/{}/video", ids[0]))
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(
        range.headers()["content-range"],
        format!("bytes 100-199/{}", clip.len())
    );
    assert_eq!(range.bytes().await.unwrap().as_ref(), &clip[100..200]);
    let cached = app
        .get(&format!("/v1/reels/{}/video", ids[0]))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    let wav = app
        .get(&format!("/v1/reels/{}/audio", ids[0]))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 1, "mono");
    assert_eq!(
        u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]),
        16_000,
        "16 kHz"
    );

    let stored = app
        .settings
        .media
        .root
        .join("projects")
        .join(project_id)
        .join("reels")
        .join(&ids[0])
        .join("video.mp4");
    assert!(stored.exists());
    app.delete(&format!("/v1/projects/{project_id}"))
        .send()
        .await
        .unwrap();
    assert!(!stored.exists(), "deleting the project removes its media");
}

#[tokio::test]
async fn each_bad_video_url_fails_its_own_reel_with_a_clear_code() {
    let cdn = MockServer::start().await;
    let respond = |at: &str, template: ResponseTemplate| {
        Mock::given(method("GET"))
            .and(path(at.to_owned()))
            .respond_with(template)
    };
    respond(
        "/expired.mp4",
        ResponseTemplate::new(403).set_body_string("URL signature expired"),
    )
    .mount(&cdn)
    .await;
    respond(
        "/login.mp4",
        ResponseTemplate::new(200).set_body_raw("<html>log in</html>", "text/html"),
    )
    .mount(&cdn)
    .await;
    respond(
        "/garbage.mp4",
        ResponseTemplate::new(200).set_body_raw(vec![7u8; 4096], "video/mp4"),
    )
    .mount(&cdn)
    .await;
    respond(
        "/huge.mp4",
        ResponseTemplate::new(200).set_body_raw(vec![0u8; 300_000], "video/mp4"),
    )
    .mount(&cdn)
    .await;
    respond(
        "/sneaky.mp4",
        ResponseTemplate::new(302)
            .insert_header("Location", "http://169.254.169.254/latest/meta-data/"),
    )
    .mount(&cdn)
    .await;
    let app = media_app(|s| s.media.max_download_bytes = 200_000).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let urls: Vec<String> = ["expired", "login", "garbage", "huge", "sneaky"]
        .iter()
        .map(|n| format!("{}/{n}.mp4", cdn.uri()))
        .collect();
    let ids = import_urls(&app, project_id, &urls).await;

    let expected = [
        "media_url_expired",
        "not_a_video",
        "not_a_video",
        "media_too_large",
        "url_refused",
    ];
    for (id, code) in ids.iter().zip(expected) {
        let reel = select_and_settle(&app, project_id, id).await;
        assert_eq!(
            (reel["status"].as_str(), reel["error"]["code"].as_str()),
            (Some("failed"), Some(code)),
            "{reel:#}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(app.settings.media.root.join("tmp"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(
        leftovers.is_empty(),
        "failed downloads leave no scratch files: {leftovers:?}"
    );
}

#[tokio::test]
async fn internal_addresses_are_refused_without_the_allow_list() {
    let cdn = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![0u8; 10], "video/mp4"))
        .expect(0)
        .mount(&cdn)
        .await;
    let app = spawn_app_with(|_| {}).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let ids = import_urls(&app, project_id, &[format!("{}/v/clip.mp4", cdn.uri())]).await;
    let reel = select_and_settle(&app, project_id, &ids[0]).await;
    assert_eq!(reel["error"]["code"], "url_refused");
    assert!(
        reel["error"]["message"]
            .as_str()
            .unwrap()
            .contains("internal address"),
        "{reel:#}"
    );
}

#[tokio::test]
async fn uploaded_videos_become_prepared_reels_and_other_files_problems() {
    let clip = test_clip();
    let app = media_app(|_| {}).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let path = format!("/v1/projects/{project_id}/collections/files");
    let upload = |parts: Vec<(&'static str, Vec<u8>)>| {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in parts {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        }
        app.client
            .post(app.url(&path))
            .bearer_auth(&app.token)
            .multipart(form)
    };

    let response = upload(vec![
        ("morning.mp4", clip.clone()),
        ("notes.txt", b"not a video".to_vec()),
    ])
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.unwrap();
    assert_eq!(
        started["collection"]["parameters"],
        json!({"source": "files", "files": ["morning.mp4", "notes.txt"]})
    );
    let collection = app.finished_collection(project_id, &started).await;
    assert_eq!(
        collection["counts"],
        json!({"received": 2, "added": 1, "merged": 0, "rejected": 1, "preparing": 1, "covers": 0, "covers_failed": 0})
    );
    assert_eq!(collection["problems"][0]["item"], "notes.txt");
    // ffprobe's complaint names the file, never where the server keeps it.
    let reason = collection["problems"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("ffprobe could not read the file"),
        "{reason}"
    );
    let media_root = app.settings.media.root.to_str().unwrap();
    assert!(
        !reason.contains(media_root) && !reason.contains("/tmp/"),
        "{reason}"
    );

    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await;
    let reel_id = reels["items"][0]["id"].as_str().unwrap().to_owned();
    let reel = app
        .wait_for_job(
            reels["items"][0]["job_id"].as_str().unwrap(),
            std::time::Duration::from_secs(30),
            |j| j["status"] == "succeeded",
        )
        .await;
    assert_eq!(reel["kind"], "prepare_reel");
    let reel = app.get_json(&format!("/v1/reels/{reel_id}")).await;
    assert_eq!(
        (reel["provider"].as_str(), reel["caption"].as_str()),
        (Some("files"), Some("morning.mp4"))
    );
    assert_eq!(reel["media"]["sha256"], hex::encode(Sha256::digest(&clip)));
    let video = app
        .get(&format!("/v1/reels/{reel_id}/video"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(video.as_ref(), clip.as_slice());
    let thumbnail = app
        .get(&format!("/v1/reels/{reel_id}/thumbnail"))
        .send()
        .await
        .unwrap();
    assert_eq!(thumbnail.headers()["content-type"], "image/jpeg");
    let frame = std::env::temp_dir().join(format!("reelforge-thumb-{reel_id}.jpg"));
    std::fs::write(&frame, thumbnail.bytes().await.unwrap()).unwrap();
    let probed = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,width"])
        .args(["-of", "csv=p=0"])
        .arg(&frame)
        .output()
        .unwrap();
    std::fs::remove_file(&frame).unwrap();
    assert_eq!(String::from_utf8_lossy(&probed.stdout).trim(), "mjpeg,270");

    // The same video again merges, and leaves no second copy behind.
    let again: Value = upload(vec![("again.mp4", clip.clone())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let collection = app.finished_collection(project_id, &again).await;
    assert_eq!(
        collection["counts"],
        json!({"received": 1, "added": 0, "merged": 1, "rejected": 0, "preparing": 0, "covers": 0, "covers_failed": 0})
    );
    let leftovers: Vec<_> = std::fs::read_dir(app.settings.media.root.join("tmp"))
        .unwrap()
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let (status, body) = send_problem(upload(vec![])).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("malformed_multipart")),
        "an empty form"
    );
    let misnamed = reqwest::multipart::Form::new().part(
        "video",
        reqwest::multipart::Part::bytes(clip.clone()).file_name("a.mp4"),
    );
    let (status, body) = send_problem(app.post_form(&path, misnamed)).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("file"))
    );
    let (status, body) = send_problem(app.post(&path, &json!({"file": "x"}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (415, Some("unsupported_media_type")),
        "a JSON body is refused as the wrong media type"
    );
}

#[tokio::test]
async fn an_oversized_upload_gets_413_and_leaves_nothing() {
    let app = media_app(|s| s.media.max_download_bytes = 1000).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 5000]).file_name("big.mp4"),
    );
    let response = app
        .client
        .post(app.url(&format!(
            "/v1/projects/{}/collections/files",
            project["id"].as_str().unwrap()
        )))
        .bearer_auth(&app.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, body) = problem(response).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let leftovers: Vec<_> = std::fs::read_dir(app.settings.media.root.join("tmp"))
        .map(|d| d.collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(app.get_json("/v1/jobs").await["items"], json!([]));
}

#[tokio::test]
async fn videos_of_an_allowed_server_folder_are_imported_and_nothing_outside() {
    let root = std::env::temp_dir().join(format!(
        "reelforge-import-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let shoot = root.join("shoot-1");
    std::fs::create_dir_all(shoot.join("nested")).unwrap();
    std::fs::write(shoot.join("take1.mp4"), test_clip()).unwrap();
    std::fs::write(shoot.join("readme.txt"), "ignored: not a video ending").unwrap();
    std::fs::write(shoot.join("broken.mov"), "a video ending, but not a video").unwrap();
    std::fs::write(
        shoot.join("nested").join("deeper.mp4"),
        "subfolders are not read",
    )
    .unwrap();
    let outside = std::env::temp_dir().join(format!(
        "reelforge-outside-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&outside).unwrap();
    let allowed = root.clone();
    let app = media_app(move |s| s.media.import_folders = vec![allowed]).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();

    let (collection, job) = app
        .start_collection(project_id, json!({"source": "files", "folder": "shoot-1"}))
        .await;
    app.wait_for_status(job["id"].as_str().unwrap(), "succeeded")
        .await;
    let collection = app.collection(project_id, &collection).await;
    assert_eq!(
        collection["counts"],
        json!({"received": 2, "added": 1, "merged": 0, "rejected": 1, "preparing": 1, "covers": 0, "covers_failed": 0})
    );
    assert_eq!(collection["problems"][0]["item"], "broken.mov");
    assert!(
        shoot.join("take1.mp4").exists(),
        "the folder is left as it was"
    );

    let collections = format!("/v1/projects/{project_id}/collections");
    for folder in ["../", "shoot-1/../..", outside.to_str().unwrap(), "missing"] {
        let (status, body) =
            send_problem(app.post(&collections, &json!({"source": "files", "folder": folder})))
                .await;
        assert_eq!(
            (status, body["errors"][0]["field"].as_str()),
            (422, Some("folder")),
            "{folder}"
        );
    }
    let plain = crate::helpers::spawn_app().await;
    let other = plain.create_project(json!({"name": "p"})).await;
    let (status, body) = send_problem(plain.post(
        &format!("/v1/projects/{}/collections", other["id"].as_str().unwrap()),
        &json!({"source": "files", "folder": "x"}),
    ))
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("not_configured"))
    );
}

/// The files under `dir` of the media root, none when it does not exist.
fn files_under(app: &TestApp, dir: &str) -> Vec<PathBuf> {
    std::fs::read_dir(app.settings.media.root.join(dir))
        .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn identical_uploads_at_once_make_one_reel_and_leave_no_file_behind() {
    let clip = test_clip();
    let app = media_app(|_| {}).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let project_id = project["id"].as_str().unwrap();
    let uploads = (0..8).map(|i| {
        app.upload(project_id, &format!("copy{i}.mp4"), clip.clone())
            .send()
    });
    for response in futures::future::join_all(uploads).await {
        let response = response.unwrap();
        assert_eq!(response.status(), 202);
        let started: Value = response.json().await.unwrap();
        app.finished_collection(project_id, &started).await;
    }
    let reels = app
        .get_json(&format!("/v1/projects/{project_id}/reels"))
        .await;
    let items = reels["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{reels:#}");
    let reel_id = items[0]["id"].as_str().unwrap();
    app.wait_for_status(items[0]["job_id"].as_str().unwrap(), "succeeded")
        .await;

    let reel = app.get_json(&format!("/v1/reels/{reel_id}")).await;
    assert_eq!(
        reel["video_url"],
        format!("media:projects/{project_id}/reels/{reel_id}/video.mp4")
    );
    assert_eq!(
        app.download(&format!("/v1/reels/{reel_id}/video")).await,
        clip
    );
    assert_eq!(files_under(&app, "tmp"), Vec::<PathBuf>::new());
    assert_eq!(
        files_under(&app, &format!("projects/{project_id}/uploads")),
        Vec::<PathBuf>::new()
    );
}

#[tokio::test]
async fn an_upload_the_client_abandons_leaves_nothing() {
    let app = media_app(|_| {}).await;
    let project = app.create_project(json!({"name": "p"})).await;
    let boundary = "reelforge-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\
         Content-Type: video/mp4\r\n\r\n"
    );
    let mut socket = tokio::net::TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = format!(
        "POST /v1/projects/{}/collections/files HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: 10000000\r\n\r\n{head}",
        project["id"].as_str().unwrap(),
        app.token
    );
    tokio::io::AsyncWriteExt::write_all(&mut socket, request.as_bytes())
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut socket, &[7u8; 300_000])
        .await
        .unwrap();
    // The scratch file exists while the upload comes in...
    crate::helpers::eventually(
        "a scratch file",
        std::time::Duration::from_secs(10),
        || async { files_under(&app, "tmp") },
        |files| !files.is_empty(),
    )
    .await;
    // ...and goes with the client.
    drop(socket);
    crate::helpers::eventually(
        "the scratch file to go",
        std::time::Duration::from_secs(10),
        || async { files_under(&app, "tmp") },
        |files| files.is_empty(),
    )
    .await;
    assert_eq!(app.get_json("/v1/jobs").await["items"], json!([]));
}

#[tokio::test]
async fn an_instance_starting_removes_scratch_files_a_crash_left() {
    let root =
        std::env::temp_dir().join(format!("reelforge-sweep-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("tmp/render-dir")).unwrap();
    let old = root.join("tmp/left.upload");
    let fresh = root.join("tmp/in-use.upload");
    std::fs::write(&old, b"left by a crash").unwrap();
    std::fs::write(&fresh, b"another replica's work in progress").unwrap();
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for stale in [&old, &root.join("tmp/render-dir")] {
        std::fs::File::open(stale)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    let media = root.clone();
    let _app = media_app(move |s| s.media.root = media).await;
    assert!(!old.exists());
    assert!(!root.join("tmp/render-dir").exists());
    assert!(fresh.exists(), "a recent scratch file stays");
    std::fs::remove_dir_all(root).unwrap();
}
