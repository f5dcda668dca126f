//! `rostersync demo`: the service with a demo district, against a PowerSchool (or, with
//! `--source clever`, a Clever; with `--source classlink`, a ClassLink OneRoster 1.1)
//! simulator started in the same process, so a new user can try every call with one
//! command.

use std::collections::BTreeMap;

use anyhow::Context;
use engine::{ConnectorDraft, ConnectorEdit, DistrictDraft, DistrictUpdate, Engine, EngineError};
use model::district::{DistrictSettings, Selection};
use model::ids::DistrictId;
use model::roster::PhoneType;
use sim::powerschool::{SimConfig, Simulator};

use crate::config::Config;
use crate::serve;

/// The demo district's id.
pub const DEMO_DISTRICT: &str = "demo";

/// The name of the key the demo prints.
pub const DEMO_KEY: &str = "demo";

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to bind; port 0 picks a free port.
    #[arg(long)]
    pub listen: Option<String>,
    /// Students in the simulated district.
    #[arg(long, default_value_t = 240)]
    pub students: usize,
    /// Schools in the simulated district.
    #[arg(long, default_value_t = 6)]
    pub schools: usize,
    /// Seed of the generated district (same seed, same district).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The system of record to simulate.
    #[arg(long, value_enum, default_value_t = DemoSource::Powerschool)]
    pub source: DemoSource,
    /// Ways real servers depart from a plain reading of their documents, for the
    /// simulator to show (comma-separated): `page-cap` (pages smaller than asked),
    /// `staff-refused`, `sections-refused`, `enrollments-refused` (403 on optional
    /// kinds), and for ClassLink `no-totals` (no X-Total-Count or Link headers) and
    /// `revision-moves` (the data revision changes once mid-pull).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub strict: Vec<StrictMode>,
}

/// A behaviour of real servers the demo's simulator can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrictMode {
    PageCap,
    StaffRefused,
    SectionsRefused,
    EnrollmentsRefused,
    NoTotals,
    RevisionMoves,
}

/// The most rows a page holds in the `page-cap` mode, whatever is asked.
const DEMO_PAGE_CAP: usize = 7;

/// The modes `source` can show, or an error naming the ones it cannot.
fn check_modes(source: DemoSource, modes: &[StrictMode]) -> anyhow::Result<()> {
    use StrictMode::*;
    let supported: &[StrictMode] = match source {
        DemoSource::Powerschool => &[PageCap, StaffRefused, SectionsRefused, EnrollmentsRefused],
        DemoSource::Clever => &[PageCap, SectionsRefused],
        DemoSource::Classlink => &[
            PageCap,
            StaffRefused,
            SectionsRefused,
            EnrollmentsRefused,
            NoTotals,
            RevisionMoves,
        ],
    };
    let unsupported: Vec<String> = modes
        .iter()
        .filter(|m| !supported.contains(m))
        .map(|m| format!("{m:?}"))
        .collect();
    anyhow::ensure!(
        unsupported.is_empty(),
        "the {source:?} simulator cannot show {}; it shows {:?}",
        unsupported.join(", "),
        supported
    );
    Ok(())
}

/// The system of record the demo district is simulated from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoSource {
    Powerschool,
    Clever,
    /// A ClassLink Roster Server (OneRoster 1.1), found by tenant and application id.
    Classlink,
}

/// A running simulator of either source.
enum Running {
    PowerSchool(Simulator),
    Clever(sim::clever::Simulator),
    ClassLink(sim::oneroster::Simulator),
}

impl Running {
    async fn shutdown(self) {
        match self {
            Running::PowerSchool(s) => s.shutdown().await,
            Running::Clever(s) => s.shutdown().await,
            Running::ClassLink(s) => s.shutdown().await,
        }
    }
}

pub async fn run(mut config: Config, args: DemoArgs) -> anyhow::Result<()> {
    // The demo's source is a simulator on the loopback.
    config.connector_targets = connector::outbound::Targets::Any;
    check_modes(args.source, &args.strict)?;
    let on = |mode: StrictMode| args.strict.contains(&mode);
    let (simulator, connector, settings) = match args.source {
        DemoSource::Powerschool => {
            let simulator = Simulator::start(SimConfig {
                seed: args.seed,
                schools: args.schools,
                students: args.students,
                page_cap: on(StrictMode::PageCap).then_some(DEMO_PAGE_CAP as u32),
                ..SimConfig::default()
            })
            .await
            .context("start the PowerSchool simulator")?;
            let refused = |mode| on(mode).then_some(sim::powerschool::Refusal::Forbidden);
            simulator.set_plugin(sim::powerschool::PluginState {
                refused: sim::powerschool::Refusals {
                    staff: refused(StrictMode::StaffRefused),
                    sections: refused(StrictMode::SectionsRefused),
                    section_enrollments: refused(StrictMode::EnrollmentsRefused),
                    ..Default::default()
                },
                ..Default::default()
            });
            println!("PowerSchool simulator at {}", simulator.base_url());
            let connector = ConnectorDraft {
                kind: powerschool::settings::KIND.into(),
                settings: BTreeMap::from([
                    ("base_url".to_owned(), simulator.base_url()),
                    ("client_id".to_owned(), simulator.client_id().to_owned()),
                ]),
                secrets: BTreeMap::from([(
                    "client_secret".to_owned(),
                    simulator.client_secret().to_owned(),
                )]),
            };
            (
                Running::PowerSchool(simulator),
                connector,
                DistrictSettings::default(),
            )
        }
        DemoSource::Clever => {
            let simulator = sim::clever::Simulator::start(sim::clever::CleverSimConfig {
                seed: args.seed,
                schools: args.schools,
                students: args.students,
                quirks: sim::clever::Quirks {
                    page_cap: on(StrictMode::PageCap).then_some(DEMO_PAGE_CAP),
                    refused: refusals(&[(on(StrictMode::SectionsRefused), "/sections", 404)]),
                    ..Default::default()
                },
                ..sim::clever::CleverSimConfig::default()
            })
            .await
            .context("start the Clever simulator")?;
            println!("Clever simulator at {}", simulator.base_url());
            let connector = ConnectorDraft {
                kind: clever::settings::KIND.into(),
                settings: BTreeMap::from([
                    ("district_id".to_owned(), simulator.district_id().to_owned()),
                    ("api_base_url".to_owned(), simulator.base_url()),
                ]),
                secrets: BTreeMap::from([(
                    "district_token".to_owned(),
                    simulator.token().to_owned(),
                )]),
            };
            // Clever syncs exactly one phone type (seed 004): the cell phone.
            let settings = DistrictSettings {
                phone_types: Selection::Only([PhoneType::Cell].into()),
                ..DistrictSettings::default()
            };
            (Running::Clever(simulator), connector, settings)
        }
        DemoSource::Classlink => {
            let simulator = sim::oneroster::Simulator::start(sim::oneroster::OneRosterSimConfig {
                seed: args.seed,
                schools: args.schools,
                students: args.students,
                max_limit: if on(StrictMode::PageCap) {
                    DEMO_PAGE_CAP as u32
                } else {
                    10_000
                },
                quirks: sim::oneroster::Quirks {
                    no_total: on(StrictMode::NoTotals),
                    no_links: on(StrictMode::NoTotals),
                    refused: refusals(&[
                        (on(StrictMode::StaffRefused), "/teachers", 403),
                        (on(StrictMode::SectionsRefused), "/classes", 403),
                        (on(StrictMode::EnrollmentsRefused), "/enrollments", 403),
                    ]),
                    revision_moves_after: on(StrictMode::RevisionMoves).then_some(3),
                    ..Default::default()
                },
                ..sim::oneroster::OneRosterSimConfig::default()
            })
            .await
            .context("start the ClassLink simulator")?;
            println!("ClassLink simulator at {}", simulator.base_url());
            let c = simulator.config();
            // Seed 002: the district gives its tenant id and application id; ClassLink's
            // discovery finds its Roster Server with our partner key.
            let connector = ConnectorDraft {
                kind: classlink::settings::KIND.into(),
                settings: BTreeMap::from([
                    ("tenant_id".to_owned(), c.tenant_id.to_string()),
                    ("application_id".to_owned(), c.application_id.to_string()),
                    ("discovery_url".to_owned(), simulator.discovery_url()),
                ]),
                secrets: BTreeMap::from([("partner_token".to_owned(), c.partner_token.clone())]),
            };
            (
                Running::ClassLink(simulator),
                connector,
                DistrictSettings::default(),
            )
        }
    };

    let store = serve::open_store(&config).await?;
    store.migrate().await.context("migrate the store")?;
    let engine = serve::engine(&config, store);
    let demo = engine.acting_for(&model::access::Caller::service("demo"));
    configure(&demo, connector, settings).await?;
    println!("demo district {DEMO_DISTRICT:?} points at the simulator");
    // Every call needs a key once one exists: the demo makes (or renews) its own, with
    // every ability, and prints it for the grpcurl tour.
    let issued = match demo.access().reissue_api_key(DEMO_KEY).await {
        Ok(issued) => issued,
        Err(EngineError::NotFound { .. }) => demo
            .access()
            .create_api_key(
                DEMO_KEY,
                model::access::Scope::everything(),
                &model::access::Caller::service("demo"),
            )
            .await
            .context("create the demo API key")?,
        Err(e) => return Err(e).context("renew the demo API key"),
    };
    println!("demo API key (admin, every district): {}", issued.token);
    println!("  export ROSTERSYNC_API_KEY={}", issued.token);

    let result = serve::serve_engine(&config, engine).await;
    simulator.shutdown().await;
    result
}

/// The paths a simulator refuses, with their status, of the modes that are on.
fn refusals(modes: &[(bool, &str, u16)]) -> Vec<(String, u16)> {
    modes
        .iter()
        .filter(|(on, _, _)| *on)
        .map(|(_, path, status)| ((*path).to_owned(), *status))
        .collect()
}

/// Creates the demo district, or points an existing one at this run's simulator (with
/// the settings its source needs).
async fn configure(
    engine: &Engine,
    connector: ConnectorDraft,
    settings: DistrictSettings,
) -> anyhow::Result<()> {
    let id: DistrictId = DEMO_DISTRICT.parse().map_err(|e| anyhow::anyhow!("{e}"))?;
    match engine.districts().get_district(&id).await {
        Ok(_) => {
            let phone_types = settings.phone_types.clone();
            engine
                .districts()
                .update_district(
                    &id,
                    DistrictUpdate {
                        connector: vec![ConnectorEdit::Replace(connector)],
                        settings: Some(std::sync::Arc::new(move |s: &mut DistrictSettings| {
                            s.phone_types = phone_types.clone();
                            Ok(())
                        })),
                        ..DistrictUpdate::default()
                    },
                )
                .await
                .context("point the demo district at the simulator")?;
        }
        Err(EngineError::NotFound { .. }) => {
            engine
                .districts()
                .create_district(DistrictDraft {
                    id: DEMO_DISTRICT.into(),
                    name: "Demo School District".into(),
                    connector: Some(connector),
                    settings,
                    time_zone: "America/Edmonton".into(),
                })
                .await
                .context("create the demo district")?;
        }
        Err(e) => return Err(e).context("read the demo district"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mode_a_source_cannot_show_is_refused_by_name() {
        assert!(check_modes(DemoSource::Classlink, &[StrictMode::RevisionMoves]).is_ok());
        let err = check_modes(
            DemoSource::Clever,
            &[StrictMode::PageCap, StrictMode::StaffRefused],
        )
        .expect_err("Clever's simulator cannot refuse staff alone");
        assert!(err.to_string().contains("StaffRefused"), "{err}");
        assert!(!err.to_string().contains("cannot show PageCap"), "{err}");
    }
}
