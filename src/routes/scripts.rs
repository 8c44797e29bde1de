//! Step 4 resources: scripts rewritten from a transcript.
super::step_routes! {
    kind: crate::domain::ResourceKind::Script, tag: "scripts", parent: "The transcript's id",
    start: ("/transcripts/{id}/scripts", "create_script"),
    list: ("/transcripts/{id}/scripts", "list_scripts"),
    get: ("/scripts/{id}", "get_script"),
}
