//! Workspaces and the scopes of their tokens: the types the token routes, the CLI and the
//! authentication share.

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::text_enum;

/// The workspace every deployment has: tokens made without `--workspace` and everything that
/// existed before workspaces belong to it.
pub const DEFAULT_WORKSPACE: &str = "default";

text_enum! {
    /// What a token may do in its workspace: `read` only reads, `write` also creates, changes
    /// and deletes, `admin` also manages the workspace's tokens. Each scope includes the ones
    /// before it.
    Scope {
        Read => "read",
        Write => "write",
        Admin => "admin",
    }
}

impl Scope {
    /// Whether a token of this scope may do what `needed` allows.
    pub fn includes(self, needed: Scope) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Scope::Read => 0,
            Scope::Write => 1,
            Scope::Admin => 2,
        }
    }
}

/// A token as the API and `reelforge token list` show it: never its secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: Uuid,
    #[schema(example = "ci")]
    pub name: String,
    /// The workspace's name.
    #[schema(example = "default")]
    pub workspace: String,
    pub scope: Scope,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /v1/tokens`: a new token in the caller's workspace.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// 1 to 100 characters.
    #[schema(example = "ci")]
    pub name: String,
    /// `write` unless given.
    #[serde(default = "default_scope")]
    pub scope: Scope,
}

fn default_scope() -> Scope {
    Scope::Write
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The bearer token itself; store it now, it is not shown again.
    #[schema(value_type = String, example = "rf_...")]
    #[serde(serialize_with = "shown_once")]
    pub secret: SecretString,
}

/// The one place a token's secret leaves the service: the answer that creates it.
fn shown_once<S: serde::Serializer>(
    secret: &SecretString,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_includes_the_lesser_ones_only() {
        assert!(Scope::Admin.includes(Scope::Write) && Scope::Admin.includes(Scope::Read));
        assert!(Scope::Write.includes(Scope::Read) && !Scope::Write.includes(Scope::Admin));
        assert!(!Scope::Read.includes(Scope::Write));
    }
}
