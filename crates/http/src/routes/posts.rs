//! Step 7's words: a post (title, caption, hashtags, cover) written for a video.
super::step_routes! {
    kind: crate::domain::ResourceKind::Post,
    resource: crate::domain::resource::Post, body: crate::domain::resource::StartPost, started: crate::domain::resource::PostStarted,
    tag: "posts", parent: "The video's id",
    summaries: ("Write a video's post", "List a video's posts", "Get a post"),
    start: ("/videos/{id}/posts", "create_post"),
    list: ("/videos/{id}/posts", "list_posts"),
    get: ("/posts/{id}", "get_post"),
}

use actix_web::patch;

use crate::domain::publishing::PostPatch;

pub fn configure_edit(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(edit).service(cover);
}

/// Edit a post's words
///
/// Changes the title, caption, hashtags or cover frame; the words are checked again against each
/// platform's limits.
#[utoipa::path(
    tag = "posts", operation_id = "edit_post",
    params(("id" = Uuid, Path)),
    request_body(content = PostPatch, example = json!({"title": "Три привычки для утра", "hashtags": ["утро", "привычки"]})),
    responses(
        (status = 200, description = "Edited; `output.checks` hold the checks of the new words, and `needs_review` says whether one failed", body = crate::domain::resource::Post),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The post has not succeeded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field too long, or a hashtag that is not one word", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/posts/{id}")]
pub async fn edit(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<PostPatch>,
) -> Result<web::Json<crate::domain::resource::Post>, ApiError> {
    let post = crate::publish::edit_post(&state, id.into_inner(), body.into_inner()).await?;
    Ok(web::Json(post.try_into()?))
}

/// Download a post's cover frame
///
/// The JPEG frame chosen as the post's cover, with ranges.
#[utoipa::path(
    tag = "posts", operation_id = "get_post_cover",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "The cover frame", content_type = "image/jpeg"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not finished yet", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/posts/{id}/cover")]
pub async fn cover(
    state: Data,
    id: web::Path<Uuid>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let key =
        crate::routes::output_file(&state, crate::domain::ResourceKind::Post, *id, |output| {
            serde_json::from_value::<crate::domain::publishing::PostOutput>(output.clone())
                .ok()
                .and_then(|post| post.cover)
                .map(|cover| cover.key)
        })
        .await?;
    crate::routes::serve_file(&state, &key, &request).await
}
