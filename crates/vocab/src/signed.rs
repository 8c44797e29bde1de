//! Signed media links: the `content_url` of every file a client can play or download.
//!
//! A browser's `<video src>` and `<a download>` cannot send `Authorization`, so each product's
//! read model carries a link to its authenticated content route with `expires` (Unix seconds)
//! and `signature` (HMAC-SHA256 over the path and the expiry, base64url) in the query. The path
//! names the object (`/v1/videos/{id}/content`), the signature binds path and expiry, and a link
//! is only minted in an answer to a token allowed to read that object; so a link opens exactly
//! that file until it expires, and never another workspace's. A link that was altered, points
//! elsewhere or has expired answers 403 `invalid_link`.
//!
//! Every replica must accept every other's links with nothing to configure: the key is made once
//! and kept in PostgreSQL (`link_keys`), unless `links.key` sets one.

use std::{sync::Arc, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize, Serializer};
use sha2::Sha256;
use utoipa::{
    openapi::{schema::SchemaType, ObjectBuilder, RefOr, Schema, Type},
    PartialSchema, ToSchema,
};

/// The query parameters a signed link adds.
pub const EXPIRES: &str = "expires";
pub const SIGNATURE: &str = "signature";

/// Signs and checks media links with one key.
/// Why a presented link does not open its file (answered as 403 `invalid_link`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LinkRefused(pub &'static str);

pub struct LinkSigner {
    key: Vec<u8>,
    ttl: Duration,
}

impl LinkSigner {
    pub fn new(key: Vec<u8>, ttl: Duration) -> Self {
        LinkSigner { key, ttl }
    }

    fn mac(&self, path: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        // The NUL cannot occur in a path, so no path and expiry sign the same text as another.
        mac.update(path.as_bytes());
        mac.update(b"\0");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// `path` with its expiry and signature. The expiry is rounded up to a step of a quarter of
    /// the lifetime, so a page that reads a resource again within that step gets the same link
    /// and its player does not reload.
    pub fn sign(&self, path: &str, now: i64) -> String {
        let ttl = self.ttl.as_secs() as i64;
        let step = (ttl / 4).max(1);
        let expires = (now / step + 1) * step + ttl - step;
        let signature = URL_SAFE_NO_PAD.encode(self.mac(path, expires).finalize().into_bytes());
        format!("{path}?{EXPIRES}={expires}&{SIGNATURE}={signature}")
    }

    /// Checks a presented link: the signature must be this key's for this path and expiry, and
    /// the expiry not passed.
    pub fn verify(&self, path: &str, query: &str, now: i64) -> Result<(), LinkRefused> {
        let refused = LinkRefused;
        let mut expires = None;
        let mut signature = None;
        for (name, value) in url_pairs(query) {
            match name {
                EXPIRES => expires = value.parse::<i64>().ok(),
                SIGNATURE => signature = URL_SAFE_NO_PAD.decode(value).ok(),
                _ => {}
            }
        }
        let (Some(expires), Some(signature)) = (expires, signature) else {
            return Err(refused("the link's `expires` or `signature` is malformed"));
        };
        // Constant-time comparison, so the signature cannot be guessed byte by byte.
        self.mac(path, expires)
            .verify_slice(&signature)
            .map_err(|_| refused("the link's signature does not match its path and expiry"))?;
        if expires < now {
            return Err(refused(
                "the link has expired; read the resource again for a fresh one",
            ));
        }
        Ok(())
    }
}

fn url_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query.split('&').filter_map(|pair| pair.split_once('='))
}

/// Whether a request presents a signed link rather than a token.
pub fn is_signed(query: &str) -> bool {
    url_pairs(query).any(|(name, _)| name == SIGNATURE)
}

/// The routes a signed link may open: the content routes of playable and downloadable files.
/// Anything else still needs a token, whatever its query says.
pub fn signable(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    matches!(
        segments.as_slice(),
        ["videos", _, "content"]
            | ["videos", _, "files", _]
            | ["audio", _, "content"]
            | ["reels", _, "video" | "audio" | "thumbnail" | "cover"]
            | ["assets", _, "content"]
            | ["posts", _, "cover"]
    )
}

tokio::task_local! {
    /// The signer and the time of the request being answered: read models serialized while it
    /// is answered sign their links (see [`ContentUrl`]).
    static SIGNING: (Arc<LinkSigner>, i64);
}

/// Answers `request` with links signed by `signer` as of `now`.
pub async fn signing<F: std::future::Future>(
    signer: Arc<LinkSigner>,
    now: i64,
    request: F,
) -> F::Output {
    SIGNING.scope((signer, now), request).await
}

/// A file's content route, serialized as a signed link. Read models are built from rows without
/// the service's state, so they hold the bare path and the link is signed when the answer is
/// written (inside [`signing`]); written anywhere else (a stored event, a webhook) it stays the
/// bare path, which opens with a token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct ContentUrl(String);

impl ContentUrl {
    pub fn new(path: String) -> Self {
        ContentUrl(path)
    }

    pub fn path(&self) -> &str {
        self.0.split('?').next().unwrap_or_default()
    }
}

impl Serialize for ContentUrl {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match SIGNING.try_with(|(signer, now)| signer.sign(self.path(), *now)) {
            Ok(link) => serializer.serialize_str(&link),
            Err(_) => serializer.serialize_str(&self.0),
        }
    }
}

impl PartialSchema for ContentUrl {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .format(Some(utoipa::openapi::SchemaFormat::Custom("uri-reference".into())))
            .description(Some(
                "A signed link to the file, relative to the API's origin: opens without a token (in `<video src>`, `<img src>`, `<a download>`), with `Range` (206), until `expires` (`links.ttl_seconds`, an hour by default). It opens this file only; an altered or expired link answers 403 `invalid_link`. Read the resource again for a fresh one.",
            ))
            .examples(["/v1/videos/0190b6c2-7d1e-7c3a-9f4e-2b8d5a6c1e90/content?expires=1767225600&signature=3q2-7w"])
            .into()
    }
}

impl ToSchema for ContentUrl {}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> LinkSigner {
        LinkSigner::new(b"k".to_vec(), Duration::from_secs(3600))
    }

    fn query(link: &str) -> &str {
        link.split_once('?').unwrap().1
    }

    #[test]
    fn a_link_opens_its_path_until_it_expires() {
        let link = signer().sign("/v1/videos/1/content", 1_000_000);
        let q = query(&link);
        assert!(signer()
            .verify("/v1/videos/1/content", q, 1_000_000)
            .is_ok());
        assert!(signer()
            .verify("/v1/videos/2/content", q, 1_000_000)
            .is_err());
        assert!(signer()
            .verify("/v1/videos/1/content", q, 1_000_000 + 3600)
            .is_err());
        let other = LinkSigner::new(b"other".to_vec(), Duration::from_secs(3600));
        assert!(other.verify("/v1/videos/1/content", q, 1_000_000).is_err());
    }

    #[test]
    fn a_changed_expiry_breaks_the_signature() {
        let link = signer().sign("/v1/audio/1/content", 1_000_000);
        let expires: i64 = query(&link)
            .split('&')
            .find_map(|p| p.strip_prefix("expires="))
            .unwrap()
            .parse()
            .unwrap();
        let forged = query(&link).replace(
            &format!("expires={expires}"),
            &format!("expires={}", expires + 86_400),
        );
        assert!(signer()
            .verify("/v1/audio/1/content", &forged, 1_000_000)
            .is_err());
    }

    #[test]
    fn links_within_a_step_are_the_same_and_last_at_least_three_quarters() {
        let a = signer().sign("/p", 1_000_000);
        let b = signer().sign("/p", 1_000_001);
        assert_eq!(a, b);
        let expires: i64 = query(&a).split('&').next().unwrap()[8..].parse().unwrap();
        assert!(expires - 1_000_000 >= 2700 && expires - 1_000_000 <= 3600);
    }

    #[test]
    fn only_content_routes_are_signable() {
        assert!(signable("/v1/videos/x/content"));
        assert!(signable("/v1/videos/x/files/thumbnail.jpg"));
        assert!(signable("/v1/reels/x/thumbnail"));
        assert!(signable("/v1/reels/x/cover"));
        assert!(!signable("/v1/videos/x"));
        assert!(!signable("/v1/tokens"));
        assert!(!signable("/v1/videos/x/files/a/b"));
    }
}
