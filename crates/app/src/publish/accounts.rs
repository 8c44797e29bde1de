//! Platform accounts: connecting them (pasted tokens or OAuth), keeping their tokens sealed,
//! and opening them fresh for a post.

use super::*;

/// How long a connect link (its signed `state`) stays good.
pub(super) const STATE_LIFETIME_MINUTES: i64 = 15;

/// Tokens this close to expiry are refreshed before use.
pub(super) const REFRESH_MARGIN_SECONDS: i64 = 300;

/// The key accounts' tokens are sealed with, or why connecting accounts cannot work here.
pub(super) fn sealer(publishing: &Publishing) -> Result<&Sealer, AppError> {
    publishing.sealer.as_ref().ok_or_else(|| {
        AppError::unprocessable(
            ErrorCode::NotConfigured,
            "connecting accounts needs a key to seal their tokens: set REELFORGE__PUBLISHING__TOKEN_KEY (openssl rand -base64 32)",
        )
    })
}

pub(super) fn expiry(now: DateTime<Utc>, expires_in: Option<u64>) -> Option<DateTime<Utc>> {
    expires_in.map(|seconds| now + chrono::Duration::seconds(seconds.min(10 * 365 * 86_400) as i64))
}

/// Seals and stores a new account.
pub(super) async fn store_account(
    db: impl sqlx::PgExecutor<'_>,
    state: &AppState,
    project_id: Uuid,
    new: &NewAccount,
) -> Result<Account, AppError> {
    let sealer = sealer(publishing(state))?;
    for token in std::iter::once(&new.access_token).chain(&new.refresh_token) {
        crate::redact::register(token.expose_secret());
    }
    let id = Uuid::new_v4();
    let now = state.clock.now();
    let account = db::accounts::insert(
        db,
        db::accounts::NewAccountRow {
            id,
            project_id,
            platform: new.platform,
            name: new.name.trim(),
            external_id: new.external_id.as_deref().map(str::trim),
            access_token: sealer.seal(&new.access_token, id.as_bytes()),
            refresh_token: new
                .refresh_token
                .as_ref()
                .map(|token| sealer.seal(token, id.as_bytes())),
            expires_at: expiry(now, new.expires_in),
            instagram_login: (new.platform == Platform::Instagram)
                .then(|| InstagramLogin::of_token(new.access_token.expose_secret())),
            token_issued_at: now,
        },
    )
    .await
    .map_err(crate::projects::gone_or)?;
    Ok(account)
}

/// Connects an account from tokens the user pasted.
pub async fn connect(
    state: &AppState,
    project_id: Uuid,
    new: NewAccount,
) -> Result<Account, AppError> {
    crate::projects::require(state, project_id).await?;
    let problems = new.problems();
    if !problems.is_empty() {
        return Err(AppError::Validation(problems));
    }
    store_account(&state.pool, state, project_id, &new).await
}

/// What a connect link's `state` carries, signed.
#[derive(Serialize, Deserialize)]
pub(super) struct OAuthState {
    project_id: Uuid,
    platform: Platform,
    name: String,
    expires_at: i64,
    /// Spent by the callback: a link connects one account, once.
    nonce: String,
}

pub(super) fn callback_url(state: &AppState, platform: Platform) -> Result<String, AppError> {
    let base = publishing(state)
        .settings
        .public_base_url
        .as_deref()
        .filter(|url| !url.is_empty())
        .ok_or_else(|| {
            AppError::unprocessable(
                ErrorCode::NotConfigured,
                "OAuth needs the service's public address: set REELFORGE__PUBLISHING__PUBLIC_BASE_URL",
            )
        })?;
    Ok(format!(
        "{}/oauth/{platform}/callback",
        base.trim_end_matches('/')
    ))
}

/// A link that sends the user to the platform to grant access; the callback stores the account.
pub async fn authorize(
    state: &AppState,
    project_id: Uuid,
    body: AuthorizeAccount,
) -> Result<AuthorizationLink, AppError> {
    crate::projects::require(state, project_id).await?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::validation("name", "must be 1 to 200 characters"));
    }
    let publishing = publishing(state);
    let sealer = sealer(publishing)?;
    let redirect = callback_url(state, body.platform)?;
    let expires_at = state.clock.now() + chrono::Duration::minutes(STATE_LIFETIME_MINUTES);
    let nonce = Uuid::new_v4().simple().to_string();
    let mut conn = state.pool.acquire().await?;
    db::accounts::remember_oauth_state(&mut conn, &nonce, project_id, expires_at)
        .await
        .map_err(crate::projects::gone_or)?;
    let signed = sealer.sign(
        &serde_json::to_vec(&OAuthState {
            project_id,
            platform: body.platform,
            name: name.to_owned(),
            expires_at: expires_at.timestamp(),
            nonce,
        })
        .map_err(|error| AppError::Internal(error.into()))?,
    );
    let url = publishing
        .oauth
        .authorize_url(body.platform, &signed, &redirect)
        .map_err(AppError::Upstream)?;
    Ok(AuthorizationLink { url, expires_at })
}

/// What the platform sends the user back with.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set when the user declined or the platform refused.
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Finishes an OAuth connection: checks the signed state, trades the code for tokens and stores
/// the account.
pub async fn callback(
    state: &AppState,
    platform: Platform,
    query: CallbackQuery,
) -> Result<Account, AppError> {
    let publishing = publishing(state);
    let sealer = sealer(publishing)?;
    let invalid = |why: &str| AppError::bad_request(ErrorCode::InvalidOauthState, why.to_owned());
    let signed: OAuthState = query
        .state
        .as_deref()
        .and_then(|s| sealer.verify(s))
        .and_then(|payload| serde_json::from_slice(&payload).ok())
        .ok_or_else(|| invalid("the state was not signed by this service"))?;
    if signed.platform != platform {
        return Err(invalid("the state is for another platform"));
    }
    if signed.expires_at < state.clock.now().timestamp() {
        return Err(invalid("the connect link expired; start again"));
    }
    // The link is spent only once the platform has answered for good: a platform that could
    // not answer (5xx, timeout) leaves it good for the user's retry. The lock keeps a second
    // callback with the same link waiting until this one has settled it.
    let mut tx = state.pool.begin().await?;
    if !db::accounts::lock_oauth_state(&mut tx, &signed.nonce, signed.project_id).await? {
        return Err(invalid("the connect link was used already; start again"));
    }
    if let Some(error) = query.error {
        spend_oauth_state(tx, &signed).await?;
        return Err(AppError::unprocessable(
            ErrorCode::ProviderRejected,
            format!(
                "{platform} did not grant access: {error} {}",
                query.error_description.unwrap_or_default()
            ),
        ));
    }
    let code = query
        .code
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::validation("code", "the platform sent no code"))?;
    let redirect = callback_url(state, platform)?;
    let grant = match publishing.oauth.exchange(platform, &code, &redirect).await {
        Ok(grant) => grant,
        Err(error) => {
            if !matches!(error, ProviderError::Retryable { .. }) {
                spend_oauth_state(tx, &signed).await?;
            }
            return Err(AppError::Upstream(error));
        }
    };
    let account = store_account(
        &mut *tx,
        state,
        signed.project_id,
        &NewAccount {
            platform,
            name: signed.name.clone(),
            external_id: grant.account_id,
            access_token: grant.access_token,
            refresh_token: grant.refresh_token,
            expires_in: grant.expires_in,
        },
    )
    .await?;
    spend_oauth_state(tx, &signed).await?;
    Ok(account)
}

/// Spends a connect link and commits what was done with it.
pub(super) async fn spend_oauth_state(
    mut tx: sqlx::Transaction<'_, sqlx::Postgres>,
    signed: &OAuthState,
) -> Result<(), AppError> {
    db::accounts::spend_oauth_state(&mut tx, &signed.nonce, signed.project_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_accounts(
    state: &AppState,
    project_id: Uuid,
    query: &PageQuery,
) -> Result<Page<Account>, AppError> {
    let page = query.parse()?;
    crate::projects::require(state, project_id).await?;
    let rows = db::accounts::list(&state.pool, project_id, page).await?;
    Ok(Page::from_rows_by(rows, page.limit, |a| {
        crate::pagination::Cursor {
            created_at: a.created_at,
            id: a.id,
        }
    }))
}

pub async fn account(state: &AppState, id: Uuid) -> Result<Account, AppError> {
    db::accounts::get(&state.pool, id)
        .await?
        .map(|stored| stored.account)
        .ok_or(AppError::NotFound("account"))
}

pub async fn delete_account(state: &AppState, id: Uuid) -> Result<(), AppError> {
    if db::accounts::delete(&state.pool, id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("account"))
    }
}

/// An account's access token for a job, refreshed first when it is about to expire or when
/// `force` (the platform just refused it). A refused refresh marks the account.
pub async fn access_token(
    pool: &sqlx::PgPool,
    publishing: &Publishing,
    account_id: Uuid,
    force: bool,
    now: DateTime<Utc>,
) -> Result<(Account, SecretString), JobError> {
    let sealer = publishing.sealer.as_ref().ok_or_else(|| {
        JobError::fatal(ErrorCode::NotConfigured, "publishing.token_key is not set")
    })?;
    let mut tx = pool.begin().await?;
    let stored = db::accounts::get_for_update(&mut *tx, account_id)
        .await?
        .ok_or_else(|| JobError::fatal(ErrorCode::ResourceMissing, "the account was removed"))?;
    let account = stored.account;
    if account.status == AccountStatus::ReauthorizationNeeded {
        return Err(JobError::fatal(
            ErrorCode::AccountReauthorizationNeeded,
            format!(
                "the {} account `{}` needs connecting again: {}",
                account.platform,
                account.name,
                account.status_reason.unwrap_or_default()
            ),
        ));
    }
    let bound = account.id.as_bytes();
    let unreadable =
        |error: sealed::SealError| JobError::fatal(ErrorCode::NotConfigured, error.to_string());
    let token = sealer
        .open(&stored.access_token, bound)
        .map_err(unreadable)?;
    if account.instagram_login == Some(InstagramLogin::Instagram) && !force {
        let token = instagram::refreshed(
            &mut tx,
            publishing,
            &account,
            token,
            stored.token_issued_at,
            now,
        )
        .await;
        tx.commit().await?;
        return Ok((account, token?));
    }
    let expiring = account
        .expires_at
        .is_some_and(|at| at <= now + chrono::Duration::seconds(REFRESH_MARGIN_SECONDS));
    if !(force || expiring) {
        return Ok((account, token));
    }
    let Some(sealed_refresh) = stored.refresh_token else {
        if !force {
            // No way to renew it; the platform will say whether it still works.
            return Ok((account, token));
        }
        let reason = "the platform refused the token and no refresh token is kept";
        db::accounts::mark_reauthorization_needed(&mut *tx, account.id, reason).await?;
        tx.commit().await?;
        return Err(JobError::fatal(
            ErrorCode::AccountReauthorizationNeeded,
            reason,
        ));
    };
    let refresh = sealer.open(&sealed_refresh, bound).map_err(unreadable)?;
    match publishing.oauth.refresh(account.platform, &refresh).await {
        Ok(grant) => {
            db::accounts::store_tokens(
                &mut *tx,
                account.id,
                sealer.seal(&grant.access_token, bound),
                grant.refresh_token.as_ref().map(|t| sealer.seal(t, bound)),
                expiry(now, grant.expires_in),
                now,
            )
            .await?;
            tx.commit().await?;
            Ok((account, grant.access_token))
        }
        Err(error) if error.code() == Some(ErrorCode::AccountReauthorizationNeeded) => {
            let reason = crate::redact::redact(&error.to_string()).into_owned();
            db::accounts::mark_reauthorization_needed(&mut *tx, account.id, &reason).await?;
            tx.commit().await?;
            Err(error.into())
        }
        Err(error) => Err(error.into()),
    }
}
