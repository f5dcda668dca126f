//! How the listener is reached: TLS from certificate files, client certificates when a
//! client authority is configured, and no anonymous server beyond the loopback.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use store::Backend;

use crate::access::{cli_key, ALL};
use crate::harness::{grpcurl, grpcurl_over, stderr, stdout, Server, BIN};

/// A certificate authority, a server certificate for localhost and 127.0.0.1 and a client
/// certificate, as PEM files in `dir`.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn pki(dir: &Path) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rostersync test authority");
    let ca_key = KeyPair::generate().expect("ca key");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut params = CertificateParams::new(names).expect("params");
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &issuer).expect("sign");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = leaf(
        vec!["support-desk.example".into()],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write a PEM file");
        path
    };
    Pki {
        ca: write("ca.pem", &ca_cert.pem()),
        server_cert: write("server.pem", &server_cert),
        server_key: write("server.key", &server_key),
        client_cert: write("client.pem", &client_cert),
        client_key: write("client.key", &client_key),
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_speaks_tls_and_asks_for_client_certificates() {
    let dir = tempfile::tempdir().expect("dir");
    let pki = pki(dir.path());
    let server = Server::start_with(
        Backend::Sqlite,
        &[
            ("ROSTERSYNC_TLS_CERT", path(&pki.server_cert)),
            ("ROSTERSYNC_TLS_KEY", path(&pki.server_key)),
            ("ROSTERSYNC_TLS_CLIENT_CA", path(&pki.ca)),
        ],
    )
    .await;
    let token = cli_key(&server, "root", ALL);
    let auth = format!("authorization: Bearer {token}");
    let with_cert = [
        "-cacert",
        path(&pki.ca),
        "-cert",
        path(&pki.client_cert),
        "-key",
        path(&pki.client_key),
    ];

    // Over TLS with a client certificate: health, reflection and a keyed call answer.
    let health = grpcurl_over(&with_cert, &server.addr, &["grpc.health.v1.Health/Check"]);
    assert!(health.status.success(), "{}", stderr(&health));
    assert!(stdout(&health).contains("SERVING"));
    let mut keyed: Vec<&str> = with_cert.to_vec();
    keyed.extend(["-H", auth.as_str()]);
    let listed = grpcurl_over(
        &keyed,
        &server.addr,
        &["rostersync.v1.SyncService/ListDistricts"],
    );
    assert!(listed.status.success(), "{}", stderr(&listed));

    // Plaintext, a client without a certificate, and one that does not trust the
    // server's authority are all turned away.
    let plain = grpcurl(&["-plaintext"], &server.addr, &["list"]);
    assert!(!plain.status.success(), "plaintext was served");
    let no_cert = grpcurl_over(
        &["-cacert", path(&pki.ca)],
        &server.addr,
        &["grpc.health.v1.Health/Check"],
    );
    assert!(
        !no_cert.status.success(),
        "a client without a certificate was served"
    );
    let untrusting = grpcurl_over(
        &[
            "-cert",
            path(&pki.client_cert),
            "-key",
            path(&pki.client_key),
        ],
        &server.addr,
        &["grpc.health.v1.Health/Check"],
    );
    assert!(
        !untrusting.status.success(),
        "the server's certificate was trusted blindly"
    );
    assert!(
        stderr(&untrusting).contains("certificate"),
        "{}",
        stderr(&untrusting)
    );

    // The CLI over TLS, with its client certificate and key: the call reaches the server
    // (which answers that the district does not exist).
    let url = format!("https://{}", server.addr);
    let cli = Command::new(BIN)
        .args(["district", "test", "nowhere", "--server", &url])
        .args(["--ca-cert", path(&pki.ca)])
        .args(["--client-cert", path(&pki.client_cert)])
        .args(["--client-key", path(&pki.client_key)])
        .env("ROSTERSYNC_API_KEY", &token)
        .output()
        .expect("run the CLI");
    let err = String::from_utf8_lossy(&cli.stderr).into_owned();
    assert!(err.contains("NotFound"), "{err}");
    // Without its certificate the CLI cannot get through.
    let refused = Command::new(BIN)
        .args(["district", "test", "nowhere", "--server", &url])
        .args(["--ca-cert", path(&pki.ca)])
        .env("ROSTERSYNC_API_KEY", &token)
        .output()
        .expect("run the CLI");
    assert!(!refused.status.success());
    assert!(
        !String::from_utf8_lossy(&refused.stderr).contains("NotFound"),
        "served without a client certificate"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_configured_tls_is_refused_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("ROSTERSYNC_TLS_CERT", dir.path().join("server.pem"))
        .output()
        .expect("run serve");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("tls_key: is required with tls_cert"), "{err}");
}

/// Starts `serve` on every address (0.0.0.0) with `args`; the address it printed, or the
/// process's exit output when it stopped instead.
fn serve_everywhere(data: &Path, args: &[&str]) -> Result<std::process::Child, String> {
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if line.starts_with("rostersync listening on ") {
                let _ = tx.send(());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => Ok(child),
        Err(_) => {
            let _ = child.kill();
            let output = child.wait_with_output().expect("exit output");
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_beyond_the_loopback_needs_a_key_or_an_explicit_insecure_flag() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let err = serve_everywhere(&data, &[]).expect_err("no key, not loopback: refused");
    assert!(err.contains("no API key exists"), "{err}");
    assert!(err.contains("--insecure-no-auth"), "{err}");

    let mut open = serve_everywhere(&data, &["--insecure-no-auth"]).expect("told to");
    let _ = open.kill();
    let _ = open.wait();

    // Once a key exists the same start needs no flag.
    let out = Command::new(BIN)
        .args([
            "keys",
            "create",
            "--name",
            "admin",
            "--ability",
            "admin",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .expect("keys create");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = Command::new(BIN)
        .args(["keys", "list", "--data-dir"])
        .arg(&data)
        .output()
        .expect("keys list");
    let text = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(text.contains("admin") && text.contains("active"), "{text}");
    assert!(!text.contains("rsk_"), "a list never shows a token: {text}");
    let mut keyed = serve_everywhere(&data, &[]).expect("a key exists");
    let _ = keyed.kill();
    let _ = keyed.wait();
}
