//! The connector layer's error: always names the endpoint or setting, never a secret.

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("unknown connector kind {kind:?}; known kinds: {known}")]
    UnknownKind { kind: String, known: String },
}
