//! Step 5 resources: voiceovers of a script.
super::step_routes! {
    kind: crate::domain::ResourceKind::Audio,
    resource: crate::domain::resource::Audio, body: crate::domain::resource::StartAudio, started: crate::domain::resource::AudioStarted,
    tag: "audio", parent: "The script's id",
    summaries: ("Voice a script", "List a script's voiceovers", "Get a voiceover"),
    start: ("/scripts/{id}/audio", "create_audio"),
    list: ("/scripts/{id}/audio", "list_audio"),
    get: ("/audio/{id}", "get_audio"),
}

pub fn configure_content(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(content);
}

/// Download a voiceover's file
///
/// The voiceover's WAV or MP3 (as `output.format` says), with ranges; opens with a token or the
/// audio's signed `content_url`.
#[utoipa::path(
    tag = "audio", operation_id = "get_audio_content",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "The voiceover (WAV or MP3, as `output.format` says)", content_type = "audio/wav"),
        (status = 206, description = "The requested range", content_type = "audio/wav"),
        (status = 404, description = "No such audio, or it has no file (fake voice)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not finished yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/audio/{id}/content")]
pub async fn content(
    state: Data,
    id: web::Path<Uuid>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    crate::routes::serve_output(&state, crate::domain::ResourceKind::Audio, *id, &request).await
}
