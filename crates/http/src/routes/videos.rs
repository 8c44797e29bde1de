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
    cfg.service(content).service(file).service(list_in_project);
}

/// Filters and paging for a project's videos.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectVideosQuery {
    /// Only videos in this status (`succeeded` for the finished ones).
    pub status: Option<crate::domain::Status>,
    /// Items per page, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// List a project's videos
///
/// Every video of the project, whichever voiceover and run it was rendered from (previews and
/// final renders too), newest first, a page at a time: what a gallery of drafts shows in one
/// request.
#[utoipa::path(
    tag = "videos", operation_id = "list_project_videos",
    params(("id" = Uuid, Path, description = "The project's id"), ProjectVideosQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<crate::domain::resource::Video>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/videos")]
pub async fn list_in_project(
    state: Data,
    id: web::Path<Uuid>,
    query: web::Query<ProjectVideosQuery>,
) -> Result<web::Json<Page<crate::domain::resource::Video>>, ApiError> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .parse()?;
    crate::db::projects::get(&state.pool, *id)
        .await?
        .ok_or(crate::error::AppError::NotFound("project"))?;
    let kind = crate::domain::ResourceKind::Video;
    let rows =
        crate::db::resources::list_in_project(&state.pool, kind, *id, query.status, page).await?;
    let page = Page::from_rows(rows, page.limit);
    Ok(web::Json(
        page.try_map(crate::domain::resource::Video::try_from)?,
    ))
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
