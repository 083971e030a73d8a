//! Where the parent gets its configuration from, at startup and on SIGHUP.
//!
//! The result says which children the configuration needs (keepalived: the VRRP child
//! for any `vrrp_instance`, the checker child for any `virtual_server`).

use ka_proto::config::{Config, GlobalDefs};
use ka_proto::ipc::codec::{self, CodecError};
use std::fmt;
use std::path::{Path, PathBuf};

/// A configuration ready to be sent to the children.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model.
    pub config: Config,
    /// A `vrrp_instance` exists.
    pub needs_vrrp: bool,
    /// A `virtual_server` exists.
    pub needs_checker: bool,
    /// `child_wait_time`: how long stopping children may take before SIGKILL.
    pub child_wait: std::time::Duration,
}

/// The configuration in force as the parent keeps it while the children run.
///
/// The parent itself reads only a few fields; the whole model is for the children (sent
/// at each start and reload) and for the rare release path ([`super::release`]). So the
/// model is kept encoded as the IPC carries it (bincode, about a twentieth of the decoded
/// model's heap: ~100 bytes per `vrrp_instance` instead of ~2 KB) and decoded when
/// needed. A child forked by the parent maps the parent's resident heap, so this also
/// keeps the decoded model out of every child's RSS.
#[derive(Debug)]
pub struct Kept {
    /// Not inherited by the children ([`crate::mem::ParentOnly`]).
    encoded: crate::mem::ParentOnly,
    /// `global_defs` (the shutdown script is read at the end).
    pub global: GlobalDefs,
    /// A `vrrp_instance` exists.
    pub needs_vrrp: bool,
    /// A `virtual_server` exists.
    pub needs_checker: bool,
    /// `child_wait_time`.
    pub child_wait: std::time::Duration,
    /// [`config_hash`] of the model: changes when the configuration in force does
    /// (`keepalived_config_hash`).
    pub hash: String,
}

/// FNV-1a (64 bits) of `bytes` as 16 hex digits: stable across runs, builds and hosts.
pub fn config_hash(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{h:016x}")
}

impl Kept {
    /// Encode `loaded` (the caller then drops the decoded model). Fails only when the configuration
    /// cannot be encoded for the IPC either (over [`ka_proto::ipc::codec::MAX_FRAME`]).
    pub fn new(loaded: &Loaded) -> Result<Kept, CodecError> {
        let encoded = codec::encode_payload(&loaded.config)?;
        if encoded.len() > codec::MAX_FRAME {
            return Err(CodecError::TooLarge {
                len: encoded.len(),
                max: codec::MAX_FRAME,
            });
        }
        let encoded = crate::mem::ParentOnly::new(&encoded).map_err(|e| {
            CodecError::Encode(format!("cannot keep the encoded configuration: {e}"))
        })?;
        let hash = config_hash(encoded.as_slice());
        Ok(Kept {
            hash,
            encoded,
            global: loaded.config.global.clone(),
            needs_vrrp: loaded.needs_vrrp,
            needs_checker: loaded.needs_checker,
            child_wait: loaded.child_wait,
        })
    }

    /// The model, decoded. An error is a bug (the bytes were encoded by [`Kept::new`]).
    pub fn config(&self) -> Result<Config, CodecError> {
        codec::decode_payload(self.encoded.as_slice())
    }

    /// Bytes held for the encoded model.
    pub fn encoded_len(&self) -> usize {
        self.encoded.as_slice().len()
    }
}

/// The configuration the checker child gets: `config` without the VRRP instances and sync
/// groups, which it never reads (at 10,000 instances they are ~20 MB decoded, which the
/// checker child held for its whole life).
pub fn for_checker(config: &mut Config) -> Config {
    let instances = std::mem::take(&mut config.vrrp_instances);
    let groups = std::mem::take(&mut config.sync_groups);
    let out = config.clone();
    config.vrrp_instances = instances;
    config.sync_groups = groups;
    out
}

/// Why a configuration was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// No such file (keepalived exits 6: "Config files missing").
    Missing(PathBuf),
    /// The file has errors.
    Invalid {
        /// The main file.
        path: PathBuf,
        /// The diagnostics, one per line, as keepalived prints them (at most ten of a
        /// kind, then a line counting the rest).
        errors: Vec<String>,
        /// How many errors in all (shown or only counted).
        count: usize,
        /// Where the first error is (`file:line`), when it has a place.
        first: Option<String>,
    },
}

impl LoadError {
    /// One line saying what is wrong: `3,000 errors, first at /etc/k.conf:12`.
    pub fn summary(&self) -> String {
        match self {
            LoadError::Missing(_) => self.to_string(),
            LoadError::Invalid {
                path, count, first, ..
            } => {
                let n = crate::conf::diag::thousands(*count);
                let s = if *count == 1 { "" } else { "s" };
                match first {
                    Some(at) => format!("{n} error{s}, first at {at}"),
                    None => format!("{n} error{s} in {}", path.display()),
                }
            }
        }
    }

    /// The diagnostics, one log record each.
    pub fn details(&self) -> &[String] {
        match self {
            LoadError::Missing(_) => &[],
            LoadError::Invalid { errors, .. } => errors,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Missing(p) => write!(f, "Config files missing '{}'.", p.display()),
            LoadError::Invalid { path, errors, .. } => {
                write!(f, "{}: {} error(s)", path.display(), errors.len())?;
                for e in errors {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// A loader: the parent calls it at startup and on each SIGHUP.
pub type Loader = fn(&Path, &crate::conf::LoadOptions) -> Result<Loaded, LoadError>;

/// The real loader: `conf::load` (warnings are logged, errors refuse the config).
pub fn conf_load(path: &Path, opts: &crate::conf::LoadOptions) -> Result<Loaded, LoadError> {
    if !path.exists() {
        return Err(LoadError::Missing(path.to_path_buf()));
    }
    match crate::conf::load(path, opts) {
        Ok(l) => {
            for d in &l.diagnostics {
                log::warn!("{}", one_line(&d.to_string()));
            }
            let c = l.config;
            // keepalived warns (and runs) when scripts would run as root without
            // enable_script_security; `-t` fails on it.
            if crate::conf::validate::script_security_violation(&c) {
                log::warn!("{}", crate::conf::validate::SECURITY_VIOLATION);
            }
            for w in crate::conf::validate::unused_scripts(&c) {
                log::warn!("{w}");
            }
            Ok(Loaded {
                needs_vrrp: c.has_vrrp(),
                needs_checker: c.has_checker(),
                child_wait: c.child_wait_time,
                config: c,
            })
        }
        Err(f) => Err(LoadError::Invalid {
            path: path.to_path_buf(),
            errors: f
                .diagnostics
                .iter()
                .map(|d| one_line(&d.to_string()))
                .collect(),
            count: f.errors,
            first: f
                .diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| match d.line {
                    0 => d.file.display().to_string(),
                    n => format!("{}:{n}", d.file.display()),
                }),
        }),
    }
}

/// A multi-line diagnostic on one log line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim_end)
        .filter(|l| !l.trim_start().starts_with('|') || l.contains(|c: char| c.is_alphanumeric()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A minimal loader for tests of the parent alone: checks that the file exists and that
/// its braces balance, and finds out which children are needed from the top-level
/// keywords. The model it returns is the default one.
pub fn interim_load(path: &Path, _: &crate::conf::LoadOptions) -> Result<Loaded, LoadError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(LoadError::Missing(path.to_path_buf()))
        }
        Err(e) => {
            return Err(LoadError::Invalid {
                path: path.to_path_buf(),
                errors: vec![format!("cannot read: {e}")],
                count: 1,
                first: None,
            })
        }
    };
    let mut depth = 0i64;
    let mut errors = Vec::new();
    let (mut vrrp, mut checker) = (false, false);
    for (i, line) in text.lines().enumerate() {
        let line = line.split(['#', '!']).next().unwrap_or("");
        let first = line.split_whitespace().next().unwrap_or("");
        if depth == 0 {
            vrrp |= first == "vrrp_instance";
            checker |= first == "virtual_server";
        }
        for c in line.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth < 0 {
                        errors.push(format!("(Line {}) Unexpected '}}'", i + 1));
                        depth = 0;
                    }
                }
                _ => {}
            }
        }
    }
    if depth > 0 {
        errors.push(format!("{depth} missing '}}' at end of file"));
    }
    if errors.is_empty() {
        Ok(Loaded {
            config: Config::default(),
            needs_vrrp: vrrp,
            needs_checker: checker,
            child_wait: std::time::Duration::from_secs(5),
        })
    } else {
        Err(LoadError::Invalid {
            path: path.to_path_buf(),
            count: errors.len(),
            first: None,
            errors,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_config_hash_is_fnv1a_and_follows_the_model() {
        // FNV-1a 64 reference values.
        assert_eq!(config_hash(b""), "cbf29ce484222325");
        assert_eq!(config_hash(b"a"), "af63dc4c8601ec8c");
        let load = |c: Config| Loaded {
            config: c,
            needs_vrrp: false,
            needs_checker: false,
            child_wait: std::time::Duration::ZERO,
        };
        let a = Kept::new(&load(Config::default())).unwrap();
        let b = Kept::new(&load(Config::default())).unwrap();
        assert_eq!(a.hash, b.hash, "the same configuration, the same hash");
        assert_eq!(a.hash.len(), 16);
        let mut c = Config::default();
        c.virtual_servers.push(Default::default());
        assert_ne!(Kept::new(&load(c)).unwrap().hash, a.hash);
    }

    #[test]
    fn the_checker_gets_no_vrrp_instances() {
        let mut c = Config::default();
        c.vrrp_instances.push(Default::default());
        c.sync_groups.push(Default::default());
        c.track_files.push(Default::default());
        c.virtual_servers.push(Default::default());
        let before = c.clone();
        let k = for_checker(&mut c);
        assert_eq!(c, before, "the original is left whole");
        assert!(k.vrrp_instances.is_empty() && k.sync_groups.is_empty());
        assert_eq!(
            k.track_files, before.track_files,
            "checkers read track_file"
        );
        assert_eq!(k.virtual_servers, before.virtual_servers);
    }

    #[test]
    fn interim_finds_needs_and_errors() {
        let d = std::env::temp_dir().join(format!("ka-source-{}", std::process::id()));
        std::fs::write(&d, "vrrp_instance VI_1 {\n  state MASTER # }\n}\n").unwrap();
        let l = interim_load(&d, &Default::default()).unwrap();
        assert!(l.needs_vrrp && !l.needs_checker);
        std::fs::write(&d, "virtual_server 1.2.3.4 80 {\n").unwrap();
        assert!(matches!(
            interim_load(&d, &Default::default()),
            Err(LoadError::Invalid { .. })
        ));
        std::fs::write(&d, "}\n").unwrap();
        assert!(matches!(
            interim_load(&d, &Default::default()),
            Err(LoadError::Invalid { .. })
        ));
        let _ = std::fs::remove_file(&d);
        assert!(matches!(
            interim_load(&d, &Default::default()),
            Err(LoadError::Missing(_))
        ));
    }
}
