//! The creator's studio page in headless Chromium, and a TypeScript client generated from the committed
//! OpenAPI document, both driven by Node against a running service. The Node parts live in
//! tests/web (installed by scripts/setup) and print a JSON report asserted on here.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};

fn web_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web"))
}

/// Runs `npm run <script>` in tests/web and parses the report it prints last. Awaited, not
/// blocking: the service under test runs on this test's runtime.
pub async fn npm(app: &TestApp, script: &str, env: &[(&str, &str)]) -> Value {
    assert!(
        web_dir().join("node_modules/playwright-core").is_dir(),
        "tests/web has no node_modules: run scripts/setup"
    );
    let output = tokio::process::Command::new("npm")
        .args(["run", "--silent", script])
        .current_dir(web_dir())
        .env("BASE_URL", &app.address)
        .env("TOKEN", &app.token)
        .envs(env.iter().copied())
        .kill_on_drop(true)
        .output()
        .await
        .expect("npm runs (scripts/setup installs Node.js)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "npm run {script} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

/// A project whose scripts are short, so the real voice and render take seconds.
async fn short_project(app: &TestApp, name: &str) -> String {
    let project = app
        .create_project(json!({
            "name": name,
            "language": "ru",
            "settings": {"words": {"min": 10, "max": 25}, "target_duration_seconds": 6},
        }))
        .await;
    project["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_studio_page_takes_a_trend_to_a_posted_video_in_chromium() {
    let platforms = crate::platforms::Platforms::start().await;
    // Instagram's CDN for one imported reel's cover: fetched when the reel is collected.
    let cdn = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/cover.jpg"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "image/jpeg")
                .set_body_bytes(crate::collections::tiny_jpeg()),
        )
        .mount(&cdn)
        .await;
    let cdn_host = cdn.address().to_string();
    // An audited TikTok app: the panel posts publicly, and public posts have links.
    let app = crate::publishing::publishing_app_with(&platforms, reelforge::clock::system(), |s| {
        s.publishing.tiktok.audited = true;
        s.collect.max_covers = 200;
        // Only the CDN's port: the broken reel's address on another port stays refused.
        s.media.fetch_allow_hosts = vec![cdn_host];
    })
    .await;
    let page = reqwest::get(app.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/app.js"));
    let project_id = short_project(&app, "e2e").await;
    // One uploaded reel, so the table also shows a frame of a prepared video.
    let uploaded = app
        .upload_clip(&project_id, crate::media::test_clip())
        .await;
    // Kept after the test, for a look at what the browser showed.
    let shots = std::env::temp_dir().join("reelforge-e2e");
    std::fs::create_dir_all(&shots).unwrap();
    let report = npm(
        &app,
        "e2e",
        &[
            ("PROJECT_ID", &project_id),
            ("SCREENSHOT_DIR", shots.to_str().unwrap()),
            ("PLATFORM_TOKEN", crate::platforms::TOKEN),
            ("COVER_URL", &format!("{}/cover.jpg", cdn.uri())),
        ],
    )
    .await;

    assert_eq!(report["tokenHiddenWorkspace"], true, "{report:#}");
    assert!(report["wrongTokenMessage"]
        .as_str()
        .unwrap()
        .contains("Токен не принят"));
    assert_eq!(report["russianHeading"], "Найти тренды");
    assert_eq!(report["pickedProject"], project_id.as_str());
    assert_eq!(report["englishHeading"], "Find trends");
    assert_eq!(
        report["englishNav"],
        json!(["1 Trends", "2 Studio", "3 Publish", "Drafts", "Settings"])
    );
    // Phone first: nothing wider than a 390-pixel screen, on any view.
    assert_eq!(report["overflow"], json!([]), "{report:#}");
    // axe-core on every view at both sizes: no serious or critical violations.
    assert_eq!(report["axe"], json!([]), "{report:#}");
    // The Russian UI speaks Russian: no English word of the server's messages (problem details,
    // review reasons, check details, job stages) and no raw code reaches it.
    assert!(report["serverWords"].as_u64().unwrap() > 0, "{report:#}");
    assert_eq!(report["english"], json!([]), "{report:#}");
    assert_eq!(report["rawCodes"], json!([]), "{report:#}");
    assert_eq!(report["collectorLabel"], "тестовый", "{report:#}");
    assert!(
        report["collectStatus"]
            .as_str()
            .unwrap()
            .contains("добавлено 6"),
        "{report:#}"
    );
    assert_eq!(report["thumbnails"], 7);
    assert!(
        report["reelCount"]
            .as_str()
            .unwrap()
            .starts_with("7 роликов"),
        "{report:#}"
    );
    // Every trend card says in words why it is trending.
    for card in report["cards"].as_array().unwrap() {
        assert!(!card["why"].as_array().unwrap().is_empty(), "{card}");
    }
    assert_eq!(
        report["filteredEmpty"], "Под фильтры ничего не подходит.",
        "an owner filter that matches nothing says so"
    );
    assert_eq!(
        report["frames"],
        json!([[uploaded, 270]]),
        "the uploaded reel shows its own frame"
    );
    // The radar: the watchlist listed with its schedule and rule, an alert on the outlier, the
    // chart of a reel observed twice, and the budget bar.
    let row: Vec<String> = serde_json::from_value(report["watchlistRow"].clone()).unwrap();
    assert_eq!(row[0], "Радар");
    assert_eq!(row[1], "@demo");
    assert_eq!(row[2], "каждые 6 ч");
    assert!(row[4].contains("×1,2"), "{row:?}");
    let alerts = report["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{report:#}");
    assert!(
        alerts[0].as_str().unwrap().contains("×1,5"),
        "demo's third reel has 1.5 times its owner's median plays: {alerts:?}"
    );
    assert_eq!(report["alertsEmptyHidden"], true);
    assert_eq!(report["chart"]["circles"], 2, "{report:#}");
    assert_eq!(report["chart"]["points"], 2);
    assert!(report["chart"]["title"].as_str().unwrap().contains("@demo"));
    assert_eq!(report["budget"]["visible"], true);
    assert!(
        report["budget"]["text"]
            .as_str()
            .unwrap()
            .contains("из $5.00"),
        "{report:#}"
    );

    let plays: Vec<u64> = serde_json::from_value(report["playsColumn"].clone()).unwrap();
    assert_eq!(plays.len(), 7);
    assert!(
        plays.windows(2).all(|w| w[0] >= w[1]),
        "sorted by plays: {plays:?}"
    );

    assert_eq!(
        report["voiceChoice"], "как в проекте: тестовый",
        "the run form names the project's own voice, in words"
    );
    // The card picked is the current reel, named in the panel that stays put.
    assert_eq!(report["currentName"], "@demo", "{report:#}");
    assert_eq!(report["currentCard"], true, "{report:#}");
    // A server that can pause for review (issue #30) does so for the fake writer's flagged
    // script, and the page edits and approves it; today's server offers no pause, and the page
    // says so instead of offering the choice.
    assert_eq!(report["paused"], report["reviewOffered"], "{report:#}");
    let reel_id = report["chosenReel"].as_str().unwrap();
    let reel = app.get_json(&format!("/v1/reels/{reel_id}")).await;
    assert_eq!(reel["selected"], true);
    assert_eq!(report["runStatus"], "Готово");
    assert_eq!(
        report["stepStates"],
        json!(["succeeded", "succeeded", "succeeded", "succeeded"])
    );
    assert!(report["streamStatus"]
        .as_str()
        .unwrap()
        .starts_with("Обновления: подключено"));
    assert!(!report["transcript"].as_str().unwrap().is_empty());
    assert_eq!(report["checks"].as_array().unwrap().len(), 9, "{report:#}");
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c[1] == "pass" || c[0] == "grounded"));
    // The fake writer's stock sentences are not about the fake reel: the page says so, visibly.
    assert_eq!(report["review"]["visible"], true, "{report:#}");
    let banner = report["review"]["text"].as_str().unwrap();
    assert!(
        banner.contains("Проверьте сценарий") && banner.contains("по теме ролика"),
        "{banner}"
    );
    assert_eq!(report["audioReady"], true);
    assert!(report["costMetrics"]
        .as_array()
        .unwrap()
        .contains(&json!("символы")));
    // Stand-in providers are named in words, not as `fake` or `local`.
    for provider in report["costProviders"].as_array().unwrap() {
        assert!(provider != "fake" && provider != "local", "{report:#}");
    }
    assert!(
        report["editedWords"]
            .as_str()
            .unwrap()
            .starts_with("5 слов"),
        "{report:#}"
    );

    let runs = app
        .get_json(&format!("/v1/projects/{project_id}/runs"))
        .await;
    // The run made from the picked card (a later one, on a reel that cannot be fetched, failed).
    let run = runs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|run| run["input"]["reel_id"] == report["chosenReel"])
        .unwrap();
    assert_eq!(
        run["input"]["providers"],
        json!({"transcribe": "fake", "rewrite": "fake", "voice": "local", "render": "local"})
    );
    assert_eq!(report["video"]["width"], 1080);
    assert_eq!(report["video"]["height"], 1920);
    // The player played the video's signed `content_url` itself, by ranges, without a token.
    assert!(
        report["videoSrc"]
            .as_str()
            .unwrap()
            .contains("/content?expires="),
        "{report:#}"
    );
    // Chromium asks for `bytes=0-` and reads on from there; a range that covers the whole file
    // is answered 200 with its Content-Range (a part of it, 206: contract.rs checks that).
    let requests = report["videoRequests"].as_array().unwrap();
    assert!(!requests.is_empty(), "{report:#}");
    for answer in requests {
        assert!(
            answer["range"].as_str().unwrap().starts_with("bytes="),
            "{answer}"
        );
        assert!(
            answer["contentRange"]
                .as_str()
                .unwrap()
                .starts_with("bytes "),
            "{answer}"
        );
        assert!(answer["authorization"].is_null(), "{answer}");
    }
    let shot = &report["screenshot"];
    assert!(
        shot["height"].as_u64().unwrap() > shot["width"].as_u64().unwrap(),
        "{shot}"
    );
    assert!(
        shot["colours"].as_u64().unwrap() > 20,
        "the player shows a picture, not a blank box: {shot}"
    );
    assert!(
        shot["white"].as_u64().unwrap() > 300,
        "subtitle text is drawn: {shot}"
    );
    assert!(
        shot["highlight"].as_u64().unwrap() > 50,
        "the spoken word is highlighted: {shot}"
    );
    // The library typed the upload from its content and counted it; deleting it emptied it.
    let library = &report["library"];
    let rows = library["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{library}");
    assert_eq!(rows[0][1], "logo.png", "{library}");
    assert!(
        ["картинка", "image"].contains(&rows[0][0].as_str().unwrap()),
        "{library}"
    );
    assert!(
        library["usage"].as_str().unwrap().starts_with('1'),
        "{library}"
    );
    assert!(
        library["afterDelete"].as_str().unwrap().starts_with('0'),
        "{library}"
    );
    // The preview is the first chosen format (1:1) at half size; the final render makes both
    // chosen formats, the other one offered for download.
    let preview = &report["preview"];
    assert_eq!(
        (preview["width"].as_u64(), preview["height"].as_u64()),
        (Some(540), Some(540)),
        "{preview}"
    );
    assert_eq!(preview["renditions"], json!([]), "{preview}");
    let final_render = &report["finalRender"];
    assert_eq!(
        (
            final_render["width"].as_u64(),
            final_render["height"].as_u64()
        ),
        (Some(1080), Some(1920)),
        "{final_render}"
    );
    let offered = final_render["renditions"].as_array().unwrap();
    assert!(
        offered.len() == 1 && offered[0].as_str().unwrap().ends_with(" 1:1"),
        "{final_render}"
    );
    for shown in [preview, final_render] {
        let video = app
            .get_json(&format!(
                "/v1/videos/{}",
                shown["resource"].as_str().unwrap()
            ))
            .await;
        assert_eq!(
            video["input"]["options"]["subtitles"]["style"], "boxed",
            "{video:#}"
        );
        // The font picked from the library's fonts.
        assert!(
            video["input"]["options"]["subtitles"]["font_key"]
                .as_str()
                .is_some_and(|key| key.ends_with(".ttf")),
            "{video:#}"
        );
    }
    assert_eq!(
        report["resumedWith"], "1",
        "the dropped stream resumed after the last event it had seen: {}",
        report["streamRequests"]
    );
    // The publish panel: words written, limits counted live (a 101-character title is over
    // YouTube's), a pasted TikTok account, and the post's link once the platform has it.
    let publish = &report["publish"];
    assert!(!publish["title"].as_str().unwrap().is_empty(), "{publish}");
    let over = |limits: &Value| -> Vec<String> {
        limits
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["over"] == true)
            .map(|l| l["limit"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(over(&publish["limitsBefore"]).is_empty(), "{publish}");
    assert_eq!(over(&publish["limitsOver"]), ["youtube_title"], "{publish}");
    assert!(
        publish["limitsOver"][0]["text"]
            .as_str()
            .unwrap()
            .contains("101"),
        "{publish}"
    );
    assert_eq!(
        publish["link"], "https://www.tiktok.com/@anna/video/7300000000000000001",
        "{publish}"
    );
    assert_eq!(publish["coverShown"], true, "{publish}");
    // The publish panel named the final render, and after a reload the same video is found: in
    // the drafts (marked as the one to publish, with where it was posted) and in the panel.
    let final_id = final_render["resource"].as_str().unwrap();
    assert!(
        report["publishTarget"]
            .as_str()
            .unwrap()
            .starts_with("Публикуем: @demo"),
        "{report:#}"
    );
    assert_eq!(report["publishAfterReload"], final_id, "{report:#}");
    let after = &report["afterReload"];
    assert_eq!(after["chosen"], true, "{report:#}");
    assert_eq!(report["chosenDrafts"], 1, "{report:#}");
    assert_eq!(after["postedLink"], publish["link"], "{report:#}");
    let drafts = report["draftVideos"].as_array().unwrap();
    for made in [
        &report["runVideo"],
        &preview["resource"],
        &final_render["resource"],
    ] {
        assert!(
            drafts.contains(made),
            "every run and render is a draft: {report:#}"
        );
    }
    assert_eq!(report["currentAfterReload"], "@demo", "{report:#}");
    assert_eq!(
        report["connectButtons"],
        json!([
            "Подключить Instagram",
            "Подключить YouTube",
            "Подключить TikTok"
        ])
    );
    assert_eq!(report["instagramIdHiddenForTiktok"], true, "{report:#}");
    // Failures are said where the creator looks: a reel whose video cannot be fetched, and a
    // run on it, with the reel's own reason.
    assert_eq!(
        report["brokenReel"], "не удалось скачать: эту ссылку нельзя открыть",
        "{report:#}"
    );
    assert!(
        report["brokenRun"]
            .as_str()
            .unwrap()
            .ends_with("Не удалось подготовить видео ролика: эту ссылку нельзя открыть"),
        "{report:#}"
    );
    // The imported reel's cover was kept when it was collected, and its card shows it (the
    // 16-pixel JPEG from the CDN, through the reel's signed link).
    let cover = &report["brokenCover"];
    assert!(
        cover["src"].as_str().unwrap().contains("/cover?expires="),
        "{report:#}"
    );
    assert_eq!(cover["width"], 16, "{report:#}");
    // A run waiting for its review is canceled from the studio, and says so in the drafts.
    assert_eq!(report["canceled"]["status"], "Отменено", "{report:#}");
    assert_eq!(report["canceled"]["draft"], "Отменено", "{report:#}");
    let canceled_id = report["canceled"]["run"].as_str().unwrap();
    let canceled = app.get_json(&format!("/v1/runs/{canceled_id}")).await;
    assert_eq!(canceled["status"], "canceled", "{canceled:#}");
    assert_eq!(canceled["input"]["review"], "always", "{canceled:#}");
    assert_eq!(canceled["reels"][0]["error"]["code"], "canceled");
    // A refusal's typed params are said in Russian: canceling it again names its status.
    assert_eq!(
        report["canceled"]["again"], "Запуск уже закончился (отменено)",
        "{report:#}"
    );
    // A refusal is said from its code, without the server's English detail or ids.
    assert_eq!(
        report["duplicateMessage"], "Это видео уже опубликовано в этом аккаунте",
        "{report:#}"
    );
    // A draft chosen in the gallery and scheduled for tomorrow shows in the calendar; canceled,
    // it offers a retry.
    assert_eq!(
        report["calendar"].as_array().unwrap().len(),
        1,
        "{report:#}"
    );
    assert_eq!(report["calendar"][0][1], 1, "{report:#}");
    assert_eq!(report["retryOffered"], "Повторить", "{report:#}");
    assert_eq!(report["firstTab"], "skip", "{report:#}");
    // On a desktop the current reel sits beside the views, and the script beside the player.
    assert_eq!(
        report["desktop"],
        json!({"panelBeside": true, "editorBesidePlayer": true}),
        "{report:#}"
    );
    assert_eq!(
        platforms.state().tt_init_bodies[0]["post_info"]["privacy_level"],
        "PUBLIC_TO_EVERYONE"
    );
    let errors: Vec<&str> = report["consoleErrors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

#[tokio::test]
async fn a_typescript_client_generated_from_the_openapi_document_runs_a_pipeline() {
    // The client may not cast its way past a missing type: no `as`, `any` or `!` assertions.
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/web/pipeline.ts"
    ))
    .unwrap();
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    for escape in [" as ", ": any", "<any>", "!.", "!)", "![", "!;"] {
        assert!(!code.contains(escape), "pipeline.ts uses `{escape}`");
    }
    // A rate limit the pipeline stays under, and its closing requests go past.
    let app = spawn_app_with(|s| s.rate_limit.per_minute = 240).await;
    let report = npm(&app, "client", &[]).await;
    let run_id = report["run_id"].as_str().unwrap();
    let run = app.get_json(&format!("/v1/runs/{run_id}")).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    assert_eq!(report["status"], "succeeded");
    assert_eq!(
        report["steps"],
        json!(["transcribe", "rewrite", "voice", "render"])
    );
    assert_eq!(report["reels"], 3);
    assert_eq!(report["video"]["width"], 1080);
    assert!(
        report["script_words"].as_u64().unwrap() >= 100,
        "{report:#}"
    );
    // Read through the typed outputs, and equal to what the API stores.
    let script_id = run["reels"][0]["steps"][1]["resource_id"].as_str().unwrap();
    let script = app.get_json(&format!("/v1/scripts/{script_id}")).await;
    assert_eq!(report["script_text"], script["output"]["text"]);
    // The run stopped for review, the script was edited, and the resumed run voiced the edit.
    let review = &report["review"];
    assert_eq!(review["stopped"], "awaiting_review", "{report:#}");
    assert_eq!(review["stepsWhileStopped"], 2, "{report:#}");
    assert_eq!(review["resumed"], "running", "{report:#}");
    assert_eq!(report["script_text"], review["edited"]);
    assert!(review["edited"]
        .as_str()
        .unwrap()
        .ends_with("Edited by hand before the voice."));
    assert_eq!(report["script_writer"], "edited");
    assert_eq!(
        review["spoken_last"], "voice.",
        "the edit is voiced: {report:#}"
    );
    assert_eq!(report["checks"].as_array().unwrap().len(), 9, "{report:#}");
    assert_eq!(
        report["needs_review"], script["output"]["needs_review"],
        "{report:#}"
    );
    assert_eq!(
        report["checks"][1],
        json!({"name": "word_count", "passed": true})
    );
    assert_eq!(report["video"]["lineage_script"], script_id);
    // Typed event data read by `kind` in TypeScript.
    let events = &report["events"];
    assert_eq!(events["script_status"], "succeeded", "{events:#}");
    assert_eq!(events["run_progress"], 100, "{events:#}");
    assert_eq!(events["run_reels"], 1, "{events:#}");
    assert_eq!(events["stopped_status"], "awaiting_review", "{events:#}");
    assert!(
        (0..=100).contains(&events["last_progress"].as_i64().unwrap()),
        "{events:#}"
    );
    for kind in [
        "collection.succeeded",
        "job.running",
        "run.queued",
        "video.succeeded",
    ] {
        assert!(
            events["kinds"].as_array().unwrap().contains(&json!(kind)),
            "{kind}: {events:#}"
        );
    }
    assert!(
        report["problem"]["status"] == 404 && report["problem"]["code"] == "not_found",
        "{report:#}"
    );
    // Typed read models, read without casts.
    assert!(report["estimate_total"].is_number(), "{report:#}");
    assert_eq!(report["run_input"]["reel_id"], run["input"]["reel_id"]);
    assert_eq!(report["run_input"]["transcribe"], "fake");
    assert!(
        report["reel_media"]["duration_ms"].as_u64().unwrap() > 0,
        "{report:#}"
    );
    assert_eq!(report["collection_accounts"], json!(["demo"]));
    assert_eq!(report["watchlist_hashtags"], json!(["fitness"]));
    // A fake reel has no video of its own to link.
    assert!(report["reel_content_url"].is_null(), "{report:#}");
    // Past the limit, each refused request waited as `Retry-After` said, then went through.
    let limit = &report["rate_limit"];
    assert_eq!(limit["policy"], "\"per-token\";q=240;w=60", "{report:#}");
    assert_eq!(limit["succeeded"], limit["burst"], "{report:#}");
    let throttled = limit["throttled"].as_u64().unwrap();
    assert!(throttled >= 1, "{report:#}");
    assert!(
        limit["waited_seconds"].as_u64().unwrap() >= throttled,
        "{report:#}"
    );
}
