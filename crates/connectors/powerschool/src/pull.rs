//! The nightly pull (seed 001's three fetches) and the one-user read of spot sync.
//!
//! Order: code sets once; schools (`/ws/v1/district/school`, counted); then per school
//! the students with enrollment status ≤ 0, page by page (counted per school). Each page
//! is one batch: the students, their web access ids (`students` table), their contacts
//! (contact tables) and the guardian accounts `student_guardian_detail` lists for them,
//! with the people behind those accounts. Independent students (type 121) are the same
//! records, flagged from their `s_ab_stu_x` extension. Nothing outlives its batch, so
//! memory stays flat however large the district.
//!
//! A record too broken to map (no id, no enrollment status, an unparseable birth date, or
//! anything [`model::validate`] refuses) is left out as rejected, naming the endpoint and
//! the record; the declared count still includes it (declared = received + rejected), and
//! the engine decides whether the share of them is acceptable.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use futures::StreamExt;

use connector::{
    page_keys, roster_stream, ConnectorError, PageWalk, PullCounts, PullStop, PullWarning,
    RejectedRecord, RosterEvent, RosterSink, RosterStream, UserRef, UserSnapshot,
};
use model::roster::Contact;
use model::source::{GuardianAccount, SourceStudent};

use crate::client::PsClient;
use crate::fields::{self, TableRead};
use crate::map::{self, Codes, ContactTables, PersonTables, Warnings};
use crate::wire::{self, Record};

/// Students with enrollment status ≤ 0: active (0) and pre-registered (−1).
pub const STATUS_FILTER: &str = "school_enrollment.enroll_status_code==(-1,0)";

/// Batches waiting between the pull and its consumer.
const CHANNEL_BATCHES: usize = 4;

/// One page of students with everything the link rules need about them.
#[derive(Debug, Default)]
pub struct Batch {
    pub students: Vec<SourceStudent>,
    pub contacts: Vec<Contact>,
    pub guardian_accounts: Vec<GuardianAccount>,
    pub warnings: Vec<PullWarning>,
    /// Records left out as malformed.
    pub rejected: Vec<RejectedRecord>,
}

/// The whole district as a stream.
pub fn roster(client: Arc<PsClient>) -> RosterStream {
    roster_stream(CHANNEL_BATCHES, move |sink| async move {
        run(&client, &sink).await
    })
}

async fn run(client: &PsClient, sink: &RosterSink) -> Result<(), PullStop> {
    let limits = client.limits().await?.clone();
    let codes = client.codes(true).await?;
    tracing::debug!(codes = codes.len(), version = %limits.version, "powerschool pull started");

    let school_path = "/ws/v1/district/school";
    let declared_schools = client.v1_count(school_path, &[]).await?;
    let mut walk = PageWalk::new(
        format!("GET {school_path}"),
        limits.school_page,
        Some(declared_schools),
    );
    // Each page is sent as it arrives; the schools' ids are what the rest of the pull needs.
    let mut school_ids: Vec<String> = Vec::new();
    while let Some(page) = walk.next_page() {
        let (size, page) = (walk.page_size().to_string(), page.to_string());
        let answer: wire::SchoolsAnswer = client
            .get(school_path, &[("pagesize", &size), ("page", &page)])
            .await?;
        let schools = answer.schools.school.0;
        walk.record(schools.len(), page_keys(&schools))?;
        school_ids.extend(schools.iter().map(|s| s.id.as_str().to_owned()));
        sink.send(RosterEvent::Schools(
            schools.iter().map(map::school).collect(),
        ))
        .await?;
    }

    let mut declared = PullCounts {
        schools: declared_schools,
        ..PullCounts::default()
    };
    let concurrency = client.http().config().concurrency.max(1);
    for school in &school_ids {
        let path = format!("/ws/v1/school/{school}/student");
        let endpoint = format!("GET {path}");
        let count = client.v1_count(&path, &[("q", STATUS_FILTER)]).await?;
        declared.students += count;
        let mut walk = PageWalk::new(endpoint.clone(), limits.student_page, Some(count));
        if walk.next_page().is_none() {
            continue;
        }
        // Page 1's rows alone: the server may send fewer rows than asked, and the walk
        // then takes that as its page size (SPEC §2c). Its students are completed
        // beside the other pages, so a page size costs one round trip.
        let first = student_rows(client, &path, walk.page_size(), 1).await?;
        let page_size = walk.page_size_after_first(first.len());
        let pages = count.div_ceil(u64::from(page_size));
        let mut first = Some(first);
        let mut batches = futures::stream::iter(1..=pages)
            .map(|page| {
                let fetched = if page == 1 { first.take() } else { None };
                student_page(client, &codes, &path, &endpoint, page_size, page, fetched)
            })
            .buffered(concurrency);
        while let Some(batch) = batches.next().await {
            if walk.next_page().is_none() {
                break;
            }
            send_page(sink, &mut walk, &mut declared, batch?).await?;
        }
        if walk.next_page().is_some() {
            // Fewer rows than counted and no short page to say so: the pages ran out.
            walk.record(0, None)?;
        }
    }
    crate::sections::pull(client, sink, &school_ids, &mut declared).await?;
    sink.send(RosterEvent::Complete(declared)).await?;
    Ok(())
}

/// Records a page of students in `walk` and sends its batch.
async fn send_page(
    sink: &RosterSink,
    walk: &mut PageWalk,
    declared: &mut PullCounts,
    (rows, keys, batch): StudentPage,
) -> Result<(), PullStop> {
    walk.record(rows, keys.as_ref().map(|(f, l)| (f.as_str(), l.as_str())))?;
    declared.contacts += batch.contacts.len() as u64;
    declared.guardian_accounts += batch.guardian_accounts.len() as u64;
    for w in batch.warnings {
        sink.send(RosterEvent::Warning(w)).await?;
    }
    for r in batch.rejected {
        sink.send(RosterEvent::Rejected(r)).await?;
    }
    sink.send(RosterEvent::Students(batch.students)).await?;
    sink.send(RosterEvent::Contacts(batch.contacts)).await?;
    sink.send(RosterEvent::GuardianAccounts(batch.guardian_accounts))
        .await
}

/// A page of students: how many rows it held, its first and last keys, and its batch.
type StudentPage = (usize, Option<(String, String)>, Batch);

/// One page of a school's students with everything the rules need about them; also the
/// number of rows the page held.
/// `fetched` holds the page's rows when they were read already.
async fn student_page(
    client: &PsClient,
    codes: &Codes,
    path: &str,
    endpoint: &str,
    page_size: u32,
    page: u64,
    fetched: Option<Vec<wire::Student>>,
) -> Result<StudentPage, ConnectorError> {
    let students = match fetched {
        Some(rows) => rows,
        None => student_rows(client, path, page_size, page).await?,
    };
    complete_page(client, codes, endpoint, students).await
}

/// The rows of one page of a school's students (status ≤ 0).
async fn student_rows(
    client: &PsClient,
    path: &str,
    page_size: u32,
    page: u64,
) -> Result<Vec<wire::Student>, ConnectorError> {
    let (size, page) = (page_size.to_string(), page.to_string());
    let extensions = fields::student_extensions();
    let answer: wire::StudentsAnswer = client
        .get(
            path,
            &[
                ("q", STATUS_FILTER),
                ("expansions", fields::STUDENT_EXPANSIONS),
                ("extensions", &extensions),
                ("pagesize", &size),
                ("page", &page),
            ],
        )
        .await?;
    Ok(answer.students.student.0)
}

/// A page of students completed with their contacts and guardian accounts.
async fn complete_page(
    client: &PsClient,
    codes: &Codes,
    endpoint: &str,
    students: Vec<wire::Student>,
) -> Result<StudentPage, ConnectorError> {
    let keys = page_keys(&students).map(|(f, l)| (f.to_owned(), l.to_owned()));
    let batch = batch(client, codes, &students, endpoint, None).await?;
    Ok((students.len(), keys, batch))
}

/// One user now (spot sync).
pub async fn user(
    client: &PsClient,
    user: &UserRef,
) -> Result<Option<UserSnapshot>, ConnectorError> {
    let codes = client.codes(false).await?;
    let (students, rows, endpoint) = match user {
        UserRef::Student(id) => {
            let Some(student) = student_by_dcid(client, id.as_str()).await? else {
                return Ok(None);
            };
            (
                vec![student],
                None,
                format!("GET /ws/v1/student/{}", id.as_str()),
            )
        }
        UserRef::Guardian(id) => {
            let body = serde_json::json!({ "guardian_id": [id.as_str()] });
            let rows = client
                .query_rows(&fields::STUDENT_GUARDIAN_DETAIL, &body)
                .await?;
            let dcids: BTreeSet<&str> = rows
                .iter()
                .map(|r| r.get("students", "dcid"))
                .filter(|s| !s.is_empty())
                .collect();
            let mut students = Vec::with_capacity(dcids.len());
            for dcid in dcids {
                if let Some(s) = student_by_dcid(client, dcid).await? {
                    students.push(s);
                }
            }
            (students, Some(rows), fields::STUDENT_GUARDIAN_DETAIL.path())
        }
    };
    let batch = batch(client, &codes, &students, &endpoint, rows).await?;
    for w in &batch.warnings {
        tracing::warn!(endpoint = %w.endpoint, record = %w.record, "{}", w.message);
    }
    for r in &batch.rejected {
        tracing::warn!(endpoint = %r.endpoint, record = %r.record, "refused: {}", r.reason);
    }
    Ok(Some(UserSnapshot {
        students: batch.students,
        contacts: batch.contacts,
        guardian_accounts: batch.guardian_accounts,
    }))
}

async fn student_by_dcid(
    client: &PsClient,
    dcid: &str,
) -> Result<Option<wire::Student>, ConnectorError> {
    if dcid.is_empty() || !dcid.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let path = format!("/ws/v1/student/{dcid}");
    let extensions = fields::student_extensions();
    match client
        .get::<wire::StudentAnswer>(
            &path,
            &[
                ("expansions", fields::STUDENT_EXPANSIONS),
                ("extensions", &extensions),
            ],
        )
        .await
    {
        Ok(answer) => Ok(Some(answer.student)),
        Err(ConnectorError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn column(rows: &[Record], table: &TableRead, column: &str) -> Vec<String> {
    let set: BTreeSet<&str> = rows
        .iter()
        .map(|r| r.get(table.table, column))
        .filter(|v| !v.is_empty())
        .collect();
    set.into_iter().map(str::to_owned).collect()
}

/// Everything about `students` the policy needs. `guardian_rows` are the
/// `student_guardian_detail` records to use; `None` fetches those of these students.
pub async fn batch(
    client: &PsClient,
    codes: &Codes,
    students: &[wire::Student],
    endpoint: &str,
    guardian_rows: Option<Vec<Record>>,
) -> Result<Batch, ConnectorError> {
    use fields::*;
    let dcids: Vec<String> = students
        .iter()
        .map(|s| s.id.as_str().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if dcids.is_empty() {
        return Ok(Batch::default());
    }
    // Stage 1: web access ids, contact links, guardian accounts.
    let guardians = async {
        match guardian_rows {
            Some(rows) => Ok(rows),
            None => {
                let body = serde_json::json!({ "students_dcid": dcids });
                client.query_rows(&STUDENT_GUARDIAN_DETAIL, &body).await
            }
        }
    };
    let (web, assoc, rows) = tokio::try_join!(
        client.table_rows_in(&STUDENTS, "dcid", &dcids),
        client.table_rows_in(&STUDENT_CONTACT_ASSOC, "studentdcid", &dcids),
        guardians,
    )?;
    // Stage 2: contact details, the people behind guardian accounts.
    let guardian_ids: Vec<String> = {
        let set: BTreeSet<&str> = rows
            .iter()
            .map(|r| r.get("guardian", "guardianid"))
            .filter(|v| !v.is_empty())
            .collect();
        set.into_iter().map(str::to_owned).collect()
    };
    let assoc_ids = column(&assoc, &STUDENT_CONTACT_ASSOC, "studentcontactassocid");
    let (detail, guardian_person) = tokio::try_join!(
        client.table_rows_in(&STUDENT_CONTACT_DETAIL, "studentcontactassocid", &assoc_ids),
        client.table_rows_in(&GUARDIAN_PERSON_ASSOC, "guardianid", &guardian_ids),
    )?;
    // Stage 3: decision-making flags and the person tables.
    let persons: Vec<String> = {
        let mut set: BTreeSet<String> = column(&assoc, &STUDENT_CONTACT_ASSOC, "personid")
            .into_iter()
            .collect();
        set.extend(column(&guardian_person, &GUARDIAN_PERSON_ASSOC, "personid"));
        set.into_iter().collect()
    };
    let detail_ids = column(&detail, &STUDENT_CONTACT_DETAIL, "studentcontactdetailid");
    let (u_detail, person, email_assoc, phone_assoc, address_assoc) = tokio::try_join!(
        client.table_rows_in(
            &U_STUDENT_CONTACT_DETAIL,
            "studentcontactdetailid",
            &detail_ids
        ),
        client.table_rows_in(&PERSON, "id", &persons),
        client.table_rows_in(&PERSON_EMAIL_ADDRESS_ASSOC, "personid", &persons),
        client.table_rows_in(&PERSON_PHONE_NUMBER_ASSOC, "personid", &persons),
        client.table_rows_in(&PERSON_ADDRESS_ASSOC, "personid", &persons),
    )?;
    // Stage 4: the e-mail addresses, numbers and addresses themselves.
    let email_ids = column(&email_assoc, &PERSON_EMAIL_ADDRESS_ASSOC, "emailaddressid");
    let phone_ids = column(&phone_assoc, &PERSON_PHONE_NUMBER_ASSOC, "phonenumberid");
    let address_ids = column(&address_assoc, &PERSON_ADDRESS_ASSOC, "personaddressid");
    let (email, phone, address) = tokio::try_join!(
        client.table_rows_in(&EMAIL_ADDRESS, "emailaddressid", &email_ids),
        client.table_rows_in(&PHONE_NUMBER, "phonenumberid", &phone_ids),
        client.table_rows_in(&PERSON_ADDRESS, "personaddressid", &address_ids),
    )?;

    let mut warnings = Warnings::default();
    let web_ids: HashMap<&str, &str> = web
        .iter()
        .map(|r| {
            (
                r.get(STUDENTS.table, "dcid"),
                r.get(STUDENTS.table, "web_id"),
            )
        })
        .collect();
    let mapped = students
        .iter()
        .filter_map(|s| {
            map::student(
                s,
                web_ids.get(s.id.as_str()).copied().unwrap_or_default(),
                endpoint,
                &mut warnings,
            )
        })
        .collect();
    let tables = PersonTables {
        person,
        email_assoc,
        email,
        phone_assoc,
        phone,
        address_assoc,
        address,
    };
    let people = map::people(&tables, codes, &mut warnings);
    let contacts = map::contacts(
        &ContactTables {
            assoc,
            detail,
            u_detail,
        },
        &people,
        codes,
        &mut warnings,
    );
    let guardian_accounts = map::guardian_accounts(&rows, &guardian_person, &people);
    Ok(Batch {
        students: mapped,
        contacts,
        guardian_accounts,
        warnings: warnings.0,
        rejected: warnings.1,
    })
}
