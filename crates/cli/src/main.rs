//! `rostersync`: serves the gRPC API and manages its store.
//!
//! The composition root: it loads the configuration, registers the connectors
//! ([`registry`]), opens the store and hands both to the engine and the API.

mod bench;
mod changes;
mod client;
mod config;
mod demo;
mod drop_folder;
mod find;
mod guardians;
mod keys;
mod logging;
mod metrics;
mod plugin;
mod registry;
mod sealing;
mod serve;
mod spot;
mod sync;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use config::Flags;

#[derive(Debug, Parser)]
#[command(
    name = "rostersync",
    version,
    about = "Keeps a district's roster in step with its SIS"
)]
struct Cli {
    /// A TOML configuration file (also ROSTERSYNC_CONFIG).
    #[arg(long, global = true, env = "ROSTERSYNC_CONFIG")]
    config: Option<PathBuf>,
    /// Directory of the embedded SQLite database.
    #[arg(long, global = true)]
    data_dir: Option<String>,
    /// sqlite://PATH or postgres://USER@HOST/DB (default: SQLite in the data directory).
    #[arg(long, global = true)]
    database_url: Option<String>,
    /// Log filter, e.g. info or rostersync=debug.
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// Log format: text or json.
    #[arg(long, global = true)]
    log_format: Option<String>,
    /// The running server that client commands talk to.
    #[arg(
        long,
        global = true,
        env = "ROSTERSYNC_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    server: String,
    /// The API key client commands send (`rsk_…`).
    #[arg(
        long,
        global = true,
        env = "ROSTERSYNC_API_KEY",
        hide_env_values = true
    )]
    api_key: Option<String>,
    /// PEM authority of an https server's certificate (default: the system's roots).
    #[arg(long, global = true, env = "ROSTERSYNC_CA_CERT")]
    ca_cert: Option<PathBuf>,
    /// PEM client certificate, for a server that asks for one (with --client-key).
    #[arg(long, global = true, env = "ROSTERSYNC_CLIENT_CERT")]
    client_cert: Option<PathBuf>,
    /// PEM key of --client-cert.
    #[arg(long, global = true, env = "ROSTERSYNC_CLIENT_KEY")]
    client_key: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the gRPC API (SyncService, health, reflection) until SIGTERM or Ctrl-C.
    Serve {
        /// Address to bind; port 0 picks a free port (the chosen address is printed).
        #[arg(long)]
        listen: Option<String>,
        /// Start on a non-loopback address even though no API key exists yet: anyone who
        /// reaches it may do anything until the first key is made.
        #[arg(long)]
        insecure_no_auth: bool,
    },
    /// Apply or revert store migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Print every configuration key with its environment variable.
    Config,
    /// Run the service with a demo district served by a built-in PowerSchool simulator.
    Demo(demo::DemoArgs),
    /// Print the PowerSchool plugin XML a district installs (or write the .zip package).
    PluginXml(plugin::PluginArgs),
    /// District sync runs through a running server.
    Sync {
        #[command(subcommand)]
        command: sync::SyncCommand,
    },
    /// Bring one user (a student or a guardian, by our id) up to date from the SIS now.
    SpotSync {
        #[arg(long)]
        district: String,
        /// Our id of the student.
        #[arg(
            long,
            conflicts_with = "guardian",
            required_unless_present = "guardian"
        )]
        student: Option<String>,
        /// Our id of the guardian.
        #[arg(long)]
        guardian: Option<String>,
        /// Say what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Find students, guardians and staff by name (or its beginning), e-mail, phone,
    /// student number or source id, through a running server.
    Find {
        #[arg(long)]
        district: String,
        /// What to look for.
        text: String,
        /// Show at most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Why a guardian has the access they have to a student: tier, rule and facts.
    Why {
        #[arg(long)]
        district: String,
        /// Our student id.
        student: String,
        /// Our guardian id.
        guardian: String,
    },
    /// District commands against a running server.
    District {
        #[command(subcommand)]
        action: DistrictAction,
    },
    /// Import a district's guardians.csv through a running server.
    Guardians {
        #[command(subcommand)]
        action: guardians::GuardiansAction,
    },
    /// Connector secrets at rest: rotate the sealing key, re-seal, or make a key.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Time a generated district's sync against the database's own bulk-load limit, on
    /// SQLite and PostgreSQL, and print one table.
    Bench(bench::BenchArgs),
    /// The simulator of `rostersync bench`, in its own process.
    #[command(hide = true)]
    BenchSim(bench::BenchSimArgs),
    /// The raw bulk load of `rostersync bench`, in its own process.
    #[command(hide = true)]
    BenchLoad(bench::BenchLoadArgs),
    /// API keys on this host's store: create, list, revoke, reissue.
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// The guardians.csv format: the columns, and a template to start from.
    GuardiansCsv {
        /// Print a template file (header and two example rows) to standard output.
        #[arg(long)]
        template: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DistrictAction {
    /// Test the district's connection: credentials, server, schools and field access.
    Test {
        /// The district id.
        district: String,
    },
}

#[derive(Debug, Subcommand)]
enum SecretsAction {
    /// Put a new key first in the key file and re-seal every district's secrets with it.
    Rotate,
    /// Re-seal every district's secrets with the current key (after the key changed in
    /// ROSTERSYNC_SEALING_KEY, or to seal secrets written before sealing).
    Reseal,
    /// Print a new random key (64 hexadecimal digits).
    NewKey,
}

#[derive(Debug, Subcommand)]
enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Revert migrations.
    Down {
        /// How many to revert (default: one).
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

impl Cli {
    fn flags(&self) -> Flags {
        let mut flags = Flags::new();
        let mut set = |key: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                flags.insert(key, v.clone());
            }
        };
        set("data_dir", &self.data_dir);
        set("database_url", &self.database_url);
        set("log.level", &self.log_level);
        set("log.format", &self.log_format);
        match &self.command {
            Command::Serve {
                listen,
                insecure_no_auth,
            } => {
                set("listen", listen);
                if *insecure_no_auth {
                    set("insecure_no_auth", &Some("true".to_owned()));
                }
            }
            Command::Demo(args) => set("listen", &args.listen),
            // The bench prints a table; its runs' info lines would bury it.
            Command::Bench(_) | Command::BenchSim(_) | Command::BenchLoad(_)
                if self.log_level.is_none() =>
            {
                set("log.level", &Some("warn".to_owned()));
            }
            _ => {}
        }
        flags
    }
}

/// glibc's allocator gives each thread that contends for it an arena of its own (up to
/// eight per core), and each arena keeps what it freed: a run's threads (the runtime's,
/// one per SQLite connection, the file checks') held 20-70 MB more than they used. Held
/// to two arenas, a 64 MiB guardians.csv imports within 100 MB over idle. glibc reads the
/// setting only when a process starts, so the process starts itself once more with it
/// set, unless the operator set it (or the platform is not glibc's).
fn with_two_allocator_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::os::unix::process::CommandExt;
        const VAR: &str = "MALLOC_ARENA_MAX";
        if std::env::var_os(VAR).is_some() {
            return;
        }
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let mut args = std::env::args_os();
        let mut again = std::process::Command::new(exe);
        if let Some(name) = args.next() {
            again.arg0(name);
        }
        // `exec` returns only when it could not start the program: go on as we are.
        let _ = again.args(args).env(VAR, "2").exec();
    }
}

fn main() -> anyhow::Result<()> {
    with_two_allocator_arenas();
    let cli = Cli::parse();
    let env: BTreeMap<String, String> = std::env::vars().collect();
    let config = config::load(cli.config.as_deref(), &env, &cli.flags())?;
    logging::init(&config.log_level, config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    let target = client::Target {
        server: cli.server,
        api_key: cli.api_key.filter(|k| !k.trim().is_empty()),
        ca_cert: cli.ca_cert,
        client_cert: cli.client_cert,
        client_key: cli.client_key,
    };
    runtime.block_on(run(cli.command, config, target))
}

async fn run(
    command: Command,
    config: config::Config,
    server: client::Target,
) -> anyhow::Result<()> {
    match command {
        Command::Keys { action } => keys::run(&config, action).await,
        Command::Bench(args) => bench::run(args).await,
        Command::BenchSim(args) => bench::serve_sim(args).await,
        Command::BenchLoad(args) => bench::bulk_load(args).await,
        Command::Serve { .. } => serve::run(config).await,
        Command::Secrets { action } => match action {
            SecretsAction::NewKey => {
                println!("{}", store::sealing::SealingKey::generate());
                Ok(())
            }
            SecretsAction::Rotate => {
                let store = serve::open_unsealed(&config).await?;
                store.migrate().await?;
                let (id, n) = sealing::rotate(&config, store).await?;
                println!("sealing key {id} is current; {n} district(s) re-sealed");
                Ok(())
            }
            SecretsAction::Reseal => {
                let store = serve::open_store(&config).await?;
                store.migrate().await?;
                let n = store.reseal_secrets().await?;
                store.close().await?;
                println!("{n} district(s) re-sealed");
                Ok(())
            }
        },
        Command::Migrate { action } => {
            let store = serve::open_unsealed(&config).await?;
            match action.unwrap_or(MigrateAction::Up) {
                MigrateAction::Up => {
                    store.migrate().await?;
                    println!("migrations applied");
                }
                MigrateAction::Down { steps } => {
                    store.migrate_down(Some(steps)).await?;
                    println!("reverted {steps} migration(s)");
                }
                MigrateAction::Status => {
                    let (applied, pending) = store.migration_status().await?;
                    for m in applied {
                        println!("applied  {m}");
                    }
                    for m in pending {
                        println!("pending  {m}");
                    }
                }
            }
            store.close().await?;
            Ok(())
        }
        Command::Demo(args) => demo::run(config, args).await,
        Command::Sync { command } => sync::run(&server, command).await,
        Command::Guardians { action } => guardians::run(&server, action).await,
        Command::GuardiansCsv { template } => {
            if template {
                print!("{}", engine::import::TEMPLATE);
            } else {
                println!("guardians.csv: one row per guardian-student pair; UTF-8 (with or without BOM), quoted fields, CRLF or LF.");
                println!("columns: {}", engine::import::COLUMNS.join(", "));
                println!("rostersync guardians-csv --template prints a file to start from.");
            }
            Ok(())
        }
        Command::SpotSync {
            district,
            student,
            guardian,
            dry_run,
        } => {
            let user = match (student, guardian) {
                (Some(s), _) => spot::User::Student(s),
                (None, Some(g)) => spot::User::Guardian(g),
                (None, None) => anyhow::bail!("give --student ID or --guardian ID"),
            };
            spot::spot_sync(&server, &district, user, dry_run).await
        }
        Command::Find {
            district,
            text,
            limit,
        } => find::find(&server, &district, &text, limit).await,
        Command::Why {
            district,
            student,
            guardian,
        } => spot::why(&server, &district, &student, &guardian).await,
        Command::PluginXml(args) => plugin::run(&args),
        Command::District {
            action: DistrictAction::Test { district },
        } => client::test_connection(&server, &district).await,
        Command::Config => {
            for (key, var, help) in config::KEYS {
                println!("{key:<14} {var:<26} {help}");
            }
            Ok(())
        }
    }
}
