//! Step 1-2 resources: reels of a project.
super::step_routes! {
    kind: crate::domain::ResourceKind::Reel, tag: "reels", parent: "The project's id",
    start: ("/projects/{id}/reels", "add_reel"),
    list: ("/projects/{id}/reels", "list_reels"),
    get: ("/reels/{id}", "get_reel"),
}
