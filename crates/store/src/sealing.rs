//! Secrets sealed at rest: a district's connector secrets are stored encrypted with
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), a random 24-byte nonce each
//! time, as `sealed:v1:<key id>:<base64 nonce+ciphertext>`. The key id (the first 8 bytes
//! of the key's SHA-256, in hex) is stored beside the ciphertext, so keys can rotate: a
//! store opens what any of its keys sealed and seals with the current one
//! (`rostersync secrets rotate` re-seals every district with it).
//!
//! Plain JSON written before sealing was turned on is still read, and sealed at the
//! district's next write or rotation.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::Digest;

const PREFIX: &str = "sealed:v1:";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A 32-byte sealing key and its id.
#[derive(Clone)]
pub struct SealingKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// Shows the id only.
impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey").field("id", &self.id).finish()
    }
}

/// Why a key or a sealed value could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealingError {
    #[error("a sealing key is 32 bytes, given as 64 hexadecimal digits or base64; this one is {0} bytes")]
    KeyLength(usize),
    #[error("the sealing key is neither hexadecimal nor base64")]
    KeyEncoding,
    #[error("sealed with key {0}, which is not configured (give it as an old sealing key)")]
    UnknownKey(String),
    #[error("the sealed value is damaged or was sealed with another key of the same id")]
    Damaged,
}

impl SealingKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealingError> {
        if bytes.len() != 32 {
            return Err(SealingError::KeyLength(bytes.len()));
        }
        let id = hex8(&sha2::Sha256::digest(bytes));
        let cipher = XChaCha20Poly1305::new_from_slice(bytes)
            .map_err(|_| SealingError::KeyLength(bytes.len()))?;
        Ok(SealingKey { id, cipher })
    }

    /// A key as text: 64 hexadecimal digits, or base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Self, SealingError> {
        let text = text.trim();
        let hex = text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit());
        let bytes = if hex {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| SealingError::KeyEncoding)?
        } else {
            B64.decode(text).map_err(|_| SealingError::KeyEncoding)?
        };
        Self::from_bytes(&bytes)
    }

    /// A new random key, as 64 hexadecimal digits.
    pub fn generate() -> String {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .unwrap_or_else(|e| panic!("the system's randomness failed: {e}"));
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

fn hex8(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Seals with the current key; opens with any configured key.
#[derive(Debug, Clone)]
pub struct Sealer {
    current: SealingKey,
    old: Vec<SealingKey>,
}

impl Sealer {
    pub fn new(current: SealingKey, old: Vec<SealingKey>) -> Self {
        Sealer { current, old }
    }

    pub fn current_id(&self) -> &str {
        self.current.id()
    }

    /// `plain` sealed with the current key.
    pub fn seal(&self, plain: &str) -> String {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce)
            .unwrap_or_else(|e| panic!("the system's randomness failed: {e}"));
        let sealed = self
            .current
            .cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_bytes())
            .unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 seals any length we store"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.current.id, B64.encode(out))
    }

    /// The plain text of `stored`: opened if sealed, as it is if it never was.
    pub fn open(&self, stored: &str) -> Result<String, SealingError> {
        let Some(rest) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let (id, body) = rest.split_once(':').ok_or(SealingError::Damaged)?;
        let key = std::iter::once(&self.current)
            .chain(&self.old)
            .find(|k| k.id == id)
            .ok_or_else(|| SealingError::UnknownKey(id.to_owned()))?;
        let raw = B64.decode(body).map_err(|_| SealingError::Damaged)?;
        if raw.len() < 24 {
            return Err(SealingError::Damaged);
        }
        let (nonce, sealed) = raw.split_at(24);
        let plain = key
            .cipher
            .decrypt(XNonce::from_slice(nonce), sealed)
            .map_err(|_| SealingError::Damaged)?;
        String::from_utf8(plain).map_err(|_| SealingError::Damaged)
    }

    /// Whether `stored` is sealed with the current key.
    pub fn is_current(&self, stored: &str) -> bool {
        stored
            .strip_prefix(PREFIX)
            .and_then(|r| r.split_once(':'))
            .is_some_and(|(id, _)| id == self.current.id)
    }
}

/// Whether `stored` is sealed at all.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::from_bytes(&[byte; 32]).expect("key")
    }

    #[test]
    fn a_sealed_secret_opens_and_never_shows() {
        let s = Sealer::new(key(1), vec![]);
        let sealed = s.seal(r#"{"client_secret":"hunter2"}"#);
        assert!(sealed.starts_with("sealed:v1:") && !sealed.contains("hunter2"));
        assert_ne!(
            sealed,
            s.seal(r#"{"client_secret":"hunter2"}"#),
            "a fresh nonce each time"
        );
        assert_eq!(
            s.open(&sealed).expect("open"),
            r#"{"client_secret":"hunter2"}"#
        );
        assert_eq!(
            s.open("{}").expect("plain"),
            "{}",
            "plain values still read"
        );
    }

    #[test]
    fn keys_rotate_by_id() {
        let old = Sealer::new(key(1), vec![]);
        let sealed = old.seal("x");
        let rotated = Sealer::new(key(2), vec![key(1)]);
        assert_eq!(rotated.open(&sealed).expect("old key opens"), "x");
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal("x")));
        let without = Sealer::new(key(2), vec![]);
        assert_eq!(
            without.open(&sealed),
            Err(SealingError::UnknownKey(key(1).id().to_owned()))
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push('A');
        assert!(old.open(&tampered).is_err());
    }

    #[test]
    fn keys_parse_from_hex_or_base64() {
        let hex = SealingKey::generate();
        assert_eq!(hex.len(), 64);
        let a = SealingKey::parse(&hex).expect("hex");
        let b64 = B64.encode([7u8; 32]);
        assert_eq!(SealingKey::parse(&b64).expect("b64").id(), key(7).id());
        assert_ne!(a.id(), key(7).id());
        assert_eq!(
            SealingKey::parse("abcd").map(|_| ()),
            Err(SealingError::KeyLength(3))
        );
        assert_eq!(
            SealingKey::parse("not base64!").map(|_| ()),
            Err(SealingError::KeyEncoding)
        );
    }
}
