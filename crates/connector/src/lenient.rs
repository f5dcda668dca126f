//! Lenient JSON values for sources whose records are loose: optional fields that may be
//! absent, `null`, `""`, a number where text is documented, or (OneRoster's
//! `enabledUser`) a string boolean that some servers send as a JSON boolean.

use serde::{Deserialize, Deserializer};

/// Text that may be absent, `null`, a string or (seen in the wild) a number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Text(pub String);

impl Text {
    pub fn as_str(&self) -> &str {
        self.0.trim()
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Text(match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => String::new(),
        }))
    }
}

/// A list of ids that may be absent or `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids(pub Vec<String>);

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(Ids(match v {
            serde_json::Value::Array(items) => items
                .into_iter()
                .filter_map(|i| match i {
                    serde_json::Value::String(s) if !s.trim().is_empty() => Some(s),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }))
    }
}
