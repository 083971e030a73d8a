//! Text helpers of the preprocessor: physical lines, comments, quotes, parentheses,
//! csh-style brace expansion and `**` in include patterns.

use super::{MAX_BRACE_GROUPS, MAX_BRACE_PATTERNS};

/// Bytes that send a line down the full path: comment starts, escapes and quotes,
/// `@` conditionals, `$` parameters, `~` loops, and anything not ASCII (whose
/// whitespace `trim` knows and a byte scan does not).
pub(super) const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0x80;
    while i < 256 {
        t[i] = true;
        i += 1;
    }
    t[b'#' as usize] = true;
    t[b'!' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'@' as usize] = true;
    t[b'$' as usize] = true;
    t[b'~' as usize] = true;
    t
};

/// The physical lines of a text, split as [`str::lines`] splits them (at `\n` or
/// `\r\n`; a last line without an ending counts), each with whether it holds a
/// [`SPECIAL`] byte: one pass over the bytes does both.
pub(super) struct PhysLines<'t> {
    pub(super) rest: &'t str,
}

impl<'t> Iterator for PhysLines<'t> {
    type Item = (&'t str, bool);

    fn next(&mut self) -> Option<(&'t str, bool)> {
        if self.rest.is_empty() {
            return None;
        }
        let b = self.rest.as_bytes();
        let mut special = false;
        let mut end = b.len();
        for (i, &c) in b.iter().enumerate() {
            if c == b'\n' {
                end = i;
                break;
            }
            special |= SPECIAL[c as usize];
        }
        // `end` is at a '\n' or the end of the text: both are char boundaries.
        let line = self.rest.get(..end).unwrap_or(self.rest);
        self.rest = self.rest.get(end + 1..).unwrap_or("");
        let line = if end < b.len() {
            line.strip_suffix('\r').unwrap_or(line)
        } else {
            line
        };
        Some((line, special))
    }
}

/// A physical line with no [`SPECIAL`] byte: its leading blank length and its text
/// trimmed of ASCII whitespace, exactly what `strip_comment` + `trim` give for it.
/// `None` when it does not fit in the column type.
pub(super) fn plain_line(raw: &str) -> Option<(u32, &str)> {
    let b = raw.as_bytes();
    let ws = |c: &u8| c.is_ascii_whitespace() || *c == 0x0b;
    let start = b.iter().position(|c| !ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
    let lead = u32::try_from(start).ok()?;
    Some((lead, raw.get(start..end)?))
}

/// `$NAME=...` with no space before `=`.
pub(super) fn is_definition(t: &str) -> bool {
    let Some(rest) = t.strip_prefix('$') else {
        return false;
    };
    let n = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    n > 0 && rest[n..].starts_with('=')
}

/// Cut `#`/`!` comments outside double quotes; `\#` and `\!` become `#` and `!`.
/// Returns the kept text and whether anything was changed besides the cut.
pub fn strip_comment(line: &str) -> (std::borrow::Cow<'_, str>, bool) {
    let b = line.as_bytes();
    let mut in_q = false;
    let mut escapes = false;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' if i + 1 < b.len() => {
                if !in_q && (b[i + 1] == b'#' || b[i + 1] == b'!') {
                    escapes = true;
                }
                i += 2;
                continue;
            }
            b'"' => in_q = !in_q,
            b'#' | b'!' if !in_q => {
                let kept = &line[..i];
                return if escapes {
                    (unescape_comment_chars(kept).into(), true)
                } else {
                    (kept.into(), false)
                };
            }
            _ => {}
        }
        i += 1;
    }
    if escapes {
        (unescape_comment_chars(line).into(), true)
    } else {
        (line.into(), false)
    }
}

pub(super) fn unescape_comment_chars(s: &str) -> String {
    s.replace("\\#", "#").replace("\\!", "!")
}

/// Strip one level of matching quotes.
pub(super) fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    s.to_string()
}

/// The index of the `)` closing the group that starts right before `s`.
pub(super) fn matching_paren(s: &str) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' if depth == 0 => return Some(i),
            ')' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// Split on commas that are not inside `{ }`.
pub(super) fn split_top_level(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '{' => {
                depth += 1;
                cur.push(c);
            }
            '}' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth <= 0 => out.push(std::mem::take(&mut cur).trim().to_string()),
            _ => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out
}

/// csh-style brace expansion: `a{b,c}d` -> `abd`, `acd` (nested braces supported).
/// Unbounded: for tests and trusted input; `include` uses [`expand_braces_bounded`].
pub fn expand_braces(s: &str) -> Vec<String> {
    let mut budget = usize::MAX;
    expand_braces_in(s, &mut budget).unwrap_or_default()
}

/// [`expand_braces`], refusing a pattern with more than [`MAX_BRACE_GROUPS`] groups or
/// more than [`MAX_BRACE_PATTERNS`] results (a brace bomb such as `{a,b}` x 30 would
/// otherwise mean 2^30 patterns to glob).
pub fn expand_braces_bounded(s: &str) -> Result<Vec<String>, String> {
    if s.matches('{').count() > MAX_BRACE_GROUPS {
        return Err(format!(
            "more than {MAX_BRACE_GROUPS} brace groups in one pattern: refused"
        ));
    }
    let mut budget = MAX_BRACE_PATTERNS;
    expand_braces_in(s, &mut budget).ok_or_else(|| {
        format!("the braces expand to more than {MAX_BRACE_PATTERNS} patterns: refused")
    })
}

/// Expansion spending `budget`, one unit per pattern produced at any level; `None`
/// when it runs out.
pub(super) fn expand_braces_in(s: &str, budget: &mut usize) -> Option<Vec<String>> {
    let Some(open) = s.find('{') else {
        *budget = budget.checked_sub(1)?;
        return Some(vec![s.to_string()]);
    };
    let mut depth = 0;
    let mut close = None;
    let mut commas = Vec::new();
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(open + i);
                    break;
                }
            }
            ',' if depth == 1 => commas.push(open + i),
            _ => {}
        }
    }
    let Some(close) = close else {
        *budget = budget.checked_sub(1)?;
        return Some(vec![s.to_string()]);
    };
    let (pre, post) = (&s[..open], &s[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alt = &s[w[0] + 1..w[1]];
        for tail in expand_braces_in(&format!("{alt}{post}"), budget)? {
            out.push(format!("{pre}{tail}"));
        }
    }
    Some(out)
}

/// `**` as glob(3) reads it: the same as `*`.
pub(super) fn collapse_globstar(s: &str) -> String {
    let mut out = s.to_string();
    while out.contains("**") {
        out = out.replace("**", "*");
    }
    out
}
