//! The key media links are signed with, shared by every replica through PostgreSQL.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::PgPool;

use crate::{config::LinkSettings, signed::LinkSigner};

/// The name of the generated key in `link_keys`.
const KEY_NAME: &str = "media_links";

/// The configured key, else the one every replica shares through PostgreSQL: the first
/// replica to start makes it, and a concurrent one reads the winner's (insert-if-absent).
pub async fn load_link_signer(
    pool: &PgPool,
    settings: &LinkSettings,
) -> Result<LinkSigner, sqlx::Error> {
    let ttl = Duration::from_secs(settings.ttl_seconds.max(60));
    if let Some(key) = settings
        .key
        .as_ref()
        .filter(|k| !k.expose_secret().is_empty())
    {
        return Ok(LinkSigner::new(
            key.expose_secret().as_bytes().to_vec(),
            ttl,
        ));
    }
    let fresh: [u8; 32] = rand::random();
    sqlx::query(
        "INSERT INTO link_keys (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(KEY_NAME)
    .bind(&fresh[..])
    .execute(pool)
    .await?;
    let key: Vec<u8> = sqlx::query_scalar("SELECT secret FROM link_keys WHERE name = $1")
        .bind(KEY_NAME)
        .fetch_one(pool)
        .await?;
    Ok(LinkSigner::new(key, ttl))
}
