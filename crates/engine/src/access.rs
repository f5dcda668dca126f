//! Callers: API keys (issued once, stored as a hash, found by their public id, revoked),
//! the caller a request acts as, and the audit trail of who did what to a district.
//!
//! A token reads `rsk_<id>_<secret>`: the id (16 hexadecimal digits) finds the key, the
//! secret (32 random bytes, base64url) is checked against the SHA-256 the store keeps. A
//! store that never had a key serves anonymous callers (the server decides whether it
//! may start that way); once one key exists, every call needs one.

use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use model::access::{ApiKey, Caller, Districts, Scope};
use model::ids::DistrictId;
use model::ValidationErrors;
use sha2::{Digest, Sha256};
use store::access::AuditEvent;

use crate::{Engine, EngineError};

/// Why a caller could not be identified (gRPC UNAUTHENTICATED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("this server requires an API key: send the metadata `authorization: Bearer <key>`")]
    Missing,
    #[error("the API key is not one this server issued")]
    Unknown,
    #[error("API key {name:?} was revoked")]
    Revoked { name: String },
    #[error("the store could not be read to check the key")]
    Store,
}

/// A key just made, with its token: the only time the token exists outside the caller.
#[derive(Debug, Clone)]
pub struct IssuedKey {
    pub key: ApiKey,
    pub token: String,
}

/// Whether the store has ever had a key; once it has, it always has.
#[derive(Debug, Default)]
pub(crate) struct KeysSeen(AtomicBool);

const TOKEN_PREFIX: &str = "rsk_";

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The operating system's generator failing is not something to go on without.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no random bytes: {e}"));
    bytes
}

/// A new key's public id and secret.
fn fresh_token_parts() -> (String, String) {
    (
        hex::encode(random::<8>()),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<32>()),
    )
}

fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Equal in time that does not depend on where two hashes differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The id and secret of a token, if it has the shape of one.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let rest = token.trim().strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let secret_ok = (40..=64).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some((id, secret))
}

impl Engine {
    /// This engine acting for `caller`: what it does is recorded under the caller's name.
    pub fn acting_for(&self, caller: &Caller) -> Engine {
        let mut engine = self.clone();
        engine.actor = std::sync::Arc::from(caller.name.as_str());
        engine
    }

    /// Whose work this engine does now (`service` unless [`Engine::acting_for`] said).
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// Callers' keys and the audit trail, for this engine's actor.
    pub fn access(&self) -> Access {
        Access {
            store: self.store.clone(),
            keys_seen: self.keys_seen.clone(),
            actor: self.actor.clone(),
        }
    }
}

/// Callers' keys and the audit trail: it needs the store, whether a key was ever seen,
/// and whose work it records — nothing else of the engine.
#[derive(Debug, Clone)]
pub struct Access {
    store: store::Store,
    keys_seen: std::sync::Arc<KeysSeen>,
    actor: std::sync::Arc<str>,
}

impl Access {
    pub(crate) fn actor(&self) -> &str {
        &self.actor
    }

    /// The same, recording its work under `name`.
    pub(crate) fn acting_as(&self, name: &str) -> Access {
        Access {
            actor: std::sync::Arc::from(name),
            ..self.clone()
        }
    }

    /// Who presents `token` (the bearer token of a call, if it had one).
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Caller, AuthError> {
        let Some(token) = token else {
            if self.keys_exist().await? {
                return Err(AuthError::Missing);
            }
            return Ok(Caller::anonymous());
        };
        let (id, secret) = split_token(token).ok_or(AuthError::Unknown)?;
        let found = self.store.api_key(id).await.map_err(|e| {
            tracing::error!(error = %e, "cannot read api_keys");
            AuthError::Store
        })?;
        let Some((key, hash)) = found else {
            return Err(AuthError::Unknown);
        };
        if !same(&secret_hash(secret), &hash) {
            return Err(AuthError::Unknown);
        }
        if key.revoked_at.is_some() {
            return Err(AuthError::Revoked { name: key.name });
        }
        self.keys_seen.0.store(true, Ordering::Relaxed);
        Ok(Caller {
            name: key.name,
            scope: key.scope,
        })
    }

    async fn keys_exist(&self) -> Result<bool, AuthError> {
        if self.keys_seen.0.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let any = self.store.any_api_keys().await.map_err(|e| {
            tracing::error!(error = %e, "cannot read api_keys");
            AuthError::Store
        })?;
        if any {
            self.keys_seen.0.store(true, Ordering::Relaxed);
        }
        Ok(any)
    }

    /// Makes a key as a caller asks for it — a name, district ids and ability names, as
    /// `rostersync keys create` and CreateApiKey take them — every problem with the three
    /// reported at once, then as [`Access::create_api_key`].
    pub async fn create_api_key_as_asked(
        &self,
        name: &str,
        districts: &[String],
        abilities: &[String],
        granter: &Caller,
    ) -> Result<IssuedKey, EngineError> {
        let mut errors = ValidationErrors::new();
        if let Err(e) = model::access::parse_key_name(name) {
            errors.0.push(e);
        }
        let scope = match model::access::parse_scope(districts, abilities) {
            Ok(scope) => Some(scope),
            Err(more) => {
                errors.0.extend(more.0);
                None
            }
        };
        let Some(scope) = scope.filter(|_| errors.is_empty()) else {
            return Err(EngineError::Invalid(errors));
        };
        self.create_api_key(name, scope, granter).await
    }

    /// Makes a key named `name` with `scope`, created by this engine's actor. A caller
    /// can only hand out what it holds: `granter`'s scope must cover `scope`; and a key
    /// names only districts that exist (the first few that do not are named).
    pub async fn create_api_key(
        &self,
        name: &str,
        scope: Scope,
        granter: &Caller,
    ) -> Result<IssuedKey, EngineError> {
        let name =
            model::access::parse_key_name(name).map_err(|e| EngineError::Invalid(e.into()))?;
        if !granter.scope.covers(&scope) {
            return Err(EngineError::PermissionDenied(format!(
                "key {:?} may grant only {}; {} was asked",
                granter.name,
                granter.scope.describe(),
                scope.describe()
            )));
        }
        if let Districts::Only(ids) = &scope.districts {
            let ids: Vec<DistrictId> = ids.iter().cloned().collect();
            let found = self.store.existing_districts(&ids).await?;
            let missing: Vec<String> = ids
                .iter()
                .filter(|id| !found.contains(id))
                .map(|id| id.to_string())
                .collect();
            if !missing.is_empty() {
                let mut errors = ValidationErrors::new();
                errors.push(
                    "district_ids",
                    format!(
                        "no district {}: a key names districts that exist",
                        model::limits::first_few(&missing, 5, ", ")
                    ),
                );
                return Err(EngineError::Invalid(errors));
            }
        }
        let (id, secret) = fresh_token_parts();
        let key = ApiKey {
            id: id.clone(),
            name,
            scope,
            created_at: crate::now(),
            created_by: self.actor().to_owned(),
            revoked_at: None,
        };
        self.store
            .create_api_key(&key, &secret_hash(&secret))
            .await?;
        self.keys_seen.0.store(true, Ordering::Relaxed);
        tracing::info!(key = %key.name, scope = %key.scope.describe(), by = %key.created_by, "api key created");
        Ok(IssuedKey {
            key,
            token: format!("{TOKEN_PREFIX}{id}_{secret}"),
        })
    }

    /// A new token for the key named `name`, same name and scope; the old token is
    /// refused from now on, and a revoked key is back in use.
    pub async fn reissue_api_key(&self, name: &str) -> Result<IssuedKey, EngineError> {
        let (id, secret) = fresh_token_parts();
        let key = self
            .store
            .reissue_api_key(name.trim(), &id, &secret_hash(&secret))
            .await?;
        self.keys_seen.0.store(true, Ordering::Relaxed);
        tracing::info!(key = %key.name, by = %self.actor(), "api key reissued");
        Ok(IssuedKey {
            key,
            token: format!("{TOKEN_PREFIX}{id}_{secret}"),
        })
    }

    /// The key named `name`.
    pub async fn api_key(&self, name: &str) -> Result<ApiKey, EngineError> {
        Ok(self.store.api_key_named(name.trim()).await?)
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, EngineError> {
        Ok(self.store.list_api_keys().await?)
    }

    /// Revokes the key named `name`: its next call is refused.
    pub async fn revoke_api_key(&self, name: &str) -> Result<ApiKey, EngineError> {
        let key = self.store.revoke_api_key(name.trim(), crate::now()).await?;
        tracing::info!(key = %key.name, by = %self.actor(), "api key revoked");
        Ok(key)
    }

    /// Records that this engine's actor did `action` to `target` in `district`. The deed
    /// is done by now; a trail that cannot be written is logged, not undone.
    pub(crate) async fn audit(
        &self,
        district: &DistrictId,
        action: &str,
        target: &str,
        detail: impl Into<String>,
    ) {
        let event = AuditEvent {
            seq: 0,
            district_id: district.clone(),
            at: crate::now(),
            actor: self.actor().to_owned(),
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.into(),
        };
        if let Err(e) = self.store.record_audit(&event).await {
            tracing::error!(district = %district, action, error = %e, "cannot record who did what");
        }
    }

    /// Who did what to `district`, oldest first.
    pub async fn list_audit(
        &self,
        district: &DistrictId,
        after: Option<u64>,
        limit: u64,
    ) -> Result<Vec<AuditEvent>, EngineError> {
        Ok(self.store.list_audit(district, after, limit).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_one_shape() {
        let token = format!("rsk_{}_{}", "0123456789abcdef", "A".repeat(43));
        assert_eq!(
            split_token(&token),
            Some(("0123456789abcdef", "A".repeat(43).as_str()))
        );
        assert_eq!(split_token("rsk_0123_abc"), None);
        assert_eq!(split_token("Bearer rsk_0123456789abcdef_x"), None);
        assert_eq!(split_token(""), None);
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
    }
}
