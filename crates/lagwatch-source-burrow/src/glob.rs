//! Name globs with Telegraf's semantics: `*` (any run of characters, separators included),
//! `?` (one character), `[abc]` / `[a-z]` / `[!a-z]` (a class), `{a,b}` (alternatives, which
//! may hold globs themselves) and `\` (the next character literally).

use crate::BurrowError;

/// One compiled glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    One,
    Star,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Alternatives(Vec<Vec<Token>>),
}

impl Glob {
    /// Compiles `pattern`.
    ///
    /// # Errors
    /// [`BurrowError::Glob`] naming the pattern when a class or an alternative is not closed.
    pub fn new(pattern: &str) -> Result<Glob, BurrowError> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut pos = 0;
        let tokens =
            parse_sequence(&chars, &mut pos, false).map_err(|reason| BurrowError::Glob {
                pattern: pattern.to_owned(),
                reason,
            })?;
        if pos < chars.len() {
            return Err(BurrowError::Glob {
                pattern: pattern.to_owned(),
                reason: "has a `}` without its `{`".into(),
            });
        }
        Ok(Glob {
            pattern: pattern.to_owned(),
            tokens,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        match_tokens(&self.tokens, &text)
    }
}

/// Parses until the end, or (inside braces) until an unescaped `,` or `}`, which is left
/// unconsumed.
fn parse_sequence(chars: &[char], pos: &mut usize, in_braces: bool) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    while let Some(&c) = chars.get(*pos) {
        match c {
            ',' | '}' if in_braces => return Ok(tokens),
            '}' => return Ok(tokens),
            '*' => {
                *pos += 1;
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => {
                *pos += 1;
                tokens.push(Token::One);
            }
            '\\' => {
                let Some(&next) = chars.get(*pos + 1) else {
                    return Err("ends with an unfinished escape `\\`".into());
                };
                *pos += 2;
                tokens.push(Token::Literal(next));
            }
            '[' => {
                *pos += 1;
                tokens.push(parse_class(chars, pos)?);
            }
            '{' => {
                *pos += 1;
                let mut alternatives = Vec::new();
                loop {
                    alternatives.push(parse_sequence(chars, pos, true)?);
                    match chars.get(*pos) {
                        Some(',') => *pos += 1,
                        Some('}') => {
                            *pos += 1;
                            break;
                        }
                        _ => return Err("has a `{` without its `}`".into()),
                    }
                }
                tokens.push(Token::Alternatives(alternatives));
            }
            other => {
                *pos += 1;
                tokens.push(Token::Literal(other));
            }
        }
    }
    Ok(tokens)
}

/// Parses a class after its `[`; a `]` right after `[` or `[!` is a member.
fn parse_class(chars: &[char], pos: &mut usize) -> Result<Token, String> {
    let negated = chars.get(*pos) == Some(&'!');
    if negated {
        *pos += 1;
    }
    let mut ranges = Vec::new();
    loop {
        let Some(&c) = chars.get(*pos) else {
            return Err("has a `[` without its `]`".into());
        };
        *pos += 1;
        if c == ']' && !ranges.is_empty() {
            return Ok(Token::Class { negated, ranges });
        }
        let low = if c == '\\' {
            let Some(&next) = chars.get(*pos) else {
                return Err("has a `[` without its `]`".into());
            };
            *pos += 1;
            next
        } else {
            c
        };
        let is_range =
            chars.get(*pos) == Some(&'-') && chars.get(*pos + 1).is_some_and(|&end| end != ']');
        if is_range {
            let high = chars[*pos + 1];
            *pos += 2;
            ranges.push((low, high));
        } else {
            ranges.push((low, low));
        }
    }
}

fn match_tokens(tokens: &[Token], text: &[char]) -> bool {
    let Some((first, rest)) = tokens.split_first() else {
        return text.is_empty();
    };
    match first {
        Token::Literal(c) => text.first() == Some(c) && match_tokens(rest, &text[1..]),
        Token::One => !text.is_empty() && match_tokens(rest, &text[1..]),
        Token::Class { negated, ranges } => match text.first() {
            Some(&c) => {
                let inside = ranges.iter().any(|&(low, high)| low <= c && c <= high);
                inside != *negated && match_tokens(rest, &text[1..])
            }
            None => false,
        },
        Token::Star => {
            if rest.is_empty() {
                return true;
            }
            (0..=text.len()).any(|skip| match_tokens(rest, &text[skip..]))
        }
        Token::Alternatives(alternatives) => alternatives.iter().any(|alternative| {
            let mut joined = alternative.clone();
            joined.extend_from_slice(rest);
            match_tokens(&joined, text)
        }),
    }
}

/// Include and exclude globs: a name passes when the include list is empty or one of its
/// globs matches, and no exclude glob matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlobFilter {
    include: Vec<Glob>,
    exclude: Vec<Glob>,
}

impl GlobFilter {
    /// Compiles both lists.
    ///
    /// # Errors
    /// [`BurrowError::Glob`] for the first invalid pattern.
    pub fn new(include: &[String], exclude: &[String]) -> Result<GlobFilter, BurrowError> {
        let compile = |list: &[String]| {
            list.iter()
                .map(|p| Glob::new(p))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(GlobFilter {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    /// Whether `name` passes.
    pub fn accepts(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|g| g.matches(name)))
            && !self.exclude.iter().any(|g| g.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        match Glob::new(pattern) {
            Ok(g) => g.matches(name),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn telegraf_glob_vectors() {
        let cases: &[(&str, &str, bool)] = &[
            ("orders", "orders", true),
            ("orders", "orders-2", false),
            ("*", "", true),
            ("*", "a.b-c", true),
            ("order*", "orders.eu-west", true),
            ("*-eu", "orders-eu", true),
            ("*-eu", "orders-us", false),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
            ("?", "a", true),
            ("?", "", false),
            ("g?", "g12", false),
            ("[abc]x", "bx", true),
            ("[abc]x", "dx", false),
            ("[a-c]x", "cx", true),
            ("[!a-c]x", "cx", false),
            ("[!a-c]x", "dx", true),
            ("[]]", "]", true),
            ("{orders,billing}-*", "billing-app", true),
            ("{orders,billing}-*", "shipping-app", false),
            ("{a*,b?}z", "axxz", true),
            ("{a*,b?}z", "bxz", true),
            ("{a*,b?}z", "bxxz", false),
            ("{,x}y", "y", true),
            (r"a\*", "a*", true),
            (r"a\*", "ab", false),
            ("ü*", "über", true),
        ];
        for &(pattern, name, expected) in cases {
            assert_eq!(matches(pattern, name), expected, "{pattern:?} on {name:?}");
        }
    }

    #[test]
    fn bad_globs_are_named() {
        for (pattern, reason) in [
            ("[ab", "has a `[` without its `]`"),
            ("{a,b", "has a `{` without its `}`"),
            ("a}", "has a `}` without its `{`"),
            ("a\\", "ends with an unfinished escape `\\`"),
        ] {
            match Glob::new(pattern) {
                Err(BurrowError::Glob {
                    pattern: p,
                    reason: r,
                }) => {
                    assert_eq!((p.as_str(), r.as_str()), (pattern, reason));
                }
                other => panic!("{pattern:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn exclude_wins_over_include() {
        let filter = GlobFilter::new(&["orders-*".into()], &["*-test".into()]).unwrap();
        assert!(filter.accepts("orders-eu"));
        assert!(!filter.accepts("orders-test"));
        assert!(!filter.accepts("billing"));
        let all = GlobFilter::new(&[], &["__*".into()]).unwrap();
        assert!(all.accepts("anything"));
        assert!(!all.accepts("__consumer_offsets"));
    }
}
