//! Step 6 resources: videos rendered from a voiceover.
super::step_routes! {
    kind: crate::domain::ResourceKind::Video, tag: "videos", parent: "The audio's id",
    start: ("/audio/{id}/videos", "create_video"),
    list: ("/audio/{id}/videos", "list_videos"),
    get: ("/videos/{id}", "get_video"),
}
