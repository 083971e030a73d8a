//! The text of every file read (the main config and its includes), kept so that a
//! diagnostic can quote the line it is about.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One file's text with the byte offset of each line start.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user or the `include` named it.
    pub path: PathBuf,
    /// The whole text (lossily decoded: invalid UTF-8 becomes U+FFFD).
    pub text: Rc<String>,
    /// Line start offsets, computed the first time a line is quoted (diagnostics are
    /// rare; most loads never need them).
    starts: OnceCell<Vec<usize>>,
}

impl SourceFile {
    /// Keep `text` read from `path`.
    pub fn new(path: PathBuf, text: String) -> Self {
        SourceFile {
            path,
            text: Rc::new(text),
            starts: OnceCell::new(),
        }
    }

    /// The start of every [`STRIDE`]th line (a full table would cost 8 bytes per line:
    /// 64 MB for a file of 8 M empty lines).
    fn starts(&self) -> &[usize] {
        self.starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(
                memchr_all(b'\n', self.text.as_bytes())
                    .enumerate()
                    .filter(|(n, _)| (n + 1).is_multiple_of(STRIDE))
                    .map(|(_, i)| i + 1),
            );
            starts
        })
    }

    /// Line `n` (1-based) without its newline; empty when out of range.
    pub fn line(&self, n: u32) -> &str {
        let i = (n as usize).saturating_sub(1);
        let Some(&base) = self.starts().get(i / STRIDE) else {
            return "";
        };
        let rest = self.text.get(base..).unwrap_or("");
        let mut lines = rest.split('\n');
        let Some(line) = lines.nth(i % STRIDE) else {
            return "";
        };
        line.trim_end_matches('\r')
    }
}

/// See [`SourceFile::starts`].
const STRIDE: usize = 64;

fn memchr_all(needle: u8, hay: &[u8]) -> impl Iterator<Item = usize> + '_ {
    hay.iter()
        .enumerate()
        .filter(move |(_, b)| **b == needle)
        .map(|(i, _)| i)
}

/// Every file read for one config, indexed by the `file` number in a [`super::preprocess::Line`].
#[derive(Debug, Default)]
pub struct Sources {
    /// Files in the order they were first read.
    pub files: Vec<SourceFile>,
}

impl Sources {
    /// Add a file and return its index.
    pub fn add(&mut self, path: PathBuf, text: String) -> u32 {
        self.files.push(SourceFile::new(path, text));
        (self.files.len() - 1) as u32
    }

    /// The path of file `idx` (empty for an unknown index).
    pub fn path(&self, idx: u32) -> &Path {
        self.files
            .get(idx as usize)
            .map_or(Path::new(""), |f| f.path.as_path())
    }

    /// Line `line` of file `idx`.
    pub fn line(&self, idx: u32, line: u32) -> &str {
        self.files.get(idx as usize).map_or("", |f| f.line(line))
    }
}
