//! The access policy: the one place that decides whether a caller may read or change something.
//!
//! Every object sits somewhere in a county's tree, described by its [`Scope`]. Handlers ask
//! [`Caller::authorize`] (single objects) or [`Caller::visible`] / [`Caller::visible_shared`]
//! (lists) and never compare ids themselves. Deny by default: anything not granted below is refused.
//! Objects the caller may not read answer 404, so existence does not leak across scopes.

use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, IntoIden};
use uuid::Uuid;

use super::{Caller, Level, Role};
use crate::error::ApiError;

/// Where an object sits: its county, and the town and village it belongs to, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub county_id: Uuid,
    pub township_id: Option<Uuid>,
    pub village_id: Option<Uuid>,
}

impl Scope {
    pub fn county(county_id: Uuid) -> Self {
        Self {
            county_id,
            township_id: None,
            village_id: None,
        }
    }
    pub fn new(county_id: Uuid, township_id: Option<Uuid>, village_id: Option<Uuid>) -> Self {
        Self {
            county_id,
            township_id,
            village_id,
        }
    }
}

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read data that belongs to the scope: findings, subjects, results, users, org units.
    Read,
    /// Read rules that apply to the scope and everything below it: schemes, rubrics,
    /// evaluations, publications. A village reads its town's scheme.
    ReadShared,
    /// Administer: org units, users, service accounts, webhook subscriptions (county admins
    /// only, as service accounts), schemes, rubrics, subjects.
    Manage,
    /// Publish results of the scope.
    Publish,
    /// Run evaluations: create, close and reopen them.
    Assess,
    /// Record findings, scoresheets and ballots about a subject, revoke findings, decide appeals.
    Record,
    /// Contest a finding against one's own org unit.
    Appeal,
    /// Read the audit trail.
    ReadAudit,
}

impl Caller {
    /// Is `scope` inside the caller's own scope?
    fn contains(&self, scope: &Scope) -> bool {
        if scope.county_id != self.county_id {
            return false;
        }
        match self.level {
            Level::County => true,
            Level::Township => self.township_id.is_some() && scope.township_id == self.township_id,
            Level::Village => self.village_id.is_some() && scope.village_id == self.village_id,
        }
    }

    /// Is the caller inside `scope` (rules of the county or of the caller's town)?
    fn inside(&self, scope: &Scope) -> bool {
        scope.county_id == self.county_id
            && scope.village_id.is_none()
            && (scope.township_id.is_none() || scope.township_id == self.township_id)
    }

    /// The whole policy (API.md, "Auth").
    pub fn may(&self, action: Action, scope: &Scope) -> bool {
        use Action::*;
        use Level::*;
        use Role::*;
        match action {
            Read => self.contains(scope),
            ReadShared => self.contains(scope) || self.inside(scope),
            Manage => match (self.level, self.role) {
                (County, Admin) => self.contains(scope),
                // A town's admin manages its villages and what is in them, not the town itself.
                (Township, Admin) => self.contains(scope) && scope.village_id.is_some(),
                _ => false,
            },
            Publish => matches!((self.level, self.role), (County, Admin) | (Township, Admin)) && self.contains(scope),
            Assess => match (self.level, self.role) {
                (County, Admin) | (County, Assessor) | (Township, Assessor) => self.contains(scope),
                _ => false,
            },
            // A town's assessor assesses its villages and the individuals stationed in them,
            // not the town itself: the county assesses its townships.
            Record => match (self.level, self.role) {
                (County, Admin) | (County, Assessor) => self.contains(scope),
                (Township, Assessor) => self.contains(scope) && scope.village_id.is_some(),
                _ => false,
            },
            Appeal => match self.level {
                County => false,
                Township => self.contains(scope) && scope.village_id.is_none(),
                Village => self.contains(scope),
            },
            ReadAudit => self.level == County && matches!(self.role, Admin | Viewer) && self.contains(scope),
        }
    }

    /// Allows `action` on data at `scope` (findings, subjects, users...), or answers 404 when the
    /// caller may not even read it and 403 when they may read it but not do this.
    pub fn authorize(&self, action: Action, scope: &Scope, what: &str) -> Result<(), ApiError> {
        self.decide(action, scope, what, Action::Read)
    }

    /// Like [`Caller::authorize`] for rules shared down the tree (schemes, rubrics, evaluations,
    /// publications): visible to the levels they apply to.
    pub fn authorize_shared(&self, action: Action, scope: &Scope, what: &str) -> Result<(), ApiError> {
        self.decide(action, scope, what, Action::ReadShared)
    }

    /// Allows `action` at `scope` where no existing object could leak (creating, the audit
    /// trail): a refusal is a plain 403.
    pub fn require(&self, action: Action, scope: &Scope, what: &str) -> Result<(), ApiError> {
        if self.may(action, scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "your role may not create this {what} here"
            )))
        }
    }

    fn decide(&self, action: Action, scope: &Scope, what: &str, visibility: Action) -> Result<(), ApiError> {
        if self.may(action, scope) {
            Ok(())
        } else if self.may(visibility, scope) {
            Err(ApiError::forbidden(format!("your role may not do this to this {what}")))
        } else {
            Err(ApiError::not_found(what))
        }
    }

    /// Whether the caller reads the whole of a frozen publication of `county_id` that is not
    /// public: the county's own users do; below the county a publication is read as a filtered
    /// view, the rows of [`Caller::reads_published_row`] (DOMAIN.md §9).
    pub fn reads_whole_publication(&self, county_id: Uuid) -> bool {
        self.may(Action::Read, &Scope::county(county_id))
    }

    /// Whether a filtered view of a publication shows the row of a subject at `subject`: the
    /// rule of subject reads, so a town's users see their town's part of a county-wide one.
    pub fn reads_published_row(&self, subject: &Scope) -> bool {
        self.may(Action::Read, subject)
    }

    /// Like [`Caller::authorize`] where any of `actions` will do (evidence on an appeal: its
    /// appellant's side, or an assessor deciding it).
    pub fn authorize_any(&self, actions: &[Action], scope: &Scope, what: &str) -> Result<(), ApiError> {
        if actions.iter().any(|a| self.may(*a, scope)) {
            Ok(())
        } else {
            self.decide(
                actions.first().copied().unwrap_or(Action::Manage),
                scope,
                what,
                Action::Read,
            )
        }
    }

    /// Whether the caller may upload evidence files: whoever may attach one somewhere, that is
    /// record findings or scoresheets, or appeal (everyone but the county's viewers).
    pub fn may_upload_evidence(&self) -> bool {
        use Level::*;
        use Role::*;
        match self.level {
            County => matches!(self.role, Admin | Assessor),
            Township | Village => true,
        }
    }

    /// Whether the caller reads an evidence file of `county_id` uploaded by `uploaded_by` and
    /// attached (now) at `attached_to`: when it reads any of those, when it uploaded it, and —
    /// for a file attached nowhere — as a county admin (DOMAIN.md §6).
    pub fn reads_evidence(&self, county_id: Uuid, uploaded_by: Uuid, attached_to: &[Scope]) -> bool {
        county_id == self.county_id
            && (uploaded_by == self.id
                || self.may(Action::Manage, &Scope::county(county_id))
                || attached_to.iter().any(|scope| self.may(Action::Read, scope)))
    }

    /// Whether the caller reads a background job of `county_id` started by `created_by`: its
    /// starter does, and the county's admins; nobody else learns that it exists.
    pub fn reads_job(&self, county_id: Uuid, created_by: Uuid) -> bool {
        county_id == self.county_id && (created_by == self.id || self.may(Action::Manage, &Scope::county(county_id)))
    }

    /// The rows of a table with `county_id`, `township_id` and `village_id` columns that lie in
    /// the caller's scope.
    pub fn visible(&self, table: impl IntoIden + Clone) -> Condition {
        let col = |name: &str| Expr::col((table.clone().into_iden(), Alias::new(name)));
        let mut condition = Condition::all().add(col("county_id").eq(self.county_id));
        match self.level {
            Level::County => {}
            Level::Township => condition = condition.add(col("township_id").eq(self.township_id)),
            Level::Village => condition = condition.add(col("village_id").eq(self.village_id)),
        }
        condition
    }

    /// The rows of a table with `county_id` and `township_id` columns holding rules that apply to
    /// the caller: the county's and the caller's town's.
    pub fn visible_shared(&self, table: impl IntoIden + Clone) -> Condition {
        let col = |name: &str| Expr::col((table.clone().into_iden(), Alias::new(name)));
        let mut condition = Condition::all().add(col("county_id").eq(self.county_id));
        if self.level != Level::County {
            condition = condition.add(
                Condition::any()
                    .add(col("township_id").is_null())
                    .add(col("township_id").eq(self.township_id)),
            );
        }
        condition
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PrincipalKind;

    fn caller(level: Level, role: Role, town: Option<Uuid>, village: Option<Uuid>) -> Caller {
        Caller {
            id: Uuid::nil(),
            kind: PrincipalKind::User,
            name: "t".into(),
            county_id: Uuid::from_u128(1),
            level,
            role,
            org_unit_id: village.or(town).unwrap_or(Uuid::from_u128(1)),
            township_id: town,
            village_id: village,
            revision: 0,
            token_generation: 0,
            tokens_valid_after: None,
        }
    }

    #[test]
    fn township_users_see_their_town_only() {
        let (a, b) = (Some(Uuid::from_u128(10)), Some(Uuid::from_u128(20)));
        let v = Some(Uuid::from_u128(11));
        let assessor = caller(Level::Township, Role::Assessor, a, None);
        let in_a = Scope::new(Uuid::from_u128(1), a, v);
        let in_b = Scope::new(Uuid::from_u128(1), b, Some(Uuid::from_u128(21)));
        assert!(assessor.may(Action::Record, &in_a));
        let town_a_itself = Scope::new(Uuid::from_u128(1), a, None);
        assert!(
            !assessor.may(Action::Record, &town_a_itself),
            "the county assesses its towns"
        );
        assert!(
            assessor.may(Action::Assess, &town_a_itself),
            "it runs its town's evaluations"
        );
        assert!(!assessor.may(Action::Read, &in_b));
        assert_eq!(
            assessor
                .authorize(Action::Record, &in_b, "incident")
                .unwrap_err()
                .code(),
            "not_found"
        );
        let other_county = Scope::new(Uuid::from_u128(2), a, v);
        assert!(!assessor.may(Action::Read, &other_county));
    }

    #[test]
    fn viewers_read_but_do_not_write() {
        let viewer = caller(Level::County, Role::Viewer, None, None);
        let scope = Scope::county(Uuid::from_u128(1));
        assert!(viewer.may(Action::Read, &scope));
        assert_eq!(
            viewer.authorize(Action::Manage, &scope, "user").unwrap_err().code(),
            "auth.forbidden"
        );
    }

    #[test]
    fn below_the_county_publications_are_read_as_their_scope() {
        let county = Uuid::from_u128(1);
        let (a, b) = (Some(Uuid::from_u128(10)), Some(Uuid::from_u128(20)));
        let village = Some(Uuid::from_u128(11));
        assert!(caller(Level::County, Role::Viewer, None, None).reads_whole_publication(county));
        assert!(!caller(Level::County, Role::Viewer, None, None).reads_whole_publication(Uuid::from_u128(2)));
        let town_viewer = caller(Level::Township, Role::Viewer, a, None);
        assert!(!town_viewer.reads_whole_publication(county));
        assert!(town_viewer.reads_published_row(&Scope::new(county, a, None)));
        assert!(town_viewer.reads_published_row(&Scope::new(county, a, village)));
        assert!(!town_viewer.reads_published_row(&Scope::new(county, b, None)));
        assert!(
            !town_viewer.reads_published_row(&Scope::county(county)),
            "a department is the county's"
        );
        let village_viewer = caller(Level::Village, Role::Viewer, a, village);
        assert!(!village_viewer.reads_whole_publication(county));
        assert!(village_viewer.reads_published_row(&Scope::new(county, a, village)));
        assert!(!village_viewer.reads_published_row(&Scope::new(county, a, None)));
    }

    #[test]
    fn villages_read_their_towns_rules() {
        let town = Some(Uuid::from_u128(10));
        let village = caller(Level::Village, Role::Viewer, town, Some(Uuid::from_u128(11)));
        let town_scheme = Scope::new(Uuid::from_u128(1), town, None);
        let other_town_scheme = Scope::new(Uuid::from_u128(1), Some(Uuid::from_u128(20)), None);
        assert!(village.may(Action::ReadShared, &town_scheme));
        assert!(!village.may(Action::ReadShared, &other_town_scheme));
        assert!(!village.may(Action::Read, &town_scheme));
    }
}
