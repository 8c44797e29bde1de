//! Tenancy: every project belongs to a workspace and a token reaches only its own workspace.
//!
//! Lists and creations take the caller's workspace as an argument ([`crate::projects`],
//! `db::jobs::list`, the event stream). Everything reached by its own id (a reel, a run, a
//! video, ...) is checked here, once for every route and tool: the id's project must be in the
//! caller's workspace, or the answer is the same 404 as for an id that does not exist, so
//! another workspace's resources cannot even be told to exist.

use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use crate::{access::Principal, error::AppError};

/// A kind of resource a request names by id, and where its project is found.
#[derive(Debug, Clone, Copy)]
pub struct Owned {
    /// The path segment before the id: `/v1/{segment}/{id}`.
    pub segment: &'static str,
    /// The MCP tools' argument naming one.
    pub argument: &'static str,
    table: &'static str,
    /// As its routes' 404 names it (`AppError::NotFound`).
    kind: &'static str,
}

const fn owned(
    segment: &'static str,
    argument: &'static str,
    table: &'static str,
    kind: &'static str,
) -> Owned {
    Owned {
        segment,
        argument,
        table,
        kind,
    }
}

/// Every kind of resource addressed by id. A route family or tool argument missing here is
/// caught by the tests below.
/// Every kind of resource a request can name by id.
pub const OWNED: &[Owned] = &[
    owned("projects", "project_id", "projects", "project"),
    owned("collections", "collection_id", "collections", "collection"),
    owned("reels", "reel_id", "reels", "reel"),
    owned("transcripts", "transcript_id", "transcripts", "transcript"),
    owned("scripts", "script_id", "scripts", "script"),
    owned("audio", "audio_id", "audio", "audio"),
    owned("videos", "video_id", "videos", "video"),
    owned("posts", "post_id", "posts", "post"),
    owned("runs", "run_id", "runs", "run"),
    owned("jobs", "job_id", "jobs", "job"),
    owned(
        "publications",
        "publication_id",
        "publications",
        "publication",
    ),
    owned("accounts", "account_id", "platform_accounts", "account"),
    owned("assets", "asset_id", "assets", "asset"),
    owned("voices", "voice_id", "voices", "voice"),
    owned("watchlists", "watchlist_id", "watchlists", "watchlist"),
];

/// 404 unless the resource `id` of `owned` is in the caller's workspace or does not exist (its
/// route answers that 404 itself, as it always did).
async fn confine(
    pool: &PgPool,
    principal: &Principal,
    owned: &Owned,
    id: Uuid,
) -> Result<(), AppError> {
    let sql = if owned.table == "projects" {
        "SELECT workspace_id FROM projects WHERE id = $1".to_owned()
    } else {
        // A job of no project (none is made by the API) belongs to no workspace.
        format!(
            "SELECT p.workspace_id FROM {} t LEFT JOIN projects p ON p.id = t.project_id WHERE t.id = $1",
            owned.table
        )
    };
    let found: Option<Option<Uuid>> = sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?;
    match found {
        Some(workspace) if workspace != Some(principal.workspace_id) => {
            Err(AppError::NotFound(owned.kind))
        }
        _ => Ok(()),
    }
}

/// Checks the resource a `/v1/{family}/{id}/...` path names.
pub async fn confine_path(
    pool: &PgPool,
    principal: &Principal,
    path: &str,
) -> Result<(), AppError> {
    let mut segments = path.trim_start_matches("/v1/").split('/');
    let (Some(family), Some(id)) = (segments.next(), segments.next()) else {
        return Ok(());
    };
    let (Some(owned), Ok(id)) = (OWNED.iter().find(|o| o.segment == family), id.parse()) else {
        return Ok(());
    };
    confine(pool, principal, owned, id).await
}

/// Checks every resource an MCP tool's arguments name (`project_id`, `reel_id`, ...).
pub async fn confine_arguments(
    pool: &PgPool,
    principal: &Principal,
    arguments: &Value,
) -> Result<(), AppError> {
    let Some(arguments) = arguments.as_object() else {
        return Ok(());
    };
    for owned in OWNED {
        let id = arguments
            .get(owned.argument)
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok());
        if let Some(id) = id {
            confine(pool, principal, owned, id).await?;
        }
    }
    Ok(())
}
