//! OAuth for the platforms that document it here: the authorization-code flow that connects an
//! account (YouTube through Google, TikTok) and the refresh that keeps its access token alive.
//! TikTok rotates refresh tokens: the one a refresh returns replaces the old one.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    config::{OAuthClient, PublishSettings},
    domain::publishing::Platform,
    error_code::ErrorCode,
    {http, ProviderError},
};

/// Tokens a platform granted.
#[derive(Debug)]
pub struct Grant {
    pub access_token: SecretString,
    /// A new refresh token, when the platform sent one (TikTok always does).
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<u64>,
    /// The account's id on the platform, when the grant names it (TikTok's `open_id`).
    pub account_id: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    open_id: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub struct OAuth {
    http: reqwest::Client,
    settings: PublishSettings,
}

/// The account must be connected again: the grant was revoked or expired.
pub fn reauthorize(platform: Platform, detail: &str) -> ProviderError {
    ProviderError::fatal(
        ErrorCode::AccountReauthorizationNeeded,
        format!("{platform} no longer accepts this account's authorization ({detail}); connect it again"),
    )
}

impl OAuth {
    pub fn new(settings: &PublishSettings) -> Self {
        OAuth {
            http: http::client(Duration::from_secs(30)),
            settings: settings.clone(),
        }
    }

    fn client(&self, platform: Platform) -> Option<&OAuthClient> {
        match platform {
            Platform::Youtube => Some(&self.settings.youtube.client),
            Platform::Tiktok => Some(&self.settings.tiktok.client),
            // Facebook Login's code exchange is not among the documented contracts yet.
            Platform::Instagram => None,
        }
    }

    /// Whether accounts of `platform` can be connected through OAuth here.
    pub fn offers(&self, platform: Platform) -> bool {
        self.client(platform)
            .and_then(OAuthClient::credentials)
            .is_some()
    }

    fn credentials(&self, platform: Platform) -> Result<(&str, &SecretString), ProviderError> {
        self.client(platform)
            .and_then(OAuthClient::credentials)
            .ok_or_else(|| {
                ProviderError::fatal(
                    ErrorCode::NotConfigured,
                    format!(
                        "OAuth for {platform} is not configured: set REELFORGE__PUBLISHING__{}__CLIENT__ID and __SECRET, or paste tokens instead",
                        platform.as_str().to_uppercase()
                    ),
                )
            })
    }

    /// Where to send the user to grant access.
    pub fn authorize_url(
        &self,
        platform: Platform,
        state: &str,
        redirect_uri: &str,
    ) -> Result<String, ProviderError> {
        let (id, _) = self.credentials(platform)?;
        let (base, params): (&str, Vec<(&str, &str)>) = match platform {
            Platform::Youtube => (
                &self.settings.youtube.authorize_url,
                vec![
                    ("client_id", id),
                    ("redirect_uri", redirect_uri),
                    ("response_type", "code"),
                    ("scope", "https://www.googleapis.com/auth/youtube.upload"),
                    // A refresh token, every time the user consents.
                    ("access_type", "offline"),
                    ("prompt", "consent"),
                    ("state", state),
                ],
            ),
            Platform::Tiktok => (
                &self.settings.tiktok.authorize_url,
                vec![
                    ("client_key", id),
                    ("redirect_uri", redirect_uri),
                    ("response_type", "code"),
                    ("scope", "user.info.basic,video.publish,video.upload"),
                    ("state", state),
                ],
            ),
            Platform::Instagram => unreachable!("credentials() refuses Instagram"),
        };
        reqwest::Url::parse_with_params(base, &params)
            .map(String::from)
            .map_err(|error| {
                ProviderError::fatal(
                    ErrorCode::NotConfigured,
                    format!("the {platform} authorize URL is invalid: {error}"),
                )
            })
    }

    fn token_url(&self, platform: Platform) -> String {
        match platform {
            Platform::Youtube => self.settings.youtube.token_url.clone(),
            _ => format!(
                "{}/v2/oauth/token/",
                self.settings.tiktok.base_url.trim_end_matches('/')
            ),
        }
    }

    async fn token(
        &self,
        platform: Platform,
        grant: &[(&str, &str)],
    ) -> Result<Grant, ProviderError> {
        let (id, secret) = self.credentials(platform)?;
        let id_field = if platform == Platform::Tiktok {
            "client_key"
        } else {
            "client_id"
        };
        let mut form = vec![(id_field, id), ("client_secret", secret.expose_secret())];
        form.extend_from_slice(grant);
        let provider = "oauth";
        let response = self
            .http
            .post(self.token_url(platform))
            .form(&form)
            .send()
            .await
            .map_err(|error| http::transport_error(provider, error))?;
        let status = response.status();
        let failure_retry = http::retry_after(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|error| http::transport_error(provider, error))?;
        let answer: Option<TokenAnswer> = serde_json::from_slice(&bytes).ok();
        let error = answer
            .as_ref()
            .and_then(|a| a.error.clone())
            .filter(|e| !e.is_empty());
        if let Some(error) = error {
            let description = answer
                .as_ref()
                .and_then(|a| a.error_description.clone())
                .unwrap_or_default();
            let detail = format!("{error}: {description}");
            return Err(match error.as_str() {
                "invalid_grant" => reauthorize(platform, &detail),
                "invalid_client" | "unauthorized_client" => ProviderError::fatal(
                    ErrorCode::ProviderAuth,
                    format!("{platform} refused the app's client credentials ({detail})"),
                ),
                _ if status.is_server_error() => ProviderError::Retryable {
                    message: format!("{platform} token endpoint: {detail}"),
                    retry_after: failure_retry,
                },
                _ => ProviderError::fatal(
                    ErrorCode::ProviderRejected,
                    format!("{platform} token endpoint: {detail}"),
                ),
            });
        }
        if !status.is_success() {
            return Err(http::HttpFailure {
                provider,
                status,
                retry_after: failure_retry,
                body: String::from_utf8_lossy(&bytes).into_owned(),
            }
            .into_error());
        }
        let answer =
            answer.ok_or_else(|| http::bad_response(provider, "the token answer is not JSON"))?;
        let access_token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| http::bad_response(provider, "no `access_token` in the token answer"))?;
        crate::redact::register(&access_token);
        if let Some(refresh) = &answer.refresh_token {
            crate::redact::register(refresh);
        }
        Ok(Grant {
            access_token: access_token.into(),
            refresh_token: answer.refresh_token.map(Into::into),
            expires_in: answer.expires_in,
            account_id: answer.open_id,
        })
    }

    /// Trades the code the platform sent back for tokens.
    pub async fn exchange(
        &self,
        platform: Platform,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Grant, ProviderError> {
        self.token(
            platform,
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", redirect_uri),
            ],
        )
        .await
    }

    /// A fresh access token (and, on TikTok, a new refresh token).
    pub async fn refresh(
        &self,
        platform: Platform,
        refresh_token: &SecretString,
    ) -> Result<Grant, ProviderError> {
        self.token(
            platform,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        )
        .await
    }
}
