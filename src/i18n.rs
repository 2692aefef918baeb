//! The language of an answer: `Accept-Language` negotiated to zh-CN (the default) or en, and the
//! message catalogues (Fluent files under `locales/<language>/`) that texts are looked up in.
//! Codes, field names and JSON keys stay language-neutral; only what a person reads is translated.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::LanguageIdentifier;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "zh-CN",
        // No Unicode isolation marks around arguments: the texts end up in JSON, CSV and Excel.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the service answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// 简体中文, the default.
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, as sent in `Content-Language`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    fn id(self) -> LanguageIdentifier {
        self.tag().parse().expect("a valid language tag")
    }

    /// The language an `Accept-Language` value prefers (RFC 9110 §12.5.4): the supported range of
    /// the highest weight, the first of equal weights; zh-CN when nothing supported is asked for.
    pub fn negotiate(accept_language: &str) -> Lang {
        let mut best: Option<(Lang, f32)> = None;
        for range in accept_language.split(',') {
            let mut parts = range.split(';');
            let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let weight = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())
                .filter(|q| (0.0..=1.0).contains(q));
            let Some(weight) = weight.filter(|q| *q > 0.0) else {
                continue;
            };
            let lang = match tag.split('-').next().unwrap_or("") {
                "zh" => Lang::ZhCn,
                "en" => Lang::En,
                _ => continue,
            };
            if best.is_none_or(|(_, w)| weight > w) {
                best = Some((lang, weight));
            }
        }
        best.map_or(Lang::ZhCn, |(lang, _)| lang)
    }

    /// The language a request asks for.
    pub fn of(req: &HttpRequest) -> Lang {
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map_or(Lang::ZhCn, Lang::negotiate)
    }

    /// The catalogue's text `id`, or `None` when this language's catalogue lacks it.
    pub fn text(self, id: &str) -> Option<String> {
        LOCALES.lookup_no_default_fallback::<&str>(&self.id(), id, None)
    }

    /// The catalogue's text `id` with its arguments filled in; `None` also when the text uses an
    /// argument not given (Fluent would show `{$name}`), so a caller can fall back to a text
    /// without it. (`id.attribute` looks up an attribute of the message.)
    pub fn text_with(self, id: &str, args: &[(&str, String)]) -> Option<String> {
        let fluent_args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_owned()), FluentValue::from(v.clone())))
            .collect();
        let text = LOCALES.lookup_no_default_fallback(&self.id(), id, Some(&fluent_args))?;
        let given_placeholder = args.iter().any(|(_, v)| v.contains("{$"));
        (given_placeholder || !text.contains("{$")).then_some(text)
    }
}

/// The label of `value` of an enumeration (`label-<enumeration>-<value>` in labels.ftl), or the
/// value itself when the catalogue has none (a scheme's own prize key, say).
pub fn label(lang: Lang, enumeration: &str, value: &str) -> String {
    lang.text(&format!("label-{enumeration}-{value}"))
        .unwrap_or_else(|| value.to_owned())
}

/// `Lang` as a handler argument: never fails, zh-CN when the request states nothing supported.
impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang::of(req)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_weighted_supported_language_wins_and_zh_cn_is_the_default() {
        assert_eq!(Lang::negotiate(""), Lang::ZhCn);
        assert_eq!(Lang::negotiate("fr, de;q=0.5"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("en"), Lang::En);
        assert_eq!(Lang::negotiate("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::negotiate("zh-CN,zh;q=0.9,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("fr;q=1, zh-Hans;q=0.3, en;q=0.7"), Lang::En);
        assert_eq!(Lang::negotiate("en;q=0, zh;q=0.1"), Lang::ZhCn);
        assert_eq!(Lang::negotiate("en;q=bogus"), Lang::ZhCn);
    }

    /// The ids of a catalogue file, each with its attributes (`id` and `id.attribute`).
    fn ids_in(path: &std::path::Path) -> std::collections::BTreeSet<String> {
        texts_in(path).into_keys().collect()
    }

    /// The texts of a catalogue file by id (`id` and `id.attribute`), as written.
    fn texts_in(path: &std::path::Path) -> std::collections::BTreeMap<String, String> {
        let text = std::fs::read_to_string(path).expect("a catalogue file");
        let mut texts = std::collections::BTreeMap::new();
        let mut current = String::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some((id, value)) = line.split_once('=').filter(|_| !line.starts_with(' ')) {
                current = id.trim().to_owned();
                texts.insert(current.clone(), value.trim().to_owned());
            } else if let Some((attribute, value)) = line.trim().strip_prefix('.').and_then(|a| a.split_once('=')) {
                texts.insert(format!("{current}.{}", attribute.trim()), value.trim().to_owned());
            }
        }
        texts
    }

    fn catalogue_dir(lang: Lang) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("locales")
            .join(lang.tag())
    }

    /// Every catalogue file exists in both languages with the same ids (and attributes), and
    /// every id has a text in both.
    #[test]
    fn every_catalogue_has_the_same_ids_in_both_languages() {
        let files = |lang: Lang| -> std::collections::BTreeSet<String> {
            std::fs::read_dir(catalogue_dir(lang))
                .expect("locales")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".ftl"))
                .collect()
        };
        assert_eq!(files(Lang::ZhCn), files(Lang::En));
        for file in files(Lang::ZhCn) {
            let zh = ids_in(&catalogue_dir(Lang::ZhCn).join(&file));
            let en = ids_in(&catalogue_dir(Lang::En).join(&file));
            let only_zh: Vec<_> = zh.difference(&en).collect();
            let only_en: Vec<_> = en.difference(&zh).collect();
            assert!(
                only_zh.is_empty() && only_en.is_empty(),
                "{file}: only in zh-CN {only_zh:?}, only in en {only_en:?}"
            );
            // Each text loads (those without arguments; `text` refuses one whose arguments are
            // not given).
            for lang in Lang::ALL {
                let texts = texts_in(&catalogue_dir(lang).join(&file));
                for (id, _) in texts
                    .iter()
                    .filter(|(id, text)| !id.contains('.') && !text.contains('$'))
                {
                    assert!(
                        lang.text(id).is_some_and(|t| !t.trim().is_empty()),
                        "{} {id}",
                        lang.tag()
                    );
                }
            }
        }
    }

    /// Every problem code has a title and a message in both languages, and problems.ftl holds
    /// no text of a code the service does not have.
    #[test]
    fn every_problem_code_has_a_title_and_a_message_in_both_languages() {
        use crate::error::{problem_text_id, PROBLEM_CODES};
        let known: std::collections::BTreeSet<String> =
            PROBLEM_CODES.iter().map(|(code, _)| problem_text_id(code)).collect();
        for lang in Lang::ALL {
            let file = std::path::Path::new("problems").with_extension("ftl");
            let ids = ids_in(&catalogue_dir(lang).join(file));
            for (code, _) in PROBLEM_CODES {
                let id = problem_text_id(code);
                assert!(ids.contains(&id), "{}: no title of {code} ({id})", lang.tag());
                assert!(
                    ids.contains(&format!("{id}.message")),
                    "{}: no message of {code}",
                    lang.tag()
                );
                assert!(lang.text(&id).is_some(), "{}: {id} does not load", lang.tag());
            }
            let strays: Vec<&String> = ids
                .iter()
                .filter(|id| id.starts_with("problem-") && !known.contains(id.split('.').next().unwrap_or(id)))
                .collect();
            assert!(strays.is_empty(), "{}: texts of unknown codes {strays:?}", lang.tag());
        }
    }

    /// The arguments a text uses (`{ $name }`).
    fn arguments_of(text: &str) -> std::collections::BTreeSet<String> {
        text.split("{ $")
            .skip(1)
            .filter_map(|rest| rest.split([' ', '}']).next())
            .map(str::to_owned)
            .collect()
    }

    /// The Rust sources under `dir`, by path.
    fn sources(dir: &std::path::Path, found: &mut Vec<(std::path::PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push((path.clone(), std::fs::read_to_string(&path).expect("a source file")));
            }
        }
    }

    /// Every argument a problem's message uses is passed (`.arg("name", …)`) in some source that
    /// emits the code; `field` is every field error's own, `<name>_label` the label of `name`. A
    /// call site that passes less still never shows a placeholder (the text falls back to the
    /// title); this catches a text written for arguments no call site gives.
    #[test]
    fn the_arguments_of_every_problem_message_are_passed_where_its_code_is_emitted() {
        use crate::error::{problem_text_id, PROBLEM_CODES};
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let file = std::path::Path::new("problems").with_extension("ftl");
        let registry = std::path::Path::new("codes").with_extension("rs");
        let mut unpassed = Vec::new();
        for lang in Lang::ALL {
            let texts = texts_in(&catalogue_dir(lang).join(&file));
            for (code, _) in PROBLEM_CODES {
                let Some(message) = texts.get(&format!("{}.message", problem_text_id(code))) else {
                    continue;
                };
                let quoted = format!("\"{code}\"");
                let emitters: Vec<&String> = files
                    .iter()
                    .filter(|(path, text)| !path.ends_with(&registry) && text.contains(&quoted))
                    .map(|(_, text)| text)
                    .collect();
                for argument in arguments_of(message) {
                    let name = argument.strip_suffix("_label").unwrap_or(&argument);
                    let passed = format!(".arg(\"{name}\"");
                    if name != "field" && !emitters.iter().any(|text| text.contains(&passed)) {
                        unpassed.push(format!("{} {code}: ${argument}", lang.tag()));
                    }
                }
            }
        }
        assert!(
            unpassed.is_empty(),
            "texts use arguments no call site passes: {unpassed:?}"
        );
        assert_eq!(
            arguments_of("指标 { $item } 不在“{ $subject_type_label }”中"),
            ["item", "subject_type_label"].map(str::to_owned).into()
        );
    }

    /// A text whose argument is not given is no text (the caller falls back), never `{$name}`.
    #[test]
    fn a_text_with_a_missing_argument_is_refused() {
        let id = "problem-incident-item_unknown.message";
        assert_eq!(Lang::ZhCn.text_with(id, &[("item", "1.1".to_owned())]), None);
        let full = Lang::ZhCn.text_with(
            id,
            &[("item", "1.1".to_owned()), ("subject_type_label", "乡镇".to_owned())],
        );
        assert_eq!(full.as_deref(), Some("指标 1.1 不在“乡镇”的考核细则中"));
        assert_eq!(label(Lang::En, "grade", "excellent"), "Excellent");
        assert_eq!(label(Lang::ZhCn, "prize", "special"), "special");
    }

    #[test]
    fn both_catalogues_load() {
        assert_eq!(Lang::ZhCn.text("language-name").as_deref(), Some("简体中文"));
        assert_eq!(Lang::En.text("language-name").as_deref(), Some("English"));
        assert_eq!(Lang::En.text("no-such-text"), None);
    }
}
