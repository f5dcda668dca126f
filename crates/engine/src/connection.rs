//! Testing a district's connection: build its connector and run `check`.

use std::sync::Arc;

use connector::{CheckReport, Connector};
use model::district::District;
use model::ids::DistrictId;

use crate::{Engine, EngineError};

impl Engine {
    /// The connector a stored district is configured for.
    pub fn connector(&self, district: &District) -> Result<Arc<dyn Connector>, EngineError> {
        self.registry
            .build(&district.connector, &self.http)
            .map_err(|source| EngineError::Connector {
                district: district.id.to_string(),
                source,
            })
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
