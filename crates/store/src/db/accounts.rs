//! Platform accounts' rows; tokens stay sealed here and are opened only by `crate::publish`.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{
    domain::publishing::{Account, AccountStatus, InstagramLogin, Platform},
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct AccountRow {
    id: Uuid,
    project_id: Uuid,
    #[sqlx(try_from = "String")]
    platform: Platform,
    name: String,
    external_id: Option<String>,
    access_token: Vec<u8>,
    refresh_token: Option<Vec<u8>>,
    expires_at: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    status: AccountStatus,
    status_reason: Option<String>,
    instagram_login: Option<String>,
    token_issued_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// An account with its sealed tokens.
pub struct StoredAccount {
    pub account: Account,
    pub access_token: Vec<u8>,
    pub refresh_token: Option<Vec<u8>>,
    pub token_issued_at: DateTime<Utc>,
}

impl From<AccountRow> for StoredAccount {
    fn from(row: AccountRow) -> Self {
        StoredAccount {
            account: Account {
                id: row.id,
                project_id: row.project_id,
                platform: row.platform,
                name: row.name,
                external_id: row.external_id,
                status: row.status,
                status_reason: row.status_reason,
                expires_at: row.expires_at,
                refreshable: row.refresh_token.is_some(),
                // The column's CHECK keeps it to the enum's words.
                instagram_login: row
                    .instagram_login
                    .and_then(|login| login.parse::<InstagramLogin>().ok()),
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            access_token: row.access_token,
            refresh_token: row.refresh_token,
            token_issued_at: row.token_issued_at,
        }
    }
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        StoredAccount::from(row).account
    }
}

const COLUMNS: &str = "id, project_id, platform, name, external_id, access_token, refresh_token, \
    expires_at, status, status_reason, instagram_login, token_issued_at, created_at, updated_at";

/// A new account's row, its tokens already sealed.
pub struct NewAccountRow<'a> {
    pub id: Uuid,
    pub project_id: Uuid,
    pub platform: Platform,
    pub name: &'a str,
    pub external_id: Option<&'a str>,
    pub access_token: Vec<u8>,
    pub refresh_token: Option<Vec<u8>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub instagram_login: Option<InstagramLogin>,
    pub token_issued_at: DateTime<Utc>,
}

pub async fn insert(
    db: impl PgExecutor<'_>,
    row: NewAccountRow<'_>,
) -> Result<Account, sqlx::Error> {
    sqlx::query_as::<_, AccountRow>(&format!(
        "INSERT INTO platform_accounts (id, project_id, platform, name, external_id, access_token,
             refresh_token, expires_at, instagram_login, token_issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLUMNS}"
    ))
    .bind(row.id)
    .bind(row.project_id)
    .bind(row.platform.as_str())
    .bind(row.name)
    .bind(row.external_id)
    .bind(row.access_token)
    .bind(row.refresh_token)
    .bind(row.expires_at)
    .bind(row.instagram_login.map(InstagramLogin::as_str))
    .bind(row.token_issued_at)
    .fetch_one(db)
    .await
    .map(Into::into)
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<StoredAccount>, sqlx::Error> {
    select(db, id, "").await
}

/// The account locked until the transaction ends: one refresh at a time, so a rotated refresh
/// token is never spent twice.
pub async fn get_for_update(
    db: impl PgExecutor<'_>,
    id: Uuid,
) -> Result<Option<StoredAccount>, sqlx::Error> {
    select(db, id, "FOR UPDATE").await
}

async fn select(
    db: impl PgExecutor<'_>,
    id: Uuid,
    lock: &str,
) -> Result<Option<StoredAccount>, sqlx::Error> {
    sqlx::query_as::<_, AccountRow>(&format!(
        "SELECT {COLUMNS} FROM platform_accounts WHERE id = $1 {lock}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await
    .map(|row| row.map(Into::into))
}

pub async fn list(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    page: PageRequest,
) -> Result<Vec<Account>, sqlx::Error> {
    super::project_page::<AccountRow, _>(db, COLUMNS, "platform_accounts", project_id, page).await
}

/// New tokens from a refresh, issued at `issued_at`; a refresh token left `None` keeps the
/// stored one.
pub async fn store_tokens(
    db: impl PgExecutor<'_>,
    id: Uuid,
    access_token: Vec<u8>,
    refresh_token: Option<Vec<u8>>,
    expires_at: Option<DateTime<Utc>>,
    issued_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE platform_accounts SET access_token = $2,
             refresh_token = COALESCE($3, refresh_token), expires_at = $4, token_issued_at = $5,
             status = 'connected', status_reason = NULL, updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(access_token)
    .bind(refresh_token)
    .bind(expires_at)
    .bind(issued_at)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn mark_reauthorization_needed(
    db: impl PgExecutor<'_>,
    id: Uuid,
    reason: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE platform_accounts SET status = 'reauthorization_needed', status_reason = $2,
             updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(reason)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM platform_accounts WHERE id = $1")
        .bind(id)
        .execute(db)
        .await
        .map(|done| done.rows_affected() == 1)
}

/// Remembers a connect link's nonce until it is used or expires (expired ones are swept here).
pub async fn remember_oauth_state(
    conn: &mut sqlx::PgConnection,
    nonce: &str,
    project_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'")
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO oauth_states (nonce, project_id, expires_at) VALUES ($1, $2, $3)")
        .bind(nonce)
        .bind(project_id)
        .bind(expires_at)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Locks a connect link's nonce until the transaction ends; false when it was spent already
/// (or never issued). A second callback with the same link waits here until the first has
/// spent the nonce or kept it.
pub async fn lock_oauth_state(
    conn: &mut sqlx::PgConnection,
    nonce: &str,
    project_id: Uuid,
) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT 1 FROM oauth_states WHERE nonce = $1 AND project_id = $2 FOR UPDATE")
        .bind(nonce)
        .bind(project_id)
        .fetch_optional(conn)
        .await
        .map(|row| row.is_some())
}

/// Spends a connect link's nonce: the link connects nothing more.
pub async fn spend_oauth_state(
    conn: &mut sqlx::PgConnection,
    nonce: &str,
    project_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_states WHERE nonce = $1 AND project_id = $2")
        .bind(nonce)
        .bind(project_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Instagram accounts whose login is not known yet (connected before logins were told apart),
/// with their sealed access tokens.
pub async fn without_instagram_login(
    db: impl PgExecutor<'_>,
) -> Result<Vec<(Uuid, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, access_token FROM platform_accounts
         WHERE platform = 'instagram' AND instagram_login IS NULL",
    )
    .fetch_all(db)
    .await
}

pub async fn set_instagram_login(
    db: impl PgExecutor<'_>,
    id: Uuid,
    login: InstagramLogin,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE platform_accounts SET instagram_login = $2 WHERE id = $1")
        .bind(id)
        .bind(login.as_str())
        .execute(db)
        .await
        .map(|_| ())
}
