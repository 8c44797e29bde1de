//! Masks credentials in text that leaves the process: job errors (stored, streamed, returned)
//! and log lines. Vendors echo keys back in error bodies ("Incorrect API key provided: sk-..."),
//! and transport errors quote request URLs, so every such text passes through [`redact`].
//!
//! Two nets: the exact secrets this process holds (configured, or read from the database the
//! moment they are read), and shapes that look like credentials whoever they belong to (bearer
//! tokens, `sk-`/`xi-`/`rf_` keys, `key=` parameters, also percent-encoded as in a raw query:
//! `%20access_token=`, `access_token%3D`).

use std::{
    borrow::Cow,
    io::Write,
    sync::{LazyLock, RwLock},
};

use regex::Regex;

pub const MASK: &str = "[redacted]";

/// Configured secrets shorter than this are not matched literally: masking every "abc" in a
/// message would hide more than it protects, and real keys are long.
const MIN_SECRET_LEN: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

static SHAPES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?ix)
        (?P<scheme>\b(?:bearer|basic|oauth)\s+)[A-Za-z0-9._~+/=\-]{8,}
        | \b(?:sk|xi|rf|pk|rk)[-_][A-Za-z0-9_\-]{8,}
        | (?P<param>(?:\b|%[0-9A-Fa-f]{2})(?:access_token|refresh_token|id_token|api[_-]?key|apikey|token|key|secret|client_secret|password|signature|sig|x-api-key|xi-api-key)\b["']?\s*(?:[:=]|%3[AaDd])\s*["']?)[^\s"'&,;}\]]{4,}
        "#,
    )
    .expect("the credential pattern compiles")
});

/// Remembers a secret this process holds so it is masked wherever it appears.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|p| p.into_inner());
    if !secrets.iter().any(|known| known == secret) {
        secrets.push(secret.to_owned());
        // Longest first, so a secret that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// The text with every known secret and credential-shaped token replaced by [`MASK`].
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut text = Cow::Borrowed(text);
    {
        let secrets = SECRETS.read().unwrap_or_else(|p| p.into_inner());
        for secret in secrets.iter() {
            if text.contains(secret.as_str()) {
                text = Cow::Owned(text.replace(secret.as_str(), MASK));
            }
        }
    }
    if !SHAPES.is_match(&text) {
        return text;
    }
    let replaced = SHAPES.replace_all(&text, |captures: &regex::Captures| {
        let keep = captures
            .name("scheme")
            .or_else(|| captures.name("param"))
            .map_or("", |m| m.as_str());
        format!("{keep}{MASK}")
    });
    Cow::Owned(replaced.into_owned())
}

/// A log writer that masks each write before it reaches the sink. tracing's formatter writes
/// one whole event per call, so a secret is never split across two writes.
pub struct RedactingWriter<W>(pub W);

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) => self.0.write_all(redact(text).as_bytes())?,
            Err(_) => self.0.write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_echoes_of_keys_are_masked() {
        let cases = [
            (
                "openai answered 401: Incorrect API key provided: sk-proj-abc123DEF456ghi789. You can find your API key",
                "sk-proj",
            ),
            ("elevenlabs answered 401: invalid xi-api-key: 0123456789abcdef0123", "0123456789abcdef"),
            ("rejected Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig", "eyJhbGci"),
            ("error sending request for url (https://api.example.com/v2/acts?token=apify_api_XYZ12345678)", "apify_api"),
            (r#"{"error": {"api_key": "abcd1234efgh5678"}}"#, "abcd1234"),
            ("GET /v1/events?access_token=rf_abcdefghijklmnop&project_id=1", "rf_abcdef"),
            // A raw query: the word before the parameter is percent-encoded, so no word boundary.
            (
                "GET /oauth/tiktok/callback?error=denied&error_description=bad%20access_token=tt9Zq8Wv7Xu6",
                "tt9Zq8Wv7Xu6",
            ),
            ("error_description=bad+refresh_token%3Dtt9Zq8Wv7Xu6&state=x", "tt9Zq8Wv7Xu6"),
            ("bad%0Aaccess_token%3Att9Zq8Wv7Xu6", "tt9Zq8Wv7Xu6"),
        ];
        for (text, secret) in cases {
            let masked = redact(text);
            assert!(!masked.contains(secret), "{text} → {masked}");
            assert!(masked.contains(MASK), "{masked}");
        }
    }

    #[test]
    fn configured_secrets_are_masked_literally_and_plain_text_is_left_alone() {
        register("q9Zt-custom-vendor-secret-77");
        let masked = redact("the vendor said: q9Zt-custom-vendor-secret-77 is not valid");
        assert_eq!(masked, format!("the vendor said: {MASK} is not valid"));
        let plain = "HeyGen could not render video 42: the avatar is missing";
        assert!(matches!(redact(plain), Cow::Borrowed(_)));
        register("short");
        assert_eq!(redact("a short note"), "a short note");
    }

    #[test]
    fn the_log_writer_masks_what_passes_through() {
        let mut sink = Vec::new();
        RedactingWriter(&mut sink)
            .write_all(b"path=/v1/events?access_token=rf_0123456789abcdef\n")
            .unwrap();
        let written = String::from_utf8(sink).unwrap();
        assert!(!written.contains("rf_0123"), "{written}");
    }
}
