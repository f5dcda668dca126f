//! Every request message of the API, fed garbage and hand-made protobuf with random
//! fields, wire types and values (seeded, so a failure repeats): the server answers each
//! with a status of its own — never INTERNAL or UNKNOWN, never a dropped connection —
//! and stays up. And the largest values a caller may store make no list answer larger
//! than a client takes: a page ends before 1 MiB and says where to go on.

use bytes::{Buf, BufMut};
use prost::Message as _;
use proto::v1 as pb;
use store::Backend;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;

use crate::harness::{
    create_request, create_sim_district, district, powerschool_connector, Server,
};

store::on_both_backends!(list_answers_stay_under_a_mebibyte_whatever_their_rows_hold);

/// Sends and receives raw bytes: the fuzz writes the message itself.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = Raw;
    type Decoder = Raw;
    fn encoder(&mut self) -> Raw {
        Raw
    }
    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining()).to_vec()))
    }
}

/// Messages sent to each method.
const PER_METHOD: usize = 100;

const UNARY: [&str; 28] = [
    "CreateDistrict",
    "UpdateDistrict",
    "GetDistrict",
    "ListDistricts",
    "DeleteDistrict",
    "ListConnectors",
    "TestConnection",
    "TestNotification",
    "StartSync",
    "GetSyncRun",
    "ListSyncRuns",
    "ListRunChanges",
    "ApproveSyncRun",
    "CancelSyncRun",
    "ListChanges",
    "SpotSync",
    "SearchRoster",
    "GetStudent",
    "GetGuardian",
    "ListStudentLinks",
    "GetStaff",
    "GetClassroom",
    "ListStudentClassrooms",
    "GetSourceRecords",
    "ListAuditEvents",
    "CreateApiKey",
    "ListApiKeys",
    "RevokeApiKey",
];

/// Pieces of each guardians.csv upload the fuzz streams.
const IMPORTS: usize = 60;

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A message: random bytes, or fields 1–12 with random wire types and values (the
/// district id of field 1 often a real one, strings sometimes not UTF-8).
fn message(rng: &mut fastrand::Rng) -> Vec<u8> {
    if rng.u8(..) < 64 {
        return (0..rng.usize(0..120)).map(|_| rng.u8(..)).collect();
    }
    let mut out = Vec::new();
    for _ in 0..rng.usize(1..8) {
        let field = rng.u64(1..13);
        match rng.u8(0..5) {
            0 => {
                varint(&mut out, field << 3);
                varint(&mut out, rng.u64(..));
            }
            1 => {
                varint(&mut out, (field << 3) | 2);
                let text: Vec<u8> = match rng.u8(0..6) {
                    0 => b"fz".to_vec(),
                    1 => b"3f2a1c9e-8b7d-4e6f-a5c4-2d1e0f9a8b7c".to_vec(),
                    2 => (0..rng.usize(0..40)).map(|_| rng.u8(..)).collect(),
                    3 => "x".repeat(rng.usize(0..5000)).into_bytes(),
                    4 => b"settings.thresholds".to_vec(),
                    _ => format!("{}", rng.i64(..)).into_bytes(),
                };
                varint(&mut out, text.len() as u64);
                out.extend(text);
            }
            2 => {
                // A nested message of random fields.
                varint(&mut out, (field << 3) | 2);
                let inner = message(rng);
                varint(&mut out, inner.len() as u64);
                out.extend(inner);
            }
            3 => {
                varint(&mut out, (field << 3) | 1);
                out.extend(rng.u64(..).to_le_bytes());
            }
            _ => {
                // A length that runs past the end.
                varint(&mut out, (field << 3) | 2);
                varint(&mut out, rng.u64(1..1_000_000));
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_message_gets_internal_or_breaks_the_server() {
    let sim = sim::powerschool::Simulator::start(sim::powerschool::SimConfig::default())
        .await
        .expect("simulator");
    let mut server = Server::start(Backend::Sqlite).await;
    // Calls carry a key with every ability, so the fuzz reaches the handlers (and the
    // keys it makes itself cannot lock it out).
    let token = crate::access::cli_key(&server, "fuzz", crate::access::ALL);
    server.api_key = Some(token.clone());
    let bearer: tonic::metadata::MetadataValue<_> =
        format!("Bearer {token}").parse().expect("a header");
    let mut client = server.client().await;
    create_sim_district(&mut client, "fz", &sim, &[]).await;
    let channel = tonic::transport::Channel::from_shared(server.url())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    let mut rng = fastrand::Rng::with_seed(20_261_204);
    let mut calls = 0;
    let mut decoded = 0;
    for method in UNARY {
        let path =
            PathAndQuery::try_from(format!("/rostersync.v1.SyncService/{method}")).expect("path");
        for _ in 0..PER_METHOD {
            let body = message(&mut rng);
            let mut grpc = tonic::client::Grpc::new(channel.clone());
            grpc.ready().await.expect("the server takes calls");
            let mut request = tonic::Request::new(body.clone());
            request
                .metadata_mut()
                .insert("authorization", bearer.clone());
            let answer = grpc.unary(request, path.clone(), Raw).await;
            calls += 1;
            if !matches!(&answer, Err(s) if s.message().contains("not valid protobuf")) {
                decoded += 1;
            }
            if let Err(status) = answer {
                assert!(
                    !matches!(status.code(), tonic::Code::Internal | tonic::Code::Unknown),
                    "{method} answered {:?} ({}) to {body:?}",
                    status.code(),
                    status.message()
                );
            }
        }
    }
    assert_eq!(calls, UNARY.len() * PER_METHOD);
    // The one client-streamed call: uploads of one to four random pieces.
    let path = PathAndQuery::from_static("/rostersync.v1.SyncService/ImportGuardians");
    for _ in 0..IMPORTS {
        let pieces: Vec<Vec<u8>> = (0..rng.usize(1..5)).map(|_| message(&mut rng)).collect();
        let shown = format!("{pieces:?}");
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.expect("the server takes calls");
        let mut request = tonic::Request::new(tokio_stream::iter(pieces));
        request
            .metadata_mut()
            .insert("authorization", bearer.clone());
        let answer = grpc.client_streaming(request, path.clone(), Raw).await;
        calls += 1;
        if let Err(status) = answer {
            assert!(
                !matches!(status.code(), tonic::Code::Internal | tonic::Code::Unknown),
                "ImportGuardians answered {:?} ({}) to {shown}",
                status.code(),
                status.message()
            );
        }
    }
    assert_eq!(calls, UNARY.len() * PER_METHOD + IMPORTS);
    assert!(
        decoded > calls / 10,
        "only {decoded} of {calls} messages got past decoding: the fuzz must reach the handlers"
    );
    // Still up and answering (the fuzz may have deleted the district: that is a call
    // like any other).
    let connectors = client
        .list_connectors(pb::ListConnectorsRequest::default())
        .await
        .expect("the server still answers")
        .into_inner();
    assert_eq!(connectors.connectors.len(), 3);
}

/// A district holding the largest value of every field a caller may set: a 63-character
/// id, a 200-character name, 2,048-character settings, a 4,096-character secret, 50
/// selection values of 64 characters in each selection, every access cell overridden.
fn largest_district(i: usize) -> pb::District {
    let id = format!("big-{i:03}-{}", "x".repeat(63 - 8));
    let wide = |tag: &str| {
        let values = (0..50)
            .map(|v| format!("{tag}{v:02}{}", "v".repeat(61)))
            .collect();
        Some(pb::TypeSelection { all: false, values })
    };
    let cells = (1..=4)
        .flat_map(|row| (1..=4).map(move |capability| (row, capability)))
        .map(|(row, capability)| pb::AccessOverride {
            row,
            capability,
            scope: 4,
        })
        .collect();
    let limit = Some(pb::Limit {
        max_percent: Some(12.5),
        max_count: Some(u64::MAX),
    });
    let mut d = district(
        &id,
        &"N".repeat(200),
        powerschool_connector(
            &format!("https://ps.example.org/{}", "p".repeat(2048 - 23)),
            &"c".repeat(2048),
            &"s".repeat(4096),
            &[
                ("page_size", "1000"),
                ("min_request_interval_ms", "60000"),
                ("max_concurrent_requests", "64"),
                ("max_requests_per_minute", "100000"),
            ],
        ),
        None,
        "America/Argentina/ComodRivadavia",
    );
    d.settings = Some(pb::DistrictSettings {
        daily_sync_enabled: Some(true),
        contact_types: wide("c"),
        contact_relationships: wide("r"),
        phone_types: wide("p"),
        staff_permissions: Some(pb::StaffPermissions {
            values: (1..=7).collect(),
        }),
        access_overrides: Some(pb::AccessOverrides { values: cells }),
        thresholds: Some(pb::Thresholds {
            students_archived: limit,
            guardians_archived: limit,
            links_removed: limit,
            links_downgraded: limit,
            staff_archived: limit,
            classrooms_archived: limit,
        }),
        max_rejected_percent: Some(pb::RejectedLimits {
            max_percent: model::district::RECORD_KINDS
                .iter()
                .map(|k| ((*k).to_owned(), 99.5))
                .collect(),
        }),
        ..Default::default()
    });
    d
}

/// Every page of a list asked for in its largest size, following next_page_token: the
/// rows of each page. `ask` takes a page token and answers the page's encoded size, its
/// rows and its next token; every page must stay within 1 MiB, and the list take more
/// than one.
async fn every_page(
    mut ask: impl AsyncFnMut(String) -> (usize, Vec<String>, String),
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let (bytes, rows, next) = ask(token).await;
        let n = pages.len() + 1;
        assert!(bytes <= 1 << 20, "page {n}: {bytes} bytes");
        pages.push(rows);
        if next.is_empty() {
            break;
        }
        token = next;
    }
    assert!(pages.len() >= 2, "{} page(s)", pages.len());
    pages
}

/// 100 districts and 170 API keys of the largest allowed values (1.4 MB of districts,
/// 1.1 MB of keys, in one answer each before): every page asked for in the largest size
/// stays under 1 MiB — far under the 4 MB a client takes — and the pages together hold
/// every row once.
async fn list_answers_stay_under_a_mebibyte_whatever_their_rows_hold(backend: Backend) {
    let server = Server::start(backend).await;
    let mut client = server.client().await;
    let mut ids = Vec::new();
    for i in 0..100 {
        let d = largest_district(i);
        ids.push(d.district_id.clone());
        client
            .create_district(create_request(d))
            .await
            .unwrap_or_else(|e| panic!("district {i}: {}", e.message()));
    }
    let pages = every_page(async |page_token| {
        let page = client
            .list_districts(pb::ListDistrictsRequest {
                page_size: 1000,
                page_token,
            })
            .await
            .expect("a page")
            .into_inner();
        let rows = page.districts.iter().map(|d| d.district_id.clone());
        (page.encoded_len(), rows.collect(), page.next_page_token)
    })
    .await;
    assert_eq!(pages.concat(), ids, "every district once, in order");

    // Once a key exists every call needs one: the calls go on with a root key.
    let root = crate::access::cli_key(&server, "root", crate::access::ALL);
    let mut client = server.client_with(Some(&root)).await;
    for i in 0..170 {
        client
            .create_api_key(pb::CreateApiKeyRequest {
                name: format!("key-{i:03}-{}", "k".repeat(50)),
                district_ids: ids.clone(),
                abilities: ["read", "spot_sync", "run", "configure", "admin"]
                    .map(String::from)
                    .to_vec(),
            })
            .await
            .unwrap_or_else(|e| panic!("key {i}: {}", e.message()));
    }
    let pages = every_page(async |page_token| {
        let page = client
            .list_api_keys(pb::ListApiKeysRequest {
                page_size: 1000,
                page_token,
            })
            .await
            .expect("a page")
            .into_inner();
        let rows = page.keys.iter().map(|k| k.name.clone());
        (page.encoded_len(), rows.collect(), page.next_page_token)
    })
    .await;
    assert_eq!(pages.concat().len(), 171, "170 keys and the root key");
}
