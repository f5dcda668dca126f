//! Spot sync (seed 000): one user brought up to date from the district's SIS now, with the
//! same policy as the nightly run and only the fields the seed names.
//!
//! > Student accounts: first name (legal), last name (legal), middle name, date of birth,
//! > gender, ASN, current school, current grade, enrollment status, parents (only those
//! > with active access accounts). Guardian accounts: first and last name, e-mail (of the
//! > access account), home phone, cell phone, address (mailing if present, else
//! > physical), students (only those for whom they have active access accounts).
//!
//! One user is a page of one: the run's planner plans it from the user's source record and
//! what the district holds, and seed 000's limits filter the items ([`planner::spot`]). It
//! never creates an account and never links an account that is not linked in the SIS;
//! staff and profiles not connected to the SIS are refused. Its writes are one
//! transaction, recorded in the change log under the spot sync.

use std::collections::HashSet;

use connector::{UserRef, UserSnapshot};
use model::change::Entity;
use model::ids::{DistrictId, GuardianId, SourceId, SpotSyncId, StaffId, StudentId};
use model::roster::{Guardian, Student};
use model::run::PlanItem;
use model::source::{GuardianAccount, SourceStudent};
use model::Synced;
use planner::{Ctx, GuardianFacts, StudentPage};

use crate::error::Refusal;
use crate::{Engine, EngineError};

/// What a spot sync did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpotSyncOutcome {
    pub id: SpotSyncId,
    /// A student or a guardian.
    pub user_kind: Entity,
    pub dry_run: bool,
    pub items: Vec<PlanItem>,
}

/// The user a spot sync is for, by our id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpotUser {
    Student(StudentId),
    Guardian(GuardianId),
}

impl SpotUser {
    /// The staff id with the same value: a staff member's id sent for a user.
    fn as_staff(&self) -> StaffId {
        match self {
            SpotUser::Student(id) => StaffId::from_uuid(id.as_uuid()),
            SpotUser::Guardian(id) => StaffId::from_uuid(id.as_uuid()),
        }
    }

    fn id(&self) -> String {
        match self {
            SpotUser::Student(id) => id.to_string(),
            SpotUser::Guardian(id) => id.to_string(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            SpotUser::Student(_) => "student",
            SpotUser::Guardian(_) => "guardian",
        }
    }
}

enum User {
    Student(Student),
    Guardian(Guardian),
}

/// The answer kept for a caller's request id: who it was for, and what it did.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptAnswer {
    user: String,
    outcome: SpotSyncOutcome,
}

impl Engine {
    /// Spot syncs, for this engine's actor.
    pub fn spot(&self) -> Spot {
        Spot {
            store: self.store.clone(),
            districts: self.districts(),
        }
    }
}

/// Spot sync: it needs the store and the districts' service (a district, its connector,
/// the audit trail) — nothing else of the engine.
#[derive(Debug, Clone)]
pub struct Spot {
    store: store::Store,
    districts: crate::districts::Districts,
}

impl Spot {
    /// Brings one user — a student or a guardian, by our id — up to date from the SIS.
    pub async fn spot_sync(
        &self,
        district: &DistrictId,
        who: SpotUser,
        dry_run: bool,
    ) -> Result<SpotSyncOutcome, EngineError> {
        self.spot_sync_once(district, who, dry_run, None).await
    }

    /// A spot sync for the caller's request `request_id`: a retry of a spot sync that
    /// wrote gets the first answer back, and writes nothing again. (A dry run writes
    /// nothing, so it is simply run again.)
    pub async fn spot_sync_once(
        &self,
        district: &DistrictId,
        who: SpotUser,
        dry_run: bool,
        request_id: Option<&str>,
    ) -> Result<SpotSyncOutcome, EngineError> {
        let request_id = request_id.filter(|_| !dry_run);
        let user = format!("{}:{}", who.kind(), who.id());
        if let Some(request) = request_id {
            if let Some(kept) = self.kept_answer(district, request, &user).await? {
                return Ok(kept);
            }
        }
        let started = std::time::Instant::now();
        let span = tracing::info_span!("spot_sync", district = %district, user = %user);
        let outcome =
            tracing::Instrument::instrument(self.spot_sync_now(district, who, dry_run), span).await;
        crate::metrics::spot_sync(outcome.is_ok(), started.elapsed());
        let outcome = outcome?;
        if dry_run {
            return Ok(outcome);
        }
        let answer = request_id
            .map(|_| {
                serde_json::to_string(&KeptAnswer {
                    user: user.clone(),
                    outcome: outcome.clone(),
                })
            })
            .transpose()
            .map_err(|e| {
                EngineError::Store(store::StoreError::Corrupt {
                    entity: "spot sync request",
                    id: outcome.id.to_string(),
                    field: "answer",
                    reason: e.to_string(),
                })
            })?;
        let written = self
            .store
            .apply_spot_sync(
                district,
                outcome.id,
                &outcome.items,
                crate::now(),
                request_id.zip(answer.as_deref()),
            )
            .await;
        match (written, request_id) {
            (Ok(_), _) => {
                let n = outcome.items.len();
                self.districts
                    .access
                    .audit(
                        district,
                        "spot_sync",
                        &user,
                        format!(
                            "spot sync {}: {n} change{}",
                            outcome.id,
                            if n == 1 { "" } else { "s" }
                        ),
                    )
                    .await;
                Ok(outcome)
            }
            // The same request ran meanwhile and wrote first: its answer stands.
            (Err(store::StoreError::AlreadyExists { .. }), Some(request)) => self
                .kept_answer(district, request, &user)
                .await?
                .ok_or_else(|| EngineError::NotFound {
                    entity: "spot sync request",
                    id: request.to_owned(),
                }),
            (Err(e), _) => Err(e.into()),
        }
    }

    async fn kept_answer(
        &self,
        district: &DistrictId,
        request: &str,
        user: &str,
    ) -> Result<Option<SpotSyncOutcome>, EngineError> {
        let Some(json) = self.store.spot_sync_answer(district, request).await? else {
            return Ok(None);
        };
        let kept: KeptAnswer =
            serde_json::from_str(&json).map_err(|e| store::StoreError::Corrupt {
                entity: "spot sync request",
                id: request.to_owned(),
                field: "answer",
                reason: e.to_string(),
            })?;
        if kept.user != user {
            return Err(EngineError::Invalid(model::ValidationErrors::from(
                model::FieldError::new(
                    "request_id",
                    format!("was already used for the spot sync of {}", kept.user),
                ),
            )));
        }
        Ok(Some(kept.outcome))
    }

    /// Reads the user and its SIS record and plans the changes; writes nothing.
    async fn spot_sync_now(
        &self,
        district: &DistrictId,
        who: SpotUser,
        dry_run: bool,
    ) -> Result<SpotSyncOutcome, EngineError> {
        let d = self.districts.get_district(district).await?;
        let user = self.find_user(district, who).await?;
        let user_id = who.id();
        let connector = self.districts.connector(&d)?;
        let connector_error = |source| EngineError::Connector {
            district: district.to_string(),
            source,
        };
        let ctx = Ctx {
            district,
            settings: &d.settings,
            rules: policy::rules_for(connector.link_rules()),
            now: crate::now(),
        };
        let id = SpotSyncId::new();
        let (kind, items) = match user {
            User::Student(student) => {
                let snapshot = connector
                    .user(&UserRef::Student(student.source_id.clone()))
                    .await
                    .map_err(connector_error)?
                    .ok_or_else(|| not_in_sis("student", &student.id.to_string()))?;
                let src = snapshot
                    .students
                    .iter()
                    .find(|s| s.source_id == student.source_id)
                    .cloned()
                    .ok_or_else(|| not_in_sis("student", &student.id.to_string()))?;
                let items = self.spot_student(&ctx, &student, src, &snapshot).await?;
                (Entity::Student, items)
            }
            User::Guardian(guardian) => {
                let Some(source) = guardian
                    .source_id
                    .clone()
                    .filter(|_| guardian.sis_connected)
                else {
                    return Err(EngineError::refused(Refusal::NotConnectedToSis, format!(
                        "guardian {} is not connected to the district's SIS; spot sync updates connected profiles only",
                        guardian.id
                    )));
                };
                let snapshot = connector
                    .user(&UserRef::Guardian(source.clone()))
                    .await
                    .map_err(connector_error)?
                    .unwrap_or_default();
                let items = self
                    .spot_guardian(&ctx, &guardian, &source, &snapshot)
                    .await?;
                (Entity::Guardian, items)
            }
        };
        tracing::info!(district = %district, spot_sync = %id, user = %user_id.trim(), kind = kind.as_str(), changes = items.len(), dry_run, "spot sync");
        Ok(SpotSyncOutcome {
            id,
            user_kind: kind,
            dry_run,
            items,
        })
    }

    /// The user a spot sync is for; a staff member's id is refused with the reason.
    async fn find_user(&self, district: &DistrictId, who: SpotUser) -> Result<User, EngineError> {
        let found = match who {
            SpotUser::Student(id) => self
                .store
                .get_student(district, id)
                .await
                .map(User::Student),
            SpotUser::Guardian(id) => self
                .store
                .get_guardian(district, id)
                .await
                .map(User::Guardian),
        };
        match found {
            Ok(user) => Ok(user),
            Err(store::StoreError::NotFound { .. }) => {
                // A staff member's id given for a student or a guardian: say why not.
                if self.store.staff_exists(district, who.as_staff()).await? {
                    return Err(EngineError::refused(
                        Refusal::StaffNotSupported,
                        "spot sync does not support staff accounts",
                    ));
                }
                Err(EngineError::NotFound {
                    entity: who.kind(),
                    id: who.id(),
                })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A student: a page of one planned as a run plans it, seed 000's fields kept.
    async fn spot_student(
        &self,
        ctx: &Ctx<'_>,
        student: &Student,
        src: SourceStudent,
        snapshot: &UserSnapshot,
    ) -> Result<Vec<PlanItem>, EngineError> {
        let held = self
            .store
            .students_by_source(ctx.district, std::slice::from_ref(&student.source_id))
            .await?;
        let held_hash = held
            .get(&student.source_id)
            .map(|s| s.source_hash.clone())
            .unwrap_or_default();
        let page = self
            .spot_page(
                ctx,
                vec![(src, student.clone())],
                snapshot,
                &snapshot.guardian_accounts,
            )
            .await?;
        let plan = planner::plan_student_page(ctx, &page, &HashSet::new());
        let user = planner::spot::SpotUser::Student {
            current: student,
            held_hash: &held_hash,
        };
        Ok(planner::spot::spot_items(
            ctx,
            &plan,
            user,
            &page.linked_guardians,
        ))
    }

    /// A guardian: its own fields from its account, and its links to the students it may
    /// see at the source and to those linked here that the source no longer lists.
    async fn spot_guardian(
        &self,
        ctx: &Ctx<'_>,
        guardian: &Guardian,
        source: &SourceId,
        snapshot: &UserSnapshot,
    ) -> Result<Vec<PlanItem>, EngineError> {
        let district = ctx.district;
        let account = snapshot
            .guardian_accounts
            .iter()
            .find(|a| &a.source_id == source);
        let mut items = Vec::new();
        if let Some(account) = account {
            let held = self
                .store
                .guardians_by_source(district, std::slice::from_ref(source))
                .await?;
            let held_hash = held
                .get(source)
                .map(|g| g.source_hash.clone())
                .unwrap_or_default();
            let facts = GuardianFacts {
                held: Some(&Synced {
                    value: guardian.clone(),
                    source_hash: String::new(),
                }),
                account: Some(account),
                marks: Vec::new(),
                links_now: 0,
                new_id: guardian.id,
            };
            let planned = planner::plan_guardian(&facts, ctx);
            items.extend(planner::spot::guardian_update(planned, &held_hash));
        }
        // The students of the account at the source, and those linked here.
        let listed: Vec<SourceId> = snapshot
            .students
            .iter()
            .map(|s| s.source_id.clone())
            .collect();
        let ours = self.store.students_by_source(district, &listed).await?;
        let mut students: Vec<(SourceStudent, Student)> = snapshot
            .students
            .iter()
            .filter_map(|src| {
                ours.get(&src.source_id)
                    .map(|h| (src.clone(), h.value.clone()))
            })
            .collect();
        let seen: HashSet<StudentId> = students.iter().map(|(_, s)| s.id).collect();
        let linked_here: Vec<StudentId> = self
            .store
            .list_guardian_links(district, guardian.id)
            .await?
            .into_iter()
            .map(|l| l.student_id)
            .filter(|s| !seen.contains(s))
            .collect();
        for id in linked_here {
            let student = self.store.get_student(district, id).await?;
            students.push((source_of(&student), student));
        }
        let accounts: Vec<GuardianAccount> = account.into_iter().cloned().collect();
        let page = self.spot_page(ctx, students, snapshot, &accounts).await?;
        let plan = planner::plan_student_page(ctx, &page, &HashSet::new());
        let user = planner::spot::SpotUser::Guardian(guardian.id);
        items.extend(planner::spot::spot_items(
            ctx,
            &plan,
            user,
            &page.linked_guardians,
        ));
        Ok(items)
    }

    /// A page of the students a spot sync plans, staged as a pull stages them, with what
    /// the district holds of them. Their held hashes are left out: a spot sync compares
    /// fields. The linked guardians' accounts count as listed: a spot sync re-keys no one.
    async fn spot_page(
        &self,
        ctx: &Ctx<'_>,
        students: Vec<(SourceStudent, Student)>,
        snapshot: &UserSnapshot,
        accounts: &[GuardianAccount],
    ) -> Result<StudentPage, EngineError> {
        let district = ctx.district;
        let mut page = StudentPage::default();
        for (src, held) in students {
            page.students.push(planner::staged::student(&src));
            page.contacts.extend(
                snapshot
                    .contacts
                    .iter()
                    .filter(|c| c.student_source_id == src.source_id)
                    .map(planner::staged::contact),
            );
            page.held_students.insert(
                src.source_id.clone(),
                Synced {
                    value: held,
                    source_hash: String::new(),
                },
            );
        }
        for a in accounts {
            let (account, relations) = planner::staged::account(a);
            page.accounts.push(account);
            page.relations.extend(relations);
        }
        let ids: Vec<StudentId> = page.held_students.values().map(|s| s.value.id).collect();
        let sources: Vec<SourceId> = accounts.iter().map(|a| a.source_id.clone()).collect();
        page.held_guardians = self.store.guardians_by_source(district, &sources).await?;
        page.held_links = self.store.links_of_students(district, &ids).await?;
        page.form_authors = self.store.form_authors_of(district, &ids).await?;
        let linked = planner::page::linked_guardian_ids(&page.held_links);
        page.linked_guardians = self.store.guardians_by_id(district, &linked).await?;
        page.accounts_listed = planner::page::linked_account_keys(&page.linked_guardians)
            .into_iter()
            .collect();
        Ok(page)
    }
}

fn not_in_sis(kind: &str, id: &str) -> EngineError {
    EngineError::refused(
        Refusal::NotInSis,
        format!("the district's SIS no longer lists {kind} {id}"),
    )
}

/// A student we hold as the policy sees a source student (the SIS no longer lists it for
/// the account).
pub(crate) fn source_of(s: &Student) -> SourceStudent {
    SourceStudent {
        source_id: s.source_id.clone(),
        student_number: s.student_number.clone(),
        sis_id: String::new(),
        state_id: s.state_id.clone(),
        legal_first_name: s.legal_first_name.clone(),
        legal_last_name: s.legal_last_name.clone(),
        middle_name: s.middle_name.clone(),
        birth_date: s.birth_date,
        gender: s.gender.clone(),
        school_source_id: s.school_source_id.clone(),
        grade: s.grade.clone(),
        enrollment_status: s.enrollment_status.clone(),
        independent_student: s.independent_student,
        org_email: s.org_email.clone(),
        personal_email: s.personal_email.clone(),
        web_id: s.web_id.clone(),
        email: String::new(),
        home_phone: String::new(),
        mailing_address: None,
        physical_address: None,
    }
}
