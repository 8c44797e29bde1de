//! A post's words: finding the post a publication uses and editing its words by hand.

use super::*;

/// The succeeded post a publication takes its words from.
pub(super) async fn post_for(
    conn: &mut sqlx::PgConnection,
    video_id: Uuid,
    post_id: Option<Uuid>,
) -> Result<Option<(Uuid, PostOutput)>, AppError> {
    let post = match post_id {
        Some(id) => {
            let post = db::resources::get(&mut *conn, ResourceKind::Post, id)
                .await?
                .filter(|post| post.parent_id == Some(video_id))
                .ok_or_else(|| AppError::validation("post_id", "is not a post of this video"))?;
            if post.status != Status::Succeeded {
                return Err(AppError::validation(
                    "post_id",
                    format!("the post is {}; it must have succeeded", post.status),
                ));
            }
            Some(post)
        }
        None => db::resources::list_by_parent(
            &mut *conn,
            ResourceKind::Post,
            video_id,
            crate::pagination::PageRequest {
                after: None,
                limit: 50,
            },
        )
        .await?
        .into_iter()
        .find(|post| post.status == Status::Succeeded),
    };
    post.map(|post| {
        let output = post.output.clone().unwrap_or_default();
        serde_json::from_value::<PostOutput>(output)
            .map(|output| (post.id, output))
            .map_err(|error| AppError::Internal(anyhow::anyhow!("stored post output: {error}")))
    })
    .transpose()
}

/// The field of a publication's `copy` a failed check is about.
pub(super) fn copy_field(check: &str) -> &'static str {
    // TikTok's `title` is the caption; only YouTube's title is the title.
    if check.starts_with("youtube_title") {
        "copy.title"
    } else if check.contains("hashtag") || check.contains("tags") {
        "copy.hashtags"
    } else {
        "copy.caption"
    }
}

/// The longest caption or title accepted in an edit.
pub(super) const EDIT_MAX_CHARS: usize = 5_000;

/// A hand edit of a succeeded post's words: checked again, the stored checks always describe
/// the stored words.
pub async fn edit_post(
    state: &AppState,
    id: Uuid,
    patch: PostPatch,
) -> Result<StepResource, AppError> {
    let resource = db::resources::get(&state.pool, ResourceKind::Post, id)
        .await?
        .ok_or(AppError::NotFound("post"))?;
    let (Some(output), Status::Succeeded) = (resource.output.clone(), resource.status) else {
        return Err(AppError::conflict(
            ErrorCode::ParentNotReady,
            format!(
                "the post is {}; only finished words can be edited",
                resource.status
            ),
        ));
    };
    let mut post: PostOutput = serde_json::from_value(output)
        .map_err(|error| AppError::Internal(anyhow::anyhow!("stored post output: {error}")))?;
    let mut problems = Vec::new();
    for (field, value) in [("title", &patch.title), ("caption", &patch.caption)] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > EDIT_MAX_CHARS)
        {
            problems.push(FieldError::new(
                field,
                format!("must be at most {EDIT_MAX_CHARS} characters"),
            ));
        }
    }
    if let Some(tags) = &patch.hashtags {
        for (index, tag) in tags.iter().enumerate() {
            if let Err(problem) = copy::hashtag_problem(tag.trim_start_matches('#')) {
                problems.push(FieldError::new(format!("hashtags[{index}]"), problem));
            }
        }
    }
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    if let Some(title) = patch.title {
        post.title = title.trim().to_owned();
    }
    if let Some(caption) = patch.caption {
        post.caption = caption.trim().to_owned();
    }
    if let Some(tags) = patch.hashtags {
        post.hashtags = copy::merge_hashtags(tags.iter().map(String::as_str), usize::MAX);
    }
    let project = db::projects::get(&state.pool, resource.project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    post.checks = copy::evaluate(
        &post.copy(),
        &post.language,
        project.settings.publishing.allow_emoji,
    );
    post.writer = CopyWriter::Edited;
    post.review_reasons = review_reasons(&post.checks);
    post.needs_review = !post.review_reasons.is_empty();
    let output = serde_json::to_value(&post).map_err(|error| AppError::Internal(error.into()))?;
    AppError::require_storable("title", &output)?;
    let mut tx = state.pool.begin().await?;
    if !db::resources::replace_output(
        &mut *tx,
        ResourceKind::Post,
        id,
        &output,
        resource.updated_at,
    )
    .await?
    {
        return Err(AppError::conflict(
            ErrorCode::ParentNotReady,
            "the post changed while it was being edited; fetch it and try again",
        ));
    }
    db::events::append(
        &mut tx,
        &[NewEvent::about_resource(
            "post.edited".into(),
            ResourceKind::Post,
            id,
            resource.project_id,
            crate::domain::event::data(&crate::domain::event::PostEdited {
                id,
                needs_review: post.needs_review,
                checks: post.checks.clone(),
            }),
        )],
    )
    .await?;
    tx.commit().await?;
    db::resources::get(&state.pool, ResourceKind::Post, id)
        .await?
        .ok_or(AppError::NotFound("post"))
}

/// One reason per failed check.
pub fn review_reasons(checks: &[crate::domain::publishing::CopyCheck]) -> Vec<String> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect()
}
