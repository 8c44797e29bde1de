//! Instagram's two logins: which one an account's token came from, the public link an
//! Instagram Login account needs, and the refresh that keeps its long-lived token alive (it has
//! no refresh token: the access token is renewed with itself before its 60 days run out).

use chrono::{DateTime, Duration, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::{expiry, Publishing};
use crate::{
    db,
    domain::publishing::{Account, InstagramLogin},
    error::AppError,
    error_code::ErrorCode,
    jobs::JobError,
    providers::publish::instagram::NO_LINK,
};

/// Refresh when fewer days than this are left.
const REFRESH_DAYS_BEFORE_EXPIRY: i64 = 7;
/// Meta refreshes only tokens at least this old.
const MIN_TOKEN_AGE_HOURS: i64 = 24;
/// A long-lived Instagram Login token's life, for tokens pasted without `expires_in`.
const TOKEN_LIFE_DAYS: i64 = 60;

/// Whether an Instagram Login token should be refreshed now: it is at least a day old, not
/// expired, and within a week of its end (counted from when it was issued when its expiry is
/// not known).
pub fn due_for_refresh(
    expires_at: Option<DateTime<Utc>>,
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    let ends = expires_at.unwrap_or(issued_at + Duration::days(TOKEN_LIFE_DAYS));
    now - issued_at >= Duration::hours(MIN_TOKEN_AGE_HOURS)
        && now < ends
        && ends - now < Duration::days(REFRESH_DAYS_BEFORE_EXPIRY)
}

/// Whether `account` cannot post here: an Instagram Login account needs a link Meta can fetch,
/// so a public address (and the key that signs links).
pub fn lacks_link(publishing: &Publishing, account: &Account) -> bool {
    let possible = publishing
        .settings
        .public_base_url
        .as_deref()
        .is_some_and(|base| !base.is_empty())
        && publishing.sealer.is_some();
    account.instagram_login == Some(InstagramLogin::Instagram) && !possible
}

/// Refuses a publication `account` cannot make here.
pub fn require_link(publishing: &Publishing, account: &Account) -> Result<(), AppError> {
    if lacks_link(publishing, account) {
        return Err(AppError::unprocessable(ErrorCode::NotConfigured, NO_LINK));
    }
    Ok(())
}

/// Renews an Instagram Login token that is due, storing it sealed; the current one is kept when
/// Meta cannot be reached (it is still good), and a refused one asks for a new connection.
pub async fn refreshed(
    tx: &mut sqlx::PgConnection,
    publishing: &Publishing,
    account: &Account,
    token: SecretString,
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<SecretString, JobError> {
    if !due_for_refresh(account.expires_at, issued_at, now) {
        return Ok(token);
    }
    let Some(sealer) = publishing.sealer.as_ref() else {
        return Ok(token);
    };
    match publishing.instagram.refresh_token(&token).await {
        Ok(grant) => {
            db::accounts::store_tokens(
                &mut *tx,
                account.id,
                sealer.seal(&grant.access_token, account.id.as_bytes()),
                None,
                expiry(now, grant.expires_in),
                now,
            )
            .await?;
            Ok(grant.access_token)
        }
        Err(error) if error.code() == Some(ErrorCode::AccountReauthorizationNeeded) => {
            let reason = crate::redact::redact(&error.to_string()).into_owned();
            db::accounts::mark_reauthorization_needed(&mut *tx, account.id, &reason).await?;
            Err(error.into())
        }
        Err(error) => {
            tracing::warn!(%error, "the Instagram token could not be refreshed; it is still good");
            Ok(token)
        }
    }
}

/// Fills in the login of Instagram accounts connected before logins were told apart, from
/// their tokens' shape (the tokens are sealed, so the migration could not).
pub async fn infer_logins(pool: &sqlx::PgPool, publishing: &Publishing) -> Result<(), sqlx::Error> {
    let Some(sealer) = publishing.sealer.as_ref() else {
        return Ok(());
    };
    for (id, sealed) in db::accounts::without_instagram_login(pool).await? {
        match sealer.open(&sealed, id.as_bytes()) {
            Ok(token) => {
                let login = InstagramLogin::of_token(token.expose_secret());
                db::accounts::set_instagram_login(pool, id, login).await?;
            }
            Err(error) => {
                tracing::warn!(account = %id, %error, "an Instagram account's token cannot be opened to tell its login")
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refreshed_in_its_last_week_once_a_day_old() {
        let now = Utc::now();
        let days = Duration::days;
        for (expires_in, age, due) in [
            (Some(days(30)), days(30), false),
            (Some(days(6)), days(54), true),
            (Some(days(6)), Duration::hours(2), false),
            (Some(-days(1)), days(61), false),
            (None, days(50), false),
            (None, days(54), true),
            (None, days(61), false),
        ] {
            assert_eq!(
                due_for_refresh(expires_in.map(|d| now + d), now - age, now),
                due,
                "{expires_in:?} {age:?}"
            );
        }
    }
}
