//! Step 4 resources: scripts rewritten from a transcript.
super::step_routes! {
    kind: crate::domain::ResourceKind::Script,
    resource: crate::domain::resource::Script, body: crate::domain::resource::StartScript, started: crate::domain::resource::ScriptStarted,
    tag: "scripts", parent: "The transcript's id",
    summaries: ("Write a script from a transcript", "List a transcript's scripts", "Get a script"),
    start: ("/transcripts/{id}/scripts", "create_script"),
    list: ("/transcripts/{id}/scripts", "list_scripts"),
    get: ("/scripts/{id}", "get_script"),
}

use actix_web::patch;

pub fn configure_edit(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(edit);
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditScript {
    /// The new script text; it is cleaned (emoji, markdown) and checked again.
    #[schema(example = "Каждый день ты выбираешь, кем станешь. Подпишись!")]
    pub text: String,
    /// Words of the text to stress in the subtitles, at most one a sentence; unset keeps the
    /// writer's choice where the text still holds it.
    #[schema(example = json!(["выбираешь"]))]
    pub key_words: Option<Vec<String>>,
    /// English stock-footage search words, a list of up to three per sentence; unset keeps the
    /// words of each sentence the edit left as it was.
    #[schema(example = json!([["sunrise", "alarm clock"], ["man running"]]))]
    pub broll_keywords: Option<Vec<Vec<String>>>,
}

/// Edit a script's text
///
/// Replaces the script's text by hand; the text is checked again and the checks are answered.
#[utoipa::path(
    tag = "scripts", operation_id = "edit_script",
    params(("id" = Uuid, Path)),
    request_body = EditScript,
    responses(
        (status = 200, description = "Edited; `output.checks` holds the checks of the new text", body = crate::domain::resource::Script),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The script has not succeeded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Empty or too long", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/scripts/{id}")]
pub async fn edit(
    state: Data,
    id: web::Path<Uuid>,
    body: crate::routes::body::Json<EditScript>,
) -> Result<web::Json<crate::domain::resource::Script>, ApiError> {
    let script = crate::steps::edit_script(
        &state,
        id.into_inner(),
        &body.text,
        body.key_words.as_deref(),
        body.broll_keywords.as_deref(),
    )
    .await?;
    Ok(web::Json(script.try_into()?))
}
