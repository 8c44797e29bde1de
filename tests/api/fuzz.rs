//! Schemathesis (PyPI, installed by scripts/setup) against the running service and its own
//! `/openapi.json`: every operation, with examples, coverage, fuzzing and stateful phases (the
//! document's links lead from a run to its reel, transcript, script, audio and video). Every check
//! runs but one: `positive_data_acceptance` expects any schema-valid request to succeed, while
//! some rules are beyond JSON Schema (opaque cursors, provider names known at run time, "exactly
//! one of reel_id, reel_ids or top"), and those requests rightly get a documented 4xx.

use std::{path::PathBuf, time::Duration};

use serde_json::json;

use crate::helpers::{spawn_app, start_run, wait_for_run};

fn schemathesis() -> PathBuf {
    let cache = std::env::var_os("REELFORGE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/reelforge")
        });
    let binary = cache.join("venv/bin/schemathesis");
    assert!(
        binary.exists(),
        "{} is missing: run scripts/setup",
        binary.display()
    );
    binary
}

/// Pins the path parameters of each group of operations to a resource that exists, so the
/// fuzzer reaches the handlers' logic instead of 404s. Entries that set parameters must not
/// overlap: schemathesis merges every entry that matches.
fn config(token: &str, ids: &[(&str, &str, String)]) -> String {
    let mut text = format!(
        "headers = {{ Authorization = \"Bearer {token}\" }}\n\
         request-timeout = 20\n\n\
         # An endless event stream is not a request/response operation.\n\
         [[operations]]\ninclude-path = \"/v1/events\"\nenabled = false\n\n\
         # A project has no webhook until one is set; its 404 is the documented answer.\n\
         [[operations]]\ninclude-path-regex = '^/v1/projects/\\{{id\\}}/webhook$'\n\
         include-method-regex = \"^GET$\"\nchecks.ensure_resource_availability.enabled = false\n\n\
         # Deleting a project is tried on a spare one: stateful sequences would carry the fuzzed\n\
         # project's id into it and leave nothing to test.\n\
         [[operations]]\ninclude-path-regex = '^/v1/projects/\\{{id\\}}$'\ninclude-method-regex = \"^DELETE$\"\n\
         phases.stateful.enabled = false\n"
    );
    for (method, path_regex, parameters) in ids {
        text.push_str(&format!(
            "\n[[operations]]\ninclude-path-regex = '{path_regex}'\n"
        ));
        if !method.is_empty() {
            text.push_str(&format!("include-method-regex = \"^({method})$\"\n"));
        }
        text.push_str(&format!("parameters = {{ {parameters} }}\n"));
    }
    text
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_document() {
    let binary = schemathesis();
    let app = spawn_app().await;
    // A whole pipeline on the fake providers, so every resource kind exists.
    let project = app.create_project(json!({"name": "fuzzed"})).await;
    let project_id = project["id"].as_str().unwrap().to_owned();
    let reels = app.collect_fake_reels(&project_id, 3).await;
    let run = start_run(&app, &project_id, json!({"reel_id": reels[0]["id"]})).await;
    let run = wait_for_run(&app, run["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "succeeded", "{run:#}");
    let step = |index: usize| {
        run["reels"][0]["steps"][index]["resource_id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (transcript, script, audio, video) = (step(0), step(1), step(2), step(3));
    let reel = run["reels"][0]["reel_id"].as_str().unwrap().to_owned();
    let collections = app
        .get_json(&format!("/v1/projects/{project_id}/collections"))
        .await;
    let collection = collections["items"][0]["id"].as_str().unwrap().to_owned();
    let video_job = app.get_json(&format!("/v1/videos/{video}")).await["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let watchlist = crate::watch::create_watchlist(
        &app,
        &project_id,
        json!({"name": "radar", "collection": {"source": "apify", "accounts": ["demo"], "per_source_limit": 2},
               "schedule": {"cron": "0 0 1 1 *"}, "rules": [{"conditions": {"min_outlier_score": 2.0}}]}),
    )
    .await;
    let watchlist = watchlist["id"].as_str().unwrap().to_owned();
    let spare = app.create_project(json!({"name": "to delete"})).await;
    let spare = spare["id"].as_str().unwrap();
    // Revoking is tried on a spare token too, never on the one the fuzzer sends.
    let spare_token = app
        .post("/v1/tokens", &json!({"name": "to revoke"}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let spare_token = spare_token["id"].as_str().unwrap();

    let id = |value: &str| format!("\"path.id\" = \"{value}\"");
    // The patterns are disjoint: where several match, schemathesis merges their parameters.
    let ids: Vec<(&str, &str, String)> = vec![
        ("DELETE", "^/v1/projects/\\{id\\}$", id(spare)),
        ("GET|PATCH", "^/v1/projects/\\{id\\}$", id(&project_id)),
        (
            "",
            "^/v1/projects/\\{id\\}/reels/\\{reel_id\\}",
            format!("{}, \"path.reel_id\" = \"{reel}\"", id(&project_id)),
        ),
        (
            "",
            "^/v1/projects/\\{id\\}/collections/\\{collection_id\\}",
            format!(
                "{}, \"path.collection_id\" = \"{collection}\"",
                id(&project_id)
            ),
        ),
        ("", "^/v1/projects/\\{id\\}/[a-z/]+$", id(&project_id)),
        ("", "^/v1/reels/", id(&reel)),
        ("", "^/v1/transcripts/", id(&transcript)),
        ("", "^/v1/scripts/", id(&script)),
        ("", "^/v1/audio/", id(&audio)),
        ("", "^/v1/videos/", id(&video)),
        ("", "^/v1/runs/", id(run["id"].as_str().unwrap())),
        ("", "^/v1/jobs/", id(&video_job)),
        ("", "^/v1/watchlists/", id(&watchlist)),
        ("", "^/v1/tokens/", id(spare_token)),
    ];
    let folder =
        std::env::temp_dir().join(format!("reelforge-fuzz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&folder).unwrap();
    let config_path = folder.join("schemathesis.toml");
    std::fs::write(&config_path, config(&app.token, &ids)).unwrap();

    let seed = std::env::var("REELFORGE_FUZZ_SEED").unwrap_or_else(|_| "20261201".into());
    let examples = std::env::var("REELFORGE_FUZZ_EXAMPLES").unwrap_or_else(|_| "20".into());
    let run = tokio::process::Command::new(&binary)
        .arg("--config-file")
        .arg(&config_path)
        .args(["run", &app.url("/openapi.json"), "--checks", "all"])
        .args(["--exclude-checks", "positive_data_acceptance"])
        // One worker: hypothesis's lambda descriptions are not thread-safe (a runtime error seen
        // with two).
        .args(["--workers", "1"])
        .args(["--seed", &seed, "--max-examples", &examples, "--no-color"])
        .current_dir(&folder)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("schemathesis finished within 10 minutes")
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    let report_path = folder.join("report.txt");
    std::fs::write(&report_path, report.as_bytes()).unwrap();
    let tail: String = report
        .lines()
        .rev()
        .take(90)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        output.status.success(),
        "schemathesis found problems (seed {seed}; whole report in {}):\n{tail}\n{}",
        report_path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{tail}");
    // It really exercised the service: every operation but the stream, on real resources.
    let tested: usize = report
        .lines()
        .find_map(|line| line.trim().strip_prefix("Tested: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        tested >= 45,
        "only {tested} operations were tested:\n{tail}"
    );
    let _ = std::fs::remove_dir_all(&folder);
}
