# Labels of enumerations: `label-<enum>-<value>`, the value as the API writes it (snake_case).

## grade
label-grade-excellent = Excellent
label-grade-competent = Competent
label-grade-basic = Basically competent
label-grade-incompetent = Incompetent

## prize
label-prize-first = First prize
label-prize-second = Second prize
label-prize-third = Third prize

## consequence
label-consequence-interview = Principal leader interviewed, deputy leader admonished
label-consequence-dismissal = Principal and deputy leaders dismissed
label-consequence-accountability = Accountability proceedings started
label-consequence-reserve_status_revoked = Reserve cadre status revoked
label-consequence-head_barred_from_honours = Head of the sending unit barred from the year's honours
label-consequence-leader_removed = Work team leader removed from their post
label-consequence-members_penalised = Work team members penalised

## incident_kind
label-incident_kind-deduction = Deduction
label-incident_kind-bonus = Bonus
label-incident_kind-measurement = Quarterly measured rate
label-incident_kind-amount = Amount
label-incident_kind-adjustment = Reward or penalty
label-incident_kind-veto = Veto
label-incident_kind-major_failure = Major failure of village assistance work
label-incident_kind-dereliction = Dereliction of duty

## subject_type
label-subject_type-township = Township
label-subject_type-department = County department
label-subject_type-village = Village
label-subject_type-first_secretary = First secretary
label-subject_type-work_team = Village work team
label-subject_type-agri_tech = Agricultural technician

## evaluation_kind
label-evaluation_kind-half_year = Half-year assessment
label-evaluation_kind-year_end = Year-end assessment
label-evaluation_kind-democratic = Democratic evaluation
label-evaluation_kind-monthly = Monthly standing
label-evaluation_kind-quarterly = Quarterly assessment

## level
label-level-county = County
label-level-township = Township
label-level-village = Village

## role
label-role-admin = Administrator
label-role-assessor = Assessor
label-role-viewer = Viewer

## incident_status
label-incident_status-active = Active
label-incident_status-revoked = Revoked

## appeal_status
label-appeal_status-pending = Pending
label-appeal_status-upheld = Upheld
label-appeal_status-accepted = Accepted

## evaluation_status
label-evaluation_status-open = Open
label-evaluation_status-closed = Closed

## org_kind
label-org_kind-county = County
label-org_kind-township = Township
label-org_kind-village = Village
label-org_kind-department = County department
