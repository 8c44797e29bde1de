//! A project's reels: the ranked list with its filters, and selection (which prepares the
//! reel's media); shared by the REST routes and the MCP tools.

use uuid::Uuid;

use crate::{
    db,
    domain::reel::{Reel, ReelQuery, ReelSelected},
    error::AppError,
    error_code::ErrorCode,
    pagination::{decode_offset, encode_offset, Page, PageQuery},
    state::AppState,
};

/// The project's reels, descending by `query.sort`, filtered, one page.
pub async fn ranked(
    state: &AppState,
    project_id: Uuid,
    query: &ReelQuery,
) -> Result<Page<Reel>, AppError> {
    let limit = PageQuery {
        limit: query.limit,
        cursor: None,
    }
    .parse()?
    .limit;
    let offset = crate::pagination::given(query.cursor.as_deref())
        .map(decode_offset)
        .transpose()?
        .unwrap_or(0);
    let refusal = if query.min_plays.is_some_and(|p| p < 0) {
        Some("min_plays must not be negative")
    } else if query.max_duration.is_some_and(|d| !d.is_finite()) {
        Some("max_duration must be a finite number of seconds")
    } else if query.max_duration.is_some_and(|d| d < 0.0) {
        Some("max_duration must not be negative")
    } else {
        None
    };
    if let Some(detail) = refusal {
        return Err(AppError::bad_request(ErrorCode::InvalidQuery, detail));
    }
    db::projects::get(&state.pool, project_id)
        .await?
        .ok_or(AppError::NotFound("project"))?;
    let page = db::reels::ReelPage { offset, limit };
    let mut items = db::reels::list(&state.pool, project_id, query, &page).await?;
    let next_cursor =
        (items.len() > limit as usize).then(|| encode_offset(offset + i64::from(limit)));
    items.truncate(limit as usize);
    Ok(Page { items, next_cursor })
}

/// Marks the reel selected and starts preparing its media unless that is done or under way;
/// `true` with the answer when preparation was started.
pub async fn select(
    state: &AppState,
    project_id: Uuid,
    reel_id: Uuid,
) -> Result<(ReelSelected, bool), AppError> {
    let mut tx = state.pool.begin().await?;
    let reel = db::reels::get(&mut *tx, reel_id)
        .await?
        .filter(|reel| reel.project_id == project_id)
        .ok_or(AppError::NotFound("reel"))?;
    let job = crate::steps::select_reel(&mut tx, &reel, &state.settings.jobs).await?;
    let needs_media = job.is_some();
    tx.commit().await?;
    let reel = db::reels::get(&state.pool, reel_id)
        .await?
        .ok_or(AppError::NotFound("reel"))?;
    Ok((ReelSelected { reel, job }, needs_media))
}
