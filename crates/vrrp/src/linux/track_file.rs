//! `track_file`: files holding an integer, watched with inotify (registered with mio).
//!
//! The directory of each file is watched (not the file itself), so a file replaced by
//! rename, deleted or created later is followed too. The value is the first integer in
//! the file; a missing, empty or unparsable file reads as 0 (keepalived's `strtol`
//! semantics, which the engine then applies with the tracker's weight). `init_file`
//! creates the file with an initial value (or overwrites it).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::{Path, PathBuf};

use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};

/// What went wrong watching files.
#[derive(Debug)]
pub enum TrackFileError {
    /// inotify could not be set up.
    Init(io::Error),
    /// The directory of `path` could not be watched.
    Watch { path: PathBuf, source: io::Error },
    /// `init_file` could not write `path`.
    InitFile { path: PathBuf, source: io::Error },
    /// Reading events failed.
    Read(io::Error),
}

impl fmt::Display for TrackFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrackFileError::Init(e) => write!(f, "inotify: {e}"),
            TrackFileError::Watch { path, source } => {
                write!(f, "cannot watch {}: {source}", path.display())
            }
            TrackFileError::InitFile { path, source } => {
                write!(f, "cannot initialise {}: {source}", path.display())
            }
            TrackFileError::Read(e) => write!(f, "reading inotify events: {e}"),
        }
    }
}

impl std::error::Error for TrackFileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrackFileError::Init(e) | TrackFileError::Read(e) => Some(e),
            TrackFileError::Watch { source, .. } | TrackFileError::InitFile { source, .. } => {
                Some(source)
            }
        }
    }
}

/// Parse a tracked file's content: the first integer (optional sign, leading blanks),
/// 0 if there is none; saturates instead of overflowing.
pub fn parse_value(content: &str) -> i64 {
    let s = content.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i128 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = (v * 10 + i128::from(b - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    i64::try_from(v).unwrap_or(if neg { i64::MIN } else { i64::MAX })
}

/// Read a tracked file's value (0 when missing or unreadable).
pub fn read_value(path: &Path) -> i64 {
    std::fs::read_to_string(path)
        .map(|s| parse_value(&s))
        .unwrap_or(0)
}

/// `init_file [VAL] [overwrite]`: write `value` unless the file exists and `overwrite` is
/// false.
pub fn init_file(path: &Path, value: i64, overwrite: bool) -> Result<(), TrackFileError> {
    if !overwrite && path.exists() {
        return Ok(());
    }
    std::fs::write(path, format!("{value}\n")).map_err(|source| TrackFileError::InitFile {
        path: path.to_path_buf(),
        source,
    })
}

#[derive(Debug)]
struct Tracked {
    name: String,
    path: PathBuf,
    file_name: OsString,
    value: i64,
}

/// A set of tracked files behind one inotify descriptor.
#[derive(Debug)]
pub struct TrackFiles {
    inotify: Inotify,
    dirs: HashMap<WatchDescriptor, PathBuf>,
    files: Vec<Tracked>,
}

impl TrackFiles {
    /// A new, empty set (non-blocking inotify).
    pub fn new() -> Result<TrackFiles, TrackFileError> {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC)
            .map_err(|e| TrackFileError::Init(io::Error::from(e)))?;
        Ok(TrackFiles {
            inotify,
            dirs: HashMap::new(),
            files: Vec::new(),
        })
    }

    /// Track `path` under `name`; returns its current value.
    pub fn add(&mut self, name: &str, path: &Path) -> Result<i64, TrackFileError> {
        let watch_err = |source| TrackFileError::Watch {
            path: path.to_path_buf(),
            source,
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| watch_err(io::Error::from(io::ErrorKind::InvalidInput)))?
            .to_os_string();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !self.dirs.values().any(|d| *d == dir) {
            let wd = self
                .inotify
                .add_watch(
                    &dir,
                    AddWatchFlags::IN_CLOSE_WRITE
                        | AddWatchFlags::IN_MOVED_TO
                        | AddWatchFlags::IN_MOVED_FROM
                        | AddWatchFlags::IN_CREATE
                        | AddWatchFlags::IN_DELETE
                        | AddWatchFlags::IN_MODIFY,
                )
                .map_err(|e| watch_err(io::Error::from(e)))?;
            self.dirs.insert(wd, dir);
        }
        let value = read_value(path);
        self.files.push(Tracked {
            name: name.to_string(),
            path: path.to_path_buf(),
            file_name,
            value,
        });
        Ok(value)
    }

    /// The current value of the tracker `name`.
    pub fn value(&self, name: &str) -> Option<i64> {
        self.files.iter().find(|f| f.name == name).map(|f| f.value)
    }

    /// Read pending inotify events; returns `(name, new value)` for each tracked file
    /// whose value changed.
    pub fn read_events(&mut self) -> Result<Vec<(String, i64)>, TrackFileError> {
        let mut touched: Vec<usize> = Vec::new();
        loop {
            let events = match self.inotify.read_events() {
                Ok(ev) => ev,
                Err(nix::errno::Errno::EAGAIN) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(TrackFileError::Read(io::Error::from(e))),
            };
            if events.is_empty() {
                break;
            }
            for ev in events {
                let Some(dir) = self.dirs.get(&ev.wd) else {
                    continue;
                };
                if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                    touched.extend(0..self.files.len());
                    continue;
                }
                for (i, f) in self.files.iter().enumerate() {
                    let same_dir = f.path.parent().is_none_or(|p| {
                        p == dir.as_path() || (p.as_os_str().is_empty() && dir == Path::new("."))
                    });
                    if same_dir && ev.name.as_deref() == Some(f.file_name.as_os_str()) {
                        touched.push(i);
                    }
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        let mut changed = Vec::new();
        for i in touched {
            if let Some(f) = self.files.get_mut(i) {
                let v = read_value(&f.path);
                if v != f.value {
                    f.value = v;
                    changed.push((f.name.clone(), v));
                }
            }
        }
        Ok(changed)
    }
}

impl AsRawFd for TrackFiles {
    fn as_raw_fd(&self) -> RawFd {
        self.inotify.as_fd().as_raw_fd()
    }
}

mio_source_via_fd!(TrackFiles);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_strtol() {
        assert_eq!(parse_value("42\n"), 42);
        assert_eq!(parse_value("  -7 trailing"), -7);
        assert_eq!(parse_value("+3"), 3);
        assert_eq!(parse_value(""), 0);
        assert_eq!(parse_value("abc"), 0);
        assert_eq!(parse_value("99999999999999999999999"), i64::MAX);
        assert_eq!(parse_value("-"), 0);
    }
}
