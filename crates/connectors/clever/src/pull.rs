//! The Clever pull: first `/districts`, which must be the configured district alone (a
//! token of another district reads nothing); then schools, students, contacts, teachers and staff, sections — each list
//! walked to its end, each page sent on as a batch. Clever declares no totals, so the
//! counts the pull declares complete with are what it paged through; the engine's tally
//! checks every record was received or refused.

use std::collections::HashSet;
use std::sync::Arc;

use connector::{
    roster_stream, ConnectorError, PullCounts, PullStop, RecordKind, RosterEvent, RosterSink,
    RosterStream, UserRef, UserSnapshot,
};
use model::ids::SourceId;

use crate::client::CleverClient;
use crate::map::{self, Warnings};
use crate::wire;

/// Teachers and staff; a user who is both is listed by both roles and sent once.
async fn read_staff(
    client: &CleverClient,
    warnings: &mut Warnings,
    counts: &mut PullCounts,
    sink: &RosterSink,
) -> Result<(), PullStop> {
    let mut staff_seen: HashSet<String> = HashSet::new();
    for role in ["teacher", "staff"] {
        let mut pages = client.pages::<wire::User>("/users", &[("role", role)]);
        let endpoint = pages.endpoint();
        while let Some(page) = pages.next().await? {
            let fresh: Vec<&wire::User> = page
                .iter()
                .filter(|u| staff_seen.insert(u.id.as_str().to_owned()))
                .collect();
            counts.staff += fresh.len() as u64;
            let staff = fresh
                .into_iter()
                .filter_map(|u| map::staff(u, &endpoint, warnings))
                .collect();
            sink.send(RosterEvent::Staff(staff)).await?;
            warnings.flush(sink).await?;
        }
    }
    Ok(())
}

/// Sections as classrooms, with their teachers and students as enrollments.
async fn read_sections(
    client: &CleverClient,
    warnings: &mut Warnings,
    counts: &mut PullCounts,
    sink: &RosterSink,
) -> Result<(), PullStop> {
    let mut pages = client.pages::<wire::Section>("/sections", &[]);
    let endpoint = pages.endpoint();
    while let Some(page) = pages.next().await? {
        counts.classrooms += page.len() as u64;
        let mut classrooms = Vec::new();
        let mut enrollments = Vec::new();
        for s in &page {
            if let Some((c, e)) = map::section(s, &endpoint, warnings) {
                classrooms.push(c);
                enrollments.extend(e);
            }
        }
        counts.enrollments += enrollments.len() as u64;
        sink.send(RosterEvent::Classrooms(classrooms)).await?;
        sink.send(RosterEvent::Enrollments(enrollments)).await?;
        warnings.flush(sink).await?;
    }
    Ok(())
}

pub fn roster(client: Arc<CleverClient>, district: String) -> RosterStream {
    roster_stream(2, |sink| async move {
        client.verify_district(&district).await?;
        let mut warnings = Warnings::default();
        let mut counts = PullCounts::default();

        let mut pages = client.pages::<wire::School>("/schools", &[]);
        while let Some(page) = pages.next().await? {
            counts.schools += page.len() as u64;
            let schools = page.iter().filter_map(map::school).collect();
            sink.send(RosterEvent::Schools(schools)).await?;
        }

        let mut pages = client.pages::<wire::User>("/users", &[("role", "student")]);
        let endpoint = pages.endpoint();
        while let Some(page) = pages.next().await? {
            counts.students += page.len() as u64;
            let students = page
                .iter()
                .filter_map(|u| map::student(u, &endpoint, &mut warnings))
                .collect();
            sink.send(RosterEvent::Students(students)).await?;
            warnings.flush(&sink).await?;
        }

        let mut pages = client.pages::<wire::User>("/users", &[("role", "contact")]);
        let endpoint = pages.endpoint();
        while let Some(page) = pages.next().await? {
            counts.guardian_accounts += page.len() as u64;
            let mut contacts = Vec::new();
            let mut accounts = Vec::new();
            for user in &page {
                if let Some((c, a)) = map::contact(user, &endpoint, &mut warnings) {
                    contacts.extend(c);
                    accounts.push(a);
                }
            }
            counts.contacts += contacts.len() as u64;
            sink.send(RosterEvent::Contacts(contacts)).await?;
            sink.send(RosterEvent::GuardianAccounts(accounts)).await?;
            warnings.flush(&sink).await?;
        }

        // Staff and sections are optional (SPEC §2c): a refusal leaves them as held.
        let staff = read_staff(&client, &mut warnings, &mut counts, &sink).await;
        sink.optional(staff, &[RecordKind::Staff]).await?;
        let sections = read_sections(&client, &mut warnings, &mut counts, &sink).await;
        sink.optional(sections, &[RecordKind::Classroom, RecordKind::Enrollment])
            .await?;

        sink.send(RosterEvent::Complete(counts)).await?;
        Ok(())
    })
}

/// One user now (spot sync): a student with its contacts (`/users/{id}/mycontacts`), or a
/// contact with its students (`/users/{id}/mystudents`); `None` when Clever does not
/// know the user (404: unshared or gone).
pub async fn user(
    client: &CleverClient,
    district: &str,
    who: &UserRef,
) -> Result<Option<UserSnapshot>, ConnectorError> {
    client.verify_district(district).await?;
    let id = match who {
        UserRef::Student(id) | UserRef::Guardian(id) => id.as_str(),
    };
    let one: wire::Single<wire::User> =
        match client.get(client.url(&format!("/users/{id}"), &[])).await {
            Ok(one) => one,
            Err(ConnectorError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
    let mut warnings = Warnings::default();
    let mut snapshot = UserSnapshot::default();
    let endpoint = "GET /users/{id}";
    match who {
        UserRef::Student(_) => {
            let Some(student) = map::student(&one.data, endpoint, &mut warnings) else {
                return Ok(None);
            };
            let mut pages = client.pages::<wire::User>(&format!("/users/{id}/mycontacts"), &[]);
            while let Some(page) = pages.next().await? {
                for u in &page {
                    if let Some((contacts, account)) = map::contact(u, endpoint, &mut warnings) {
                        snapshot.contacts.extend(
                            contacts
                                .into_iter()
                                .filter(|c| c.student_source_id == student.source_id),
                        );
                        snapshot.guardian_accounts.push(account);
                    }
                }
            }
            snapshot.students.push(student);
        }
        UserRef::Guardian(_) => {
            let Some((contacts, account)) = map::contact(&one.data, endpoint, &mut warnings) else {
                return Ok(None);
            };
            let mut pages = client.pages::<wire::User>(&format!("/users/{id}/mystudents"), &[]);
            while let Some(page) = pages.next().await? {
                snapshot.students.extend(
                    page.iter()
                        .filter_map(|u| map::student(u, endpoint, &mut warnings)),
                );
            }
            let known: HashSet<&SourceId> =
                snapshot.students.iter().map(|s| &s.source_id).collect();
            snapshot.contacts.extend(
                contacts
                    .into_iter()
                    .filter(|c| known.contains(&c.student_source_id)),
            );
            snapshot.guardian_accounts.push(account);
        }
    }
    Ok(Some(snapshot))
}
