//! The district as a ClassLink Roster Server shares it: one plain struct per record, one
//! `Vec` per record type, each kept in ascending `sourcedId` order (the default order of
//! every list, and what lets single reads binary-search). Everything the simulator serves
//! is read from here, and tests edit it live; the server re-sorts after every edit.
//!
//! A record is version-neutral: [`super::render`] shapes it as 1.1 or 1.2. Besides the
//! records, the district holds which ids are withdrawn ([`District::remove`]), whether it
//! shares anything at all, and the ground truth a correct connector derives from it.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};

use super::cases::Cases;

/// `status` of every record. `Inactive` is the OneRoster 1.0 value some servers still send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    Active,
    ToBeDeleted,
    Inactive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::ToBeDeleted => "tobedeleted",
            Status::Inactive => "inactive",
        }
    }

    /// `"active"`, `"tobedeleted"` or `"inactive"`.
    pub fn parse(value: &str) -> Option<Status> {
        match value {
            "active" => Some(Status::Active),
            "tobedeleted" => Some(Status::ToBeDeleted),
            "inactive" => Some(Status::Inactive),
            _ => None,
        }
    }
}

/// A user's role. The three administrator kinds are 1.2 values; 1.1 says `administrator`
/// for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Student,
    Teacher,
    Aide,
    Guardian,
    Parent,
    Relative,
    DistrictAdministrator,
    SiteAdministrator,
    Principal,
}

impl Role {
    /// The 1.1 `role` value.
    pub fn v1p1(self) -> &'static str {
        match self {
            Role::Student => "student",
            Role::Teacher => "teacher",
            Role::Aide => "aide",
            Role::Guardian => "guardian",
            Role::Parent => "parent",
            Role::Relative => "relative",
            Role::DistrictAdministrator | Role::SiteAdministrator | Role::Principal => {
                "administrator"
            }
        }
    }

    /// The 1.2 `roles[].role` value.
    pub fn v1p2(self) -> &'static str {
        match self {
            Role::DistrictAdministrator => "districtAdministrator",
            Role::SiteAdministrator => "siteAdministrator",
            Role::Principal => "principal",
            other => other.v1p1(),
        }
    }

    /// A guardian, parent or relative: a user tied to students through `agents`.
    pub fn is_guardian(self) -> bool {
        matches!(self, Role::Guardian | Role::Parent | Role::Relative)
    }

    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Role::DistrictAdministrator | Role::SiteAdministrator | Role::Principal
        )
    }
}

/// One `userIds` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId {
    /// ClassLink sends `FED`.
    pub kind: String,
    pub identifier: String,
}

/// A user (`/users`, `/students`, `/teachers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub sourced_id: String,
    pub status: Status,
    pub date_last_modified: DateTime<Utc>,
    pub username: String,
    pub user_ids: Vec<UserId>,
    /// Served as the string `"true"` / `"false"`.
    pub enabled_user: bool,
    pub given_name: String,
    pub family_name: String,
    pub middle_name: String,
    /// Served in 1.2 only.
    pub preferred_first_name: Option<String>,
    pub preferred_last_name: Option<String>,
    pub role: Role,
    /// Org sourcedIds; the first is the primary one (1.2 `primaryOrg`, the `primary`
    /// entry of `roles`).
    pub orgs: Vec<String>,
    /// The district's student number for students, the staff number for staff.
    pub identifier: String,
    pub email: String,
    /// The mobile number (`""` when none).
    pub sms: String,
    /// The home number (`""` when none).
    pub phone: String,
    /// User sourcedIds: a student's guardians, a guardian's students.
    pub agents: Vec<String>,
    pub grades: Vec<String>,
}

/// `type` of an org.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgType {
    District,
    School,
}

impl OrgType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgType::District => "district",
            OrgType::School => "school",
        }
    }
}

/// An org (`/orgs`, `/schools`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    pub sourced_id: String,
    pub status: Status,
    pub date_last_modified: DateTime<Utc>,
    pub name: String,
    pub kind: OrgType,
    pub identifier: String,
    pub parent: Option<String>,
    pub children: Vec<String>,
}

/// `type` of an academic session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionType {
    SchoolYear,
    Term,
}

impl SessionType {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionType::SchoolYear => "schoolYear",
            SessionType::Term => "term",
        }
    }
}

/// An academic session (`/academicSessions`, `/terms`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcademicSession {
    pub sourced_id: String,
    pub status: Status,
    pub date_last_modified: DateTime<Utc>,
    pub title: String,
    pub kind: SessionType,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub parent: Option<String>,
    pub children: Vec<String>,
    /// The year the school year ends, `"2026"`.
    pub school_year: String,
}

/// A course (`/courses`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Course {
    pub sourced_id: String,
    pub status: Status,
    pub date_last_modified: DateTime<Utc>,
    pub title: String,
    pub course_code: String,
    /// The schoolYear session.
    pub school_year: String,
    pub grades: Vec<String>,
    pub subjects: Vec<String>,
    /// The org offering it (the district).
    pub org: String,
}

/// `classType` of a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassType {
    Homeroom,
    Scheduled,
}

impl ClassType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClassType::Homeroom => "homeroom",
            ClassType::Scheduled => "scheduled",
        }
    }
}

/// A class (`/classes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub sourced_id: String,
    pub status: Status,
    pub date_last_modified: DateTime<Utc>,
    pub title: String,
    /// ClassLink leaves it empty in practice.
    pub class_code: String,
    pub class_type: ClassType,
    pub location: String,
    pub grades: Vec<String>,
    pub subjects: Vec<String>,
    pub course: String,
    pub school: String,
    /// At least one term.
    pub terms: Vec<String>,
    pub periods: Vec<String>,
}

/// `role` of an enrollment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrollmentRole {
    Student,
    Teacher,
    Administrator,
}

impl EnrollmentRole {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentRole::Student => "student",
            EnrollmentRole::Teacher => "teacher",
            EnrollmentRole::Administrator => "administrator",
        }
    }
}

/// An enrollment (`/enrollments`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub sourced_id: String,
    pub status: Status,
    pub date_last_modified: DateTime<Utc>,
    pub user: String,
    pub class: String,
    pub school: String,
    pub role: EnrollmentRole,
    /// Served as `"true"` / `"false"`; `"true"` only for a class's main teacher.
    pub primary: bool,
    pub begin_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// The whole district. Each `Vec` is in ascending `sourcedId` order once the server has
/// normalised it (after generation and after every [`super::Simulator::edit`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct District {
    pub orgs: Vec<Org>,
    pub sessions: Vec<AcademicSession>,
    pub courses: Vec<Course>,
    pub classes: Vec<Class>,
    pub users: Vec<User>,
    pub enrollments: Vec<Enrollment>,
    pub cases: Cases,
    /// Withdrawn sourcedIds: absent from every list (and from `agents`), 404 on `/{id}`.
    pub removed: HashSet<String>,
    /// The district shares nothing: every collection answers empty.
    pub shares_nothing: bool,
}

/// Finds `id` in a `Vec` sorted by sourcedId, falling back to a scan when an edit left it
/// unsorted.
fn find<'a, T>(rows: &'a [T], id: &str, key: impl Fn(&T) -> &str) -> Option<&'a T> {
    match rows.binary_search_by(|r| key(r).cmp(id)) {
        Ok(i) => rows.get(i),
        Err(_) => rows.iter().find(|r| key(r) == id),
    }
}

fn find_index<T>(rows: &[T], id: &str, key: impl Fn(&T) -> &str) -> Option<usize> {
    match rows.binary_search_by(|r| key(r).cmp(id)) {
        Ok(i) => Some(i),
        Err(_) => rows.iter().position(|r| key(r) == id),
    }
}

impl District {
    pub fn users(&self) -> &[User] {
        &self.users
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        find(&self.users, id, |u| &u.sourced_id)
    }

    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    pub fn org(&self, id: &str) -> Option<&Org> {
        find(&self.orgs, id, |o| &o.sourced_id)
    }

    pub fn sessions(&self) -> &[AcademicSession] {
        &self.sessions
    }

    pub fn session(&self, id: &str) -> Option<&AcademicSession> {
        find(&self.sessions, id, |s| &s.sourced_id)
    }

    pub fn courses(&self) -> &[Course] {
        &self.courses
    }

    pub fn course(&self, id: &str) -> Option<&Course> {
        find(&self.courses, id, |c| &c.sourced_id)
    }

    pub fn classes(&self) -> &[Class] {
        &self.classes
    }

    pub fn class(&self, id: &str) -> Option<&Class> {
        find(&self.classes, id, |c| &c.sourced_id)
    }

    pub fn enrollments(&self) -> &[Enrollment] {
        &self.enrollments
    }

    pub fn enrollment(&self, id: &str) -> Option<&Enrollment> {
        find(&self.enrollments, id, |e| &e.sourced_id)
    }

    pub fn cases(&self) -> &Cases {
        &self.cases
    }

    /// Sorts every `Vec` by sourcedId again (cheap when still sorted).
    pub fn normalize(&mut self) {
        fn sort<T>(rows: &mut [T], key: impl Fn(&T) -> &str) {
            if !rows.is_sorted_by(|a, b| key(a) <= key(b)) {
                rows.sort_by(|a, b| key(a).cmp(key(b)));
            }
        }
        sort(&mut self.orgs, |r| &r.sourced_id);
        sort(&mut self.sessions, |r| &r.sourced_id);
        sort(&mut self.courses, |r| &r.sourced_id);
        sort(&mut self.classes, |r| &r.sourced_id);
        sort(&mut self.users, |r| &r.sourced_id);
        sort(&mut self.enrollments, |r| &r.sourced_id);
    }

    /// Whether any record, of any type, has `id` (withdrawn or not).
    pub fn contains(&self, id: &str) -> bool {
        self.user(id).is_some()
            || self.org(id).is_some()
            || self.class(id).is_some()
            || self.enrollment(id).is_some()
            || self.course(id).is_some()
            || self.session(id).is_some()
    }

    /// Whether the record is served: it exists, is not withdrawn, and the district shares.
    pub fn visible(&self, id: &str) -> bool {
        !self.shares_nothing && (self.removed.is_empty() || !self.removed.contains(id))
    }

    /// Sets the status of the record `id` (any type) and moves its `dateLastModified` to
    /// now. False when no record has `id`.
    pub fn set_status(&mut self, id: &str, status: Status) -> bool {
        let now = next_modified();
        macro_rules! set {
            ($rows:expr) => {
                if let Some(i) = find_index(&$rows, id, |r| &r.sourced_id) {
                    let row = &mut $rows[i];
                    row.status = status;
                    row.date_last_modified = now.max(row.date_last_modified);
                    return true;
                }
            };
        }
        set!(self.users);
        set!(self.orgs);
        set!(self.classes);
        set!(self.enrollments);
        set!(self.courses);
        set!(self.sessions);
        false
    }

    /// Withdraws a record: it vanishes from every list and answers 404. False when no
    /// record has `id`.
    pub fn remove(&mut self, id: &str) -> bool {
        if !self.contains(id) {
            return false;
        }
        self.removed.insert(id.to_owned());
        true
    }

    /// Shares a withdrawn record again.
    pub fn restore(&mut self, id: &str) {
        self.removed.remove(id);
    }

    fn live_user(&self, id: &str) -> Option<&User> {
        self.user(id).filter(|u| self.visible(&u.sourced_id))
    }

    /// Every guardian/parent/relative ↔ student pair tied by `agents` in either direction
    /// where both users exist, are shared and are `active`: `(guardian, student, role)`
    /// with the 1.1 role value.
    pub fn expected_guardian_links(&self) -> BTreeSet<(String, String, String)> {
        let mut links = BTreeSet::new();
        let active = |u: &&User| u.status == Status::Active;
        for user in self.users.iter().filter(|u| self.visible(&u.sourced_id)) {
            if user.status != Status::Active {
                continue;
            }
            for agent in &user.agents {
                let Some(other) = self.live_user(agent).filter(active) else {
                    continue;
                };
                let pair = if user.role.is_guardian() && other.role == Role::Student {
                    (user, other)
                } else if user.role == Role::Student && other.role.is_guardian() {
                    (other, user)
                } else {
                    continue;
                };
                links.insert((
                    pair.0.sourced_id.clone(),
                    pair.1.sourced_id.clone(),
                    pair.0.role.v1p1().to_owned(),
                ));
            }
        }
        links
    }

    fn active_users(&self, keep: impl Fn(Role) -> bool) -> BTreeSet<String> {
        self.users
            .iter()
            .filter(|u| keep(u.role) && u.status == Status::Active)
            .filter(|u| self.visible(&u.sourced_id))
            .map(|u| u.sourced_id.clone())
            .collect()
    }

    /// The sourcedIds of the shared, active students.
    pub fn active_students(&self) -> BTreeSet<String> {
        self.active_users(|r| r == Role::Student)
    }

    /// The sourcedIds of the shared, active teachers and administrators.
    pub fn active_staff(&self) -> BTreeSet<String> {
        self.active_users(|r| r == Role::Teacher || r.is_admin())
    }

    /// The sourcedIds of the shared, active classes.
    pub fn active_classes(&self) -> BTreeSet<String> {
        self.classes
            .iter()
            .filter(|c| c.status == Status::Active && self.visible(&c.sourced_id))
            .map(|c| c.sourced_id.clone())
            .collect()
    }

    /// The users of each guardian-kind role, for quick case lookups in tests.
    pub fn users_by_role(&self) -> HashMap<Role, Vec<&User>> {
        let mut out: HashMap<Role, Vec<&User>> = HashMap::new();
        for user in &self.users {
            out.entry(user.role).or_default().push(user);
        }
        out
    }
}

/// Now, to the millisecond, strictly later than the last value this returned (so a
/// `dateLastModified` moved by an edit always moves forward).
pub(super) fn next_modified() -> DateTime<Utc> {
    use std::sync::Mutex;
    static LAST: Mutex<Option<DateTime<Utc>>> = Mutex::new(None);
    let now = Utc::now();
    let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
    let next = match *last {
        Some(prev) if prev >= now => prev + chrono::Duration::milliseconds(1),
        _ => now,
    };
    *last = Some(next);
    next
}
