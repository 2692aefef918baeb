//! Every problem `code` the service can answer, with its meaning: the one registry that the
//! OpenAPI document's `ProblemCode` enum is made from. A test scans the sources for a code not
//! listed here (and for an entry no source emits any more).

/// `(code, meaning)`, sorted by code.
pub const PROBLEM_CODES: &[(&str, &str)] = &[
    ("appeal.already_decided", "The appeal was already accepted or upheld"),
    ("appeal.already_pending", "The finding already has a pending appeal"),
    ("appeal.incident_revoked", "The appealed finding is revoked"),
    (
        "appeal.text_invalid",
        "An appeal's reason or decision note is empty or longer than 2000 characters",
    ),
    (
        "attributes.duplicate",
        "Another request recorded the subject's attributes for this scheme first; read them and retry",
    ),
    (
        "attributes.duplicate_in_upload",
        "A subject's attributes for one scheme appear twice in one upload",
    ),
    (
        "attributes.not_applicable",
        "An attribute does not apply to this subject type",
    ),
    ("attributes.scheme_unknown", "scheme_id is not a scheme in your scope"),
    (
        "attributes.subject_unknown",
        "subject_id is not a subject in your scope",
    ),
    ("auth.field_required", "A field the chosen grant needs is missing"),
    (
        "auth.forbidden",
        "Authenticated, but your role or level may not do this",
    ),
    (
        "auth.grant_type_unsupported",
        "grant_type is neither password nor client_credentials",
    ),
    (
        "auth.issuing_disabled",
        "This deployment verifies tokens only (no signing key configured)",
    ),
    (
        "auth.rate_limited",
        "Too many failed logins from this address or for this account; wait Retry-After seconds",
    ),
    (
        "auth.unauthorized",
        "No token, an invalid or expired one, wrong credentials, or an account no longer active",
    ),
    (
        "ballot.duplicate",
        "This participant already scored this subject in this evaluation",
    ),
    (
        "ballot.evaluation_not_democratic",
        "Ballots belong to democratic evaluations only",
    ),
    (
        "ballot.score_out_of_range",
        "A ballot's score is from 0 to 100 with at most 1 decimal",
    ),
    ("bulk.empty", "The upload has no rows"),
    (
        "bulk.ref_conflict",
        "A row gives both an id and a ref for the same link",
    ),
    (
        "bulk.ref_cycle",
        "The rows' refs lead round in a cycle, so no order can create them",
    ),
    ("bulk.ref_duplicate", "Two rows of the upload have the same ref"),
    ("bulk.ref_invalid", "A ref is empty or longer than 100 characters"),
    (
        "bulk.ref_unknown",
        "A row names a ref that no valid row of the upload has",
    ),
    (
        "conflict.concurrent_write",
        "A concurrent change conflicted with this one; nothing was written, retry",
    ),
    ("conflict.duplicate", "A record with the same unique key already exists"),
    (
        "consequences.dismissal_group_missing",
        "The scheme's dismissal rule needs a ranking marked dismissal_group",
    ),
    (
        "consequences.last_n_zero",
        "The dismissal rule's last_n must be at least 1",
    ),
    (
        "consequences.threshold_out_of_range",
        "A consequence threshold (interview_below, below) is negative",
    ),
    (
        "database.unavailable",
        "The database cannot be reached right now; retry after Retry-After seconds",
    ),
    (
        "demo.no_county",
        "The demo needs a county: start the service once to bootstrap it",
    ),
    (
        "evaluation.closed",
        "The evaluation is closed and accepts no more scoresheets or ballots",
    ),
    (
        "evaluation.key_duplicate",
        "Two evaluation templates of the scheme have the same key",
    ),
    (
        "evaluation.key_taken",
        "The scheme already has an evaluation with this key",
    ),
    (
        "evaluation.kind_virtual",
        "Monthly standings are computed from findings, not created as evaluations",
    ),
    (
        "evaluation.status_unchanged",
        "The evaluation already has the requested status",
    ),
    (
        "evaluation.subject_not_in_scheme",
        "The evaluation's scheme does not assess this subject",
    ),
    (
        "evaluation.subject_type_not_covered",
        "The evaluation does not assess subjects of this type",
    ),
    (
        "evaluation.subject_type_unknown",
        "An evaluation template names a subject type the scheme does not score",
    ),
    (
        "evaluation.subject_unknown",
        "subject_id is not a subject in your scope",
    ),
    ("evaluation.unknown", "evaluation_id is not an evaluation in your scope"),
    (
        "evaluation.window_invalid",
        "The window must lie in the scheme year, window_from ≤ window_to",
    ),
    (
        "evaluation.window_not_quarter",
        "A quarterly evaluation's window is not one quarter (Q1–Q4)",
    ),
    (
        "evidence.already_attached",
        "The file is already attached to this finding, scoresheet or appeal",
    ),
    ("evidence.already_detached", "The evidence link is already detached"),
    (
        "evidence.duplicate",
        "Another request stored the same bytes first; upload them again to get that file",
    ),
    ("evidence.duplicate_ref", "A finding names the same evidence file twice"),
    ("evidence.file_empty", "The uploaded file is empty"),
    ("evidence.file_missing", "The multipart form has no `file` part"),
    (
        "evidence.file_name_invalid",
        "file_name is empty, longer than 255 characters, or holds control characters or slashes",
    ),
    (
        "evidence.form_field_unknown",
        "The multipart form has a part other than `file`",
    ),
    (
        "evidence.form_file_repeated",
        "The multipart form has more than one file",
    ),
    (
        "evidence.media_type_refused",
        "The file's type, detected from its bytes, is not an accepted evidence type (415)",
    ),
    (
        "evidence.media_type_unknown",
        "The file's type cannot be recognised from its bytes (415)",
    ),
    (
        "evidence.range_unsatisfiable",
        "The requested byte range starts beyond the end of the file (416)",
    ),
    (
        "evidence.reason_required",
        "Detaching evidence needs a reason of at most 2000 characters",
    ),
    (
        "evidence.store_unavailable",
        "The evidence object store cannot be reached; retry later (503)",
    ),
    (
        "evidence.target_unknown",
        "target_id is not a finding, scoresheet or appeal in your scope",
    ),
    ("evidence.too_large", "The file is larger than evidence.max_bytes (413)"),
    (
        "evidence.unknown",
        "An evidence id is not a file you uploaded or may read",
    ),
    ("field.length", "A text field is longer than allowed"),
    (
        "formula.empty",
        "A weighted formula node has no children, or an own leaf names no evaluation kind",
    ),
    (
        "formula.evaluation_kind_invalid",
        "A formula names monthly standings, which are running views, not annual inputs",
    ),
    (
        "formula.evaluation_unavailable",
        "No evaluation template of the kind a formula names covers the subject type",
    ),
    (
        "formula.link_cycle",
        "Formulas over linked subjects refer to each other in a cycle",
    ),
    (
        "formula.link_unknown_type",
        "A formula's link names a subject type the scheme does not score",
    ),
    (
        "formula.relation_invalid",
        "A formula's link uses a relation that does not join these subject types",
    ),
    (
        "formula.weight_out_of_range",
        "A formula weight is not above 0 and at most 1",
    ),
    (
        "formula.weights_sum",
        "The weights at one level of a formula do not add up to 1",
    ),
    ("grading.bands_empty", "Grading has no bands"),
    (
        "grading.bands_incomplete",
        "Every grading band but the last needs min_score (the last takes all lower scores)",
    ),
    (
        "grading.bands_unordered",
        "Grading bands do not go from best to worst with strictly falling min_score",
    ),
    (
        "grading.bonus_pay_out_of_range",
        "A grade's bonus_pay is not a share from 0 to 1",
    ),
    ("grading.grade_duplicate", "Two grading bands have the same grade"),
    ("grading.grade_unknown", "A rule names a grade that has no band"),
    (
        "idempotency.in_progress",
        "A request with this Idempotency-Key is still being processed; retry later",
    ),
    (
        "idempotency.key_invalid",
        "Idempotency-Key is not 1–255 visible ASCII characters",
    ),
    (
        "idempotency.key_reused",
        "This Idempotency-Key was used with a different request; use a new key",
    ),
    ("incident.already_revoked", "The finding is already revoked"),
    (
        "incident.amount_invalid",
        "amount must be 0 or more yuan with at most 2 decimals",
    ),
    ("incident.amount_required", "An amount finding needs amount (yuan)"),
    (
        "incident.counts_invalid",
        "sampled and correct must be counts with 1 ≤ sampled and correct ≤ sampled",
    ),
    ("incident.date_outside_year", "occurred_on is outside the scheme year"),
    (
        "incident.event_key_required",
        "The item counts each achievement once: name it in event_key",
    ),
    (
        "incident.evidence_invalid",
        "evidence is at most 50 non-empty references of at most 500 characters",
    ),
    (
        "incident.field_not_applicable",
        "A field does not apply to this kind of finding or this item's method",
    ),
    (
        "incident.item_assessed",
        "The item is scored by assessors on scoresheets, not by findings",
    ),
    (
        "incident.item_required",
        "item_code is required (vetoes, major failures and derelictions name none)",
    ),
    (
        "incident.item_unknown",
        "item_code is not an item of the subject's rubric",
    ),
    ("incident.kind_mismatch", "The item records another kind of finding"),
    (
        "incident.kind_not_applicable",
        "This kind of finding does not apply to the subject's type",
    ),
    (
        "incident.period_already_measured",
        "The quarter of this item already has an active measurement; revoke it first",
    ),
    ("incident.period_required", "A measurement needs its period (Q1–Q4)"),
    (
        "incident.points_above_bound",
        "The points exceed what one finding of this rule may move",
    ),
    (
        "incident.points_invalid",
        "points must be non-zero with at most 4 decimals",
    ),
    ("incident.points_required", "An adjustment needs points"),
    (
        "incident.points_sign",
        "The points have the wrong sign for this rule (rewards are positive, penalties negative)",
    ),
    (
        "incident.quantity_invalid",
        "quantity must be a whole number from 1 to 100000",
    ),
    (
        "incident.rate_out_of_range",
        "rate must be a percentage from 0 to 100 with at most 2 decimals",
    ),
    (
        "incident.rate_required",
        "A measurement needs rate, or sampled with correct",
    ),
    (
        "incident.reason_required",
        "This kind of finding needs its reason in note",
    ),
    ("incident.rule_required", "The item's method needs rule_code"),
    ("incident.rule_unknown", "rule_code is not a rule of the item"),
    (
        "incident.scheme_ambiguous",
        "Several schemes cover the subject that year: name one in scheme_id",
    ),
    ("incident.scheme_missing", "No active scheme covers the subject"),
    (
        "incident.scheme_unknown",
        "scheme_id is not an active scheme of your county that covers the subject",
    ),
    ("incident.subject_inactive", "The subject is deactivated"),
    ("incident.subject_unknown", "subject_id is not a subject in your scope"),
    (
        "internal",
        "The service failed to answer; the cause is logged under the request id",
    ),
    (
        "job.interrupted",
        "The instance running a background job stopped before the job ended; nothing of the upload was committed unless its rows are found: upload again",
    ),
    (
        "job.running",
        "The background job has not ended yet: follow its events or poll it, then read its result",
    ),
    ("not_found", "No such resource, or not in your scope"),
    (
        "options.published_digits_out_of_range",
        "The scheme's published_digits is outside 0–10",
    ),
    ("options.timezone_missing", "The scheme needs a time zone"),
    ("org_unit.county_deactivation", "A county cannot deactivate itself"),
    (
        "org_unit.kind_not_creatable",
        "Counties are created with `kaohe county create`, not through the API",
    ),
    ("org_unit.parent_not_township", "parent_id must be an active township"),
    ("org_unit.parent_required", "A village needs parent_id: its township"),
    ("org_unit.parent_unknown", "parent_id is not a township in your scope"),
    ("page.cursor_invalid", "cursor is not a cursor this service issued"),
    ("page.limit_out_of_range", "limit is outside 1–1000"),
    (
        "precondition_failed",
        "If-Match (or version) names an outdated version: read the resource again",
    ),
    (
        "precondition_required",
        "Send If-Match (or version) to update this resource",
    ),
    (
        "prizes.band_invalid",
        "A prize band does not cover ranks from_rank..=to_rank with 1 ≤ from_rank ≤ to_rank",
    ),
    ("prizes.bands_overlap", "Prize bands overlap or are not best first"),
    ("prizes.key_duplicate", "Two prizes have the same key"),
    (
        "publication.already_superseded",
        "That publication is already corrected; correct the newest version",
    ),
    (
        "publication.as_of_future",
        "Results cannot be published as of the future",
    ),
    (
        "publication.number_taken",
        "Another publication took this number first; retry",
    ),
    ("publication.reason_required", "A correction needs correction_reason"),
    (
        "publication.reason_without_correction",
        "correction_reason goes with supersedes_id",
    ),
    (
        "publication.superseded_unknown",
        "supersedes_id is not a publication of this scheme",
    ),
    (
        "publication.township_outside_scheme",
        "The township is not the scheme's town",
    ),
    (
        "publication.township_unknown",
        "township_id is not a township of your county",
    ),
    (
        "ranking.dismissal_group_duplicate",
        "More than one ranking of a subject type is the dismissal group",
    ),
    (
        "ranking.grouping_invalid",
        "A ranking groups by township subjects that have none",
    ),
    ("ranking.key_duplicate", "Two rankings have the same key"),
    (
        "ranking.prizes_missing",
        "A ranking awards prizes but its subject type has no prize bands",
    ),
    (
        "request.body_unreadable",
        "The request body could not be read (the upload was interrupted)",
    ),
    (
        "request.csv_encoding",
        "A CSV body is neither UTF-8 nor GB18030 (GBK) text; the row names the first line that is not",
    ),
    (
        "request.field_invalid",
        "A field has the wrong type or form (e.g. a decimal off the published pattern)",
    ),
    (
        "request.if_match_invalid",
        "If-Match is not an ETag this service issued",
    ),
    ("request.invalid", "The request could not be processed"),
    ("request.malformed_csv", "The CSV body cannot be read as CSV"),
    ("request.malformed_form", "The form-encoded body is malformed"),
    (
        "request.malformed_json",
        "The body is not valid JSON (or not the JSON array or NDJSON expected)",
    ),
    (
        "request.malformed_multipart",
        "The multipart/form-data body cannot be read",
    ),
    (
        "request.malformed_xlsx",
        "The body sent as an Excel workbook is not an .xlsx file that can be read",
    ),
    (
        "request.method_not_allowed",
        "The path exists, but not with this method; see Allow",
    ),
    (
        "request.not_acceptable",
        "None of the representations in Accept can be answered",
    ),
    (
        "request.nul_character",
        "Text may not contain the NUL character (U+0000)",
    ),
    ("request.query_invalid", "A query parameter is malformed"),
    (
        "request.refused",
        "A middleware refused the request (e.g. a CORS origin not allowed)",
    ),
    (
        "request.too_large",
        "The body (or the number of rows) exceeds the configured limit",
    ),
    (
        "request.unsupported_media_type",
        "The body's Content-Type is not accepted here",
    ),
    (
        "results.cannot_compute",
        "The results cannot be computed for this question",
    ),
    (
        "results.evaluation_not_applicable",
        "evaluation_id applies to kind=half_year, year_end, democratic or quarterly",
    ),
    (
        "results.evaluation_required",
        "The scheme holds several evaluations of this kind: name one with evaluation_id",
    ),
    (
        "results.evaluation_unknown",
        "evaluation_id is not an evaluation of this scheme (of that kind)",
    ),
    ("results.month_invalid", "month is outside 1–12"),
    ("results.month_not_applicable", "month applies to kind=monthly"),
    ("results.month_required", "kind=monthly needs month 1–12"),
    ("results.ranking_unknown", "ranking is not one of the scheme's rankings"),
    ("rubric.code_duplicate", "Two nodes of a rubric have the same code"),
    ("rubric.code_empty", "A section or item has no code"),
    (
        "rubric.derived_from_invalid",
        "A section is derived from itself, a relative, a derived section or one without points",
    ),
    (
        "rubric.derived_from_unknown",
        "A derived section names an unknown section",
    ),
    (
        "rubric.derived_section_invalid",
        "A derived section holds something other than items with points",
    ),
    ("rubric.empty", "The rubric has no sections or items"),
    ("rubric.item_max_not_allowed", "This item's method takes no max"),
    ("rubric.item_max_required", "An item needs its points (max)"),
    (
        "rubric.not_current",
        "Only the current version of a rubric can be edited",
    ),
    ("rubric.param_out_of_range", "A method parameter is out of range"),
    (
        "rubric.points_invalid",
        "An item's points are not positive, or a section's are negative",
    ),
    (
        "rubric.rate_band_points_mismatch",
        "A rate band's periods × points differ from the item's points",
    ),
    ("rubric.rule_code_empty", "A rule has no code"),
    ("rubric.rule_duplicate", "Two rules of an item have the same code"),
    ("rubric.rules_empty", "A deduction or bonus item has no rules"),
    ("rubric.section_empty", "A section has no children"),
    (
        "rubric.section_points_mismatch",
        "A section's points differ from the sum of its children's",
    ),
    ("rubric.subject_type_changed", "A rubric keeps its subject type"),
    (
        "rubric.subject_type_mismatch",
        "The rubric is for another subject type than the one it is configured for",
    ),
    ("rubric.title_missing", "The rubric has no title"),
    (
        "rubric.version_taken",
        "Another change made this rubric version first; read the rubric again and retry",
    ),
    ("scheme.built_in_unknown", "built_in is not a built-in scheme"),
    (
        "scheme.duplicate",
        "This scheme already exists for this year in this org unit",
    ),
    (
        "scheme.key_invalid",
        "The scheme key is not kebab-case (lowercase letters and digits joined by '-')",
    ),
    (
        "scheme.org_unit_invalid",
        "org_unit_id must be your county or one of its townships",
    ),
    ("scheme.source_required", "Give exactly one of built_in and definition"),
    ("scheme.subject_types_empty", "The scheme scores no subject type"),
    ("scheme.title_missing", "The scheme has no title"),
    (
        "scheme.window_invalid",
        "An evaluation of the scheme has no window in the year",
    ),
    ("scheme.year_out_of_range", "year is outside 2000–2100"),
    (
        "scoresheet.duplicate_in_upload",
        "One assessor's sheet for one subject appears twice in the upload",
    ),
    ("scoresheet.empty", "scores names no item"),
    (
        "scoresheet.evaluation_not_scored",
        "Scoresheets belong to half-year, year-end and quarterly evaluations",
    ),
    (
        "scoresheet.item_derived",
        "The item is derived for this subject, not scored",
    ),
    ("scoresheet.item_duplicate", "A scoresheet scores each item once"),
    (
        "scoresheet.item_not_assessed",
        "The item is scored from findings, not by assessors",
    ),
    ("scoresheet.item_unknown", "The item is not in the rubric"),
    (
        "scoresheet.score_out_of_range",
        "An item's score is outside 0 to its max, or has more than 4 decimals",
    ),
    (
        "service_account.client_id_taken",
        "The generated client id is taken; retry",
    ),
    ("simulation.finding_unknown", "Not an active finding of this scheme"),
    ("simulation.too_large", "A simulation takes at most 1000 inputs"),
    ("subject.link_not_allowed", "This subject type takes no such link"),
    (
        "subject.link_wrong_kind",
        "The link names a subject of the wrong type, inactive, or of another county",
    ),
    (
        "subject.parent_not_allowed",
        "parent_id is only for villages; individuals use stationed_in",
    ),
    ("user.org_unit_inactive", "The org unit is deactivated"),
    ("user.org_unit_kind", "Users work at a county, a township or a village"),
    ("user.org_unit_unknown", "org_unit_id is not an org unit in your scope"),
    ("user.password_weak", "The password is too short"),
    ("user.password_wrong", "current_password is not your password"),
    (
        "user.role_not_allowed",
        "The role is not allowed at this level (village users are viewers)",
    ),
    (
        "user.self_lockout",
        "You cannot deactivate yourself or change your own role",
    ),
    (
        "user.username_invalid",
        "username must be 3–64 letters, digits, '.', '_', '-' or '@'",
    ),
    ("user.username_taken", "This username is taken"),
    ("validation.failed", "The request is invalid"),
    (
        "webhook.delivery_not_failed",
        "Only a failed webhook delivery is retried by hand; a pending one is retried on its own",
    ),
    (
        "webhook.events_empty",
        "A webhook subscription names at least one event type",
    ),
    (
        "webhook.url_invalid",
        "A webhook's url is not an absolute http:// or https:// URL of at most 2000 characters",
    ),
];

/// True when `code` is in the registry.
pub fn is_registered(code: &str) -> bool {
    PROBLEM_CODES.binary_search_by(|(c, _)| (*c).cmp(code)).is_ok()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;

    /// Dotted string literals of the sources that are not problem codes: settings (all of
    /// `config.rs`, which answers no request), scheme paths a validation problem points at, files.
    const NOT_CODES: &[&str] = &[
        "options.published_digits",
        "options.timezone",
        "openapi_description.md",
        // Webhook event types (`api::webhooks::EventType`).
        "appeal.decided",
        "publication.created",
        "result.changed",
        // OpenTelemetry attribute and field names (`telemetry`, `otlp`).
        "http.response.status_code",
        "otel.status_code",
        "service.instance.id",
        "service.version",
    ];

    /// The codes without a dot, which the scan cannot tell from other words.
    const UNDOTTED: &[&str] = &["internal", "not_found", "precondition_failed", "precondition_required"];

    fn is_code_like(text: &str) -> bool {
        let mut parts = text.split('.');
        let well_formed = |part: &str| {
            part.starts_with(|c: char| c.is_ascii_lowercase())
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        text.contains('.') && parts.all(well_formed)
    }

    /// Every string literal of a Rust source: plain `"…"` ones with their escapes as written, and
    /// raw `r#"…"#` ones; comments and char literals skipped.
    fn literals(source: &str) -> Vec<String> {
        let chars: Vec<char> = source.chars().collect();
        let mut found = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '/' if chars.get(i + 1) == Some(&'/') => {
                    while i < chars.len() && chars[i] != '\n' {
                        i += 1;
                    }
                }
                // A char literal: '"', '\"', '\'' (a lifetime has no closing quote nearby).
                '\'' => {
                    if chars.get(i + 2) == Some(&'\'') {
                        i += 2;
                    } else if chars.get(i + 1) == Some(&'\\') && chars.get(i + 3) == Some(&'\'') {
                        i += 3;
                    }
                }
                '"' => {
                    // Raw when `r` and some `#` come right before the quote.
                    let mut hashes = 0;
                    while i > hashes && chars[i - 1 - hashes] == '#' {
                        hashes += 1;
                    }
                    let raw = i > hashes && chars[i - 1 - hashes] == 'r';
                    let mut text = String::new();
                    i += 1;
                    while i < chars.len() {
                        let c = chars[i];
                        if raw {
                            let closes = c == '"' && (1..=hashes).all(|h| chars.get(i + h) == Some(&'#'));
                            if closes {
                                i += hashes;
                                break;
                            }
                        } else if c == '\\' {
                            text.push(c);
                            i += 1;
                            if let Some(&escaped) = chars.get(i) {
                                text.push(escaped);
                            }
                            i += 1;
                            continue;
                        } else if c == '"' {
                            break;
                        }
                        text.push(c);
                        i += 1;
                    }
                    found.push(text);
                }
                _ => {}
            }
            i += 1;
        }
        found
    }

    fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The dotted codes the sources name, with a file naming each.
    fn codes_in_sources() -> BTreeSet<(String, String)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&root, &mut files);
        let mut codes = BTreeSet::new();
        for file in files {
            if file.ends_with("config.rs") || file.ends_with("error/codes.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("read source");
            for literal in literals(&text) {
                if is_code_like(&literal) && !NOT_CODES.contains(&literal.as_str()) {
                    let shown = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
                    codes.insert((literal, shown));
                }
            }
        }
        codes
    }

    #[test]
    fn the_registry_is_sorted_unique_and_explained() {
        for pair in PROBLEM_CODES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{} must come before {}", pair[1].0, pair[0].0);
        }
        for (code, meaning) in PROBLEM_CODES {
            assert!(
                !meaning.trim().is_empty() && !meaning.contains('\n'),
                "{code}: one line"
            );
        }
        for code in UNDOTTED {
            assert!(is_registered(code), "{code}");
        }
    }

    /// A code the sources can emit and the registry (hence the OpenAPI document) lacks fails
    /// here, naming the file; so does an entry no source names any more.
    #[test]
    fn every_code_the_sources_name_is_registered_and_every_entry_is_used() {
        let found = codes_in_sources();
        let missing: Vec<String> = found
            .iter()
            .filter(|(code, _)| !is_registered(code))
            .map(|(code, file)| format!("{code} ({file})"))
            .collect();
        assert!(
            missing.is_empty(),
            "add these codes, each with its meaning, to error::PROBLEM_CODES (or, if they are \
             not problem codes, to NOT_CODES): {missing:?}"
        );
        let named: BTreeSet<&str> = found.iter().map(|(code, _)| code.as_str()).collect();
        let stale: Vec<&str> = PROBLEM_CODES
            .iter()
            .map(|(code, _)| *code)
            .filter(|code| !named.contains(code) && !UNDOTTED.contains(code))
            .collect();
        assert!(stale.is_empty(), "no source emits these registered codes: {stale:?}");
    }

    #[test]
    fn the_scan_reads_literals_as_rust_does() {
        let source = r##"let a = "x.y"; // "not.this"
            let b = '"'; let c = "say \"q.r\""; let d = r"^[a-z]"; let e = r#"u "v" w"#;
            let f = "s.t"; let g: &'static str = "g.h";"##;
        assert_eq!(
            literals(source),
            vec!["x.y", "say \\\"q.r\\\"", "^[a-z]", "u \"v\" w", "s.t", "g.h"]
        );
    }
}
