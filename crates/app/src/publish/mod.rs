//! Step 7's rules: connecting platform accounts (pasted tokens or OAuth), keeping their tokens
//! sealed and fresh, editing a post's words, and starting, reading and canceling publications.
//! The posting itself is the `publish` job's (`crate::jobs::publish`).

mod accounts;
mod posts;
mod publications;

pub use crate::domain::post_copy as copy;
pub use accounts::*;
pub use posts::*;
pub use publications::*;
pub mod instagram;
pub use crate::domain::platform_limits as limits;
pub use crate::providers::publish::{sealed, Publishing, SetupError};

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::{InstagramSource, MediaSettings, MediaStoreKind, PublishSettings},
    db::{self},
    domain::{
        event::{NewEvent, PublicationUpdate},
        project::FieldError,
        publishing::{
            Account, AccountStatus, AuthorizationLink, AuthorizeAccount, CopyWriter,
            InstagramLogin, NewAccount, NewPublication, Platform, PostOutput, PostPatch, Privacy,
            Publication, PublicationRequest, PublicationStatus, TiktokMode,
        },
        resource::StepResource,
        ErrorInfo, ResourceKind, Status,
    },
    error::AppError,
    error_code::ErrorCode,
    jobs::{queue, JobError},
    pagination::{Page, PageQuery},
    providers::{publish::oauth::OAuth, render::RenderOutput, ProviderError},
    state::AppState,
};
use sealed::Sealer;

fn publishing(state: &AppState) -> &Publishing {
    &state.providers.publishing
}

/// What posting to each platform needs here and has, line by line, for `reelforge doctor`.
/// Without a configured token key, the one kept in the media root (made on the first start with
/// the local store).
pub fn readiness(settings: &PublishSettings, media: &MediaSettings) -> Vec<(String, String)> {
    let kept = media.root.join(sealed::KEY_FILE);
    let configure =
        "several replicas need one key configured on each (REELFORGE__PUBLISHING__TOKEN_KEY";
    let mut lines = vec![(
        "token key".to_owned(),
        match &settings.token_key {
            Some(key) => match Sealer::new(key) {
                Ok(_) => "ready".to_owned(),
                Err(error) => format!("invalid: {error}"),
            },
            None if media.store != MediaStoreKind::Local => format!(
                "not set: no account can be connected; with the s3 store {configure}, openssl rand -base64 32)"
            ),
            None if kept.exists() => format!(
                "kept in {} (made on the first start): enough for one machine; {configure}, this file's content)",
                kept.display()
            ),
            None => format!(
                "not set: the first start makes one in {}, enough for one machine; {configure}, openssl rand -base64 32)",
                kept.display()
            ),
        },
    )];
    let oauth = OAuth::new(settings);
    let base = settings
        .public_base_url
        .as_deref()
        .filter(|b| !b.is_empty());
    for platform in Platform::ALL {
        let connect = match (oauth.offers(*platform), base) {
            (true, Some(base)) => format!(
                "OAuth (callback {}/oauth/{platform}/callback) or pasted tokens",
                base.trim_end_matches('/')
            ),
            (true, None) => {
                "pasted tokens; OAuth also needs REELFORGE__PUBLISHING__PUBLIC_BASE_URL".to_owned()
            }
            (false, _) if *platform == Platform::Instagram => format!(
                "pasted long-lived tokens (Graph API {})",
                settings.instagram.graph_version
            ),
            (false, _) => format!(
                "pasted tokens; for OAuth set REELFORGE__PUBLISHING__{}__CLIENT__ID and __SECRET",
                platform.as_str().to_uppercase()
            ),
        };
        let source = match (*platform, settings.instagram.source, base) {
            (Platform::Instagram, InstagramSource::Url, _) => {
                "; Instagram fetches signed links".to_owned()
            }
            (Platform::Instagram, InstagramSource::Upload, Some(_)) => {
                "; Facebook Login accounts upload resumably, Instagram Login accounts give signed links".to_owned()
            }
            (Platform::Instagram, InstagramSource::Upload, None) => format!(
                "; Facebook Login accounts upload resumably; Instagram Login accounts cannot post ({})",
                crate::providers::publish::instagram::NO_LINK
            ),
            (Platform::Tiktok, _, _) if !settings.tiktok.audited => {
                "; private direct posts only until TikTok audits the app (REELFORGE__PUBLISHING__TIKTOK__AUDITED)".to_owned()
            }
            _ => String::new(),
        };
        lines.push((platform.to_string(), format!("{connect}{source}")));
    }
    lines
}
