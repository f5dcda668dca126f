//! E-mail notifications through a real SMTP server (aiosmtpd, writing what it receives
//! into a maildir): seed 003's *Import Results* when a run ends and *Check Your Data* when
//! a threshold holds it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use proto::v1 as pb;
use sim::powerschool::{SimConfig, Simulator};
use store::Backend;

use crate::harness::{
    create_sim_district, half_the_students_leave, run_to_end, subscribers_update, update_request,
    Server,
};

store::on_both_backends!(a_district_administrator_is_mailed_results_and_held_runs);

/// An SMTP server on the loopback, killed when dropped.
struct Smtp {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_smtp() -> Smtp {
    let dir = tempfile::tempdir().expect("dir");
    let maildir = dir.path().join("mail");
    let port = free_port();
    let mut child = Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("aiosmtpd runs (.ci/setup installs it: pip install aiosmtpd)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Smtp {
                child,
                port,
                maildir,
                _dir: dir,
            };
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("aiosmtpd did not listen on {port}; is it installed (pip install aiosmtpd)?");
}

/// A message as a person reads it: folded headers on one line, the quoted-printable body
/// decoded.
fn readable(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((raw.as_str(), ""));
    let head = head.replace("\n ", " ");
    let body = body.replace("=\n", "");
    let mut bytes = Vec::with_capacity(body.len());
    let b = body.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let hex = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'=', Some(h), Some(l)) => {
                bytes.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                bytes.push(c);
                i += 1;
            }
        }
    }
    format!("{head}\n\n{}", String::from_utf8_lossy(&bytes))
}

/// Every message the server took, as text.
fn messages(maildir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(maildir.join(sub)) {
            for e in entries.flatten() {
                all.push(readable(
                    &std::fs::read_to_string(e.path()).unwrap_or_default(),
                ));
            }
        }
    }
    all
}

/// Waits for a message whose subject begins with `subject`; it and the count of such.
async fn mailed(smtp: &Smtp, subject: &str, n: usize) -> String {
    for _ in 0..600 {
        let found: Vec<String> = messages(&smtp.maildir)
            .into_iter()
            .filter(|m| m.contains(&format!("Subject: {subject}")))
            .collect();
        if found.len() >= n {
            return found[n - 1].clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {subject:?} message: {:?}", messages(&smtp.maildir));
}

fn mail_subscriber() -> pb::UpdateDistrictRequest {
    subscribers_update(
        "sim",
        vec![pb::Subscriber {
            name: "admins".into(),
            emails: vec![
                "it-admin@maple.example".into(),
                "registrar@maple.example".into(),
            ],
            ..Default::default()
        }],
    )
}

async fn a_district_administrator_is_mailed_results_and_held_runs(backend: Backend) {
    let smtp = start_smtp();
    let sim = Simulator::start(SimConfig {
        students: 40,
        schools: 1,
        ..SimConfig::default()
    })
    .await
    .expect("simulator");

    // A service that sends no e-mail refuses an e-mail subscriber, saying why.
    let plain = Server::start(backend).await;
    let mut client = plain.client().await;
    create_sim_district(&mut client, "sim", &sim, &[]).await;
    let refused = client
        .update_district(mail_subscriber())
        .await
        .expect_err("no smtp_url");
    assert!(refused.message().contains("smtp_url"), "{refused:?}");
    drop(plain);

    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let server = Server::start_with(
        backend,
        &[
            ("ROSTERSYNC_SMTP_URL", url.as_str()),
            ("ROSTERSYNC_SMTP_FROM", "rostersync@service.example"),
        ],
    )
    .await;
    let mut client = server.client().await;
    create_sim_district(&mut client, "sim", &sim, &[]).await;
    client
        .update_district(mail_subscriber())
        .await
        .expect("subscribe by e-mail");
    let test = client
        .test_notification(pb::TestNotificationRequest {
            district_id: "sim".into(),
            subscriber: "admins".into(),
        })
        .await
        .expect("test")
        .into_inner();
    assert!(test.delivered, "{test:?}");
    let sample = mailed(&smtp, "Test notification: Simulated district", 1).await;
    assert!(sample.contains("Nothing ran"), "{sample}");

    // A run that ends: its results, with counts in words, to both addresses.
    run_to_end(&mut client, "sim", false).await;
    let results = mailed(
        &smtp,
        "Import Results: Simulated district: sync started by hand finished",
        1,
    )
    .await;
    assert!(
        results.contains("it-admin@maple.example") && results.contains("registrar@maple.example"),
        "{results}"
    );
    assert!(results.contains("students created"), "{results}");
    assert!(
        results.contains("From: rostersync@service.example"),
        "{results}"
    );

    // A run a threshold holds: what was held and how to review it.
    half_the_students_leave(&sim);
    let held = run_to_end(&mut client, "sim", false).await;
    assert_eq!(held.state(), pb::RunState::Paused, "{held:?}");
    let check = mailed(&smtp, "Check Your Data", 1).await;
    assert!(check.contains("students archived"), "{check}");
    assert!(check.contains("Nothing has been changed"), "{check}");
    assert!(
        check.contains(&format!(
            "rostersync sync approve --district sim {}",
            held.run_id
        )),
        "{check}"
    );
    // Cancelled after review: the results say so.
    client
        .cancel_sync_run(pb::CancelSyncRunRequest {
            district_id: "sim".into(),
            run_id: held.run_id.clone(),
        })
        .await
        .expect("cancel");
    let cancelled = mailed(
        &smtp,
        "Import Results: Simulated district: sync started by hand was cancelled",
        1,
    )
    .await;
    assert!(cancelled.contains("Why: cancelled"), "{cancelled}");

    // A guardians.csv import: its results too.
    client
        .update_district(update_request(
            pb::District {
                district_id: "sim".into(),
                settings: Some(pb::DistrictSettings {
                    manage_guardians: Some(false),
                    ..Default::default()
                }),
                ..Default::default()
            },
            &["settings.manage_guardians"],
        ))
        .await
        .expect("guardians from guardians.csv");
    let number = sim.district(|d| d.expected_students()[0].student_number.clone());
    let file = format!(
        "student_id,first_name,last_name,email,sms_phone,home_phone,relationship,contact_type\n\
         {number},Ana,Ruiz,ana.ruiz@example.net,+1 555 010 2233,,mother,guardian\n"
    );
    client
        .import_guardians(tokio_stream::iter(vec![pb::ImportGuardiansRequest {
            district_id: "sim".into(),
            data: file.into_bytes(),
            ..Default::default()
        }]))
        .await
        .expect("import");
    let imported = mailed(
        &smtp,
        "Import Results: Simulated district: guardians.csv import finished",
        1,
    )
    .await;
    assert!(imported.contains("guardians created"), "{imported}");
}
