//! Diagnostics: what went wrong, where (`file:line:col`), with the offending line.

use std::fmt;
use std::path::PathBuf;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Said, but not a fault of the config: `-t` still exits 0 (keepalived 2.2.7 skips a
    /// non-regular or executable file with a message and `-t` exits 0).
    Notice,
    /// keepalived would print it and go on; `-t` still exits 5, as keepalived does.
    Warning,
    /// The config is not usable as written.
    Error,
    /// keepalived stops reading the config here (a keyword without the value it cannot
    /// do without): nothing after it is read, `-t` exits 2, as a start does.
    Fatal,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Notice => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        })
    }
}

/// One message about the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Warning or error.
    pub severity: Severity,
    /// The file (as named by `-f` or by the `include` that brought it in).
    pub file: PathBuf,
    /// 1-based line number (0 when the message is about the whole config).
    pub line: u32,
    /// 1-based column (byte offset + 1) in that line.
    pub col: u32,
    /// The offending line as written (empty when there is none), cut to
    /// [`SNIPPET_WIDTH`] characters around the column when longer.
    pub text: String,
    /// The 1-based byte column in `text` that `col` points at (they differ when the
    /// line was cut); 0: the same as `col`.
    pub text_col: u32,
    /// A plain-language message.
    pub message: String,
}

impl Diagnostic {
    /// Is this an error (or worse)?
    pub fn is_error(&self) -> bool {
        self.severity >= Severity::Error
    }

    /// Does keepalived stop reading the config here?
    pub fn is_fatal(&self) -> bool {
        self.severity == Severity::Fatal
    }

    /// A diagnostic about `file:line:col`, quoting `line_text` cut to a readable width
    /// (see [`snippet`]).
    pub fn at(
        severity: Severity,
        file: PathBuf,
        line: u32,
        col: u32,
        line_text: &str,
        message: String,
    ) -> Self {
        let (text, text_col) = snippet(line_text, col);
        Diagnostic {
            severity,
            file,
            line,
            col,
            text,
            text_col,
            message,
        }
    }
}

/// Widest quoted line, in characters; a longer one is cut around the column with `…`.
pub const SNIPPET_WIDTH: usize = 120;
/// Longest message kept (a message may quote a word of any length).
pub const MESSAGE_WIDTH: usize = 300;
/// Diagnostics of one kind shown before the rest are only counted.
pub const MAX_SHOWN_PER_KIND: usize = 10;
/// Diagnostics of one kind kept while loading (the rest are counted only, so that
/// memory stays bounded however many the input produces).
const MAX_KEPT_PER_KIND: usize = 200;

/// `line` as quoted under a diagnostic: at most [`SNIPPET_WIDTH`] characters around
/// the 1-based byte column `col` (cut ends marked `…`), control characters shown as
/// `�`; and the column in the returned text.
pub fn snippet(line: &str, col: u32) -> (String, u32) {
    let at = (col.saturating_sub(1) as usize).min(line.len());
    let at = (0..=at)
        .rev()
        .find(|&i| line.is_char_boundary(i))
        .unwrap_or(0);
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect()
    };
    let before: Vec<char> = line[..at].chars().collect();
    let after_count = line[at..].chars().count();
    if before.len() + after_count <= SNIPPET_WIDTH {
        return (clean(line), col);
    }
    // Keep a third of the width before the column, the rest after it.
    let lead = (SNIPPET_WIDTH / 3).min(before.len());
    let skip = before.len() - lead;
    let mut out = String::new();
    if skip > 0 {
        out.push('…');
    }
    out.extend(before[skip..].iter());
    let new_col = out.len() as u32 + 1;
    let room = SNIPPET_WIDTH - lead;
    let mut rest = line[at..].chars();
    out.extend(rest.by_ref().take(room));
    if rest.next().is_some() {
        out.push('…');
    }
    (clean(&out), new_col)
}

/// `message` cut to [`MESSAGE_WIDTH`] characters (with `…`).
pub fn cut_message(message: String) -> String {
    if message.len() <= MESSAGE_WIDTH {
        return message;
    }
    let mut out: String = message.chars().take(MESSAGE_WIDTH).collect();
    out.push('…');
    out
}

/// What makes two diagnostics "of one kind": the severity and the message with quoted
/// text and numbers taken out (`unknown keyword 'a'` and `unknown keyword 'b'` are one
/// kind).
pub fn kind(severity: Severity, message: &str) -> (Severity, String) {
    let mut out = String::with_capacity(message.len().min(MESSAGE_WIDTH));
    let mut quote: Option<char> = None;
    let mut last_digit = false;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => {}
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c.is_ascii_digit() => {
                if !last_digit {
                    out.push('#');
                }
            }
            None => out.push(c),
        }
        last_digit = quote.is_none() && c.is_ascii_digit();
        if out.len() > MESSAGE_WIDTH {
            break;
        }
    }
    (severity, out)
}

thread_local! {
    static KEPT: std::cell::RefCell<std::collections::HashMap<(Severity, String), usize>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Start counting diagnostics for a new load (see [`admit`]).
pub fn reset_budget() {
    KEPT.with(|k| k.borrow_mut().clear());
}

/// Should a diagnostic with this severity and message be kept? Past
/// [`MAX_KEPT_PER_KIND`] of one kind in this load it is only counted (as "dropped"),
/// so the number of diagnostics held is bounded whatever the input.
pub fn admit(severity: Severity, message: &str) -> bool {
    let k = kind(severity, message);
    KEPT.with(|m| {
        let mut m = m.borrow_mut();
        let n = m.entry(k).or_insert(0);
        *n += 1;
        *n <= MAX_KEPT_PER_KIND
    })
}

/// How many diagnostics [`admit`] turned away in this load, per kind.
fn dropped() -> std::collections::HashMap<(Severity, String), usize> {
    KEPT.with(|m| {
        m.borrow()
            .iter()
            .filter(|(_, &n)| n > MAX_KEPT_PER_KIND)
            .map(|(k, &n)| (k.clone(), n - MAX_KEPT_PER_KIND))
            .collect()
    })
}

/// Numbers as people read them: `2,997`.
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The diagnostics as shown: at most [`MAX_SHOWN_PER_KIND`] of one kind, then one line
/// counting the rest (`… and 2,997 more errors like this`), placed after the last one
/// shown. Also returns the number of errors in all (shown or not).
pub fn limit(diags: Vec<Diagnostic>) -> (Vec<Diagnostic>, usize) {
    let dropped = dropped();
    let mut seen: std::collections::HashMap<(Severity, String), usize> =
        std::collections::HashMap::new();
    for d in &diags {
        *seen.entry(kind(d.severity, &d.message)).or_insert(0) += 1;
    }
    let errors = diags.iter().filter(|d| d.is_error()).count()
        + dropped
            .iter()
            .filter(|(k, _)| k.0 >= Severity::Error)
            .map(|(_, n)| n)
            .sum::<usize>();
    let mut shown: std::collections::HashMap<(Severity, String), usize> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for d in diags {
        let k = kind(d.severity, &d.message);
        let n = shown.entry(k.clone()).or_insert(0);
        *n += 1;
        if *n > MAX_SHOWN_PER_KIND {
            continue;
        }
        let total = seen.get(&k).copied().unwrap_or(0) + dropped.get(&k).copied().unwrap_or(0);
        let last = *n == MAX_SHOWN_PER_KIND && total > MAX_SHOWN_PER_KIND;
        let summary = last.then(|| Diagnostic {
            severity: d.severity,
            file: d.file.clone(),
            line: 0,
            col: 0,
            text: String::new(),
            text_col: 0,
            message: format!(
                "… and {} more {}s like this",
                thousands(total - MAX_SHOWN_PER_KIND),
                d.severity
            ),
        });
        out.push(d);
        out.extend(summary);
    }
    (out, errors)
}

impl fmt::Display for Diagnostic {
    /// ```text
    /// keepalived.conf:12:5: error: expected '{' after vrrp_instance name
    ///    12 |     vrrp_instance VI_1
    ///       |     ^
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(
                f,
                "{}: {}: {}",
                self.file.display(),
                self.severity,
                self.message
            );
        }
        writeln!(
            f,
            "{}:{}:{}: {}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.severity,
            self.message
        )?;
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        // Diagnostics made with `Diagnostic::at` are already cut; others are cut here.
        let (text, col) = if self.text_col != 0 {
            (self.text.clone(), self.text_col)
        } else {
            snippet(&self.text, self.col)
        };
        let text = text.replace('\t', " ");
        writeln!(f, "   {num} | {text}")?;
        let k = col.saturating_sub(1) as usize;
        let caret = " ".repeat(text.get(..k).map_or(k, |t| t.chars().count()));
        write!(f, "   {pad} | {caret}^")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_the_documented_layout() {
        let d = Diagnostic {
            severity: Severity::Error,
            file: PathBuf::from("keepalived.conf"),
            line: 12,
            col: 5,
            text: "    vrrp_instance VI_1".into(),
            text_col: 0,
            message: "expected '{' after vrrp_instance name".into(),
        };
        assert_eq!(
            d.to_string(),
            "keepalived.conf:12:5: error: expected '{' after vrrp_instance name\n   12 |     vrrp_instance VI_1\n      |     ^"
        );
    }

    fn d(sev: Severity, line: u32, message: &str) -> Diagnostic {
        Diagnostic::at(sev, PathBuf::from("k.conf"), line, 1, "x", message.into())
    }

    #[test]
    fn long_lines_are_cut_around_the_column_with_a_marker() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let (text, col) = snippet(&line, 5001);
        assert!(text.chars().count() <= SNIPPET_WIDTH + 2, "{}", text.len());
        assert!(text.starts_with('…') && text.ends_with('…'));
        assert_eq!(text.as_bytes()[col as usize - 1], b'X');
        let dg = Diagnostic::at(Severity::Error, "k".into(), 1, 5001, &line, "m".into());
        assert_eq!(dg.col, 5001);
        let shown = dg.to_string();
        assert!(shown.starts_with("k:1:5001: error: m"), "{shown}");
        let caret = shown.lines().nth(2).unwrap();
        let quoted = shown.lines().nth(1).unwrap();
        let at = caret.find('^').unwrap();
        assert_eq!(quoted.chars().nth(at), Some('X'), "{shown}");
        // Short lines are unchanged; control characters are made visible.
        assert_eq!(snippet("ab\u{1b}c", 1), ("ab\u{fffd}c".into(), 1));
    }

    #[test]
    fn at_most_ten_of_a_kind_then_a_count() {
        reset_budget();
        let mut all = Vec::new();
        for i in 0..3000 {
            let m = format!("Unknown keyword 'k{i}'");
            if admit(Severity::Warning, &m) {
                all.push(d(Severity::Warning, i + 1, &m));
            }
        }
        for i in 0..3 {
            let m = format!("extra '}}' at {i}");
            assert!(admit(Severity::Error, &m));
            all.push(d(Severity::Error, 5000 + i, &m));
        }
        assert_eq!(all.len(), MAX_KEPT_PER_KIND + 3);
        let (shown, errors) = limit(all);
        assert_eq!(errors, 3);
        assert_eq!(shown.len(), 10 + 1 + 3);
        assert_eq!(shown[10].message, "… and 2,990 more warnings like this");
        assert_eq!(shown[10].line, 0);
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
