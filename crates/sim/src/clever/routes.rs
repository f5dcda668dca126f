//! The `/v3.0` and `/v3.1` resources: which records each path lists or reads. Lists go
//! through [`super::list::page`]; records the district does not share are neither listed
//! nor read (404).

use serde_json::json;

use super::data::{District, Role, Section, User};
use super::list::{self, ListRequest, Paging, Params};
use super::render::{self, Version};
use super::reply::Reply;

/// A request for a versioned resource, already authenticated.
#[derive(Debug)]
pub(super) struct Resource<'a> {
    pub version: Version,
    /// The path after the version (`["users", "<id>", "mycontacts"]`).
    pub segments: &'a [&'a str],
    pub path: &'a str,
    pub raw_query: &'a str,
    pub params: &'a Params,
    pub max_limit: u32,
    pub short_page: bool,
    /// The most records a page holds, whatever `limit` asked.
    pub page_cap: Option<usize>,
}

impl Resource<'_> {
    fn list(&self) -> Result<ListRequest<'_>, Reply> {
        Ok(ListRequest {
            path: self.path,
            raw_query: self.raw_query,
            params: self.params,
            paging: Paging::from(self.params, self.max_limit)?.capped(self.page_cap),
            version: self.version.as_str(),
            short_page: self.short_page,
        })
    }

    /// The `role=` filter, limited to `allowed`; `None` when absent (every role).
    fn role(&self, allowed: &[Role]) -> Result<Option<Role>, Reply> {
        match self.params.get("role") {
            None | Some("") => Ok(None),
            Some(name) => match Role::parse(name).filter(|r| allowed.contains(r)) {
                Some(role) => Ok(Some(role)),
                None => Err(Reply::bad_request(format!("invalid role {name:?}"))),
            },
        }
    }
}

/// Answers a versioned resource from the district.
pub(super) fn answer(d: &District, req: &Resource<'_>) -> Reply {
    match route(d, req) {
        Ok(reply) | Err(reply) => reply,
    }
}

fn route(d: &District, req: &Resource<'_>) -> Result<Reply, Reply> {
    let v = req.version;
    Ok(match req.segments {
        ["districts"] => {
            let list = req.list()?;
            list::page(
                vec![&d.record],
                |r| r.id.as_str(),
                |_| render::district(d),
                "districts",
                &list,
            )
        }
        ["districts", id] => {
            if *id != d.record.id {
                return Err(Reply::not_found());
            }
            single(render::district(d))
        }
        ["schools"] => {
            let list = req.list()?;
            let schools = d.schools.iter().filter(|s| d.is_shared(&s.id)).collect();
            list::page(
                schools,
                |s| s.id.as_str(),
                |s| render::school(d, s),
                "schools",
                &list,
            )
        }
        ["schools", id, rest @ ..] => {
            let school = d
                .school(id)
                .filter(|s| d.is_shared(&s.id))
                .ok_or_else(Reply::not_found)?;
            match rest {
                [] => single(render::school(d, school)),
                ["users"] => {
                    let role = req.role(&[Role::Student, Role::Teacher, Role::Staff])?;
                    let list = req.list()?;
                    let users = d
                        .users
                        .iter()
                        .filter(|u| u.schools().contains(&school.id.as_str()))
                        .filter(|u| role.is_none_or(|r| u.has_role(r)))
                        .collect();
                    users_page(d, users, v, &list)
                }
                ["sections"] => {
                    let list = req.list()?;
                    let sections = d
                        .sections
                        .iter()
                        .filter(|s| s.school == school.id)
                        .collect();
                    sections_page(d, sections, &list)
                }
                _ => return Err(Reply::not_found()),
            }
        }
        ["users"] => {
            let role = req.role(&Role::ALL)?;
            let list = req.list()?;
            let users = d
                .users
                .iter()
                .filter(|u| role.is_none_or(|r| u.has_role(r)))
                .collect();
            users_page(d, users, v, &list)
        }
        ["users", id, rest @ ..] => {
            let user = shared_user(d, id)?;
            match rest {
                [] => single(render::user(d, user, v)),
                ["mycontacts"] => {
                    let list = req.list()?;
                    let contacts = if user.has_role(Role::Student) {
                        d.contacts_of(&user.id).collect()
                    } else {
                        Vec::new()
                    };
                    users_page(d, contacts, v, &list)
                }
                ["mystudents"] => {
                    let list = req.list()?;
                    users_page(d, students_of(d, user), v, &list)
                }
                ["sections"] => {
                    let list = req.list()?;
                    let sections = d
                        .sections
                        .iter()
                        .filter(|s| s.students.contains(&user.id) || s.teachers.contains(&user.id))
                        .collect();
                    sections_page(d, sections, &list)
                }
                ["schools"] => {
                    let list = req.list()?;
                    let mine = user.schools();
                    let schools = d
                        .schools
                        .iter()
                        .filter(|s| d.is_shared(&s.id) && mine.contains(&s.id.as_str()))
                        .collect();
                    list::page(
                        schools,
                        |s| s.id.as_str(),
                        |s| render::school(d, s),
                        "schools",
                        &list,
                    )
                }
                _ => return Err(Reply::not_found()),
            }
        }
        ["sections"] => {
            let list = req.list()?;
            sections_page(d, d.sections.iter().collect(), &list)
        }
        ["sections", id, rest @ ..] => {
            let section = d
                .section(id)
                .filter(|s| d.is_shared(&s.id))
                .ok_or_else(Reply::not_found)?;
            match rest {
                [] => single(render::section(d, section)),
                ["users"] => {
                    let role = req.role(&[Role::Student, Role::Teacher])?;
                    let list = req.list()?;
                    let users = d
                        .users
                        .iter()
                        .filter(|u| {
                            let student = section.students.contains(&u.id);
                            let teacher = section.teachers.contains(&u.id);
                            match role {
                                Some(Role::Student) => student,
                                Some(_) => teacher,
                                None => student || teacher,
                            }
                        })
                        .collect();
                    users_page(d, users, v, &list)
                }
                _ => return Err(Reply::not_found()),
            }
        }
        _ => return Err(Reply::not_found()),
    })
}

/// `{"data": record}`, a single read.
fn single(record: serde_json::Value) -> Reply {
    Reply::ok(&json!({ "data": record }))
}

fn shared_user<'d>(d: &'d District, id: &str) -> Result<&'d User, Reply> {
    d.user(id)
        .filter(|u| d.is_shared(&u.id))
        .ok_or_else(Reply::not_found)
}

/// A contact's listed students, a teacher's students (of its sections), a staff
/// member's (of its schools), every student for a district admin; none for a student.
fn students_of<'d>(d: &'d District, user: &User) -> Vec<&'d User> {
    let r = &user.roles;
    let students = d.users_with_role(Role::Student);
    if let Some(contact) = &r.contact {
        return students
            .filter(|s| {
                contact
                    .student_relationships
                    .iter()
                    .any(|l| l.student == s.id)
            })
            .collect();
    }
    if r.district_admin.is_some() {
        return students.collect();
    }
    let taught: Vec<&String> = d
        .sections
        .iter()
        .filter(|s| s.teachers.contains(&user.id))
        .flat_map(|s| s.students.iter())
        .collect();
    let staff_schools: Vec<&str> = r
        .staff
        .as_ref()
        .map(|s| s.schools.iter().map(String::as_str).collect())
        .unwrap_or_default();
    students
        .filter(|s| {
            taught.contains(&&s.id)
                || s.roles.student.as_ref().is_some_and(|st| {
                    st.schools
                        .iter()
                        .any(|x| staff_schools.contains(&x.as_str()))
                })
        })
        .collect()
}

fn users_page(d: &District, users: Vec<&User>, v: Version, list: &ListRequest<'_>) -> Reply {
    let users = users.into_iter().filter(|u| d.is_shared(&u.id)).collect();
    list::page(
        users,
        |u| u.id.as_str(),
        |u| render::user(d, u, v),
        "users",
        list,
    )
}

fn sections_page(d: &District, sections: Vec<&Section>, list: &ListRequest<'_>) -> Reply {
    let sections = sections
        .into_iter()
        .filter(|s| d.is_shared(&s.id))
        .collect();
    list::page(
        sections,
        |s| s.id.as_str(),
        |s| render::section(d, s),
        "sections",
        list,
    )
}
