//! District configuration: a district is checked whole — id, name, time zone, settings
//! and its connector's settings — and every problem is reported at once, before anything
//! is stored.

use std::collections::BTreeMap;

use model::district::{parse_time_zone, ConnectorConfig, District, DistrictSettings};
use model::ids::DistrictId;
use model::ValidationErrors;

use crate::{Engine, EngineError};

/// A connector as a caller writes it: a kind and every setting by name, secrets included.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ConnectorDraft {
    pub kind: String,
    pub settings: BTreeMap<String, String>,
}

/// Shows the setting names only: the values may include secrets.
impl std::fmt::Debug for ConnectorDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorDraft")
            .field("kind", &self.kind)
            .field("settings", &self.settings.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// A district to create.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictDraft {
    pub id: String,
    pub name: String,
    pub connector: Option<ConnectorDraft>,
    pub settings: DistrictSettings,
    pub time_zone: String,
}

/// A change to a district: what is `None` stays as it is.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DistrictUpdate {
    pub name: Option<String>,
    pub connector: Option<ConnectorDraft>,
    /// The whole new settings (the caller merges its partial change into the current ones).
    pub settings: Option<DistrictSettings>,
    pub time_zone: Option<String>,
}

const MAX_NAME: usize = 200;

fn check_name(name: &str, errors: &mut ValidationErrors) -> String {
    let name = name.trim();
    if name.is_empty() {
        errors.push("name", "is required");
    } else if name.chars().count() > MAX_NAME {
        errors.push("name", format!("is longer than {MAX_NAME} characters"));
    }
    name.to_owned()
}

impl Engine {
    /// Checks and stores a new district.
    pub async fn create_district(&self, draft: DistrictDraft) -> Result<District, EngineError> {
        let mut errors = ValidationErrors::new();
        let id = match draft.id.trim().parse::<DistrictId>() {
            Ok(id) => Some(id),
            Err(e) => {
                errors.0.push(e);
                None
            }
        };
        let name = check_name(&draft.name, &mut errors);
        let time_zone = parse_time_zone(draft.time_zone.trim())
            .map_err(|e| errors.0.push(e))
            .ok();
        let connector = match draft.connector {
            Some(c) => self.connector_config(c, None, &mut errors),
            None => {
                errors.push("connector", "is required");
                None
            }
        };
        self.check_whole(connector.as_ref(), &draft.settings, &mut errors);
        let (Some(id), Some(time_zone), Some(connector), true) =
            (id, time_zone, connector, errors.is_empty())
        else {
            return Err(EngineError::Invalid(errors));
        };
        let now = chrono::Utc::now();
        let district = District {
            id,
            name,
            connector,
            settings: draft.settings,
            time_zone,
            created_at: now,
            updated_at: now,
        };
        self.store.create_district(&district).await?;
        // Read back so the caller sees exactly what is stored (times at stored precision).
        Ok(self.store.get_district(&district.id).await?)
    }

    pub async fn get_district(&self, id: &DistrictId) -> Result<District, EngineError> {
        Ok(self.store.get_district(id).await?)
    }

    /// Applies `update` to a stored district after checking the result whole.
    pub async fn update_district(
        &self,
        id: &DistrictId,
        update: DistrictUpdate,
    ) -> Result<District, EngineError> {
        let mut district = self.store.get_district(id).await?;
        let mut errors = ValidationErrors::new();
        if let Some(name) = update.name {
            district.name = check_name(&name, &mut errors);
        }
        if let Some(tz) = update.time_zone {
            match parse_time_zone(tz.trim()) {
                Ok(tz) => district.time_zone = tz,
                Err(e) => errors.0.push(e),
            }
        }
        if let Some(draft) = update.connector {
            if let Some(c) = self.connector_config(draft, Some(&district.connector), &mut errors) {
                district.connector = c;
            }
        }
        if let Some(settings) = update.settings {
            district.settings = settings;
        }
        self.check_whole(Some(&district.connector), &district.settings, &mut errors);
        if !errors.is_empty() {
            return Err(EngineError::Invalid(errors));
        }
        Ok(self.store.update_district(&district).await?)
    }

    fn connector_config(
        &self,
        draft: ConnectorDraft,
        previous: Option<&ConnectorConfig>,
        errors: &mut ValidationErrors,
    ) -> Option<ConnectorConfig> {
        let kind = draft.kind.trim();
        if kind.is_empty() {
            errors.push(
                "connector.kind",
                format!(
                    "is required; known kinds: {}",
                    self.registry.kinds().join(", ")
                ),
            );
            return None;
        }
        match self
            .registry
            .config_from_flat(kind, draft.settings, previous)
        {
            Ok(c) => Some(c),
            Err(e) => {
                errors.push("connector.kind", e.to_string());
                None
            }
        }
    }

    /// Settings on their own, then the connector's settings and the district settings
    /// its source constrains.
    fn check_whole(
        &self,
        connector: Option<&ConnectorConfig>,
        settings: &DistrictSettings,
        errors: &mut ValidationErrors,
    ) {
        if let Err(e) = settings.validate() {
            errors.extend_under("settings", e);
        }
        if let Some(connector) = connector {
            if let Ok(factory) = self.registry.get(&connector.kind) {
                if let Err(e) = factory.validate(connector, settings) {
                    errors.0.extend(e.0);
                }
            }
        }
    }
}
