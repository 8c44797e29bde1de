//! Step 6 resources: videos rendered from a voiceover.
super::step_routes! {
    kind: crate::domain::ResourceKind::Video,
    resource: crate::domain::resource::Video, body: crate::domain::resource::StartVideo, started: crate::domain::resource::VideoStarted,
    tag: "videos", parent: "The audio's id",
    summaries: ("Render a voiceover as a video", "List a voiceover's videos", "Get a video"),
    start: ("/audio/{id}/videos", "create_video"),
    list: ("/audio/{id}/videos", "list_videos"),
    get: ("/videos/{id}", "get_video"),
}

pub fn configure_content(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(content).service(file);
}

/// Download a video's file
///
/// The rendered MP4, with ranges; opens with a token or the video's signed `content_url`.
#[utoipa::path(
    tag = "videos", operation_id = "get_video_content",
    params(("id" = Uuid, Path), ("Range" = Option<String>, Header, description = "e.g. `bytes=0-1023`")),
    responses(
        (status = 200, description = "The MP4", content_type = "video/mp4"),
        (status = 206, description = "The requested range", content_type = "video/mp4"),
        (status = 404, description = "No such video, or it has no file (fake render)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not finished yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/videos/{id}/content")]
pub async fn content(
    state: Data,
    id: web::Path<Uuid>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    crate::routes::serve_output(&state, crate::domain::ResourceKind::Video, *id, &request).await
}

/// Download one of a video's files
///
/// A thumbnail, subtitles or a further format's video, as `output.files` names them, with ranges;
/// opens with a token or the signed link in `file_urls`.
#[utoipa::path(
    tag = "videos", operation_id = "get_video_file",
    params(
        ("id" = Uuid, Path),
        ("name" = String, Path, description = "`thumbnail.jpg`, `subtitles.srt`, `subtitles.vtt` or `subtitles.ass` (as `output.files` lists)"),
        ("Range" = Option<String>, Header),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not finished yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/videos/{id}/files/{name}")]
pub async fn file(
    state: Data,
    path: web::Path<(Uuid, String)>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, name) = path.into_inner();
    let key =
        crate::routes::output_file(&state, crate::domain::ResourceKind::Video, id, |output| {
            output
                .pointer(&format!(
                    "/files/{}",
                    name.replace('~', "~0").replace('/', "~1")
                ))
                .and_then(|k| k.as_str())
                .map(str::to_owned)
        })
        .await?;
    crate::routes::serve_file(&state, &key, &request).await
}
