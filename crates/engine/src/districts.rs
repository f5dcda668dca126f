//! District configuration: a district is checked whole — id, name, time zone, settings
//! and its connector's settings — and every problem is reported at once, before anything
//! is stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::SettingSpec;
use model::district::{parse_time_zone, ConnectorConfig, District, DistrictSettings};
use model::ids::DistrictId;
use model::{limits, ValidationErrors};

use crate::{Engine, EngineError, Refusal};

/// A connector as a caller writes it: a kind, its plain settings and its secrets, apart.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct ConnectorDraft {
    pub kind: String,
    pub settings: BTreeMap<String, String>,
    /// Write-only.
    pub secrets: BTreeMap<String, String>,
}

/// Shows the secrets' names only.
impl std::fmt::Debug for ConnectorDraft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorDraft")
            .field("kind", &self.kind)
            .field("settings", &self.settings)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One change to a district's connector.
#[derive(Clone, PartialEq, Eq)]
pub enum ConnectorEdit {
    /// A new connector: this kind and exactly these settings; of the same kind, secrets
    /// left out keep their stored value.
    Replace(ConnectorDraft),
    /// Exactly these plain settings (secrets untouched).
    Settings(BTreeMap<String, String>),
    /// One plain setting; empty clears it.
    Setting(String, String),
    /// One secret; empty clears it.
    Secret(String, String),
}

impl std::fmt::Debug for ConnectorEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectorEdit::Replace(d) => f.debug_tuple("Replace").field(d).finish(),
            ConnectorEdit::Settings(s) => f.debug_tuple("Settings").field(s).finish(),
            ConnectorEdit::Setting(n, v) => f.debug_tuple("Setting").field(n).field(v).finish(),
            ConnectorEdit::Secret(n, _) => f.debug_tuple("Secret").field(n).finish(),
        }
    }
}

/// A change to a district's settings, applied to the stored settings as they are at the
/// moment of the write.
pub type SettingsEdit =
    std::sync::Arc<dyn Fn(&mut DistrictSettings) -> Result<(), ValidationErrors> + Send + Sync>;

/// A district to create.
#[derive(Debug, Clone, PartialEq)]
pub struct DistrictDraft {
    pub id: String,
    pub name: String,
    pub connector: Option<ConnectorDraft>,
    pub settings: DistrictSettings,
    pub time_zone: String,
}

/// A change to a district: what is `None` (or empty) stays as it is.
#[derive(Clone, Default)]
pub struct DistrictUpdate {
    pub name: Option<String>,
    pub connector: Vec<ConnectorEdit>,
    pub settings: Option<SettingsEdit>,
    pub time_zone: Option<String>,
    /// The revision the caller read (its etag): when the district has moved on since, the
    /// update is refused rather than overwriting someone else's change. `None`: applied to
    /// the district as it is.
    pub expected_revision: Option<u64>,
}

impl std::fmt::Debug for DistrictUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistrictUpdate")
            .field("name", &self.name)
            .field("connector", &self.connector)
            .field("settings", &self.settings.is_some())
            .field("time_zone", &self.time_zone)
            .field("expected_revision", &self.expected_revision)
            .finish()
    }
}

type SetOne = fn(
    &[connector::SettingSpec],
    &mut ConnectorConfig,
    &str,
    String,
) -> Result<(), model::FieldError>;

/// How many times an update without an etag is tried again when another write got in
/// between its read and its write.
const UPDATE_TRIES: usize = 5;

fn stale(id: &DistrictId, expected: u64, found: u64) -> EngineError {
    EngineError::Aborted {
        reason: Refusal::EtagMismatch,
        message: format!(
            "district {id} changed since it was read (etag {expected}, now {found}); \
             read it again and reapply the change"
        ),
    }
}

/// What an update changed, in field names (a secret by its name only).
fn changed_parts(before: &District, after: &District) -> String {
    let mut parts: Vec<String> = Vec::new();
    if before.name != after.name {
        parts.push("name".into());
    }
    if before.time_zone != after.time_zone {
        parts.push("time_zone".into());
    }
    if before.connector.kind != after.connector.kind {
        parts.push("connector.kind".into());
    }
    let (b, a) = (&before.connector.settings, &after.connector.settings);
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        if b.get(key) != a.get(key) {
            parts.push(format!("connector.settings.{key}"));
        }
    }
    let (b, a) = (&before.connector.secrets, &after.connector.secrets);
    for key in b.keys().chain(a.keys().filter(|k| !b.contains_key(*k))) {
        let same = match (b.get(key), a.get(key)) {
            (Some(x), Some(y)) => x.expose() == y.expose(),
            (None, None) => true,
            _ => false,
        };
        if !same {
            parts.push(format!("connector.secrets.{key}"));
        }
    }
    if before.settings != after.settings {
        parts.push("settings".into());
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

impl Engine {
    /// District configuration and each district's connector, for this engine's actor.
    pub fn districts(&self) -> Districts {
        Districts {
            store: self.store.clone(),
            registry: self.registry.clone(),
            http: self.http.clone(),
            connectors: self.connectors.clone(),
            access: self.access(),
            mail: self.mailer.is_some(),
        }
    }
}

/// District configuration and each district's connector: it needs the store, the
/// connectors this build knows and how they talk HTTP, the ones built on this replica,
/// and the audit trail — nothing else of the engine.
#[derive(Debug, Clone)]
pub struct Districts {
    pub(crate) store: store::Store,
    pub(crate) registry: Arc<connector::Registry>,
    pub(crate) http: Arc<connector::HttpConfig>,
    pub(crate) connectors: Arc<crate::connection::BuiltConnectors>,
    pub(crate) access: crate::access::Access,
    /// Whether the service can send e-mail (an e-mail subscriber is refused otherwise).
    pub(crate) mail: bool,
}

impl Districts {
    /// The same, recording its work under `name`.
    pub(crate) fn acting_as(&self, name: &str) -> Districts {
        Districts {
            access: self.access.acting_as(name),
            ..self.clone()
        }
    }

    fn actor(&self) -> &str {
        self.access.actor()
    }

    /// Checks and stores a new district.
    pub async fn create_district(&self, draft: DistrictDraft) -> Result<District, EngineError> {
        self.create_district_once(draft, None).await
    }

    /// Checks and stores a new district for the caller's request `request_id`: a retry of
    /// the same request gets the district back (as it is now) instead of ALREADY_EXISTS.
    pub async fn create_district_once(
        &self,
        draft: DistrictDraft,
        request_id: Option<&str>,
    ) -> Result<District, EngineError> {
        let mut errors = ValidationErrors::new();
        let id = match draft.id.trim().parse::<DistrictId>() {
            Ok(id) => Some(id),
            Err(e) => {
                errors.0.push(e);
                None
            }
        };
        let name = draft.name.trim().to_owned();
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
        self.check_whole(&name, connector.as_ref(), &draft.settings, &mut errors);
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
            revision: 1,
            created_by: self.actor().to_owned(),
            updated_by: self.actor().to_owned(),
        };
        let created = match self.store.create_district_for(&district, request_id).await {
            Ok(()) => true,
            Err(store::StoreError::AlreadyExists { entity, id }) => {
                let mine = match request_id {
                    Some(r) => {
                        self.store
                            .district_create_request(&district.id)
                            .await?
                            .as_deref()
                            == Some(r)
                    }
                    None => false,
                };
                if !mine {
                    return Err(EngineError::AlreadyExists { entity, id });
                }
                false
            }
            Err(e) => return Err(e.into()),
        };
        // Read back so the caller sees exactly what is stored (times at stored precision).
        let stored = self.store.get_district(&district.id).await?;
        if created {
            self.access
                .audit(
                    &stored.id,
                    "district.create",
                    stored.id.as_str(),
                    stored.connector.kind.as_str(),
                )
                .await;
        }
        Ok(stored)
    }

    pub async fn get_district(&self, id: &DistrictId) -> Result<District, EngineError> {
        Ok(self.store.get_district(id).await?)
    }

    /// Applies `update` to a stored district after checking the result whole. With an
    /// expected revision, a district that moved on is refused (ABORTED); without one, a
    /// write that lost a race is redone on the district as it now is.
    pub async fn update_district(
        &self,
        id: &DistrictId,
        update: DistrictUpdate,
    ) -> Result<District, EngineError> {
        for _ in 0..UPDATE_TRIES {
            let mut district = self.store.get_district(id).await?;
            if let Some(expected) = update.expected_revision {
                if expected != district.revision {
                    return Err(stale(id, expected, district.revision));
                }
            }
            let before = district.clone();
            self.edit(&mut district, &update)?;
            district.updated_by = self.actor().to_owned();
            match self.store.update_district(&district).await {
                Ok(d) => {
                    self.access
                        .audit(
                            id,
                            "district.update",
                            id.as_str(),
                            changed_parts(&before, &d),
                        )
                        .await;
                    return Ok(d);
                }
                Err(store::StoreError::Stale {
                    expected, found, ..
                }) if update.expected_revision.is_some() => return Err(stale(id, expected, found)),
                Err(store::StoreError::Stale { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(EngineError::Aborted {
            reason: Refusal::EtagMismatch,
            message: format!("district {id} kept changing while this update was made; try again"),
        })
    }

    fn edit(&self, district: &mut District, update: &DistrictUpdate) -> Result<(), EngineError> {
        let mut errors = ValidationErrors::new();
        if let Some(name) = &update.name {
            district.name = name.trim().to_owned();
        }
        if let Some(tz) = &update.time_zone {
            match parse_time_zone(tz.trim()) {
                Ok(tz) => district.time_zone = tz,
                Err(e) => errors.0.push(e),
            }
        }
        let before = district.connector.clone();
        // Secrets this change gives anew: they may go to a changed target.
        let mut given: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for edit in &update.connector {
            match edit {
                ConnectorEdit::Replace(d) => given.extend(d.secrets.keys().cloned()),
                ConnectorEdit::Secret(name, _) => {
                    given.insert(name.clone());
                }
                ConnectorEdit::Settings(_) | ConnectorEdit::Setting(..) => {}
            }
        }
        for edit in &update.connector {
            match edit {
                ConnectorEdit::Replace(draft) => {
                    if let Some(c) =
                        self.connector_config(draft.clone(), Some(&district.connector), &mut errors)
                    {
                        district.connector = c;
                    }
                }
                ConnectorEdit::Settings(settings) => {
                    connector::registry::replace_settings(
                        self.specs(&district.connector.kind),
                        &mut district.connector,
                        settings.clone(),
                        &mut errors,
                    );
                }
                ConnectorEdit::Setting(name, value) => {
                    self.set_one(&mut district.connector, name, value, false, &mut errors)
                }
                ConnectorEdit::Secret(name, value) => {
                    self.set_one(&mut district.connector, name, value, true, &mut errors)
                }
            }
        }
        let cleared = self.clear_secrets_on_new_target(&before, &mut district.connector, &given);
        if let Some(edit) = &update.settings {
            if let Err(e) = edit(&mut district.settings) {
                errors.0.extend(e.0);
            }
        }
        self.check_whole(
            &district.name,
            Some(&district.connector),
            &district.settings,
            &mut errors,
        );
        // A required secret the change cleared: say why it is wanted again.
        if let Some((target, cleared)) = cleared {
            for e in &mut errors.0 {
                let named = e
                    .path
                    .strip_prefix("connector.secrets.")
                    .or_else(|| e.path.strip_prefix("connector.settings."));
                if let Some(name) = named.filter(|n| cleared.iter().any(|c| c == n)) {
                    e.path = format!("connector.secrets.{name}");
                    e.message = format!(
                        "give it again in the same change: connector.settings.{target} changed, and a stored secret is never sent to a new target"
                    );
                }
            }
        }
        errors.into_result(()).map_err(EngineError::Invalid)
    }

    /// When a connection target (a server URL, a token endpoint, a tenant) changes, the
    /// stored secrets not given anew in the same change are cleared: a caller who can
    /// change where requests go must not send the district's secret there. Answers the
    /// first target that changed and the secrets cleared, if any were.
    fn clear_secrets_on_new_target(
        &self,
        before: &ConnectorConfig,
        after: &mut ConnectorConfig,
        given: &std::collections::BTreeSet<String>,
    ) -> Option<(String, Vec<String>)> {
        if before.kind != after.kind {
            // A new kind keeps no secret of the old one (config_from_parts).
            return None;
        }
        let specs = self.registry.get(&after.kind).map(|f| f.settings()).ok()?;
        let value = |c: &ConnectorConfig, s: &SettingSpec| {
            c.settings
                .get(s.name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .or_else(|| s.default.map(str::to_owned))
        };
        let target = specs
            .iter()
            .filter(|s| s.target)
            .find(|s| value(before, s) != value(after, s))?;
        let cleared: Vec<String> = after
            .secrets
            .keys()
            .filter(|k| !given.contains(*k))
            .cloned()
            .collect();
        for k in &cleared {
            after.secrets.remove(k);
        }
        (!cleared.is_empty()).then(|| (target.name.to_owned(), cleared))
    }

    /// The settings a connector kind takes (none for a kind this build lacks).
    fn specs(&self, kind: &str) -> &'static [SettingSpec] {
        self.registry.get(kind).map(|f| f.settings()).unwrap_or(&[])
    }

    /// Sets one plain setting or secret of `config`, naming a misplaced one.
    fn set_one(
        &self,
        config: &mut ConnectorConfig,
        name: &str,
        value: &str,
        secret: bool,
        errors: &mut ValidationErrors,
    ) {
        let specs = self.specs(&config.kind);
        let set = if secret {
            connector::registry::set_secret as SetOne
        } else {
            connector::registry::set_setting as SetOne
        };
        if let Err(e) = set(specs, config, name, value.to_owned()) {
            errors.0.push(e);
        }
    }

    /// Deletes a district and everything stored under it (roster, links, runs, plans,
    /// change log). Refused while a run is open; without `force`, refused while it holds
    /// any student, guardian, staff member or run.
    pub async fn delete_district(
        &self,
        id: &DistrictId,
        expected_revision: Option<u64>,
        force: bool,
    ) -> Result<(), EngineError> {
        let district = self.store.get_district(id).await?;
        let revision = match expected_revision {
            Some(expected) if expected != district.revision => {
                return Err(stale(id, expected, district.revision))
            }
            Some(expected) => expected,
            None => district.revision,
        };
        if !force {
            let held = self.store.district_record_count(id).await?;
            if held > 0 {
                return Err(EngineError::refused(
                    Refusal::DistrictNotEmpty,
                    format!(
                        "district {id} holds {held} students, guardians, staff and runs; \
                         delete with force to remove them with it"
                    ),
                ));
            }
        }
        match self.store.delete_district(id, revision).await {
            Ok(()) => {
                self.forget_connector(id);
                self.access
                    .audit(
                        id,
                        "district.delete",
                        id.as_str(),
                        if force { "with its records" } else { "" },
                    )
                    .await;
                Ok(())
            }
            Err(store::StoreError::Stale {
                expected, found, ..
            }) => Err(stale(id, expected, found)),
            Err(store::StoreError::StateChanged { found, .. }) => Err(EngineError::refused(
                Refusal::RunAlreadyOpen,
                format!("district {id} is {found}: cancel it or wait for it to end"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    fn connector_config(
        &self,
        draft: ConnectorDraft,
        previous: Option<&ConnectorConfig>,
        errors: &mut ValidationErrors,
    ) -> Option<ConnectorConfig> {
        let kind = draft.kind.trim();
        if let Err(e) = limits::text("connector.kind", kind, limits::KIND) {
            errors.0.push(e);
            return None;
        }
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
        self.registry
            .config_from_parts(kind, draft.settings, draft.secrets, previous, errors)
    }

    /// A district as it would be stored, on create and on update alike: its name, its
    /// settings on their own, then the connector's settings and the district settings its
    /// source constrains.
    fn check_whole(
        &self,
        name: &str,
        connector: Option<&ConnectorConfig>,
        settings: &DistrictSettings,
        errors: &mut ValidationErrors,
    ) {
        if let Err(e) = model::district::parse_name(name) {
            errors.0.push(e);
        }
        if let Err(e) = settings.validate() {
            errors.extend_under("settings", e);
        }
        if !self.mail {
            for (i, s) in settings.subscribers.iter().enumerate() {
                if !s.emails.is_empty() {
                    errors.push(
                        format!("settings.subscribers[{i}].emails"),
                        "this service sends no e-mail: its smtp_url is not configured",
                    );
                }
            }
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
