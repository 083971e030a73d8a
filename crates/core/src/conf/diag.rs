//! Diagnostics: what went wrong, where (`file:line:col`), with the offending line.

use std::fmt;
use std::path::PathBuf;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// keepalived would print it and go on; `-t` still exits 5, as keepalived does.
    Warning,
    /// The config is not usable as written.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
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
    /// The offending line as written (empty when there is none).
    pub text: String,
    /// A plain-language message.
    pub message: String,
}

impl Diagnostic {
    /// Is this an error?
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
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
        let text = self.text.replace('\t', " ");
        writeln!(f, "   {num} | {text}")?;
        let caret = " ".repeat(self.col.saturating_sub(1) as usize);
        write!(f, "   {pad} | {caret}^")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
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
            message: "expected '{' after vrrp_instance name".into(),
        };
        assert_eq!(
            d.to_string(),
            "keepalived.conf:12:5: error: expected '{' after vrrp_instance name\n   12 |     vrrp_instance VI_1\n      |     ^"
        );
    }
}
