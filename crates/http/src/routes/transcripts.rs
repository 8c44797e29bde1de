//! Step 3 resources: transcripts of a reel.
super::step_routes! {
    kind: crate::domain::ResourceKind::Transcript,
    resource: crate::domain::resource::Transcript, body: crate::domain::resource::StartTranscript, started: crate::domain::resource::TranscriptStarted,
    tag: "transcripts", parent: "The reel's id",
    summaries: ("Transcribe a reel", "List a reel's transcripts", "Get a transcript"),
    start: ("/reels/{id}/transcripts", "create_transcript"),
    list: ("/reels/{id}/transcripts", "list_transcripts"),
    get: ("/transcripts/{id}", "get_transcript"),
}
