//! The OneRoster pull: schools, students, guardians, staff, classes and enrollments —
//! each collection walked by `limit`/`offset` to its declared end, each page sent on as a
//! batch as it arrives; records `tobedeleted` (or `inactive`) left out, so the engine
//! archives them.
//!
//! Guardians are tied to students through `agents` in either direction (reference §6.3):
//! the students are read first and every guardian they list is remembered; a guardian
//! is then related to the live students it lists and to those that list it. That memory
//! (one id per student–guardian tie) is the only thing the pull holds across pages.
//!
//! Birth dates and sex come from `/demographics` (where the district shares them), read
//! first into one small entry per student.
//!
//! Which users are guardians and staff: OneRoster 1.1 reads them by filter
//! (`role='guardian' OR role='parent'`, at most two predicates as 1.1 allows). A 1.2
//! user has no `role` (its roles are `roles[]`), a strict 1.2 server refuses a filter
//! naming it, and no document says a server filters on `roles.role` (reference §8): 1.2
//! reads `/users` once and selects guardians and staff by their roles on our side. A user
//! listed twice (two matching roles) is sent once.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use connector::{
    roster_stream, ConnectorError, PullCounts, PullStop, RecordKind, RosterEvent, RosterSink,
    RosterStream, UserRef, UserSnapshot, Warnings,
};
use model::ids::SourceId;

use crate::client::ClassLinkClient;
use crate::map::{self, Context, EnrollmentRead};
use crate::settings::OneRosterVersion;
use crate::wire::{self, ListKey};

/// The filters that list guardians in 1.1: at most two predicates per filter.
const GUARDIAN_FILTERS: [&str; 2] = ["role='guardian' OR role='parent'", "role='relative'"];

/// The filter that lists 1.1 administrators (teachers come from `/teachers`).
const ADMIN_FILTER: &str = "role='administrator'";

/// The live school orgs of a page, remembered in the mapping context.
fn schools_of(page: &[wire::Org], cx: &mut Context) -> Vec<model::roster::School> {
    let schools: Vec<_> = page
        .iter()
        .filter(|o| map::is_live(o.status.as_str()))
        .filter_map(map::school)
        .collect();
    cx.schools
        .extend(schools.iter().map(|s| s.source_id.as_str().to_owned()));
    schools
}

/// The schools the district shares, read into the mapping context.
async fn read_schools(client: &ClassLinkClient, cx: &mut Context) -> Result<(), ConnectorError> {
    let mut pages = client.pages::<wire::Org>("/orgs", ListKey::Orgs, None);
    while let Some(page) = pages.next().await? {
        schools_of(&page, cx);
    }
    Ok(())
}

/// What the pull carries from page to page.
struct Pull {
    cx: Context,
    warnings: Warnings,
    counts: PullCounts,
    /// Live students read, by sourcedId.
    students: HashSet<String>,
    /// The guardians each student lists, until the guardian is read.
    listed_by: HashMap<String, Vec<SourceId>>,
    guardians_seen: HashSet<String>,
    staff_seen: HashSet<String>,
}

impl Pull {
    /// The guardians of a page of users, tied both ways, sent on.
    async fn guardians(
        &mut self,
        page: &[&wire::User],
        endpoint: &str,
        sink: &RosterSink,
    ) -> Result<(), PullStop> {
        let mut contacts = Vec::new();
        let mut accounts = Vec::new();
        for user in page {
            let id = user.sourced_id.as_str();
            if !map::is_live(user.status.as_str()) || !self.guardians_seen.insert(id.to_owned()) {
                continue;
            }
            self.counts.guardian_accounts += 1;
            let mut tied: Vec<SourceId> = user
                .agents
                .ids()
                .filter(|s| self.students.contains(*s))
                .map(SourceId::new)
                .collect();
            tied.extend(self.listed_by.remove(id).unwrap_or_default());
            tied.sort();
            tied.dedup();
            if let Some((c, a)) = map::guardian(user, &tied, &self.cx, endpoint, &mut self.warnings)
            {
                contacts.extend(c);
                accounts.push(a);
            }
        }
        self.counts.contacts += contacts.len() as u64;
        sink.send(RosterEvent::Contacts(contacts)).await?;
        sink.send(RosterEvent::GuardianAccounts(accounts)).await?;
        self.warnings.flush(sink).await?;
        Ok(())
    }

    /// The staff of a page of users (teachers and administrators), sent on.
    async fn staff(
        &mut self,
        page: &[&wire::User],
        endpoint: &str,
        sink: &RosterSink,
    ) -> Result<(), PullStop> {
        let mut staff = Vec::new();
        for user in page {
            if !map::is_live(user.status.as_str())
                || !self.staff_seen.insert(user.sourced_id.as_str().to_owned())
            {
                continue;
            }
            self.counts.staff += 1;
            staff.extend(map::staff(user, &self.cx, endpoint, &mut self.warnings));
        }
        sink.send(RosterEvent::Staff(staff)).await?;
        self.warnings.flush(sink).await?;
        Ok(())
    }

    /// 1.1: guardians by role filter.
    async fn guardians_1_1(
        &mut self,
        client: &ClassLinkClient,
        sink: &RosterSink,
    ) -> Result<(), PullStop> {
        for filter in GUARDIAN_FILTERS {
            let mut pages = client.pages::<wire::User>("/users", ListKey::Users, Some(filter));
            let endpoint = pages.endpoint().to_owned();
            while let Some(page) = pages.next().await? {
                let page: Vec<&wire::User> = page.iter().collect();
                self.guardians(&page, &endpoint, sink).await?;
            }
        }
        Ok(())
    }

    /// 1.1: teachers from `/teachers`, administrators by role filter.
    async fn staff_1_1(
        &mut self,
        client: &ClassLinkClient,
        sink: &RosterSink,
    ) -> Result<(), PullStop> {
        for (path, filter) in [("/teachers", None), ("/users", Some(ADMIN_FILTER))] {
            let mut pages = client.pages::<wire::User>(path, ListKey::Users, filter);
            let endpoint = pages.endpoint().to_owned();
            while let Some(page) = pages.next().await? {
                let page: Vec<&wire::User> = page.iter().collect();
                self.staff(&page, &endpoint, sink).await?;
            }
        }
        Ok(())
    }

    /// 1.2: `/users` once, each user a guardian or staff member by its `roles[]`.
    async fn people_1_2(
        &mut self,
        client: &ClassLinkClient,
        sink: &RosterSink,
    ) -> Result<(), PullStop> {
        let staff_roles = map::staff_roles(self.cx.version);
        let mut pages = client.pages::<wire::User>("/users", ListKey::Users, None);
        let endpoint = pages.endpoint().to_owned();
        while let Some(page) = pages.next().await? {
            // A user may hold a guardian role and a staff role at once: it is both.
            let guardians: Vec<&wire::User> = page
                .iter()
                .filter(|u| map::guardian_role(u, self.cx.version).is_some())
                .collect();
            let staff: Vec<&wire::User> = page
                .iter()
                .filter(|u| {
                    map::roles(u, self.cx.version)
                        .iter()
                        .any(|r| staff_roles.iter().any(|s| s.eq_ignore_ascii_case(r)))
                })
                .collect();
            self.guardians(&guardians, &endpoint, sink).await?;
            self.staff(&staff, &endpoint, sink).await?;
        }
        Ok(())
    }
}

/// What `/demographics` gives a student: its birth date and sex.
type Demographics = HashMap<String, (Option<chrono::NaiveDate>, model::roster::Gender)>;

/// Birth dates and sex, where the district shares them (a separate OneRoster scope,
/// reference §2.2): a refusal (403, 404) is a warning and students come without them;
/// any other error fails the pull. One small entry per student, read before the
/// students so each page of them is complete when it is sent.
async fn read_demographics(
    client: &ClassLinkClient,
    warnings: &mut Warnings,
    sink: &RosterSink,
) -> Result<Demographics, PullStop> {
    let mut found = Demographics::new();
    let mut pages = client.pages::<wire::Demographic>("/demographics", ListKey::Demographics, None);
    let endpoint = pages.endpoint().to_owned();
    loop {
        let page = match pages.next().await {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(found),
            Err(e) => {
                let Some((_, reason)) = connector::Unavailable::refusal(&e) else {
                    return Err(e.into());
                };
                tracing::warn!(error = %e, source_said = e.source_said().unwrap_or(""), "demographics are not shared");
                sink.send(RosterEvent::Warning(connector::PullWarning {
                    endpoint: endpoint.clone(),
                    record: String::new(),
                    message: format!(
                        "birth dates and sex are not shared: {reason}; students are synced without them"
                    ),
                }))
                .await?;
                return Ok(Demographics::new());
            }
        };
        for d in page.iter().filter(|d| map::is_live(d.status.as_str())) {
            let read = map::demographic(d, &endpoint, warnings);
            found.insert(d.sourced_id.as_str().to_owned(), read);
        }
    }
}

async fn read_classes(
    client: &ClassLinkClient,
    warnings: &mut Warnings,
    counts: &mut PullCounts,
    sink: &RosterSink,
) -> Result<(), PullStop> {
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
            .filter_map(|c| map::class(c, &endpoint, warnings))
            .collect();
        sink.send(RosterEvent::Classrooms(classrooms)).await?;
        warnings.flush(sink).await?;
    }
    Ok(())
}

async fn read_enrollments(
    client: &ClassLinkClient,
    warnings: &mut Warnings,
    counts: &mut PullCounts,
    sink: &RosterSink,
) -> Result<(), PullStop> {
    let mut pages = client.pages::<wire::Enrollment>("/enrollments", ListKey::Enrollments, None);
    let endpoint = pages.endpoint().to_owned();
    while let Some(page) = pages.next().await? {
        let mut enrollments = Vec::new();
        for e in page.iter().filter(|e| map::is_live(e.status.as_str())) {
            match map::enrollment(e, &endpoint, warnings) {
                EnrollmentRead::Member(m) => {
                    counts.enrollments += 1;
                    enrollments.push(m);
                }
                EnrollmentRead::Refused => counts.enrollments += 1,
                EnrollmentRead::NotMembership => {}
            }
        }
        sink.send(RosterEvent::Enrollments(enrollments)).await?;
        warnings.flush(sink).await?;
    }
    Ok(())
}

pub fn roster(client: Arc<ClassLinkClient>) -> RosterStream {
    roster_stream(2, |sink| crate::client::with_revision(pull(client, sink)))
}

/// The whole pull, every page held to the data revision of the first.
async fn pull(client: Arc<ClassLinkClient>, sink: RosterSink) -> Result<(), PullStop> {
    let version = client.settings().version;
    let mut pull = Pull {
        cx: Context::new(version),
        warnings: Warnings::default(),
        counts: PullCounts::default(),
        students: HashSet::new(),
        listed_by: HashMap::new(),
        guardians_seen: HashSet::new(),
        staff_seen: HashSet::new(),
    };

    let mut pages = client.pages::<wire::Org>("/orgs", ListKey::Orgs, None);
    while let Some(page) = pages.next().await? {
        let schools = schools_of(&page, &mut pull.cx);
        pull.counts.schools += schools.len() as u64;
        sink.send(RosterEvent::Schools(schools)).await?;
    }

    let demographics = read_demographics(&client, &mut pull.warnings, &sink).await?;

    // Students, and the guardians each lists.
    let mut pages = client.pages::<wire::User>("/students", ListKey::Users, None);
    let endpoint = pages.endpoint().to_owned();
    while let Some(page) = pages.next().await? {
        let mut batch = Vec::new();
        for user in page.iter().filter(|u| map::is_live(u.status.as_str())) {
            pull.counts.students += 1;
            if let Some(mut student) = map::student(user, &pull.cx, &endpoint, &mut pull.warnings) {
                if let Some((born, sex)) = demographics.get(student.source_id.as_str()) {
                    student.birth_date = *born;
                    student.gender = sex.clone();
                }
                for agent in user.agents.ids() {
                    pull.listed_by
                        .entry(agent.to_owned())
                        .or_default()
                        .push(student.source_id.clone());
                }
                pull.students.insert(student.source_id.as_str().to_owned());
                batch.push(student);
            }
        }
        sink.send(RosterEvent::Students(batch)).await?;
        pull.warnings.flush(&sink).await?;
    }

    // Guardians, parents and relatives, tied both ways; teachers and administrators.
    match version {
        OneRosterVersion::V1_1 => {
            pull.guardians_1_1(&client, &sink).await?;
            let staff = pull.staff_1_1(&client, &sink).await;
            sink.optional(staff, &[RecordKind::Staff]).await?;
        }
        OneRosterVersion::V1_2 => pull.people_1_2(&client, &sink).await?,
    }
    let Pull {
        mut warnings,
        mut counts,
        ..
    } = pull;

    // Classes and enrollments are optional (SPEC §2c): a server that refuses them
    // leaves the district's classrooms as they are.
    let classes = read_classes(&client, &mut warnings, &mut counts, &sink).await;
    let read = sink
        .optional(classes, &[RecordKind::Classroom, RecordKind::Enrollment])
        .await?;
    if read {
        let enrollments = read_enrollments(&client, &mut warnings, &mut counts, &sink).await;
        sink.optional(enrollments, &[RecordKind::Enrollment])
            .await?;
    }

    sink.send(RosterEvent::Complete(counts)).await?;
    Ok(())
}

/// A student's birth date and sex from `/demographics/{id}`, where the district shares
/// them, as a pull reads them; a refusal leaves them unknown.
async fn with_demographics(
    client: &ClassLinkClient,
    student: &mut model::source::SourceStudent,
    warnings: &mut Warnings,
) -> Result<(), ConnectorError> {
    match client.demographic(student.source_id.as_str()).await {
        Ok(d) => {
            (student.birth_date, student.gender) =
                map::demographic(&d, "GET /demographics/{id}", warnings);
            Ok(())
        }
        Err(e) if connector::Unavailable::refusal(&e).is_some() => Ok(()),
        Err(e) => Err(e),
    }
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
    read_schools(client, &mut cx).await?;
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
            let Some(mut student) = map::student(&one, &cx, endpoint, &mut warnings) else {
                return Ok(None);
            };
            with_demographics(client, &mut student, &mut warnings).await?;
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
            for student in &mut snapshot.students {
                with_demographics(client, student, &mut warnings).await?;
            }
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
