//! Small text helpers shared by every crate that shows outside input: cutting text to a
//! length without splitting a character, making names safe to print on a terminal, and
//! collecting an HTTP body up to a byte limit.

use std::borrow::Cow;
use std::fmt;

/// Cuts `text` to at most `max_bytes` bytes, on a character boundary (never in the middle
/// of a multi-byte character, which `String::truncate` would panic on).
///
/// ```
/// use lagwatch_core::text::truncate_at_char_boundary;
/// let mut s = "añb".to_owned(); // 'ñ' takes bytes 1 and 2
/// truncate_at_char_boundary(&mut s, 2);
/// assert_eq!(s, "a");
/// ```
pub fn truncate_at_char_boundary(text: &mut String, max_bytes: usize) {
    if text.len() > max_bytes {
        let cut = floor_char_boundary(text, max_bytes);
        text.truncate(cut);
    }
}

/// The longest prefix of `text` that is at most `max_bytes` bytes and ends on a character
/// boundary.
///
/// ```
/// use lagwatch_core::text::prefix_at_char_boundary;
/// assert_eq!(prefix_at_char_boundary("日本語", 4), "日");
/// ```
pub fn prefix_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    &text[..floor_char_boundary(text, max_bytes)]
}

fn floor_char_boundary(text: &str, max_bytes: usize) -> usize {
    if max_bytes >= text.len() {
        return text.len();
    }
    // A character is at most 4 bytes: a boundary is found within 4 steps back.
    (0..=max_bytes)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// Whether `c` must not reach a terminal as it is: C0 and C1 control characters (ESC, CR,
/// BEL, backspace, …, DEL) and the Unicode characters that reorder or hide text (bidi
/// embeddings, overrides and isolates, the left/right marks, zero-width joiners and spaces,
/// line and paragraph separators, the byte-order mark).
pub fn is_unsafe_for_terminal(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{061C}'
        )
}

/// `text` with every character [`is_unsafe_for_terminal`] replaced by a visible escape
/// (`\x1b`, `\r`, `\u{202e}`), and backslashes doubled so an escape cannot be faked.
/// Borrowed unchanged when there is nothing to replace.
///
/// ```
/// use lagwatch_core::text::escape_for_terminal;
/// assert_eq!(escape_for_terminal("orders"), "orders");
/// assert_eq!(escape_for_terminal("a\u{1b}[2Jb\r"), "a\\x1b[2Jb\\r");
/// assert_eq!(escape_for_terminal("x\u{202e}y"), "x\\u{202e}y");
/// ```
pub fn escape_for_terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || is_unsafe_for_terminal(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe_for_terminal(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe_for_terminal(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An HTTP body that went past its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("answer body larger than {limit} bytes{}", announced.map(|n| format!(" (announced {n} bytes)")).unwrap_or_default())]
pub struct BodyTooLarge {
    /// The limit, in bytes.
    pub limit: usize,
    /// The length the server announced (`Content-Length`), when that is what told.
    pub announced: Option<u64>,
}

/// Most bytes [`CappedBody::with_announced`] reserves because of an announced length.
pub const RESERVE_MAX: usize = 64 * 1024;

/// Collects an HTTP body chunk by chunk, refusing to hold more than `limit` bytes, so a
/// server cannot make the reader allocate without bound. Check the announced length first
/// with [`CappedBody::with_announced`]; then [`push`](CappedBody::push) every chunk.
///
/// ```
/// use lagwatch_core::text::CappedBody;
/// let mut body = CappedBody::with_announced(8, Some(5)).unwrap();
/// body.push(b"hello").unwrap();
/// assert!(body.push(b"world").is_err());
/// assert!(CappedBody::with_announced(8, Some(9)).is_err());
/// ```
pub struct CappedBody {
    bytes: Vec<u8>,
    limit: usize,
}

impl fmt::Debug for CappedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CappedBody")
            .field("len", &self.bytes.len())
            .field("limit", &self.limit)
            .finish()
    }
}

impl CappedBody {
    /// An empty body of at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        CappedBody {
            bytes: Vec::new(),
            limit,
        }
    }

    /// An empty body of at most `limit` bytes; fails at once when the server announced a
    /// longer one. The announced length only decides that: at most [`RESERVE_MAX`] bytes are
    /// reserved from it, the rest grows as bytes actually arrive.
    pub fn with_announced(limit: usize, announced: Option<u64>) -> Result<Self, BodyTooLarge> {
        match announced {
            Some(n) if n > limit as u64 => Err(BodyTooLarge {
                limit,
                announced: Some(n),
            }),
            Some(n) => Ok(CappedBody {
                bytes: Vec::with_capacity(
                    usize::try_from(n)
                        .unwrap_or(limit)
                        .min(limit)
                        .min(RESERVE_MAX),
                ),
                limit,
            }),
            None => Ok(CappedBody::new(limit)),
        }
    }

    /// Adds a chunk; fails (keeping nothing of it) when the body would exceed the limit.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), BodyTooLarge> {
        if self.bytes.len().saturating_add(chunk.len()) > self.limit {
            return Err(BodyTooLarge {
                limit: self.limit,
                announced: None,
            });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    /// Adds as much of `chunk` as fits; returns `false` when some of it did not fit (the
    /// body is then cut at the limit). For answers only quoted, never parsed.
    pub fn push_within_limit(&mut self, chunk: &[u8]) -> bool {
        let room = self.limit.saturating_sub(self.bytes.len());
        let take = chunk.len().min(room);
        self.bytes.extend_from_slice(&chunk[..take]);
        take == chunk.len()
    }

    /// The bytes collected.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_never_split_a_character() {
        let text = format!("{}é{}", "a".repeat(199), "b".repeat(50));
        for max in 0..text.len() + 2 {
            let mut s = text.clone();
            truncate_at_char_boundary(&mut s, max);
            assert!(s.len() <= max && text.starts_with(&s), "{max}");
            assert!(s.len() + 1 >= max.min(text.len()), "{max}");
            assert_eq!(prefix_at_char_boundary(&text, max), s);
        }
    }

    #[test]
    fn every_control_and_bidi_character_is_made_visible() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let shown = escape_for_terminal(&c.to_string()).into_owned();
            assert!(shown.starts_with('\\'), "{c:?} -> {shown:?}");
            assert!(!shown.chars().any(char::is_control), "{c:?} -> {shown:?}");
        }
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200f}', '\u{feff}',
        ] {
            let shown = escape_for_terminal(&c.to_string()).into_owned();
            assert_eq!(shown, format!("\\u{{{:x}}}", c as u32));
        }
        assert_eq!(escape_for_terminal("a\\x1b"), "a\\\\x1b");
        assert_eq!(escape_for_terminal("grüße-日本"), "grüße-日本");
        assert!(matches!(escape_for_terminal("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_capped_body_refuses_what_goes_past_the_limit() {
        let mut body = CappedBody::with_announced(10, None).unwrap();
        body.push(b"12345").unwrap();
        body.push(b"67890").unwrap();
        let err = body.push(b"1").unwrap_err();
        assert_eq!(err.to_string(), "answer body larger than 10 bytes");
        assert_eq!(body.into_bytes(), b"1234567890");
        let err = CappedBody::with_announced(10, Some(u64::MAX)).unwrap_err();
        assert!(err.to_string().contains("announced"), "{err}");
        // An announced length is not trusted for more than a small reservation.
        let announced = CappedBody::with_announced(1 << 30, Some(1 << 30)).unwrap();
        assert!(announced.bytes.capacity() <= RESERVE_MAX);
        let mut quoted = CappedBody::with_announced(4, None).unwrap();
        assert!(!quoted.push_within_limit(b"abcdef"));
        assert_eq!(quoted.into_bytes(), b"abcd");
    }
}
