//! The language of an answer: `Accept-Language` negotiated to zh-CN (the default) or en, and the
//! message catalogues (Fluent files under `locales/<language>/`) that texts are looked up in.
//! Codes, field names and JSON keys stay language-neutral; only what a person reads is translated.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::{ready, Ready};

use actix_web::{dev::Payload, http::header, FromRequest, HttpRequest};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

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

    /// The catalogue's text `id` with its arguments filled in.
    pub fn text_with(self, id: &str, args: &[(&str, String)]) -> Option<String> {
        let args: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_owned()), FluentValue::from(v.clone())))
            .collect();
        LOCALES.try_lookup_complete(&self.id(), id, Some(&args))
    }
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

    #[test]
    fn both_catalogues_load() {
        assert_eq!(Lang::ZhCn.text("language-name").as_deref(), Some("简体中文"));
        assert_eq!(Lang::En.text("language-name").as_deref(), Some("English"));
        assert_eq!(Lang::En.text("no-such-text"), None);
    }
}
