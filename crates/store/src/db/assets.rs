//! The media library's rows; the files live in the media store.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::{
    domain::asset::{Asset, AssetKind},
    pagination::PageRequest,
};

#[derive(sqlx::FromRow)]
struct AssetRow {
    id: Uuid,
    project_id: Uuid,
    kind: String,
    name: String,
    key: String,
    size_bytes: i64,
    duration_ms: Option<i64>,
    width: Option<i32>,
    height: Option<i32>,
    font_family: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<AssetRow> for Asset {
    type Error = sqlx::Error;

    fn try_from(row: AssetRow) -> Result<Self, sqlx::Error> {
        Ok(Asset {
            id: row.id,
            project_id: row.project_id,
            kind: row
                .kind
                .parse()
                .map_err(|error| sqlx::Error::Decode(Box::new(error)))?,
            name: row.name,
            key: row.key,
            size_bytes: row.size_bytes.max(0) as u64,
            duration_ms: row.duration_ms.map(|ms| ms.max(0) as u64),
            width: row.width.map(|w| w.max(0) as u32),
            height: row.height.map(|h| h.max(0) as u32),
            font_family: row.font_family,
            created_at: row.created_at,
            content_url: Asset::content_url(row.id),
        })
    }
}

const COLUMNS: &str = "id, project_id, kind, name, key, size_bytes, duration_ms, width, height, \
    font_family, created_at";

fn convert(rows: Vec<AssetRow>) -> Result<Vec<Asset>, sqlx::Error> {
    rows.into_iter().map(Asset::try_from).collect()
}

pub async fn insert(db: impl PgExecutor<'_>, asset: &Asset) -> Result<Asset, sqlx::Error> {
    sqlx::query_as::<_, AssetRow>(&format!(
        "INSERT INTO assets (id, project_id, kind, name, key, size_bytes, duration_ms, width, height, font_family)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         RETURNING {COLUMNS}"
    ))
    .bind(asset.id)
    .bind(asset.project_id)
    .bind(asset.kind.as_str())
    .bind(&asset.name)
    .bind(&asset.key)
    .bind(asset.size_bytes as i64)
    .bind(asset.duration_ms.map(|ms| ms as i64))
    .bind(asset.width.map(|w| w as i32))
    .bind(asset.height.map(|h| h as i32))
    .bind(&asset.font_family)
    .fetch_one(db)
    .await?
    .try_into()
}

pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Asset>, sqlx::Error> {
    sqlx::query_as::<_, AssetRow>(&format!("SELECT {COLUMNS} FROM assets WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .map(Asset::try_from)
        .transpose()
}

/// A project's assets, newest first, of one kind if given.
pub async fn list(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    kind: Option<AssetKind>,
    page: PageRequest,
) -> Result<Vec<Asset>, sqlx::Error> {
    let query = super::newest_first(
        COLUMNS,
        "assets",
        "project_id = $1 AND ($2::text IS NULL OR kind = $2)",
        2,
    );
    let rows = super::bind_page(
        sqlx::query_as::<_, AssetRow>(&query)
            .bind(project_id)
            .bind(kind.map(AssetKind::as_str)),
        page,
    )
    .fetch_all(db)
    .await?;
    convert(rows)
}

/// The assets with these keys that belong to the project, in no particular order.
pub async fn by_keys(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    keys: &[String],
) -> Result<Vec<Asset>, sqlx::Error> {
    let rows = sqlx::query_as::<_, AssetRow>(&format!(
        "SELECT {COLUMNS} FROM assets WHERE project_id = $1 AND key = ANY($2)"
    ))
    .bind(project_id)
    .bind(keys)
    .fetch_all(db)
    .await?;
    convert(rows)
}

/// A project's assets of `kinds`, oldest first (the order they were added in), at most `limit`.
pub async fn of_kinds(
    db: impl PgExecutor<'_>,
    project_id: Uuid,
    kinds: &[AssetKind],
    limit: i64,
) -> Result<Vec<Asset>, sqlx::Error> {
    let kinds: Vec<&str> = kinds.iter().map(|kind| kind.as_str()).collect();
    let rows = sqlx::query_as::<_, AssetRow>(&format!(
        "SELECT {COLUMNS} FROM assets WHERE project_id = $1 AND kind = ANY($2)
         ORDER BY created_at, id LIMIT $3"
    ))
    .bind(project_id)
    .bind(&kinds)
    .bind(limit)
    .fetch_all(db)
    .await?;
    convert(rows)
}

/// How many assets the project has and their bytes.
pub async fn usage(db: impl PgExecutor<'_>, project_id: Uuid) -> Result<(u64, u64), sqlx::Error> {
    let (count, bytes): (i64, i64) = sqlx::query_as(
        "SELECT count(*), COALESCE(sum(size_bytes), 0)::bigint FROM assets WHERE project_id = $1",
    )
    .bind(project_id)
    .fetch_one(db)
    .await?;
    Ok((count.max(0) as u64, bytes.max(0) as u64))
}

/// Deletes the row; answers it if there was one.
pub async fn delete(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Asset>, sqlx::Error> {
    sqlx::query_as::<_, AssetRow>(&format!(
        "DELETE FROM assets WHERE id = $1 RETURNING {COLUMNS}"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?
    .map(Asset::try_from)
    .transpose()
}
