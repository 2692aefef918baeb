# Column headers of uploads, templates and exports: `column-<field>` = the header a clerk reads.
# An upload's header may be the field name, this label or the Chinese one (locales/zh-CN/columns.ftl).

## Findings (incidents:bulk)
column-subject_id = Subject ID
column-scheme_id = Scheme ID
column-kind = Kind
column-item_code = Item code
column-rule_code = Rule code
column-occurred_on = Occurred on
column-quantity = Quantity
column-period = Quarter
column-rate = Rate
column-sampled = Sampled
column-correct = Correct
column-amount = Amount
column-points = Points
column-event_key = Event
column-source = Source
column-note = Note
column-evidence = Evidence
column-evidence_ids = Evidence IDs

## Scoresheets and ballots (scoresheets:bulk, ballots:bulk)
column-evaluation_id = Evaluation ID
column-assessor = Assessor
column-score = Score
column-participant = Participant

## Subjects and attributes (subjects:bulk, attributes:bulk)
column-ref = Row key
column-subject_type = Subject type
column-name = Name
column-parent_id = Parent ID
column-parent_ref = Parent row key
column-dispatched_by = Dispatched by
column-dispatched_by_ref = Dispatched by row key
column-stationed_in = Stationed in
column-stationed_in_ref = Stationed in row key
column-external_code = External code
column-has_special_indicators = Has special indicators
column-ranking_group = Ranking group
column-annual_target_met = Annual target met
column-recalled = Recalled
column-reserve_cadre = Reserve cadre
column-vertically_managed = Vertically managed
column-version = Version

## Exports of results and rankings
column-township_id = Township ID
column-evaluations = Evaluation scores
column-exact = Exact score (fraction)
column-published_score = Published score
column-grade = Grade
column-bonus_pay = Bonus pay
column-vetoed = Vetoed
column-consequences = Consequences
column-consequence_causes = Consequence causes
column-referred_to_supervisor = Referred to supervisor
column-quarterly = Quarterly scores
column-rank = Rank
column-prize = Prize
column-not_scored_reason = Not scored because
column-ranking = Ranking
column-group = Group
# The exact decimal beside a score shown as a number in .xlsx exports.
column-exact_text = { $column } (exact)
