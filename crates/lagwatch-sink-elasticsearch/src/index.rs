//! Index names from Telegraf-style patterns (`burrow-%Y.%m.%d`, `lag-{{cluster}}-%Y.%V`).

use crate::EsError;
use lagwatch_core::TimestampMs;
use lagwatch_core::measurement::{Measurement, UtcDateTime, civil_from_days, days_from_civil};

/// One piece of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// `%Y`: four-digit year.
    Year,
    /// `%y`: two-digit year.
    ShortYear,
    /// `%m`: month 01-12.
    Month,
    /// `%d`: day 01-31.
    Day,
    /// `%H`: hour 00-23.
    Hour,
    /// `%V`: ISO week number, not zero-padded (as Telegraf writes it).
    IsoWeek,
    /// `{{tag}}`: the record's tag value.
    Tag(String),
}

/// A parsed index-name pattern.
///
/// ```
/// use lagwatch_sink_elasticsearch::index::IndexPattern;
/// let p = IndexPattern::parse("burrow-%Y.%m.%d", "").unwrap();
/// assert_eq!(p.render_at(1_566_203_530_000, |_| None), "burrow-2019.08.19");
/// assert_eq!(p.prefix(), "burrow-");
/// assert!(IndexPattern::parse("burrow-%j", "").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPattern {
    pattern: String,
    parts: Vec<Part>,
    default_tag_value: String,
}

impl IndexPattern {
    /// Parses `pattern`; `default_tag_value` replaces a `{{tag}}` the record does not have.
    /// Unknown `%` escapes and unclosed `{{` are refused.
    pub fn parse(pattern: &str, default_tag_value: &str) -> Result<IndexPattern, EsError> {
        lagwatch_config::elasticsearch::check_index_name(pattern).map_err(|reason| {
            EsError::IndexPattern {
                pattern: pattern.to_owned(),
                reason,
            }
        })?;
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = pattern;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("{{") {
                // check_index_name guarantees the closing braces.
                let end = after.find("}}").unwrap_or(after.len());
                push_literal(&mut parts, &mut literal);
                parts.push(Part::Tag(after[..end].trim().to_owned()));
                rest = after.get(end + 2..).unwrap_or("");
                continue;
            }
            if c == '%' {
                let part = match rest[1..].chars().next() {
                    Some('Y') => Part::Year,
                    Some('y') => Part::ShortYear,
                    Some('m') => Part::Month,
                    Some('d') => Part::Day,
                    Some('H') => Part::Hour,
                    _ => Part::IsoWeek,
                };
                push_literal(&mut parts, &mut literal);
                parts.push(part);
                rest = &rest[2..];
                continue;
            }
            literal.push(c);
            rest = &rest[c.len_utf8()..];
        }
        push_literal(&mut parts, &mut literal);
        Ok(IndexPattern {
            pattern: pattern.to_owned(),
            parts,
            default_tag_value: default_tag_value.to_owned(),
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// The literal start of the pattern, before the first placeholder (`burrow-` for
    /// `burrow-%Y.%m.%d`); templates match `<prefix>*`.
    pub fn prefix(&self) -> &str {
        match self.parts.first() {
            Some(Part::Literal(s)) => s,
            _ => "",
        }
    }

    /// The index of `record`.
    pub fn render(&self, record: &Measurement) -> String {
        self.render_at(record.timestamp_ms, |tag| record.tag(tag))
    }

    /// The index for time `at_ms` with tags looked up by `tag`. Upper-case letters from tag
    /// values are lower-cased, as Elasticsearch accepts only lower-case index names.
    pub fn render_at<'a>(
        &self,
        at_ms: TimestampMs,
        tag: impl Fn(&str) -> Option<&'a str>,
    ) -> String {
        let t = UtcDateTime::from_unix_ms(at_ms);
        let mut out = String::with_capacity(self.pattern.len() + 8);
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Year => out.push_str(&format!("{:04}", t.year)),
                Part::ShortYear => out.push_str(&format!("{:02}", t.year.rem_euclid(100))),
                Part::Month => out.push_str(&format!("{:02}", t.month)),
                Part::Day => out.push_str(&format!("{:02}", t.day)),
                Part::Hour => out.push_str(&format!("{:02}", t.hour)),
                Part::IsoWeek => out.push_str(&iso_week(t.year, t.month, t.day).to_string()),
                Part::Tag(name) => {
                    let value = tag(name).unwrap_or(&self.default_tag_value);
                    out.push_str(&value.to_lowercase());
                }
            }
        }
        out
    }
}

fn push_literal(parts: &mut Vec<Part>, literal: &mut String) {
    if !literal.is_empty() {
        parts.push(Part::Literal(std::mem::take(literal)));
    }
}

/// ISO 8601 week number (1-53) of a civil date.
pub fn iso_week(year: i64, month: u8, day: u8) -> u32 {
    let days = days_from_civil(year, month, day);
    // 1970-01-01 was a Thursday; Monday = 0.
    let weekday = (days + 3).rem_euclid(7);
    // The Thursday of this date's week decides the ISO year.
    let thursday = days - weekday + 3;
    let (iso_year, _, _) = civil_from_days(thursday);
    let jan1 = days_from_civil(iso_year, 1, 1);
    ((thursday - jan1) / 7 + 1) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const AT: TimestampMs = 1_566_203_530_000; // 2019-08-19T08:32:10Z

    #[test]
    fn date_placeholders_use_utc() {
        let p = IndexPattern::parse("x-%Y-%y-%m-%d-%H-%V", "").unwrap();
        assert_eq!(p.render_at(AT, |_| None), "x-2019-19-08-19-08-34");
        // 23:59:59.999 on Dec 31 UTC stays in the old day.
        let p = IndexPattern::parse("burrow-%Y.%m.%d", "").unwrap();
        assert_eq!(
            p.render_at(1_577_836_799_999, |_| None),
            "burrow-2019.12.31"
        );
        assert_eq!(
            p.render_at(1_577_836_800_000, |_| None),
            "burrow-2020.01.01"
        );
    }

    #[test]
    fn iso_weeks_match_known_dates() {
        let cases = [
            ((2019, 8, 19), 34),
            ((2021, 1, 1), 53),
            ((2021, 1, 4), 1),
            ((2024, 12, 30), 1),
            ((2020, 12, 31), 53),
            ((2026, 1, 1), 1),
            ((2027, 1, 3), 53),
        ];
        for ((y, m, d), week) in cases {
            assert_eq!(iso_week(y, m, d), week, "{y}-{m}-{d}");
        }
        let p = IndexPattern::parse("w%V", "").unwrap();
        // 2021-01-04 is week 1, written without padding.
        assert_eq!(p.render_at(1_609_718_400_000, |_| None), "w1");
    }

    #[test]
    fn tags_and_defaults() {
        let p = IndexPattern::parse("lag-{{ cluster }}-{{zone}}-%Y", "none").unwrap();
        let tag = |name: &str| {
            if name == "cluster" {
                Some("Live")
            } else {
                None
            }
        };
        assert_eq!(p.render_at(AT, tag), "lag-live-none-2019");
        assert_eq!(p.prefix(), "lag-");
        assert_eq!(IndexPattern::parse("%Y-x", "").unwrap().prefix(), "");
    }

    #[test]
    fn bad_patterns_are_refused_with_the_reason() {
        for (pattern, reason) in [
            ("burrow-%j", "unknown placeholder %j"),
            ("burrow-%", "lone %"),
            ("burrow-{{cluster", "not closed"),
            ("burrow-{{ }}", "names no tag"),
            ("", "must not be empty"),
            ("_x", "must not start"),
            ("a b", "must not contain"),
        ] {
            let err = IndexPattern::parse(pattern, "").unwrap_err().to_string();
            assert!(err.contains(reason), "{pattern}: {err}");
            assert!(err.contains(&format!("{pattern:?}")), "{err}");
        }
    }
}
