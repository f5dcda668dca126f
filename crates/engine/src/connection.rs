//! A district's connector — built once and kept, so everything that calls the district on
//! this replica (runs, spot syncs, connection tests) shares its connections, its token and
//! its request budget — and testing a district's connection.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use connector::{CheckReport, Connector};
use model::district::{ConnectorConfig, District};
use model::ids::DistrictId;

use crate::districts::Districts;
use crate::EngineError;

/// The connectors built on this replica, by district, each with the fingerprint of the
/// configuration it was built from: a changed configuration builds a new one.
#[derive(Default)]
pub struct BuiltConnectors {
    by_district: Mutex<HashMap<DistrictId, Built>>,
}

/// A connector and the fingerprint of the configuration it was built from.
type Built = (u64, Arc<dyn Connector>);

impl std::fmt::Debug for BuiltConnectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.by_district.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("BuiltConnectors")
            .field("districts", &n)
            .finish()
    }
}

/// A fingerprint of a connector configuration, secrets included (kept in memory only).
fn fingerprint(config: &ConnectorConfig) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    config.kind.hash(&mut h);
    config.settings.hash(&mut h);
    for (name, secret) in &config.secrets {
        name.hash(&mut h);
        secret.expose().hash(&mut h);
    }
    h.finish()
}

impl Districts {
    /// The connector of a stored district: the one already built for its configuration,
    /// or a new one when there is none or the configuration changed.
    pub fn connector(&self, district: &District) -> Result<Arc<dyn Connector>, EngineError> {
        let print = fingerprint(&district.connector);
        let mut built = self
            .connectors
            .by_district
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some((at, connector)) = built.get(&district.id) {
            if *at == print {
                return Ok(connector.clone());
            }
        }
        let connector = self
            .registry
            .build(&district.connector, &self.http)
            .map_err(|source| EngineError::Connector {
                district: district.id.to_string(),
                source,
            })?;
        built.insert(district.id.clone(), (print, connector.clone()));
        Ok(connector)
    }

    /// Drops the district's built connector (a deleted district).
    pub(crate) fn forget_connector(&self, id: &DistrictId) {
        self.connectors
            .by_district
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Runs the connector's check for `id`.
    pub async fn test_connection(&self, id: &DistrictId) -> Result<CheckReport, EngineError> {
        let district = self.get_district(id).await?;
        let connector = self.connector(&district)?;
        let report = connector.check().await;
        tracing::info!(district = %id, ok = report.ok(), steps = report.steps.len(), "connection tested");
        Ok(report)
    }
}
