//! The line-based part of keepalived's language, applied before tokenising:
//! comments (`#`, `!` outside double quotes; `\#`, `\!` escape them), `\` continuation,
//! `@id` / `@^id` conditional lines, `$NAME=value` parameters (multi-line with `\`) and
//! their expansion (`$NAME`, `${NAME}`, predefined `${_PWD}`, `${_INSTANCE}`,
//! `${_RANDOM [MIN [MAX]]}`, `${_ENV VAR}`, `${_HASH}`, `${_BANG}`), `~SEQ`/`~SEQx`/`~LST`
//! loops, and `include` (with its variants) with csh-style braces and globs relative to
//! the including file.
//!
//! The output is a list of logical [`Line`]s, each knowing the file and line it came from.

mod files;
mod text;

use files::{read_bounded, ReadError};
use text::{
    collapse_globstar, is_definition, matching_paren, plain_line, split_top_level, unquote,
    PhysLines,
};
pub use text::{expand_braces, expand_braces_bounded, strip_comment};

use super::diag::{Diagnostic, Severity};
use super::source::Sources;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How deep includes, parameter expansion and loops may nest before we refuse.
const MAX_DEPTH: usize = 32;
/// keepalived reads lines into a buffer of this size (MAXBUF); longer lines are split.
const MAX_LINE: usize = 1024;
/// Most lines all loops of one config may produce together (guards against
/// `~SEQ(i,0,1,4000000000)` and nested loops multiplying out).
const MAX_LOOP_LINES: u64 = 250_000;
/// Longest text parameter expansion may produce for one line (`$X=$X $X` doubles at
/// every level: without a cap 32 levels would need 4 GiB).
const MAX_EXPANDED: usize = 64 * 1024;
/// Most files one config may read in all (a directory of files that each
/// `include *` would otherwise multiply out to the depth limit).
const MAX_INCLUDED_FILES: u32 = 10_000;

/// keepalived's include checks: a file that cannot be read, no match for a name
/// without wildcards, no match for a wildcard, a brace alternative missing.
const INC_READ: u8 = 1;
const INC_MATCH: u8 = 2;
const INC_WILDCARD: u8 = 4;
const INC_BRACE: u8 = 8;
const INC_ALL: u8 = INC_READ | INC_MATCH | INC_WILDCARD | INC_BRACE;

/// Does the directory that the first wildcard of `pattern` is looked for in exist?
/// (glob(3) reports it missing otherwise, and keepalived says "Config files missing".)
fn wildcard_dir_exists(pattern: &Path) -> bool {
    let mut dir = PathBuf::new();
    for c in pattern.components() {
        if c.as_os_str()
            .to_str()
            .is_some_and(|s| s.contains(['*', '?', '[']))
        {
            break;
        }
        dir.push(c);
    }
    dir.as_os_str().is_empty() || dir.is_dir()
}
/// Largest file read (the generated 100,000-line bench config is ~3 MB).
pub const MAX_FILE_BYTES: u64 = 8 << 20;
/// Most bytes read for one config, all files together.
pub const MAX_TOTAL_BYTES: u64 = 16 << 20;
/// Most patterns the braces of one `include` may expand to.
const MAX_BRACE_PATTERNS: usize = 1024;
/// Most `{` groups in one `include` pattern.
const MAX_BRACE_GROUPS: usize = 32;

/// One logical line after preprocessing.
#[derive(Debug, Clone)]
pub struct Line {
    /// The text to tokenise (no comment, no newline).
    pub text: String,
    /// Index into [`Sources`].
    pub file: u32,
    /// 1-based line number in that file (of the first physical line).
    pub line: u32,
    /// Byte offset in the physical line where `text` starts, when `text` is a verbatim
    /// slice of it (no continuation, expansion or loop); then columns are exact.
    pub offset: Option<u32>,
}

/// What the preprocessor needs to know from the command line.
#[derive(Debug, Clone)]
pub struct PreOptions {
    /// `-i` or the short host name.
    pub config_id: String,
    /// `${_INSTANCE}`.
    pub instance: Option<String>,
    /// `-e`: a missing include is an error.
    pub all_config: bool,
}

/// Where logical lines go: `(sources, text, file, line, offset, plain)`, text to offset
/// as in [`Line`]; `sources` holds every file read so far (for quoting lines in
/// diagnostics while the config streams through); `plain`: the line is known to hold no
/// quote (so the tokeniser need not look for one).
pub type Sink<'s> = dyn FnMut(&Sources, &str, u32, u32, Option<u32>, bool) + 's;

/// The preprocessor's state while reading one config.
pub struct Preprocessor<'a, 's> {
    opts: &'a PreOptions,
    params: HashMap<String, String>,
    /// Receives every logical line, in order (streaming: nothing is kept here).
    sink: &'s mut Sink<'s>,
    /// Every file read.
    pub sources: Sources,
    /// Problems found.
    pub diags: Vec<Diagnostic>,
    rng: u64,
    /// Lines produced by loops so far (all loops together are capped too).
    loop_lines: u64,
    /// Files read by `include` so far.
    included_files: u32,
    /// Directory of the file being read (`${_PWD}`, relative includes).
    cwd: PathBuf,
    /// Bytes read so far (all files).
    bytes_read: u64,
}

impl<'a, 's> Preprocessor<'a, 's> {
    /// A preprocessor with no parameters defined, sending lines to `sink`.
    pub fn new(opts: &'a PreOptions, sink: &'s mut Sink<'s>) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            | 1;
        Preprocessor {
            opts,
            params: HashMap::new(),
            sink,
            sources: Sources::default(),
            diags: Vec::new(),
            rng: seed,
            loop_lines: 0,
            included_files: 0,
            cwd: PathBuf::from("."),
            bytes_read: 0,
        }
    }

    fn diag(&mut self, sev: Severity, file: u32, line: u32, col: u32, msg: String) {
        let msg = super::diag::cut_message(msg);
        if !super::diag::admit(sev, &msg) {
            return;
        }
        let text = self.sources.line(file, line);
        self.diags.push(Diagnostic::at(
            sev,
            self.sources.path(file).to_path_buf(),
            line,
            col,
            text,
            msg,
        ));
    }

    /// Read the main config file. `Err`: it cannot be used at all (the message says
    /// why, in one line). A file keepalived would skip (not regular, or executable) is
    /// skipped with a notice, as keepalived does, and gives an empty configuration.
    pub fn read_main(&mut self, path: &Path) -> Result<(), String> {
        match self.read_file(path) {
            Ok(text) => {
                self.read_text(path, text, 0);
                Ok(())
            }
            Err(ReadError::Skip(why)) => {
                self.diags.push(Diagnostic {
                    severity: Severity::Notice,
                    file: path.to_path_buf(),
                    line: 0,
                    col: 0,
                    text: String::new(),
                    text_col: 0,
                    message: format!("{why}: skipped"),
                });
                Ok(())
            }
            Err(ReadError::Refuse(why)) => Err(why),
        }
    }

    /// Read one file within the bounds ([`MAX_FILE_BYTES`], [`MAX_TOTAL_BYTES`]).
    fn read_file(&mut self, path: &Path) -> Result<String, ReadError> {
        let left = MAX_TOTAL_BYTES.saturating_sub(self.bytes_read);
        let limit = MAX_FILE_BYTES.min(left);
        let bytes = read_bounded(path, limit)?;
        self.bytes_read += bytes.len() as u64;
        if let Some(at) = bytes.iter().position(|&b| b == 0) {
            return Err(ReadError::Refuse(format!(
                "binary data (a NUL byte at offset {at}), not a configuration file: refused"
            )));
        }
        Ok(match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// Process the text of one file.
    pub fn read_text(&mut self, path: &Path, mut text: String, depth: usize) {
        let bom = text.starts_with('\u{feff}');
        if bom {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let file = self.sources.add(path.to_path_buf(), text);
        if bom {
            self.diag(
                Severity::Warning,
                file,
                1,
                1,
                "the file starts with a UTF-8 byte-order mark (bytes EF BB BF): ignored".into(),
            );
        }
        let saved_cwd = std::mem::replace(
            &mut self.cwd,
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        );
        // A copy, so that `self` can be borrowed mutably while walking it.
        let text = std::rc::Rc::clone(&self.sources.files[file as usize].text);
        let text: &str = &text;
        let mut iter = PhysLines { rest: text }.enumerate();
        while let Some((idx, (raw, special))) = iter.next() {
            let lineno = idx as u32 + 1;
            // keepalived reads a line in pieces of 1023 bytes: 2.4 ignores every piece
            // that does not reach the end of the line and reads the last one as a line
            // of its own (2.2.7 read every piece as a line). We follow 2.4.
            let mut skip = 0usize;
            if raw.len() >= MAX_LINE - 1 {
                while raw.len() - skip >= MAX_LINE - 1 {
                    skip += MAX_LINE - 1;
                }
                while !raw.is_char_boundary(skip) {
                    skip += 1;
                }
                self.diag(
                    Severity::Warning,
                    file,
                    lineno,
                    1,
                    format!(
                        "line too long - ignoring its first {skip} bytes (keepalived reads lines in pieces of {} bytes and ignores the pieces before the last)",
                        MAX_LINE - 1
                    ),
                );
            }
            let raw = raw.get(skip..).unwrap_or("");
            let skip = skip as u32;
            if let Some((lead, t)) = (!special).then(|| plain_line(raw)).flatten() {
                // Nothing for the preprocessor in this line: no comment, escape, quote,
                // continuation, conditional, parameter or loop (nearly every line).
                if !t.is_empty() {
                    let lead = lead + skip;
                    if depth > MAX_DEPTH || t.starts_with("include") {
                        self.logical(t, file, lineno, Some(lead), depth);
                    } else {
                        (self.sink)(&self.sources, t, file, lineno, Some(lead), true);
                    }
                }
                continue;
            }
            let (stripped, _) = strip_comment(raw);
            let first = stripped.trim_end();
            if !first.ends_with('\\') || first.ends_with("\\\\") {
                // The common case: one physical line, no copy.
                let t = first.trim_start();
                if !t.is_empty() {
                    let offset = Some((first.len() - t.len()) as u32 + skip);
                    self.logical(t, file, lineno, offset, depth);
                }
                continue;
            }
            let mut logical = first.to_string();
            let mut exact = true;
            let is_def = is_definition(logical.trim_start());
            while logical.ends_with('\\') && !logical.ends_with("\\\\") {
                logical.pop();
                exact = false;
                let Some((_, (next, _))) = iter.next() else {
                    break;
                };
                let (next, _) = strip_comment(next);
                if is_def {
                    logical.push('\n');
                    logical.push_str(next.trim());
                } else {
                    logical.push_str(next.trim_end());
                }
                logical.truncate(logical.trim_end().len());
            }
            let lead = logical.len() - logical.trim_start().len();
            let offset = exact.then_some(lead as u32 + skip);
            let t = logical.trim_start();
            if t.is_empty() {
                continue;
            }
            self.logical(t, file, lineno, offset, depth);
        }
        self.cwd = saved_cwd;
    }

    /// Handle one logical line: conditionals, definitions, loops, expansion, include.
    fn logical(
        &mut self,
        mut t: &str,
        file: u32,
        line: u32,
        mut offset: Option<u32>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            self.diag(
                Severity::Error,
                file,
                line,
                1,
                "too deeply nested (include, parameter or loop)".into(),
            );
            return;
        }
        // @id / @^id
        if let Some(rest) = t.strip_prefix('@') {
            let (neg, rest) = match rest.strip_prefix('^') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let id = &rest[..end];
            let matches = id == self.opts.config_id;
            if matches == neg {
                return;
            }
            let body = rest[end..].trim_start();
            if let Some(o) = offset.as_mut() {
                *o += (t.len() - body.len()) as u32;
            }
            t = body;
            if t.is_empty() {
                return;
            }
        }
        // $NAME=value
        if is_definition(t) {
            if let Some((name, value)) = t[1..].split_once('=') {
                self.params
                    .insert(name.to_string(), value.trim().to_string());
            }
            return;
        }
        // ~SEQ / ~SEQx / ~LST
        if t.starts_with("~SEQ") || t.starts_with("~LST") {
            self.expand_loop(t, file, line, depth);
            return;
        }
        // parameters
        if t.contains('$') {
            let expanded = self.expand(t, 0);
            if expanded.len() > MAX_EXPANDED {
                self.diag(
                    Severity::Error,
                    file,
                    line,
                    1,
                    format!("parameter expansion longer than {MAX_EXPANDED} bytes"),
                );
                return;
            }
            if expanded != t {
                for part in expanded.split('\n') {
                    let p = part.trim();
                    if !p.is_empty() {
                        self.logical(p, file, line, None, depth + 1);
                    }
                }
                return;
            }
        }
        // include
        let first = t.split_whitespace().next().unwrap_or("");
        if matches!(
            first,
            "include" | "includer" | "includem" | "includew" | "includeb" | "includea" | "includet"
        ) {
            let pattern = t[first.len()..].trim();
            self.include(first, pattern, file, line, depth);
            return;
        }
        (self.sink)(&self.sources, t, file, line, offset, false);
    }

    fn include(&mut self, kind: &str, pattern: &str, file: u32, line: u32, depth: usize) {
        let pattern = unquote(pattern);
        if pattern.is_empty() {
            self.diag(
                Severity::Error,
                file,
                line,
                1,
                "include needs a file name or pattern".into(),
            );
            return;
        }
        // What a missing file makes fatal: each variant adds checks (keepalived's
        // include_check levels), `-e` turns all of them on.
        let mut checks = match kind {
            "includer" => INC_READ,
            "includem" => INC_READ | INC_MATCH,
            "includew" => INC_READ | INC_MATCH | INC_WILDCARD,
            "includeb" => INC_READ | INC_BRACE,
            "includea" | "includet" => INC_ALL,
            _ => 0,
        };
        if self.opts.all_config {
            checks = INC_ALL;
        }
        let alternatives = match expand_braces_bounded(&pattern) {
            Ok(a) => a,
            Err(why) => {
                self.diag(Severity::Error, file, line, 1, format!("include: {why}"));
                return;
            }
        };
        let has_brace = alternatives.len() > 1 || pattern.contains('{');
        // Which alternatives are missing (a plain name that does not exist, or a
        // directory a wildcard would be looked for in), and whether any had wildcards.
        let (mut missing, mut missing_dirs, mut wildcards) = (0usize, 0usize, false);
        let mut matched: Vec<PathBuf> = Vec::new();
        for alt in alternatives {
            // glob(3), which keepalived uses, has no recursive `**`: it is `*` there.
            let alt = collapse_globstar(&alt);
            let full = if Path::new(&alt).is_absolute() {
                PathBuf::from(&alt)
            } else {
                self.cwd.join(&alt)
            };
            let Some(full_s) = full.to_str() else {
                continue;
            };
            let magic = full_s.contains(['*', '?', '[']);
            if !magic {
                if full.symlink_metadata().is_ok() {
                    matched.push(full);
                } else {
                    missing += 1;
                }
                continue;
            }
            wildcards = true;
            match glob::glob(full_s) {
                Ok(g) => {
                    let before = matched.len();
                    matched.extend(
                        g.filter_map(Result::ok)
                            .take(MAX_INCLUDED_FILES as usize + 1),
                    );
                    if matched.len() == before && !wildcard_dir_exists(&full) {
                        missing += 1;
                        missing_dirs += 1;
                    }
                }
                Err(e) => {
                    self.diag(
                        Severity::Error,
                        file,
                        line,
                        1,
                        format!("bad include pattern {alt:?}: {e}"),
                    );
                }
            }
        }
        let sev = |bit: u8| {
            if checks & bit != 0 {
                Severity::Error
            } else {
                Severity::Notice
            }
        };
        if matched.is_empty() {
            let bit = if has_brace { INC_BRACE } else { INC_MATCH };
            // keepalived also prints this for a plain `include` of a wildcard in a
            // missing directory; we stay silent there (the verdict is the same).
            if missing > 0 && (checks & bit != 0 || missing > missing_dirs) {
                self.diag(
                    sev(bit),
                    file,
                    line,
                    1,
                    format!("Config files missing '{pattern}'."),
                );
            } else if wildcards && checks != 0 {
                // Fatal with the wildcard check only; said (as a notice) for the other
                // include variants, which ask for their files to be there.
                self.diag(
                    sev(INC_WILDCARD),
                    file,
                    line,
                    1,
                    format!("No config files matched '{pattern}'."),
                );
            }
            return;
        }
        if missing > 0 {
            self.diag(
                sev(INC_BRACE),
                file,
                line,
                1,
                format!("Some config files missing: \"{pattern}\"."),
            );
            if checks & INC_BRACE != 0 {
                return;
            }
        }
        let mut paths = matched;
        paths.sort();
        for p in paths {
            if p.is_dir() {
                continue;
            }
            self.included_files += 1;
            if self.included_files > MAX_INCLUDED_FILES {
                if self.included_files == MAX_INCLUDED_FILES + 1 {
                    self.diag(
                        Severity::Error,
                        file,
                        line,
                        1,
                        format!("includes read more than {MAX_INCLUDED_FILES} files: stopping"),
                    );
                }
                return;
            }
            match self.read_file(&p) {
                Ok(text) => {
                    self.read_text(&p, text, depth + 1);
                }
                Err(ReadError::Skip(why)) => {
                    // keepalived skips it with a message (and `-t` still passes).
                    self.diag(
                        sev(INC_READ),
                        file,
                        line,
                        1,
                        format!("include {}: {why}: skipped", p.display()),
                    );
                }
                Err(ReadError::Refuse(why)) => {
                    self.diag(
                        Severity::Error,
                        file,
                        line,
                        1,
                        format!("cannot read included file {}: {why}", p.display()),
                    );
                }
            }
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: ${_RANDOM} only needs to differ between uses.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Expand `$NAME` and `${NAME}` in `s`, recursively; unknown names stay as written.
    pub fn expand(&mut self, s: &str, depth: usize) -> String {
        if depth > MAX_DEPTH || !s.contains('$') {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        let mut changed = false;
        while let Some(i) = rest.find('$') {
            if out.len() > MAX_EXPANDED {
                break;
            }
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(inner) = after.strip_prefix('{') {
                if let Some(end) = inner.find('}') {
                    let name = &inner[..end];
                    if let Some(v) = self.lookup(name) {
                        out.push_str(&v);
                        changed = true;
                        rest = &inner[end + 1..];
                        continue;
                    }
                }
                out.push('$');
                rest = after;
                continue;
            }
            let n = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if n > 0 {
                if let Some(v) = self.lookup(&after[..n]) {
                    out.push_str(&v);
                    changed = true;
                    rest = &after[n..];
                    continue;
                }
            }
            out.push('$');
            rest = after;
        }
        out.push_str(rest);
        if changed && out.contains('$') && out.len() <= MAX_EXPANDED {
            self.expand(&out, depth + 1)
        } else {
            out
        }
    }

    fn lookup(&mut self, name: &str) -> Option<String> {
        if let Some(v) = self.params.get(name) {
            return Some(v.clone());
        }
        let mut words = name.split_whitespace();
        match words.next()? {
            "_PWD" => Some(self.cwd.display().to_string()),
            "_INSTANCE" => Some(self.opts.instance.clone().unwrap_or_default()),
            "_HASH" => Some("#".into()),
            "_BANG" => Some("!".into()),
            "_ENV" => Some(
                words
                    .next()
                    .and_then(|v| std::env::var(v).ok())
                    .unwrap_or_default(),
            ),
            "_RANDOM" => {
                let min: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                let max: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(32767);
                let span = max.saturating_sub(min).saturating_add(1);
                Some((min + self.next_random() % span).to_string())
            }
            _ => None,
        }
    }

    fn expand_loop(&mut self, t: &str, file: u32, line: u32, depth: usize) {
        let (kind, after) = if let Some(r) = t.strip_prefix("~SEQx(") {
            ("SEQx", r)
        } else if let Some(r) = t.strip_prefix("~SEQ(") {
            ("SEQ", r)
        } else if let Some(r) = t.strip_prefix("~LST(") {
            ("LST", r)
        } else {
            self.diag(
                Severity::Error,
                file,
                line,
                1,
                "expected '(' after ~SEQ / ~LST".into(),
            );
            return;
        };
        let Some(close) = matching_paren(after) else {
            self.diag(
                Severity::Error,
                file,
                line,
                1,
                format!("~{kind}: missing ')'"),
            );
            return;
        };
        let args_text = self.expand(&after[..close], 0);
        let body = after[close + 1..].trim().to_string();
        let args = split_top_level(&args_text);
        // (variable names, list of value tuples)
        let (vars, tuples): (Vec<String>, Vec<Vec<String>>) = if kind == "LST" {
            let Some(first) = args.first() else {
                self.diag(
                    Severity::Error,
                    file,
                    line,
                    1,
                    "~LST needs a variable".into(),
                );
                return;
            };
            if let Some(names) = first.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                let names: Vec<String> = names.split(',').map(|s| s.trim().to_string()).collect();
                let tuples = args[1..]
                    .iter()
                    .map(|a| {
                        let inner = a
                            .strip_prefix('{')
                            .and_then(|s| s.strip_suffix('}'))
                            .unwrap_or(a);
                        inner.split(',').map(|s| s.trim().to_string()).collect()
                    })
                    .collect();
                (names, tuples)
            } else {
                (
                    vec![first.trim().to_string()],
                    args[1..]
                        .iter()
                        .map(|a| vec![a.trim().to_string()])
                        .collect(),
                )
            }
        } else {
            let hex = kind == "SEQx";
            // Arguments are decimal (or 0x-prefixed hex); ~SEQx prints values in hex.
            let num = |s: &str| -> Option<i64> {
                let s = s.trim();
                match s.strip_prefix("0x") {
                    Some(h) => i64::from_str_radix(h, 16).ok(),
                    None => s.parse().ok(),
                }
            };
            let (var, nums) = match args.as_slice() {
                [v, end] => (v, [num("1"), Some(1), num(end)]),
                [v, start, end] => (v, [num(start), Some(1), num(end)]),
                [v, start, step, end] => (v, [num(start), num(step), num(end)]),
                _ => {
                    self.diag(
                        Severity::Error,
                        file,
                        line,
                        1,
                        format!("~{kind}(var, [start, [step,]] end): wrong number of arguments"),
                    );
                    return;
                }
            };
            let (Some(start), Some(step), Some(end)) = (nums[0], nums[1], nums[2]) else {
                self.diag(
                    Severity::Error,
                    file,
                    line,
                    1,
                    format!("~{kind}: start, step and end must be numbers"),
                );
                return;
            };
            if step == 0 || (step > 0 && start > end) || (step < 0 && start < end) {
                self.diag(
                    Severity::Error,
                    file,
                    line,
                    1,
                    format!("~{kind}: the sequence {start}..{end} step {step} is empty or endless"),
                );
                return;
            }
            let count = ((end - start) / step) as u64 + 1;
            if count > MAX_LOOP_LINES {
                self.diag(
                    Severity::Error,
                    file,
                    line,
                    1,
                    format!("~{kind}: {count} iterations is too many"),
                );
                return;
            }
            let mut tuples = Vec::new();
            let mut v = start;
            while (step > 0 && v <= end) || (step < 0 && v >= end) {
                tuples.push(vec![if hex { format!("{v:x}") } else { v.to_string() }]);
                v += step;
            }
            (vec![var.trim().to_string()], tuples)
        };
        if body.is_empty() {
            return;
        }
        let saved: Vec<Option<String>> = vars.iter().map(|v| self.params.get(v).cloned()).collect();
        for tuple in tuples {
            self.loop_lines += 1;
            if self.loop_lines == MAX_LOOP_LINES + 1 {
                self.diag(
                    Severity::Error,
                    file,
                    line,
                    1,
                    format!("loops produce more than {MAX_LOOP_LINES} lines: stopping"),
                );
            }
            if self.loop_lines > MAX_LOOP_LINES {
                break;
            }
            for (name, value) in vars.iter().zip(tuple.iter()) {
                self.params.insert(name.clone(), value.clone());
            }
            self.logical(&body, file, line, None, depth + 1);
        }
        for (name, old) in vars.iter().zip(saved) {
            match old {
                Some(v) => self.params.insert(name.clone(), v),
                None => self.params.remove(name),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Config id `n`, no instance, missing includes not errors.
    fn opts() -> PreOptions {
        PreOptions {
            config_id: "n".into(),
            instance: None,
            all_config: false,
        }
    }

    proptest::proptest! {
        /// The one-pass splitter gives the lines `str::lines` gives, and the fast
        /// path the text the full path (comment strip + trim) gives.
        #[test]
        fn fast_lines_match_the_full_path(s in "[ a-z{}\t\r\n\u{0b}\u{0c}#!\\\\\"'@$~é\u{a0}]{0,60}") {
            let ours: Vec<&str> = PhysLines { rest: &s }.map(|(l, _)| l).collect();
            let std_lines: Vec<&str> = s.lines().collect();
            proptest::prop_assert_eq!(&ours, &std_lines);
            for (line, special) in (PhysLines { rest: &s }) {
                if special {
                    continue;
                }
                let (lead, t) = plain_line(line).unwrap();
                let full = strip_comment(line).0.into_owned();
                let trimmed = full.trim();
                proptest::prop_assert_eq!(t, trimmed);
                proptest::prop_assert_eq!(lead as usize, full.len() - full.trim_start().len());
            }
        }
    }

    fn pre(text: &str) -> Vec<String> {
        pre_id(text, "node1")
    }

    fn pre_id(text: &str, id: &str) -> Vec<String> {
        let o = PreOptions {
            config_id: id.into(),
            instance: Some("inst".into()),
            all_config: false,
        };
        let mut out = Vec::new();
        let mut sink =
            |_: &Sources, t: &str, _: u32, _: u32, _: Option<u32>, _: bool| out.push(t.to_string());
        let mut p = Preprocessor::new(&o, &mut sink);
        p.read_text(Path::new("/tmp/x.conf"), text.to_string(), 0);
        assert!(p.diags.is_empty(), "{:?}", p.diags);
        drop(p);
        out
    }

    #[test]
    fn comments_and_continuation() {
        assert_eq!(
            pre("a b # c\n! full\nd \"x # y\" ! z\ne \\\n  f\n\\#g\n"),
            vec!["a b", "d \"x # y\"", "e   f", "#g"]
        );
    }

    #[test]
    fn conditionals() {
        let t = "@node1 a\n@node2 b\n@^node1 c\n@^node2 d\n";
        assert_eq!(pre(t), vec!["a", "d"]);
        assert_eq!(pre_id(t, "node2"), vec!["b", "c"]);
    }

    #[test]
    fn parameters() {
        let t = "$A=1\n$B=x ${A} y\nv $B\nw ${B}z $UNDEF\n$M=l1 \\\nl2 $A\nm\n$M\n${_INSTANCE} ${_HASH}\n";
        assert_eq!(
            pre(t),
            vec!["v x 1 y", "w x 1 yz $UNDEF", "m", "l1", "l2 1", "inst #"]
        );
        let r = pre("${_RANDOM 5 7}\n");
        let n: u32 = r[0].parse().unwrap();
        assert!((5..=7).contains(&n));
    }

    #[test]
    fn loops() {
        assert_eq!(pre("~SEQ(i,1,2,5) x$i\n"), vec!["x1", "x3", "x5"]);
        assert_eq!(pre("~SEQx(i,9,1,11) ${i}\n"), vec!["9", "a", "b"]);
        assert_eq!(pre("~LST(v,a,b) n $v\n"), vec!["n a", "n b"]);
        assert_eq!(pre("~LST({a,b},{1,2},{3,4}) $a-$b\n"), vec!["1-2", "3-4"]);
        assert_eq!(
            pre("~SEQ(i,1,2) ~LST(j,x,y) $i$j\n"),
            vec!["1x", "1y", "2x", "2y"]
        );
    }

    #[test]
    fn braces() {
        assert_eq!(expand_braces("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(expand_braces("{x,y{1,2}}"), vec!["x", "y1", "y2"]);
        assert_eq!(expand_braces("no"), vec!["no"]);
    }

    #[test]
    fn includes_are_relative_to_the_including_file() {
        let d = std::env::temp_dir().join(format!("ka-inc-{}", std::process::id()));
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(
            d.join("main.conf"),
            "top\ninclude sub/*.conf\ninclude missing/*.conf\n",
        )
        .unwrap();
        std::fs::write(d.join("sub/a.conf"), "a\ninclude ../b.inc\n").unwrap();
        std::fs::write(d.join("sub/c.conf"), "c\n").unwrap();
        std::fs::write(d.join("b.inc"), "b\n").unwrap();
        let o = opts();
        let mut got = Vec::new();
        let mut sink =
            |_: &Sources, t: &str, _: u32, _: u32, _: Option<u32>, _: bool| got.push(t.to_string());
        let mut p = Preprocessor::new(&o, &mut sink);
        p.read_main(&d.join("main.conf")).unwrap();
        assert!(p.diags.is_empty());
        drop(p);
        assert_eq!(got, vec!["top", "a", "b", "c"]);
        let mut sink = |_: &Sources, _: &str, _: u32, _: u32, _: Option<u32>, _: bool| {};
        let mut p = Preprocessor::new(&o, &mut sink);
        p.read_text(&d.join("x.conf"), "includem nothing*.conf\n".into(), 0);
        assert_eq!(p.diags.len(), 1);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn byte_order_mark_is_named_and_skipped() {
        let o = opts();
        let mut got = Vec::new();
        let mut sink =
            |_: &Sources, t: &str, _: u32, _: u32, _: Option<u32>, _: bool| got.push(t.to_string());
        let mut p = Preprocessor::new(&o, &mut sink);
        p.read_text(
            Path::new("/tmp/x.conf"),
            "\u{feff}global_defs {\n}\n".into(),
            0,
        );
        assert_eq!(p.diags.len(), 1);
        assert!(
            p.diags[0].message.contains("byte-order mark"),
            "{:?}",
            p.diags
        );
        assert_eq!(p.diags[0].severity, Severity::Warning);
        drop(p);
        assert_eq!(got, vec!["global_defs {", "}"]);
    }

    #[test]
    fn brace_bombs_are_refused() {
        assert!(expand_braces_bounded(&"{a,b}".repeat(30)).is_err());
        assert!(expand_braces_bounded(&"{a}".repeat(100)).is_err());
        assert_eq!(
            expand_braces_bounded("x{1,2}{a,b}").unwrap(),
            vec!["x1a", "x1b", "x2a", "x2b"]
        );
        assert_eq!(
            expand_braces_bounded(&"{a,b}".repeat(10)).unwrap().len(),
            1024
        );
        assert_eq!(collapse_globstar("/etc/**/***/x"), "/etc/*/*/x");
    }

    #[test]
    fn reading_never_blocks_and_is_bounded() {
        let d = std::env::temp_dir().join(format!("ka-read-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let fifo = d.join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        // A FIFO with no writer would block open(): it is skipped unopened.
        assert!(matches!(read_bounded(&fifo, 100), Err(ReadError::Skip(_))));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 100),
            Err(ReadError::Skip(_))
        ));
        assert!(matches!(read_bounded(&d, 100), Err(ReadError::Skip(_))));
        let big = d.join("big");
        std::fs::write(&big, vec![b'#'; 101]).unwrap();
        assert!(matches!(read_bounded(&big, 100), Err(ReadError::Refuse(_))));
        assert_eq!(read_bounded(&big, 101).unwrap().len(), 101);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
