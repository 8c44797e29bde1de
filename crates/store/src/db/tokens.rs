use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::workspace::{ApiToken, Scope};

/// What a live token grants: whose it is, in which workspace, with which scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Grant {
    pub id: Uuid,
    pub workspace_id: Uuid,
    #[sqlx(try_from = "String")]
    pub scope: Scope,
}

const TOKEN_COLUMNS: &str =
    "t.id, t.name, w.name AS workspace, t.scope, t.created_at, t.last_used_at, t.revoked_at";

/// The workspace named `name`, made if it does not exist yet.
pub async fn ensure_workspace(db: impl PgExecutor<'_>, name: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar(
        "WITH made AS (INSERT INTO workspaces (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id)
         SELECT id FROM made UNION ALL SELECT id FROM workspaces WHERE name = $1 LIMIT 1",
    )
    .bind(name)
    .fetch_one(db)
    .await
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    name: &str,
    token_hash: &str,
    workspace_id: Uuid,
    scope: Scope,
) -> Result<ApiToken, sqlx::Error> {
    sqlx::query_as::<_, TokenRow>(&format!(
        "WITH t AS (INSERT INTO api_tokens (id, name, token_hash, workspace_id, scope) VALUES ($1, $2, $3, $4, $5)
                    RETURNING *)
         SELECT {TOKEN_COLUMNS} FROM t JOIN workspaces w ON w.id = t.workspace_id"
    ))
    .bind(Uuid::new_v4())
    .bind(name)
    .bind(token_hash)
    .bind(workspace_id)
    .bind(scope.as_str())
    .fetch_one(db)
    .await
    .map(TokenRow::into_token)
}

/// Finds a live token and stamps its use, at most once a minute so reads stay cheap.
pub async fn authenticate(
    db: impl PgExecutor<'_>,
    token_hash: &str,
) -> Result<Option<Grant>, sqlx::Error> {
    sqlx::query_as(
        "WITH hit AS (SELECT id, workspace_id, scope, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL),
              stamp AS (UPDATE api_tokens SET last_used_at = now()
                        WHERE id IN (SELECT id FROM hit WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))
         SELECT id, workspace_id, scope FROM hit",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

/// Every token, or one workspace's, oldest first.
pub async fn list(
    db: impl PgExecutor<'_>,
    workspace_id: Option<Uuid>,
) -> Result<Vec<ApiToken>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens t JOIN workspaces w ON w.id = t.workspace_id
         WHERE $1::uuid IS NULL OR t.workspace_id = $1 ORDER BY t.created_at, t.id"
    ))
    .bind(workspace_id)
    .fetch_all(db)
    .await
    .map(|rows: Vec<TokenRow>| rows.into_iter().map(TokenRow::into_token).collect())
}

/// Revokes by id or by name; answers how many tokens were revoked.
pub async fn revoke(db: impl PgExecutor<'_>, id_or_name: &str) -> Result<u64, sqlx::Error> {
    let id: Option<Uuid> = id_or_name.parse().ok();
    let result = sqlx::query(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE revoked_at IS NULL AND (id = $1 OR ($1 IS NULL AND name = $2))",
    )
    .bind(id)
    .bind(id_or_name)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Revokes one live token of a workspace; answers its hash, or `None` when it has no such token.
pub async fn revoke_in(
    db: impl PgExecutor<'_>,
    workspace_id: Uuid,
    id: Uuid,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = now()
         WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL
         RETURNING token_hash",
    )
    .bind(id)
    .bind(workspace_id)
    .fetch_optional(db)
    .await
}

/// A token's row: the vocabulary's [`ApiToken`] knows no database.
#[derive(sqlx::FromRow)]
struct TokenRow {
    id: Uuid,
    name: String,
    workspace: String,
    #[sqlx(try_from = "String")]
    scope: Scope,
    created_at: chrono::DateTime<chrono::Utc>,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TokenRow {
    fn into_token(self) -> ApiToken {
        ApiToken {
            id: self.id,
            name: self.name,
            workspace: self.workspace,
            scope: self.scope,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
            revoked_at: self.revoked_at,
        }
    }
}
