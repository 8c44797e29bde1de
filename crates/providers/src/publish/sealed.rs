//! Account tokens at rest: sealed with ChaCha20-Poly1305 under the configured key, each bound
//! to its account's id (a sealed token copied to another row does not open). The same key,
//! through HMAC, signs the OAuth `state` so the callback knows which project asked.

use base64::{engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chacha20poly1305::{
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
    ChaCha20Poly1305, Key, Nonce,
};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::{
    io::{ErrorKind, Write},
    os::unix::fs::OpenOptionsExt,
    path::Path,
};

const NONCE_BYTES: usize = 12;

/// Where a key made on first start is kept: in the media root, beside the media, never in the
/// database that holds the tokens it seals.
pub const KEY_FILE: &str = "publishing.token_key";

/// The key kept in `dir`'s [`KEY_FILE`], made (32 random bytes in base64, readable by this
/// user only) when there is none yet; answers it and whether it was made now. It is written
/// whole under a scratch name and linked into place, so two processes starting at once on one
/// machine end up with the same key.
pub fn key_kept_in(dir: &Path) -> std::io::Result<(SecretString, bool)> {
    let path = dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(key) => return Ok((SecretString::from(key.trim().to_owned()), false)),
        Err(error) if error.kind() != ErrorKind::NotFound => return Err(error),
        Err(_) => {}
    }
    std::fs::create_dir_all(dir)?;
    let key = STANDARD.encode(ChaCha20Poly1305::generate_key(&mut OsRng));
    let scratch = dir.join(format!(".{KEY_FILE}.{:016x}", rand::random::<u64>()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&scratch)
        .and_then(|mut file| {
            file.write_all(key.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::hard_link(&scratch, &path));
    let _ = std::fs::remove_file(&scratch);
    match written {
        Ok(()) => Ok((SecretString::from(key), true)),
        // Another process made it first: use theirs.
        Err(error) if error.kind() == ErrorKind::AlreadyExists => {
            key_kept_in(dir).map(|(key, _)| (key, false))
        }
        Err(error) => Err(error),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("publishing.token_key must be base64 of exactly 32 bytes")]
    BadKey,
    #[error(
        "a stored token does not open with the configured key (was publishing.token_key changed?)"
    )]
    Unreadable,
}

pub struct Sealer {
    cipher: ChaCha20Poly1305,
    signing_key: Vec<u8>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(key: &SecretString) -> Result<Self, SealError> {
        let bytes = STANDARD
            .decode(key.expose_secret().trim())
            .map_err(|_| SealError::BadKey)?;
        if bytes.len() != 32 {
            return Err(SealError::BadKey);
        }
        // A separate key for signing, derived so one secret serves both.
        let mut derive = <Hmac<Sha256> as Mac>::new_from_slice(&bytes).expect("any key length");
        derive.update(b"reelforge oauth state");
        Ok(Sealer {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)),
            signing_key: derive.finalize().into_bytes().to_vec(),
        })
    }

    /// `token` sealed for the row `bound_to`: nonce, then ciphertext and tag.
    pub fn seal(&self, token: &SecretString, bound_to: &[u8]) -> Vec<u8> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: token.expose_secret().as_bytes(),
                    aad: bound_to,
                },
            )
            .expect("sealing a short token cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// The token sealed for `bound_to`. Every plaintext token this process holds comes through
    /// here, so it is registered with the redactor before the caller sees it: a platform that
    /// quotes the token in an error is masked on every replica, after any restart.
    pub fn open(&self, sealed: &[u8], bound_to: &[u8]) -> Result<SecretString, SealError> {
        if sealed.len() <= NONCE_BYTES {
            return Err(SealError::Unreadable);
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: bound_to,
                },
            )
            .map_err(|_| SealError::Unreadable)?;
        let token = String::from_utf8(plain).map_err(|_| SealError::Unreadable)?;
        crate::redact::register(&token);
        Ok(SecretString::from(token))
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key).expect("any key length");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// A URL-safe signature of `parts`, for links that must not be altered.
    pub fn signature(&self, parts: &[&str]) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(parts.join("\n").as_bytes()))
    }

    /// Whether `signature` is [`Sealer::signature`] of `parts`, compared in constant time.
    pub fn verify_signature(&self, parts: &[&str], signature: &str) -> bool {
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return false;
        };
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key).expect("any key length");
        mac.update(parts.join("\n").as_bytes());
        mac.verify_slice(&signature).is_ok()
    }

    /// `payload` with its signature, safe in a URL.
    pub fn sign(&self, payload: &[u8]) -> String {
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(self.mac(payload))
        )
    }

    /// The payload of a value [`Sealer::sign`] made; none if it was altered or not ours.
    pub fn verify(&self, signed: &str) -> Option<Vec<u8>> {
        let (payload, signature) = signed.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.signing_key).expect("any key length");
        mac.update(&payload);
        mac.verify_slice(&signature).ok()?;
        Some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        Sealer::new(&SecretString::from(STANDARD.encode([7u8; 32]))).unwrap()
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_row_and_hides_the_token() {
        let sealer = sealer();
        let token = SecretString::from("EAAG-secret-token");
        let sealed = sealer.seal(&token, b"row-1");
        assert!(!sealed
            .windows(b"secret".len())
            .any(|window| window == b"secret"));
        assert_eq!(
            sealer.open(&sealed, b"row-1").unwrap().expose_secret(),
            "EAAG-secret-token"
        );
        assert!(sealer.open(&sealed, b"row-2").is_err());
        let other = Sealer::new(&SecretString::from(STANDARD.encode([8u8; 32]))).unwrap();
        assert!(other.open(&sealed, b"row-1").is_err());
        assert_ne!(
            sealer.seal(&token, b"row-1"),
            sealed,
            "a fresh nonce each time"
        );
    }

    #[test]
    fn an_opened_token_is_masked_from_then_on() {
        let sealer = sealer();
        let token = SecretString::from("tt-opened-only-Xq81Lm02");
        let sealed = sealer.seal(&token, b"row-1");
        let quoted = "TikTok said: tt-opened-only-Xq81Lm02 is not valid";
        assert!(crate::redact::redact(quoted).contains("tt-opened"));
        sealer.open(&sealed, b"row-1").unwrap();
        assert_eq!(
            crate::redact::redact(quoted),
            format!("TikTok said: {} is not valid", crate::redact::MASK)
        );
    }

    #[test]
    fn a_key_is_made_once_readable_by_its_user_only_and_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("sealed-key-{:016x}", rand::random::<u64>()));
        let (made, fresh) = key_kept_in(&dir).unwrap();
        assert!(fresh);
        Sealer::new(&made).expect("a usable key");
        let file = dir.join(KEY_FILE);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let (kept, fresh) = key_kept_in(&dir).unwrap();
        assert!(!fresh);
        assert_eq!(kept.expose_secret(), made.expose_secret());
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            1,
            "no scratch file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_signed_state_is_checked() {
        let sealer = sealer();
        let signed = sealer.sign(b"{\"p\":1}");
        assert_eq!(sealer.verify(&signed).unwrap(), b"{\"p\":1}");
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(b"{\"p\":2}"),
            signed.split_once('.').unwrap().1
        );
        assert!(sealer.verify(&forged).is_none());
        assert!(sealer.verify("nonsense").is_none());
        assert!(Sealer::new(&SecretString::from("c2hvcnQ=")).is_err());
    }
}
