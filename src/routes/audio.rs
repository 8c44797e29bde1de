//! Step 5 resources: voiceovers of a script.
super::step_routes! {
    kind: crate::domain::ResourceKind::Audio, tag: "audio", parent: "The script's id",
    start: ("/scripts/{id}/audio", "create_audio"),
    list: ("/scripts/{id}/audio", "list_audio"),
    get: ("/audio/{id}", "get_audio"),
}
