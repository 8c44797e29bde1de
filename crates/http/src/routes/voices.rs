//! The project voice library over HTTP; the rules live in [`crate::voices`].

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use super::Data;
use crate::{
    domain::cloned_voice::{ClonedVoice, NewVoice, VoicePatch},
    error::{ApiError, Problem},
    pagination::{Page, PageQuery},
    voices,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(update)
        .service(remove);
}

/// Clone a voice
///
/// Clones a voice with ElevenLabs from recordings in the project's media library and keeps it in
/// the voice library.
#[utoipa::path(
    tag = "voices", operation_id = "clone_voice",
    params(("id" = Uuid, Path, description = "The project's id")),
    request_body(content = NewVoice, example = json!({"name": "Anna", "sample_keys": ["projects/0b6f.../assets/5d1e....m4a"], "labels": {"language": "ru"}, "default": true})),
    responses(
        (status = 201, description = "Cloned with ElevenLabs and kept in the project's voice library", body = ClonedVoice),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`voice_slots_full`: the ElevenLabs account has no free voice slot", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, samples that are not library audio, ElevenLabs refusing the samples (`provider_rejected`), or cloning not configured", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "ElevenLabs refused the key or the account (`provider_auth`, `provider_out_of_credit`, ...)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "ElevenLabs is busy or unreachable (`provider_retryable`); try again", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/projects/{id}/voices")]
pub async fn create(
    state: Data,
    project_id: web::Path<Uuid>,
    body: crate::routes::body::Json<NewVoice>,
) -> Result<HttpResponse, ApiError> {
    let voice = voices::create(&state, *project_id, body.into_inner()).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/voices/{}", voice.id)))
        .json(voice))
}

/// List a project's cloned voices
///
/// The project's voice library, newest first.
#[utoipa::path(
    tag = "voices", operation_id = "list_voices",
    params(("id" = Uuid, Path, description = "The project's id"), PageQuery),
    responses(
        (status = 200, description = "Newest first", body = Page<ClonedVoice>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/projects/{id}/voices")]
pub async fn list(
    state: Data,
    project_id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<ClonedVoice>>, ApiError> {
    Ok(web::Json(voices::list(&state, *project_id, &query).await?))
}

/// Get a cloned voice
///
/// A voice of the project's library with its ElevenLabs id and labels.
#[utoipa::path(
    tag = "voices", operation_id = "get_voice",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ClonedVoice), (status = 404, body = Problem, content_type = "application/problem+json")),
)]
#[get("/voices/{id}")]
pub async fn get_one(state: Data, id: web::Path<Uuid>) -> Result<web::Json<ClonedVoice>, ApiError> {
    Ok(web::Json(voices::get(&state, *id).await?))
}

/// Update a cloned voice
///
/// Renames the voice, changes its labels or makes it the project's default.
#[utoipa::path(
    tag = "voices", operation_id = "update_voice",
    params(("id" = Uuid, Path)),
    request_body = VoicePatch,
    responses(
        (status = 200, description = "Updated; making one voice the default unsets the previous one", body = ClonedVoice),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/voices/{id}")]
pub async fn update(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<VoicePatch>,
) -> Result<web::Json<ClonedVoice>, ApiError> {
    Ok(web::Json(
        voices::update(&state, *id, body.into_inner()).await?,
    ))
}

/// Delete a cloned voice
///
/// Deletes the voice at ElevenLabs, freeing its slot, and here.
#[utoipa::path(
    tag = "voices", operation_id = "delete_voice",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "Deleted at ElevenLabs (freeing its slot) and here"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Cloning is not configured here (`not_configured`), or ElevenLabs refused the request (`provider_rejected`)", body = Problem, content_type = "application/problem+json"),
        (status = 502, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/voices/{id}")]
pub async fn remove(state: Data, id: web::Path<Uuid>) -> Result<HttpResponse, ApiError> {
    voices::delete(&state, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}
