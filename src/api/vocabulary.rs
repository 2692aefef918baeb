//! `/api/v1/vocabulary`: every enumeration the API writes, each code with its label in the
//! negotiated language, for front ends that show labels instead of codes.

use actix_web::http::header;
use actix_web::{get, HttpResponse};
use sea_orm::Iterable;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::{Caller, Level, Role};
use crate::error::ApiError;
use crate::i18n::{label, Lang};
use crate::scoring::{Consequence, EvaluationKind, Grade, IncidentKind, SubjectType};
use crate::store::appeals::AppealStatus;
use crate::store::evaluations::EvaluationStatus;
use crate::store::incidents::IncidentStatus;
use crate::store::org_units::OrgKind;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(vocabulary);
}

/// One code of an enumeration and what a person reads for it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Term {
    /// The code, as the API writes it (stable, language-neutral).
    #[schema(example = "excellent")]
    pub code: String,
    /// Its label in the answer's language.
    #[schema(example = "优秀")]
    pub label: String,
}

/// Every enumeration, its codes in the API's order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Vocabulary {
    /// The language of the labels (also in `Content-Language`): `zh-CN` or `en`.
    #[schema(example = "zh-CN")]
    pub language: String,
    /// Grades (考核等次): `excellent` 优秀 … `incompetent` 不称职.
    pub grade: Vec<Term>,
    /// The prize keys of the built-in schemes (`first` 一等奖 …); a scheme's own prize carries
    /// its title.
    pub prize: Vec<Term>,
    /// Consequence codes (结果运用).
    pub consequence: Vec<Term>,
    /// Kinds of finding (`kind` of an incident).
    pub incident_kind: Vec<Term>,
    /// Subject types (考核对象).
    pub subject_type: Vec<Term>,
    /// Kinds of evaluation.
    pub evaluation_kind: Vec<Term>,
    /// Levels of org units users work at.
    pub level: Vec<Term>,
    /// User roles.
    pub role: Vec<Term>,
    /// Kinds of org unit.
    pub org_kind: Vec<Term>,
    /// States of a finding.
    pub incident_status: Vec<Term>,
    /// States of an appeal.
    pub appeal_status: Vec<Term>,
    /// States of an evaluation.
    pub evaluation_status: Vec<Term>,
}

/// The prize keys the built-in schemes award.
pub const PRIZES: [&str; 3] = ["first", "second", "third"];

/// The code serde writes for `value` (enumerations of unit variants are strings).
fn code_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(code)) => code,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn terms<T: Serialize>(lang: Lang, enumeration: &str, values: impl IntoIterator<Item = T>) -> Vec<Term> {
    values
        .into_iter()
        .map(|value| {
            let code = code_of(&value);
            Term {
                label: label(lang, enumeration, &code),
                code,
            }
        })
        .collect()
}

impl Vocabulary {
    pub fn new(lang: Lang) -> Self {
        Self {
            language: lang.tag().to_owned(),
            grade: terms(
                lang,
                "grade",
                [Grade::Excellent, Grade::Competent, Grade::Basic, Grade::Incompetent],
            ),
            prize: terms(lang, "prize", PRIZES),
            consequence: terms(lang, "consequence", Consequence::ALL),
            incident_kind: terms(lang, "incident_kind", IncidentKind::iter()),
            subject_type: terms(lang, "subject_type", SubjectType::ALL),
            evaluation_kind: terms(lang, "evaluation_kind", EvaluationKind::iter()),
            level: terms(lang, "level", Level::iter()),
            role: terms(lang, "role", Role::iter()),
            org_kind: terms(lang, "org_kind", OrgKind::iter()),
            incident_status: terms(lang, "incident_status", IncidentStatus::iter()),
            appeal_status: terms(lang, "appeal_status", AppealStatus::iter()),
            evaluation_status: terms(lang, "evaluation_status", EvaluationStatus::iter()),
        }
    }

    /// Every term, by enumeration.
    pub fn all(&self) -> [(&'static str, &[Term]); 12] {
        [
            ("grade", &self.grade),
            ("prize", &self.prize),
            ("consequence", &self.consequence),
            ("incident_kind", &self.incident_kind),
            ("subject_type", &self.subject_type),
            ("evaluation_kind", &self.evaluation_kind),
            ("level", &self.level),
            ("role", &self.role),
            ("org_kind", &self.org_kind),
            ("incident_status", &self.incident_status),
            ("appeal_status", &self.appeal_status),
            ("evaluation_status", &self.evaluation_status),
        ]
    }
}

/// Every enumeration's codes with their labels
///
/// In the language `Accept-Language` asks for (简体中文 by default, `en` for English): grades,
/// prizes, consequences, kinds of finding, subject types, evaluation kinds, levels, roles and
/// states. Codes are what the other operations send and accept; labels are for people.
#[utoipa::path(
    tag = "operations", operation_id = "getVocabulary",
    params(("Accept-Language" = Option<String>, Header, description = "`zh-CN` (default) or `en`, with weights as RFC 9110 allows")),
    responses((status = 200, description = "Every enumeration with its labels", body = Vocabulary,
        headers(("Content-Language" = String, description = "`zh-CN` or `en`"))))
)]
#[get("/vocabulary")]
async fn vocabulary(_caller: Caller, lang: Lang) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, lang.tag()))
        .json(Vocabulary::new(lang)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code of every enumeration has its own label in both languages (not the code itself),
    /// and the two differ where Chinese and English words differ.
    #[test]
    fn every_code_has_a_label_in_both_languages() {
        let zh = Vocabulary::new(Lang::ZhCn);
        let en = Vocabulary::new(Lang::En);
        for ((name, zh_terms), (_, en_terms)) in zh.all().into_iter().zip(en.all()) {
            assert!(!zh_terms.is_empty(), "{name}");
            for (z, e) in zh_terms.iter().zip(en_terms) {
                for (lang, term) in [("zh-CN", z), ("en", e)] {
                    assert!(
                        Lang::ALL
                            .iter()
                            .find(|l| l.tag() == lang)
                            .and_then(|l| l.text(&format!("label-{name}-{}", term.code)))
                            .is_some(),
                        "label-{name}-{} is missing from locales/{lang}/labels.ftl",
                        term.code
                    );
                }
                assert!(!z.label.is_ascii(), "{name}.{}: {}", z.code, z.label);
            }
        }
        assert_eq!(zh.grade[0].label, "优秀");
        assert_eq!(en.grade[0].label, "Excellent");
        assert_eq!(zh.prize[0].label, "一等奖");
        assert_eq!(zh.subject_type[0].label, "乡镇");
    }
}
