//! The OneRoster pull: schools, students, guardians, staff, classes and enrollments —
//! each collection walked by `limit`/`offset` to its declared end, each page sent on as a
//! batch; records `tobedeleted` (or `inactive`) left out, so the engine archives them.
//!
//! Guardians are tied to students through `agents` in either direction (reference §6.3):
//! the students are read first and every guardian they list is remembered; a guardian
//! is then related to the live students it lists and to those that list it. That memory
//! (one id per student–guardian tie) is the only thing the pull holds across pages.
//!
//! Roles are read by filter (`role='guardian' OR role='parent'`, at most two predicates as
//! OneRoster 1.1 allows); a user with two matching roles is sent once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use connector::{
    roster_stream, ConnectorError, PullCounts, RosterEvent, RosterStream, UserRef, UserSnapshot,
    Warnings,
};
use model::ids::SourceId;

use crate::client::ClassLinkClient;
use crate::map::{self, Context, EnrollmentRead};
use crate::settings::OneRosterVersion;
use crate::wire::{self, ListKey};

/// The filters that list guardians: OneRoster 1.1 allows two predicates per filter.
const GUARDIAN_FILTERS: [&str; 2] = ["role='guardian' OR role='parent'", "role='relative'"];

/// The filters that list administrators, per version (teachers come from `/teachers`).
fn admin_filters(version: OneRosterVersion) -> &'static [&'static str] {
    match version {
        OneRosterVersion::V1_1 => &["role='administrator'"],
        OneRosterVersion::V1_2 => &[
            "role='districtAdministrator' OR role='siteAdministrator'",
            "role='systemAdministrator' OR role='principal'",
        ],
    }
}

/// The schools the district shares, read into the mapping context.
async fn read_schools(
    client: &ClassLinkClient,
    cx: &mut Context,
    mut each: impl FnMut(Vec<model::roster::School>),
) -> Result<(), ConnectorError> {
    let mut pages = client.pages::<wire::Org>("/orgs", ListKey::Orgs, None);
    while let Some(page) = pages.next().await? {
        let schools: Vec<_> = page
            .iter()
            .filter(|o| map::is_live(o.status.as_str()))
            .filter_map(map::school)
            .collect();
        cx.schools
            .extend(schools.iter().map(|s| s.source_id.as_str().to_owned()));
        each(schools);
    }
    Ok(())
}

pub fn roster(client: Arc<ClassLinkClient>) -> RosterStream {
    roster_stream(2, |sink| async move {
        let version = client.settings().version;
        let mut cx = Context::new(version);
        let mut warnings = Warnings::default();
        let mut counts = PullCounts::default();

        let mut batches = Vec::new();
        read_schools(&client, &mut cx, |s| batches.push(s)).await?;
        for schools in batches {
            counts.schools += schools.len() as u64;
            sink.send(RosterEvent::Schools(schools)).await?;
        }

        // Students, and the guardians each lists.
        let mut students: HashSet<String> = HashSet::new();
        let mut listed_by: HashMap<String, Vec<SourceId>> = HashMap::new();
        let mut pages = client.pages::<wire::User>("/students", ListKey::Users, None);
        let endpoint = pages.endpoint().to_owned();
        while let Some(page) = pages.next().await? {
            let mut batch = Vec::new();
            for user in page.iter().filter(|u| map::is_live(u.status.as_str())) {
                counts.students += 1;
                if let Some(student) = map::student(user, &cx, &endpoint, &mut warnings) {
                    for agent in user.agents.ids() {
                        listed_by
                            .entry(agent.to_owned())
                            .or_default()
                            .push(student.source_id.clone());
                    }
                    students.insert(student.source_id.as_str().to_owned());
                    batch.push(student);
                }
            }
            sink.send(RosterEvent::Students(batch)).await?;
            warnings.flush(&sink).await?;
        }

        // Guardians, parents and relatives, tied both ways.
        let mut guardians_seen: HashSet<String> = HashSet::new();
        for filter in GUARDIAN_FILTERS {
            let mut pages = client.pages::<wire::User>("/users", ListKey::Users, Some(filter));
            let endpoint = pages.endpoint().to_owned();
            while let Some(page) = pages.next().await? {
                let mut contacts = Vec::new();
                let mut accounts = Vec::new();
                for user in &page {
                    let id = user.sourced_id.as_str();
                    if !map::is_live(user.status.as_str()) || !guardians_seen.insert(id.to_owned())
                    {
                        continue;
                    }
                    counts.guardian_accounts += 1;
                    let mut tied: Vec<SourceId> = user
                        .agents
                        .ids()
                        .filter(|s| students.contains(*s))
                        .map(SourceId::new)
                        .collect();
                    tied.extend(listed_by.remove(id).unwrap_or_default());
                    tied.sort();
                    tied.dedup();
                    if let Some((c, a)) = map::guardian(user, &tied, &cx, &endpoint, &mut warnings)
                    {
                        contacts.extend(c);
                        accounts.push(a);
                    }
                }
                counts.contacts += contacts.len() as u64;
                sink.send(RosterEvent::Contacts(contacts)).await?;
                sink.send(RosterEvent::GuardianAccounts(accounts)).await?;
                warnings.flush(&sink).await?;
            }
        }
        drop(listed_by);
        drop(students);

        // Teachers and administrators.
        let mut staff_seen: HashSet<String> = HashSet::new();
        let mut lists: Vec<(&str, Option<&str>)> = vec![("/teachers", None)];
        lists.extend(admin_filters(version).iter().map(|f| ("/users", Some(*f))));
        for (path, filter) in lists {
            let mut pages = client.pages::<wire::User>(path, ListKey::Users, filter);
            let endpoint = pages.endpoint().to_owned();
            while let Some(page) = pages.next().await? {
                let fresh = page.iter().filter(|u| {
                    map::is_live(u.status.as_str())
                        && staff_seen.insert(u.sourced_id.as_str().to_owned())
                });
                let mut staff = Vec::new();
                for user in fresh {
                    counts.staff += 1;
                    staff.extend(map::staff(user, &cx, &endpoint, &mut warnings));
                }
                sink.send(RosterEvent::Staff(staff)).await?;
                warnings.flush(&sink).await?;
            }
        }

        let mut pages = client.pages::<wire::Class>("/classes", ListKey::Classes, None);
        let endpoint = pages.endpoint().to_owned();
        while let Some(page) = pages.next().await? {
            let live: Vec<&wire::Class> = page
                .iter()
                .filter(|c| map::is_live(c.status.as_str()))
                .collect();
            counts.classrooms += live.len() as u64;
            let classrooms = live
                .into_iter()
                .filter_map(|c| map::class(c, &endpoint, &mut warnings))
                .collect();
            sink.send(RosterEvent::Classrooms(classrooms)).await?;
            warnings.flush(&sink).await?;
        }

        let mut pages =
            client.pages::<wire::Enrollment>("/enrollments", ListKey::Enrollments, None);
        let endpoint = pages.endpoint().to_owned();
        while let Some(page) = pages.next().await? {
            let mut enrollments = Vec::new();
            for e in page.iter().filter(|e| map::is_live(e.status.as_str())) {
                match map::enrollment(e, &endpoint, &mut warnings) {
                    EnrollmentRead::Member(m) => {
                        counts.enrollments += 1;
                        enrollments.push(m);
                    }
                    EnrollmentRead::Refused => counts.enrollments += 1,
                    EnrollmentRead::NotMembership => {}
                }
            }
            sink.send(RosterEvent::Enrollments(enrollments)).await?;
            warnings.flush(&sink).await?;
        }

        sink.send(RosterEvent::Complete(counts)).await?;
        Ok(())
    })
}

/// A user read by id, or `None` when the server does not know it (404) or it is gone.
async fn live_user(
    client: &ClassLinkClient,
    id: &str,
) -> Result<Option<wire::User>, ConnectorError> {
    match client.user(id).await {
        Ok(u) if map::is_live(u.status.as_str()) => Ok(Some(u)),
        Ok(_) | Err(ConnectorError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// One user now (spot sync): `/users/{sourcedId}` and the users its `agents` name — a
/// student with the guardians it lists, or a guardian with the students it lists. `None`
/// when the server does not know the user or it is `tobedeleted`.
pub async fn user(
    client: &ClassLinkClient,
    who: &UserRef,
) -> Result<Option<UserSnapshot>, ConnectorError> {
    let id = match who {
        UserRef::Student(id) | UserRef::Guardian(id) => id.as_str(),
    };
    let Some(one) = live_user(client, id).await? else {
        return Ok(None);
    };
    let mut cx = Context::new(client.settings().version);
    read_schools(client, &mut cx, |_| {}).await?;
    let mut warnings = Warnings::default();
    let endpoint = "GET /users/{id}";
    let mut agents = Vec::new();
    for agent in one.agents.ids() {
        if let Some(u) = live_user(client, agent).await? {
            agents.push(u);
        }
    }
    let mut snapshot = UserSnapshot::default();
    match who {
        UserRef::Student(_) => {
            let Some(student) = map::student(&one, &cx, endpoint, &mut warnings) else {
                return Ok(None);
            };
            for g in agents
                .iter()
                .filter(|g| map::guardian_role(g, cx.version).is_some())
            {
                let mut tied: Vec<SourceId> = g.agents.ids().map(SourceId::new).collect();
                tied.push(student.source_id.clone());
                tied.sort();
                tied.dedup();
                if let Some((contacts, account)) =
                    map::guardian(g, &tied, &cx, endpoint, &mut warnings)
                {
                    snapshot.contacts.extend(
                        contacts
                            .into_iter()
                            .filter(|c| c.student_source_id == student.source_id),
                    );
                    snapshot.guardian_accounts.push(account);
                }
            }
            snapshot.students.push(student);
        }
        UserRef::Guardian(_) => {
            snapshot.students = agents
                .iter()
                .filter_map(|s| map::student(s, &cx, endpoint, &mut warnings))
                .collect();
            let tied: Vec<SourceId> = snapshot
                .students
                .iter()
                .map(|s| s.source_id.clone())
                .collect();
            let Some((contacts, account)) =
                map::guardian(&one, &tied, &cx, endpoint, &mut warnings)
            else {
                return Ok(None);
            };
            snapshot.contacts = contacts;
            snapshot.guardian_accounts.push(account);
        }
    }
    Ok(Some(snapshot))
}
