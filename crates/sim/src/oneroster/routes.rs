//! The roster paths under a version root (reference §3): the collections, their
//! `/{sourcedId}` single reads, and the nested lists. Each path picks its rows and hands
//! them to [`super::query::list`]; sourcedIds are percent-decoded from the path.

use std::collections::HashSet;

use super::data::*;
use super::oauth::decode;
use super::query::{list, single, ListQuery, Page, Params};
use super::render::{Ctx, Demographics, Record};
use super::reply::Reply;

/// A roster request, authenticated, ready to answer.
#[derive(Debug)]
pub(super) struct Roster<'a> {
    /// The path after the version root, split on `/`, each segment decoded.
    pub segments: Vec<String>,
    pub params: &'a Params,
    /// `http://HOST:PORT` + the raw path, for `Link`.
    pub url: String,
    pub max_limit: u32,
    pub short_page: bool,
    pub quirks: &'a super::quirks::Quirks,
}

impl Roster<'_> {
    pub fn split(rest: &str) -> Vec<String> {
        rest.trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .map(decode)
            .collect()
    }
}

/// Lists `rows` under `key`, after checking the query against `R`.
fn collection<'r, R: Record + 'r>(
    rows: impl Iterator<Item = &'r R>,
    key: &str,
    req: &Roster<'_>,
    ctx: &Ctx<'_>,
) -> Reply {
    match ListQuery::parse::<R>(req.params, ctx.version, req.max_limit) {
        Ok(query) => list(
            rows,
            key,
            &query,
            ctx,
            &Page {
                url: &req.url,
                params: req.params,
                short_page: req.short_page,
                quirks: req.quirks,
            },
        ),
        Err(reply) => reply,
    }
}

fn unknown(what: &str, id: &str) -> Reply {
    Reply::not_found(format!("{what} {id} not found"))
}

/// The ids of users enrolled in `class` with `role`.
fn enrolled_in<'d>(d: &'d District, class: &str, role: EnrollmentRole) -> HashSet<&'d str> {
    d.enrollments
        .iter()
        .filter(|e| e.class == class && e.role == role && e.visible(d))
        .map(|e| e.user.as_str())
        .collect()
}

/// The ids of classes `user` is enrolled in.
fn classes_of<'d>(d: &'d District, user: &str) -> HashSet<&'d str> {
    d.enrollments
        .iter()
        .filter(|e| e.user == user && e.visible(d))
        .map(|e| e.class.as_str())
        .collect()
}

/// Answers a roster path.
pub(super) fn answer(req: &Roster<'_>, ctx: &Ctx<'_>) -> Reply {
    let d = ctx.district;
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let live = |id: &str| !d.shares_nothing && d.visible(id);
    let school = |id: &str| d.org(id).filter(|o| o.kind == OrgType::School && live(id));
    let user_of = |id: &str, role: Option<Role>| {
        d.user(id)
            .filter(|u| role.is_none_or(|r| u.role == r) && live(id))
    };
    match segs.as_slice() {
        ["orgs"] => collection(d.orgs.iter(), "orgs", req, ctx),
        ["orgs", id] => single(d.org(id), "org", id, req.params, ctx),
        ["schools"] => collection(
            d.orgs.iter().filter(|o| o.kind == OrgType::School),
            "orgs",
            req,
            ctx,
        ),
        ["schools", id] => single(
            d.org(id).filter(|o| o.kind == OrgType::School),
            "school",
            id,
            req.params,
            ctx,
        ),
        ["academicSessions"] => collection(d.sessions.iter(), "academicSessions", req, ctx),
        ["academicSessions", id] => single(d.session(id), "academicSession", id, req.params, ctx),
        ["terms"] => collection(
            d.sessions.iter().filter(|s| s.kind == SessionType::Term),
            "academicSessions",
            req,
            ctx,
        ),
        ["terms", id] => single(
            d.session(id).filter(|s| s.kind == SessionType::Term),
            "term",
            id,
            req.params,
            ctx,
        ),
        ["gradingPeriods"] => collection(
            std::iter::empty::<&AcademicSession>(),
            "academicSessions",
            req,
            ctx,
        ),
        ["gradingPeriods", id] => unknown("gradingPeriod", id),
        ["courses"] => collection(d.courses.iter(), "courses", req, ctx),
        ["courses", id] => single(d.course(id), "course", id, req.params, ctx),
        ["classes"] => collection(d.classes.iter(), "classes", req, ctx),
        ["classes", id] => single(d.class(id), "class", id, req.params, ctx),
        ["enrollments"] => collection(d.enrollments.iter(), "enrollments", req, ctx),
        ["enrollments", id] => single(d.enrollment(id), "enrollment", id, req.params, ctx),
        ["users"] => collection(d.users.iter(), "users", req, ctx),
        ["users", id] => single(d.user(id), "user", id, req.params, ctx),
        ["demographics"] => {
            let students: Vec<Demographics<'_>> = d
                .users
                .iter()
                .filter(|u| u.role == Role::Student)
                .map(Demographics)
                .collect();
            collection(students.iter(), "demographics", req, ctx)
        }
        ["demographics", id] => single(
            d.user(id)
                .filter(|u| u.role == Role::Student)
                .map(Demographics)
                .as_ref(),
            "demographics",
            id,
            req.params,
            ctx,
        ),
        ["students"] => collection(
            d.users.iter().filter(|u| u.role == Role::Student),
            "users",
            req,
            ctx,
        ),
        ["students", id] => single(
            d.user(id).filter(|u| u.role == Role::Student),
            "student",
            id,
            req.params,
            ctx,
        ),
        ["teachers"] => collection(
            d.users.iter().filter(|u| u.role == Role::Teacher),
            "users",
            req,
            ctx,
        ),
        ["teachers", id] => single(
            d.user(id).filter(|u| u.role == Role::Teacher),
            "teacher",
            id,
            req.params,
            ctx,
        ),
        ["schools", id, what] => {
            let Some(org) = school(id) else {
                return unknown("school", id);
            };
            let id = org.sourced_id.as_str();
            let of_school =
                |u: &&User, role: Role| u.role == role && u.orgs.iter().any(|o| o == id);
            match *what {
                "students" => collection(
                    d.users.iter().filter(|u| of_school(u, Role::Student)),
                    "users",
                    req,
                    ctx,
                ),
                "teachers" => collection(
                    d.users.iter().filter(|u| of_school(u, Role::Teacher)),
                    "users",
                    req,
                    ctx,
                ),
                "classes" => collection(
                    d.classes.iter().filter(|c| c.school == id),
                    "classes",
                    req,
                    ctx,
                ),
                "enrollments" => collection(
                    d.enrollments.iter().filter(|e| e.school == id),
                    "enrollments",
                    req,
                    ctx,
                ),
                "courses" => {
                    let courses: HashSet<&str> = d
                        .classes
                        .iter()
                        .filter(|c| c.school == id)
                        .map(|c| c.course.as_str())
                        .collect();
                    collection(
                        d.courses
                            .iter()
                            .filter(|c| courses.contains(c.sourced_id.as_str())),
                        "courses",
                        req,
                        ctx,
                    )
                }
                "terms" => {
                    let terms: HashSet<&str> = d
                        .classes
                        .iter()
                        .filter(|c| c.school == id)
                        .flat_map(|c| c.terms.iter().map(String::as_str))
                        .collect();
                    collection(
                        d.sessions
                            .iter()
                            .filter(|s| terms.contains(s.sourced_id.as_str())),
                        "academicSessions",
                        req,
                        ctx,
                    )
                }
                _ => Reply::not_found("unknown path"),
            }
        }
        ["schools", s, "classes", c, what] => {
            let in_school = d
                .class(c)
                .filter(|class| class.school == *s && live(c))
                .is_some();
            if school(s).is_none() || !in_school {
                return unknown("class", c);
            }
            class_members(d, c, what, req, ctx)
        }
        ["classes", id, what] => {
            if d.class(id).filter(|_| live(id)).is_none() {
                return unknown("class", id);
            }
            class_members(d, id, what, req, ctx)
        }
        ["students" | "teachers" | "users", id, "classes"] => {
            let role = match segs[0] {
                "students" => Some(Role::Student),
                "teachers" => Some(Role::Teacher),
                _ => None,
            };
            if user_of(id, role).is_none() {
                return unknown("user", id);
            }
            let classes = classes_of(d, id);
            collection(
                d.classes
                    .iter()
                    .filter(|c| classes.contains(c.sourced_id.as_str())),
                "classes",
                req,
                ctx,
            )
        }
        ["courses", id, "classes"] => {
            if d.course(id).filter(|_| live(id)).is_none() {
                return unknown("course", id);
            }
            collection(
                d.classes.iter().filter(|c| c.course == *id),
                "classes",
                req,
                ctx,
            )
        }
        ["terms", id, "classes"] => {
            if d.session(id).filter(|_| live(id)).is_none() {
                return unknown("term", id);
            }
            collection(
                d.classes.iter().filter(|c| c.terms.iter().any(|t| t == id)),
                "classes",
                req,
                ctx,
            )
        }
        _ => Reply::not_found("unknown path"),
    }
}

/// `/classes/{id}/students|teachers|enrollments`.
fn class_members(d: &District, class: &str, what: &str, req: &Roster<'_>, ctx: &Ctx<'_>) -> Reply {
    let role = match what {
        "students" => EnrollmentRole::Student,
        "teachers" => EnrollmentRole::Teacher,
        "enrollments" => {
            return collection(
                d.enrollments.iter().filter(|e| e.class == class),
                "enrollments",
                req,
                ctx,
            )
        }
        _ => return Reply::not_found("unknown path"),
    };
    let members = enrolled_in(d, class, role);
    collection(
        d.users
            .iter()
            .filter(|u| members.contains(u.sourced_id.as_str())),
        "users",
        req,
        ctx,
    )
}
