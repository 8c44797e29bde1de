//! The deployment files (docker-compose.yml, deploy/kubernetes/): valid against their schemas
//! (validators that carry the schemas, installed by scripts/setup: no Docker engine or cluster
//! runs here), and consistent with the binary, its configuration and the Dockerfile.

use std::{collections::BTreeMap, path::Path, process::Command};

use serde_json::Value;

use crate::helpers::spawn_app;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn venv_tool(name: &str) -> std::path::PathBuf {
    let cache = std::env::var("REELFORGE_CACHE").unwrap_or_else(|_| {
        format!(
            "{}/.cache/reelforge",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let tool = Path::new(&cache).join("venv/bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run scripts/setup",
        tool.display()
    );
    tool
}

fn run(command: &mut Command) -> String {
    let out = command.output().expect("the validator runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// Every document of a YAML file, as JSON (PyYAML, which the validators bring).
fn documents(path: &Path) -> Vec<Value> {
    let script = "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))";
    let out = run(Command::new(venv_tool("python"))
        .args(["-c", script])
        .arg(path));
    serde_json::from_str(&out).unwrap()
}

fn manifests() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(ROOT).join("deploy/kubernetes"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_compose_file_and_the_manifests_pass_their_schemas() {
    run(Command::new(venv_tool("check-jsonschema"))
        .args(["--builtin-schema", "vendor.compose-spec"])
        .arg(Path::new(ROOT).join("docker-compose.yml")));
    let out = run(Command::new(venv_tool("kubernetes-validate"))
        .arg("--strict")
        .args(manifests()));
    assert!(!out.contains("WARN") && !out.contains("ERROR"), "{out}");
}

/// The fields of each struct of crates/settings/src/lib.rs, by struct name: `(field, type)`.
fn config_structs() -> BTreeMap<String, BTreeMap<String, String>> {
    let source =
        std::fs::read_to_string(Path::new(ROOT).join("crates/settings/src/lib.rs")).unwrap();
    let mut structs = BTreeMap::new();
    let mut current: Option<(String, BTreeMap<String, String>)> = None;
    for line in source.lines() {
        if let Some(name) = line
            .strip_prefix("pub struct ")
            .and_then(|rest| rest.strip_suffix(" {"))
        {
            current = Some((name.to_owned(), BTreeMap::new()));
        } else if line == "}" {
            if let Some((name, fields)) = current.take() {
                structs.insert(name, fields);
            }
        } else if let (Some((_, fields)), Some(field)) =
            (current.as_mut(), line.trim().strip_prefix("pub "))
        {
            if let Some((name, ty)) = field.trim_end_matches(',').split_once(": ") {
                fields.insert(name.to_owned(), ty.to_owned());
            }
        }
    }
    structs
}

/// Whether `REELFORGE__A__B` names a setting the binary reads (a field path from `Settings`).
fn is_setting(name: &str, structs: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let Some(path) = name.strip_prefix("REELFORGE__") else {
        return true;
    };
    let mut current = "Settings".to_owned();
    for (i, segment) in path.split("__").enumerate() {
        let Some(ty) = structs
            .get(&current)
            .and_then(|fields| fields.get(&segment.to_lowercase()))
        else {
            return false;
        };
        let inner = ty
            .strip_prefix("Option<")
            .and_then(|t| t.strip_suffix('>'))
            .unwrap_or(ty);
        if i + 1 < path.split("__").count() {
            current = inner.to_owned();
        }
    }
    true
}

/// Every environment variable the files set, with where.
fn env_names(compose: &Value, manifests: &[Value]) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for (service, spec) in compose["services"].as_object().unwrap() {
        if let Some(env) = spec["environment"].as_object() {
            names.extend(
                env.keys()
                    .map(|k| (k.clone(), format!("compose {service}"))),
            );
        }
    }
    for (key, _) in compose["x-reelforge-env"].as_object().unwrap() {
        names.push((key.clone(), "compose x-reelforge-env".into()));
    }
    for doc in manifests {
        let name = doc["metadata"]["name"].as_str().unwrap_or_default();
        for section in ["data", "stringData"] {
            if let Some(map) = doc[section].as_object() {
                names.extend(
                    map.keys()
                        .map(|k| (k.clone(), format!("{} {name}", doc["kind"]))),
                );
            }
        }
        for container in containers(doc) {
            for env in container["env"].as_array().into_iter().flatten() {
                names.push((
                    env["name"].as_str().unwrap().to_owned(),
                    format!("deployment {name}"),
                ));
            }
        }
    }
    names
}

fn containers(doc: &Value) -> Vec<&Value> {
    doc.pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_deployment_files_name_what_the_binary_and_the_dockerfile_have() {
    let compose = &documents(&Path::new(ROOT).join("docker-compose.yml"))[0];
    let manifests: Vec<Value> = manifests().iter().flat_map(|p| documents(p)).collect();
    let dockerfile = std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).unwrap();

    // Every REELFORGE__ variable is a setting.
    let structs = config_structs();
    assert!(is_setting("REELFORGE__DATABASE__LISTEN_URL", &structs));
    assert!(!is_setting("REELFORGE__DATABASE__LISTEN", &structs));
    for (name, place) in env_names(compose, &manifests) {
        assert!(
            is_setting(&name, &structs),
            "{place}: {name} is not a setting"
        );
    }

    // Build targets are the Dockerfile's stages; the engine and the service expose its ports.
    for (service, spec) in compose["services"].as_object().unwrap() {
        if let Some(target) = spec.pointer("/build/target").and_then(Value::as_str) {
            assert!(
                dockerfile.contains(&format!(" AS {target}\n")),
                "{service}: no stage {target}"
            );
        }
    }
    assert!(dockerfile.contains("EXPOSE 8080") && dockerfile.contains("EXPOSE 8765"));
    assert!(dockerfile.contains("REELFORGE__MEDIA__ROOT=/var/lib/reelforge/media"));

    // The commands are the binary's; the probes answer on a running service (the engine's on
    // its own server).
    let binary = env!("CARGO_BIN_EXE_reelforge");
    let help = run(Command::new(binary).arg("--help"));
    let serve_help = run(Command::new(binary).args(["serve", "--help"]));
    let mut commands: Vec<Vec<String>> = compose["services"]
        .as_object()
        .unwrap()
        .values()
        .filter(|spec| spec["image"] == "reelforge:latest")
        .map(|spec| serde_json::from_value(spec["command"].clone()).unwrap())
        .collect();
    let app = spawn_app().await;
    let engine = std::fs::read_to_string(Path::new(ROOT).join("engines/server.py")).unwrap();
    for doc in &manifests {
        for container in containers(doc) {
            let image = container["image"].as_str().unwrap();
            if image == "reelforge:latest" {
                commands.push(serde_json::from_value(container["args"].clone()).unwrap());
            }
            if doc["kind"] != "Deployment" {
                continue;
            }
            if image == "reelforge:latest" {
                assert_eq!(
                    container.pointer("/ports/0/containerPort"),
                    Some(&serde_json::json!(8080))
                );
                let mount = container.pointer("/volumeMounts/0/mountPath");
                assert!(
                    mount.is_none()
                        || mount == Some(&serde_json::json!("/var/lib/reelforge/media"))
                );
            } else {
                assert_eq!(image, "reelforge-engine:latest");
                assert_eq!(
                    container.pointer("/ports/0/containerPort"),
                    Some(&serde_json::json!(8765))
                );
            }
            for probe in ["readinessProbe", "livenessProbe"] {
                let path = container
                    .pointer(&format!("/{probe}/httpGet/path"))
                    .and_then(Value::as_str)
                    .unwrap_or_else(|| panic!("{image}: no {probe}"));
                if image == "reelforge:latest" {
                    let status = app.client.get(app.url(path)).send().await.unwrap().status();
                    assert_eq!(status, 200, "{probe} {path}");
                } else {
                    assert!(engine.contains(&format!("\"{path}\"")), "{probe} {path}");
                }
            }
        }
    }
    assert!(commands.len() >= 5, "{commands:?}");
    for command in commands {
        assert!(help.contains(&format!("  {}", command[0])), "{command:?}");
        for flag in &command[1..] {
            assert!(serve_help.contains(flag.as_str()), "{command:?}");
        }
    }
}
