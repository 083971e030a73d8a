//! The context every block builder writes into, and the value parsers keepalived's
//! keywords share (numbers with ranges, timers, booleans, addresses, scripts).

use super::super::diag::{Diagnostic, Severity};
use super::super::source::Sources;
use super::super::tree::{Loc, Node};
use ka_proto::config::{parse_bool, Script};
use std::net::IpAddr;
use std::time::Duration;

/// A character that prints as nothing: controls, the byte-order mark, zero-width and
/// other format characters.
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{feff}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{00ad}')
}

/// Collects diagnostics while the model is built.
pub struct Ctx<'a> {
    /// The text of every file (for quoting lines in diagnostics).
    pub sources: &'a Sources,
    /// Diagnostics so far.
    pub diags: Vec<Diagnostic>,
    /// Check that interfaces named in the config exist (keepalived warns otherwise).
    pub check_interfaces: bool,
    /// Interfaces already looked up (one lookup per name, not per use).
    known_interfaces: std::collections::HashMap<String, bool>,
    /// Routing table names, read from `rt_tables` on first use.
    rt_tables: Option<std::collections::HashMap<String, u32>>,
}

impl<'a> Ctx<'a> {
    /// A context over `sources`.
    pub fn new(sources: &'a Sources, check_interfaces: bool) -> Self {
        Ctx {
            sources,
            diags: Vec::new(),
            check_interfaces,
            known_interfaces: std::collections::HashMap::new(),
            rt_tables: None,
        }
    }

    /// Hand over the interface lookups made so far (to a context that continues
    /// this one's work, see [`Ctx::set_interface_cache`]).
    pub fn take_interface_cache(&mut self) -> std::collections::HashMap<String, bool> {
        std::mem::take(&mut self.known_interfaces)
    }

    /// Start from the lookups another context made.
    pub fn set_interface_cache(&mut self, cache: std::collections::HashMap<String, bool>) {
        self.known_interfaces = cache;
    }

    /// Record a diagnostic at `loc`.
    pub fn push(&mut self, severity: Severity, loc: Loc, message: impl Into<String>) {
        let message = super::super::diag::cut_message(message.into());
        if super::super::diag::admit(severity, &message) {
            self.push_admitted(severity, loc, message);
        }
    }

    /// Record a diagnostic already counted by [`super::super::diag::admit`] (a
    /// structural problem of the tree).
    pub fn push_admitted(&mut self, severity: Severity, loc: Loc, message: String) {
        let (file, text) = if loc.line == 0 {
            (self.sources.path(0).to_path_buf(), "")
        } else {
            (
                self.sources.path(loc.file).to_path_buf(),
                self.sources.line(loc.file, loc.line),
            )
        };
        self.diags.push(Diagnostic::at(
            severity, file, loc.line, loc.col, text, message,
        ));
    }

    /// Our "expected a value after ..." from `start` on, said again in keepalived's words
    /// where `said` has them (the keyword's place, the words).
    pub fn reword_missing(&mut self, start: usize, said: &[(Loc, String)]) {
        for (at, words) in said {
            let file = self.sources.path(at.file);
            if let Some(d) = self.diags.iter_mut().skip(start).find(|d| {
                d.line == at.line
                    && d.file.as_path() == file
                    && d.message.starts_with("expected a value after")
            }) {
                d.message = words.clone();
            }
        }
    }

    /// keepalived stops reading at `stop` (see [`super::required`]): of the diagnostics
    /// from `start` on (those of the statement that holds it), keep the ones about
    /// earlier lines of its file but those of the blocks around it, then say why the
    /// reading stops.
    pub fn stop_at(&mut self, start: usize, stop: super::required::Stop) {
        let at = stop.at;
        let file = self.sources.path(at.file).to_path_buf();
        let around: Vec<u32> = stop
            .within
            .iter()
            .filter(|l| l.file == at.file)
            .map(|l| l.line)
            .collect();
        let mut i = 0;
        self.diags.retain(|d| {
            i += 1;
            i <= start
                || (d.file == file && d.line > 0 && d.line < at.line && !around.contains(&d.line))
        });
        self.push_admitted(Severity::Fatal, at, stop.message);
    }

    /// A warning (keepalived prints it and carries on; `-t` fails).
    pub fn warn(&mut self, loc: Loc, message: impl Into<String>) {
        self.push(Severity::Warning, loc, message);
    }

    /// An error.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>) {
        self.push(Severity::Error, loc, message);
    }

    /// "unknown keyword" for `n` (its block, if any, is skipped).
    pub fn unknown(&mut self, n: &Node) {
        if n.keyword().is_empty() {
            return;
        }
        let k = n.keyword();
        match k.chars().find(|&c| invisible(c)) {
            // A byte-order mark or zero-width space glued to a keyword looks like
            // `unknown keyword 'global_defs'` (or `''`): say what is there.
            Some(c) => self.warn(
                n.loc,
                format!(
                    "Unknown keyword '{}' (it holds the invisible character U+{:04X})",
                    k.chars().filter(|&c| !invisible(c)).collect::<String>(),
                    u32::from(c)
                ),
            ),
            None => self.warn(n.loc, format!("Unknown keyword '{k}'")),
        }
    }

    /// Where argument `i` of `n` is, or just after the keyword when it is missing.
    pub fn arg_loc(&self, n: &Node, i: usize) -> Loc {
        match n.arg(i) {
            Some(w) => w.loc,
            None => {
                let last = n.words.last().map_or(n.loc, |w| {
                    let mut l = w.loc;
                    l.col += w.text.len() as u32 + 1;
                    l
                });
                last
            }
        }
    }

    /// Argument `i`, or a warning saying which value `n` expects.
    ///
    /// Bad or missing values are warnings, as in keepalived: the keyword is ignored and
    /// the default stays, so a config keepalived would run still runs.
    pub fn need<'n>(&mut self, n: &'n Node, i: usize) -> Option<&'n str> {
        match n.arg(i) {
            Some(w) => Some(w.text),
            None => {
                let loc = self.arg_loc(n, i);
                self.warn(
                    loc,
                    format!(
                        "expected a value after '{}'",
                        n.words.iter().map(|w| w.text).collect::<Vec<_>>().join(" ")
                    ),
                );
                None
            }
        }
    }

    /// Argument `i` as an owned string.
    pub fn str_arg(&mut self, n: &Node, i: usize) -> Option<String> {
        self.need(n, i).map(str::to_string)
    }

    /// Argument `i` into `into` (left as it was when missing).
    pub fn set_str(&mut self, n: &Node, i: usize, into: &mut String) {
        if let Some(v) = self.need(n, i) {
            *into = v.to_string();
        }
    }

    /// `n` must have a block; an error otherwise.
    pub fn need_block(&mut self, n: &Node) -> bool {
        if n.children.is_some() {
            return true;
        }
        let loc = self.arg_loc(n, n.args().len());
        self.warn(
            loc,
            format!(
                "expected '{{' after {}",
                n.words.iter().map(|w| w.text).collect::<Vec<_>>().join(" ")
            ),
        );
        false
    }

    /// An unsigned integer in `min..=max`.
    pub fn uint(&mut self, n: &Node, i: usize, min: u64, max: u64) -> Option<u64> {
        self.integer(n, i, min..=max, parse_uint)
    }

    /// A signed integer in `min..=max`.
    pub fn int(&mut self, n: &Node, i: usize, min: i64, max: i64) -> Option<i64> {
        self.integer(n, i, min..=max, |s| s.parse().ok())
    }

    /// Argument `i` of `n` read by `parse`, in `range` (else a warning).
    fn integer<T: PartialOrd + std::fmt::Display>(
        &mut self,
        n: &Node,
        i: usize,
        range: std::ops::RangeInclusive<T>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let s = self.need(n, i)?;
        match parse(s) {
            Some(v) if range.contains(&v) => Some(v),
            _ => {
                let loc = self.arg_loc(n, i);
                let (min, max) = (range.start(), range.end());
                self.warn(
                    loc,
                    format!(
                        "'{}': expected an integer in {min}..{max}, got '{s}'",
                        n.keyword()
                    ),
                );
                None
            }
        }
    }

    /// An unsigned integer in `min..=max` for a keyword keepalived reads leniently (it
    /// warns about a malformed number and, when running, uses the number its leading
    /// digits make if that is in range: `weight x` is weight 0, `weight 5x` weight 5).
    /// Out of range or negative: None, the setting stays as it was.
    pub fn uint_lenient(&mut self, n: &Node, i: usize, min: u64, max: u64) -> Option<u64> {
        let s = self.need(n, i)?;
        if let Some(v) = s.parse::<u64>().ok().filter(|v| (min..=max).contains(v)) {
            return Some(v);
        }
        let loc = self.arg_loc(n, i);
        let lenient = leading_number(s).filter(|v| (min..=max).contains(v));
        let then = match lenient {
            Some(v) => format!("using {v}"),
            None => "ignoring".to_string(),
        };
        self.warn(
            loc,
            format!(
                "'{}': expected an integer in {min}..{max}, got '{s}' - {then}",
                n.keyword()
            ),
        );
        lenient
    }

    /// The first argument as a time above 0, up to u32::MAX seconds, read leniently:
    /// `delay_loop`, and `connect_timeout` at a virtual or real server.
    pub fn secs_above_zero(&mut self, n: &Node) -> Option<Duration> {
        self.timer_lenient(n, 0, 0.000001, u32::MAX as f64)
    }

    /// The first argument as a time from 0 up to u32::MAX seconds, read leniently:
    /// `delay_before_retry` and `warmup`.
    pub fn secs_from_zero(&mut self, n: &Node) -> Option<Duration> {
        self.timer_lenient(n, 0, 0.0, u32::MAX as f64)
    }

    /// The first argument as any u32.
    pub fn u32_arg(&mut self, n: &Node) -> Option<u32> {
        self.uint(n, 0, 0, u32::MAX as u64).map(|x| x as u32)
    }

    /// The first argument as any u32, read leniently (see [`Ctx::uint_lenient`]).
    pub fn u32_lenient(&mut self, n: &Node) -> Option<u32> {
        self.uint_lenient(n, 0, 0, u32::MAX as u64)
            .map(|x| x as u32)
    }

    /// The first argument as a count from 1 up to u32::MAX: `retry` at a virtual or real
    /// server.
    pub fn count_from_one(&mut self, n: &Node) -> Option<u32> {
        self.uint(n, 0, 1, u32::MAX as u64).map(|x| x as u32)
    }

    /// A `<TIMER>` in `min_secs..=max_secs` for a keyword keepalived reads leniently
    /// (see [`Ctx::uint_lenient`]): a malformed time counts what its leading digits
    /// make in µs, so `x` is 0, kept only when 0 is in range.
    pub fn timer_lenient(
        &mut self,
        n: &Node,
        i: usize,
        min_secs: f64,
        max_secs: f64,
    ) -> Option<Duration> {
        let s = self.need(n, i)?;
        let strict = s
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= min_secs && *v <= max_secs && !s.starts_with('-'));
        if let Some(v) = strict {
            return Some(Duration::from_micros((v * 1_000_000.0).round() as u64));
        }
        let loc = self.arg_loc(n, i);
        let min_us = (min_secs * 1_000_000.0).round() as u64;
        let max_us = (max_secs * 1_000_000.0).round() as u64;
        let lenient = leading_micros(s).filter(|v| (min_us..=max_us).contains(v));
        let then = match lenient {
            Some(v) => format!("using {}", Duration::from_micros(v).as_secs_f64()),
            None => "ignoring".to_string(),
        };
        self.warn(
            loc,
            format!(
                "'{}': expected a time in seconds ({min_secs}..{max_secs}), got '{s}' - {then}",
                n.keyword()
            ),
        );
        lenient.map(Duration::from_micros)
    }

    /// A `<TIMER>`: seconds, fractions allowed (µs resolution), in `0..=max_secs`.
    pub fn timer(&mut self, n: &Node, i: usize, max_secs: f64) -> Option<Duration> {
        let s = self.need(n, i)?;
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 && v <= max_secs => {
                Some(Duration::from_micros((v * 1_000_000.0).round() as u64))
            }
            _ => {
                let loc = self.arg_loc(n, i);
                self.warn(
                    loc,
                    format!(
                        "'{}': expected a time in seconds (0..{max_secs}), got '{s}'",
                        n.keyword()
                    ),
                );
                None
            }
        }
    }

    /// A `<TIMER>` that must be positive (keepalived: at least 1 µs).
    pub fn timer_pos(&mut self, n: &Node, i: usize, max_secs: f64) -> Option<Duration> {
        let d = self.timer(n, i, max_secs)?;
        if d.is_zero() {
            let loc = self.arg_loc(n, i);
            self.warn(
                loc,
                format!(
                    "'{}' 0 invalid - ignoring (must be at least 0.000001)",
                    n.keyword()
                ),
            );
            return None;
        }
        Some(d)
    }

    /// A keyword that is true when given alone, or takes `<BOOL>`; None (after a
    /// warning) for a value that is not a boolean: keepalived reports it and leaves the
    /// setting as it was (see [`Ctx::set_flag`]).
    pub fn flag(&mut self, n: &Node) -> Option<bool> {
        match n.arg(0) {
            None => Some(true),
            Some(w) => match parse_bool(w.text) {
                Some(b) => Some(b),
                None => {
                    self.warn(
                        w.loc,
                        format!(
                            "'{}': expected on|off|true|false|yes|no, got '{}' - ignoring",
                            n.keyword(),
                            w.text
                        ),
                    );
                    None
                }
            },
        }
    }

    /// [`Ctx::flag`] into `into`, left as it was when the value is invalid.
    pub fn set_flag(&mut self, n: &Node, into: &mut bool) {
        if let Some(b) = self.flag(n) {
            *into = b;
        }
    }

    /// [`Ctx::flag`] into an optional setting, left as it was when the value is invalid.
    pub fn set_flag_opt(&mut self, n: &Node, into: &mut Option<bool>) {
        if let Some(b) = self.flag(n) {
            *into = Some(b);
        }
    }

    /// An IP address.
    pub fn ip(&mut self, n: &Node, i: usize) -> Option<IpAddr> {
        let s = self.need(n, i)?;
        match s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                let loc = self.arg_loc(n, i);
                self.warn(loc, format!("'{}': invalid IP address '{s}'", n.keyword()));
                None
            }
        }
    }

    /// A port 0..65535.
    pub fn port(&mut self, n: &Node, i: usize) -> Option<u16> {
        self.uint(n, i, 0, 65535).map(|v| v as u16)
    }

    /// A script keyword: `kw "cmd args" [user [group]]`. With `whole_line`, every
    /// argument is part of the command (vrrp_script `script`, `misc_path`).
    pub fn script(&mut self, n: &Node, whole_line: bool) -> Option<Script> {
        self.need(n, 0)?;
        let args = n.args();
        if whole_line && args.len() > 1 && !args.iter().skip(1).all(|w| w.text.is_empty()) {
            let joined: Vec<&str> = args.iter().map(|w| w.text).collect();
            return Some(Script {
                args: split_command(&joined.join(" ")),
                user: None,
                group: None,
            });
        }
        let first = args[0].loc;
        let line = self.sources.line(first.file, first.line);
        if crate::conf::lexer::unterminated_quote(line) == Some(first.col.saturating_sub(1)) {
            // keepalived drops a command whose quote is never closed (after its
            // "Unterminated quote" warning, which the reader gave already).
            let what = format!(
                "String '{}': missing terminating {}",
                line.trim(),
                quote_of(line, first.col)
            );
            self.warn(first, what);
            return None;
        }
        let argv = split_command(args[0].text);
        if argv.is_empty() {
            self.warn(args[0].loc, format!("'{}': empty command", n.keyword()));
            return None;
        }
        Some(Script {
            args: argv,
            user: args.get(1).map(|w| w.text.to_string()),
            group: args
                .get(2)
                .map(|w| w.text.trim_start_matches(':').to_string()),
        })
    }

    /// Warn when interface `name` does not exist here (keepalived does the same).
    pub fn check_interface(&mut self, loc: Loc, name: &str, what: &str) {
        if self.check_interfaces && !self.interface_known(name) {
            self.warn(loc, format!("interface {name} for {what} doesn't exist"));
        }
    }

    /// The routing table `s` names: a number, or a name from
    /// `/etc/iproute2/rt_tables` (read once per load).
    pub fn rt_table(&mut self, s: &str) -> Option<u32> {
        let names = self.rt_tables.get_or_insert_with(|| {
            super::rt_tables::parse(
                &std::fs::read_to_string(super::rt_tables::RT_TABLES).unwrap_or_default(),
            )
        });
        super::rt_tables::table(s, names)
    }

    /// Does interface `name` exist? (cached per load)
    pub fn interface_known(&mut self, name: &str) -> bool {
        if let Some(&known) = self.known_interfaces.get(name) {
            return known;
        }
        let known = interface_exists(name);
        self.known_interfaces.insert(name.to_string(), known);
        known
    }
}

/// Store a parsed value, or leave the setting as it was when the value was missing or
/// invalid (the parser has warned): keepalived reports a bad value and keeps the
/// previous setting, it never falls back to the keyword's no-argument default.
pub fn keep<T>(into: &mut Option<T>, v: Option<T>) {
    if v.is_some() {
        *into = v;
    }
}

/// Does a network interface called `name` exist in this namespace?
pub fn interface_exists(name: &str) -> bool {
    if name.is_empty() || name.len() > 15 || name.contains('\0') {
        return false;
    }
    nix::net::if_::if_nametoindex(name).is_ok()
}

/// Is `name` a loopback interface here (IFF_LOOPBACK)? keepalived refuses those for VRRP.
pub fn interface_is_loopback(name: &str) -> bool {
    use nix::net::if_::InterfaceFlags;
    nix::ifaddrs::getifaddrs().is_ok_and(|mut all| {
        all.any(|a| a.interface_name == name && a.flags.contains(InterfaceFlags::IFF_LOOPBACK))
    })
}

/// What C's `strtoul(s, _, 10)` makes of `s`: leading blanks and one `+` skipped, then
/// the leading decimal digits (0 when there are none). None for a negative number
/// (keepalived refuses those outright) or one past u64.
pub fn leading_number(s: &str) -> Option<u64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\u{0b}', '\u{0c}']);
    if t.starts_with('-') {
        return None;
    }
    let t = t.strip_prefix('+').unwrap_or(t);
    let digits: &str = &t[..t.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return Some(0);
    }
    digits.parse().ok()
}

/// A malformed `<TIMER>` read as keepalived reads one when it is lenient: the decimal
/// point removed, at most 6 decimals kept (rounded) and padded to 6, then the leading
/// digits counted in µs (`x` is 0, `2x` is 2 µs). None for a negative number.
pub fn leading_micros(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let kept: String = frac.chars().take(6).collect();
    let round_up = frac.chars().nth(6).is_some_and(|c| c >= '5');
    let mut joined = format!("{int}{kept}");
    joined.extend(std::iter::repeat_n('0', 6 - kept.chars().count()));
    let v = leading_number(&joined)?;
    Some(if round_up { v.saturating_add(1) } else { v })
}

/// Decimal, or hex with 0x.
pub fn parse_uint(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// Split a command line on unquoted blanks; single and double quotes group.
pub fn split_command(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                have = true;
            }
            None if c.is_whitespace() => {
                if have || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            None => cur.push(c),
        }
    }
    if have || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The quote character at 1-based column `col` of `line` (`"` if there is none).
fn quote_of(line: &str, col: u32) -> char {
    match line.as_bytes().get(col.saturating_sub(1) as usize) {
        Some(b'\'') => '\'',
        _ => '"',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_keepalived() {
        assert_eq!(split_command("/bin/a b  'c d'"), vec!["/bin/a", "b", "c d"]);
        assert_eq!(split_command("  "), Vec::<String>::new());
        assert_eq!(parse_uint("0x10"), Some(16));
    }

    #[test]
    fn malformed_numbers_read_as_keepalived_reads_them_leniently() {
        assert_eq!(leading_number("x"), Some(0));
        assert_eq!(leading_number("5x"), Some(5));
        assert_eq!(leading_number(" +7"), Some(7));
        assert_eq!(leading_number("-1"), None);
        assert_eq!(leading_number("1.5"), Some(1));
        assert_eq!(leading_micros("x"), Some(0));
        assert_eq!(leading_micros("2x"), Some(2));
        assert_eq!(leading_micros("1.5x"), Some(15));
        assert_eq!(leading_micros("-3"), None);
        assert_eq!(leading_micros("0.0000015"), Some(2));
    }
}
