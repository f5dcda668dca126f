//! Spot sync (seed 000): one user brought up to date from the district's SIS now, with the
//! same policy as the nightly run and only the fields the seed names.
//!
//! > Student accounts: first name (legal), last name (legal), middle name, date of birth,
//! > gender, ASN, current school, current grade, enrollment status, parents (only those
//! > with active access accounts). Guardian accounts: first and last name, e-mail (of the
//! > access account), home phone, cell phone, address (mailing if present, else
//! > physical), students (only those for whom they have active access accounts).
//!
//! It never creates an account and never links an account that is not linked in the SIS;
//! staff and profiles not connected to the SIS are refused. Its writes are one
//! transaction, recorded in the change log under the spot sync.

use std::collections::{BTreeSet, HashSet};

use connector::UserRef;
use model::change::{Entity, Operation};
use model::ids::{DistrictId, GuardianId, SourceId, SpotSyncId, StaffId, StudentId};
use model::link::Link;
use model::roster::{AccountStatus, Guardian, Student};
use model::run::PlanItem;
use model::source::SourceStudent;
use policy::reconcile::{GuardianRef, KnownGuardian, SisRelationship};

use crate::error::Refusal;
use crate::sync::plan::{guardian_from_account, held_links_of, link_item};
use crate::{Engine, EngineError};
use model::fields::{changes, guardian_fields, student_fields};

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
                self.audit(
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
        let d = self.get_district(district).await?;
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
        let user = match found {
            Ok(user) => user,
            Err(store::StoreError::NotFound { .. }) => {
                // A staff member's id given for a student or a guardian: say why not.
                if self.store.staff_exists(district, who.as_staff()).await? {
                    return Err(EngineError::refused(
                        Refusal::StaffNotSupported,
                        "spot sync does not support staff accounts",
                    ));
                }
                return Err(EngineError::NotFound {
                    entity: who.kind(),
                    id: who.id(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let user_id = who.id();
        let connector = self.connector(&d)?;
        let connector_error = |source| EngineError::Connector {
            district: district.to_string(),
            source,
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
                let mut items = Vec::new();
                let updated = seed_000_student(&student, &src);
                let old = student_fields(&student);
                let c = changes(
                    Entity::Student,
                    &student.id.to_string(),
                    Operation::Update,
                    Some(&old),
                    &student_fields(&updated),
                );
                let hash = self
                    .store
                    .students_by_source(district, std::slice::from_ref(&student.source_id))
                    .await?;
                if !c.is_empty() {
                    items.push(PlanItem::Student {
                        operation: Operation::Update,
                        student: updated,
                        source_hash: hash
                            .get(&student.source_id)
                            .map(|s| s.source_hash.clone())
                            .unwrap_or_default(),
                        changes: c,
                    });
                }
                let links = self
                    .links_for(
                        &d,
                        &src,
                        student.id,
                        &snapshot.contacts,
                        &snapshot.guardian_accounts,
                        None,
                    )
                    .await?;
                items.extend(links);
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
                let account = snapshot
                    .guardian_accounts
                    .iter()
                    .find(|a| a.source_id == source);
                let mut items = Vec::new();
                if let Some(account) = account {
                    let updated = guardian_from_account(Some(&guardian), account, &d.settings);
                    let c = changes(
                        Entity::Guardian,
                        &guardian.id.to_string(),
                        Operation::Update,
                        Some(&guardian_fields(&guardian)),
                        &guardian_fields(&updated),
                    );
                    if !c.is_empty() {
                        let hash = self
                            .store
                            .guardians_by_source(district, std::slice::from_ref(&source))
                            .await?;
                        items.push(PlanItem::Guardian {
                            operation: Operation::Update,
                            guardian: updated,
                            source_hash: hash
                                .get(&source)
                                .map(|g| g.source_hash.clone())
                                .unwrap_or_default(),
                            changes: c,
                        });
                    }
                }
                // The students of the account at the source, and those linked here.
                let listed: Vec<SourceId> = snapshot
                    .students
                    .iter()
                    .map(|s| s.source_id.clone())
                    .collect();
                let ours = self.store.students_by_source(district, &listed).await?;
                let held = self
                    .store
                    .list_guardian_links(district, guardian.id)
                    .await?;
                let mut done: HashSet<StudentId> = HashSet::new();
                for src in &snapshot.students {
                    let Some(student) = ours.get(&src.source_id) else {
                        continue;
                    };
                    done.insert(student.value.id);
                    let accounts: Vec<_> = account.into_iter().cloned().collect();
                    items.extend(
                        self.links_for(
                            &d,
                            src,
                            student.value.id,
                            &snapshot.contacts,
                            &accounts,
                            Some(guardian.id),
                        )
                        .await?,
                    );
                }
                for link in held.iter().filter(|l| !done.contains(&l.student_id)) {
                    let student = self.store.get_student(district, link.student_id).await?;
                    let src = source_of(&student);
                    items.extend(
                        self.links_for(&d, &src, student.id, &[], &[], Some(guardian.id))
                            .await?,
                    );
                }
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

    /// The link changes of one student from its SIS relationships, as the nightly run
    /// decides them, limited to `only` when given. Never creates a guardian account.
    async fn links_for(
        &self,
        d: &model::district::District,
        src: &SourceStudent,
        student: StudentId,
        contacts: &[model::roster::Contact],
        accounts: &[model::source::GuardianAccount],
        only: Option<GuardianId>,
    ) -> Result<Vec<PlanItem>, EngineError> {
        let district = &d.id;
        // Guardians the sync does not manage are left as they are.
        if !d.settings.manage_guardians {
            return Ok(Vec::new());
        }
        let rules = policy::rules_for(
            self.registry
                .get(&d.connector.kind)
                .map_err(|source| EngineError::Connector {
                    district: district.to_string(),
                    source,
                })?
                .link_rules(),
        );
        let held_links = self.store.links_of_students(district, &[student]).await?;
        let ids: Vec<GuardianId> = held_links.iter().map(|l| l.guardian_id).collect();
        let linked = self.store.guardians_by_id(district, &ids).await?;
        let sources: Vec<SourceId> = accounts.iter().map(|a| a.source_id.clone()).collect();
        let known_by_source = self.store.guardians_by_source(district, &sources).await?;
        let known: Vec<KnownGuardian> = known_by_source
            .iter()
            .map(|(s, g)| KnownGuardian {
                id: g.value.id,
                source_id: s.clone(),
            })
            .collect();
        let authors: BTreeSet<GuardianId> = self
            .store
            .form_authors_of(district, &[student])
            .await?
            .into_iter()
            .map(|f| f.guardian_id)
            .collect();
        let refs: Vec<&Link> = held_links.iter().collect();
        let held = held_links_of(&refs, &linked);
        let sis: Vec<SisRelationship> = accounts
            .iter()
            .filter(|a| a.student_source_ids.contains(&src.source_id))
            .map(|a| SisRelationship {
                account: a.clone(),
                verdict: rules.evaluate(src, contacts, a, &d.settings),
            })
            .collect();
        let out = policy::reconcile(&held, &sis, &authors, &known);
        let mut items = Vec::new();
        let now = crate::now();
        for o in out.links {
            // Spot sync never creates an account.
            let GuardianRef::Existing(guardian) = o.guardian else {
                continue;
            };
            if only.is_some_and(|g| g != guardian) {
                continue;
            }
            let held = held_links.iter().find(|l| l.guardian_id == guardian);
            items.extend(link_item(&o, student, guardian, held, now));
        }
        for (guardian, _) in out.incomplete {
            if only.is_some_and(|g| g != guardian) {
                continue;
            }
            if let Some(g) = linked.get(&guardian) {
                if g.status != AccountStatus::Incomplete {
                    let updated = Guardian {
                        status: AccountStatus::Incomplete,
                        ..g.clone()
                    };
                    items.push(PlanItem::Guardian {
                        operation: Operation::Update,
                        changes: changes(
                            Entity::Guardian,
                            &guardian.to_string(),
                            Operation::Update,
                            Some(&guardian_fields(g)),
                            &guardian_fields(&updated),
                        ),
                        source_hash: String::new(),
                        guardian: updated,
                    });
                }
            }
        }
        Ok(items)
    }
}

fn not_in_sis(kind: &str, id: &str) -> EngineError {
    EngineError::refused(
        Refusal::NotInSis,
        format!("the district's SIS no longer lists {kind} {id}"),
    )
}

/// Exactly the fields seed 000 lets spot sync change on a student.
fn seed_000_student(current: &Student, src: &SourceStudent) -> Student {
    Student {
        legal_first_name: src.legal_first_name.trim().to_owned(),
        legal_last_name: src.legal_last_name.trim().to_owned(),
        middle_name: src.middle_name.trim().to_owned(),
        birth_date: src.birth_date,
        gender: src.gender.clone(),
        state_id: src.state_id.trim().to_owned(),
        school_source_id: src.school_source_id.clone(),
        grade: src.grade.trim().to_owned(),
        enrollment_status: src.enrollment_status.clone(),
        ..current.clone()
    }
}

/// A held student as the policy sees it when the SIS no longer lists it for the account.
/// A student we hold as the policy sees a source student.
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
