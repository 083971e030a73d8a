//! The keepalived.conf language, read the way keepalived 2.2.7 reads it, into
//! [`ka_proto::config::Config`].
//!
//! Stages, one module each:
//! 1. [`preprocess`] — line-based features: comments, `\` continuation, `@id`
//!    conditionals, `$NAME=` parameters and expansion, `~SEQ`/`~LST` loops, `include`.
//! 2. [`lexer`] — each logical line split into words and braces by the pest grammar
//!    `keepalived.pest` (quotes, escapes).
//! 3. [`tree`] — statements and `{ }` blocks (braces on the same or the next line),
//!    streamed by [`stream`]: a `virtual_server` is built as soon as it closes and its
//!    tree dropped, the rest kept for the end.
//! 4. [`build`] — each block family into the typed model, values checked as read.
//! 5. [`validate`] — references across blocks, duplicate VRIDs.
//!
//! Every problem is a [`Diagnostic`] with `file:line:col`. Unknown keywords are warnings
//! and parsing goes on; no input makes the parser panic.

pub mod build;
pub mod diag;
pub mod lexer;
pub mod preprocess;
pub mod source;
pub mod stream;
pub mod tree;
pub mod validate;

pub use diag::{Diagnostic, Severity};

use std::collections::HashMap;
use std::path::Path;

/// What the loader needs from the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// `-i`; default the short host name (see [`crate::cli::short_hostname`]).
    pub config_id: String,
    /// `${_INSTANCE}` (the `instance` name, when known).
    pub instance: Option<String>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            config_id: crate::cli::short_hostname(),
            instance: None,
        }
    }
}

/// A config that loaded; `diagnostics` holds warnings only.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The model.
    pub config: ka_proto::config::Config,
    /// Warnings (keepalived would print them; `-t` fails on them as keepalived does).
    pub diagnostics: Vec<Diagnostic>,
}

/// A config that did not load: at least one error.
#[derive(Debug, Clone)]
pub struct Failed {
    /// Errors and warnings, in file order (at most [`diag::MAX_SHOWN_PER_KIND`] of
    /// one kind, then a line counting the others).
    pub diagnostics: Vec<Diagnostic>,
    /// How many errors in all, shown or only counted.
    pub errors: usize,
}

/// Read, check and build the config at `path`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, Failed> {
    load_with(path, opts, false, true)
}

/// [`load`] with `-e` (`all_config`: missing includes are errors) and the choice of
/// checking that named interfaces exist.
pub fn load_with(
    path: &Path,
    opts: &LoadOptions,
    all_config: bool,
    check_interfaces: bool,
) -> Result<Loaded, Failed> {
    diag::reset_budget();
    let pre_opts = preprocess::PreOptions {
        config_id: opts.config_id.clone(),
        instance: opts.instance.clone(),
        all_config,
    };
    let bump = bumpalo::Bump::new();
    let mut streamer = stream::Streamer::new(&bump, check_interfaces);
    let mut sink = |sources: &source::Sources,
                    t: &str,
                    file: u32,
                    line: u32,
                    offset: Option<u32>,
                    plain: bool| {
        streamer.line(sources, t, file, line, offset, plain);
    };
    let mut pre = preprocess::Preprocessor::new(&pre_opts, &mut sink);
    let read = pre.read_main(path);
    let sources = std::mem::take(&mut pre.sources);
    let mut pre_diags = std::mem::take(&mut pre.diags);
    drop(pre);
    if let Err(message) = read {
        return Err(Failed {
            diagnostics: vec![Diagnostic {
                severity: Severity::Error,
                file: path.to_path_buf(),
                line: 0,
                col: 0,
                text: String::new(),
                text_col: 0,
                message,
            }],
            errors: 1,
        });
    }
    let mut done = streamer.finish(&sources);
    let top = done.top;
    let mut ctx = build::Ctx::new(&sources, check_interfaces);
    ctx.set_interface_cache(std::mem::take(&mut done.interfaces));
    ctx.diags.append(&mut pre_diags);
    for (sev, loc, msg) in std::mem::take(&mut done.problems) {
        ctx.push_admitted(sev, loc, msg);
    }
    // global_defs first: instances inherit from it wherever it is in the file.
    let mut config = build::build_into(
        &mut ctx,
        top.iter().filter(|n| n.keyword() == "global_defs"),
        ka_proto::config::GlobalDefs::default(),
    );
    let global = std::mem::take(&mut config.global);
    config = ka_proto::config::Config {
        global,
        ..ka_proto::config::Config::default()
    };
    // The rest in file order, with what was built while streaming put back in place.
    let ordinals = std::mem::take(&mut done.ordinals);
    for (n, &ordinal) in top.iter().zip(&ordinals) {
        if n.keyword() == "global_defs" {
            continue;
        }
        done.merge_before(ordinal, &mut ctx.diags, &mut config);
        build::build_node(&mut ctx, n, &mut config);
    }
    done.merge_before(usize::MAX, &mut ctx.diags, &mut config);
    // keepalived reads nothing after a fatal statement (and checks nothing more).
    if let Some(i) = ctx.diags.iter().position(Diagnostic::is_fatal) {
        ctx.diags.truncate(i + 1);
        let (diagnostics, errors) = diag::limit(std::mem::take(&mut ctx.diags));
        return Err(Failed {
            diagnostics,
            errors,
        });
    }
    let locs: HashMap<String, tree::Loc> = top
        .iter()
        .filter(|n| n.keyword() == "vrrp_instance")
        .filter_map(|n| n.arg(0).map(|w| (w.text.to_string(), n.loc)))
        .collect();
    validate::validate(&mut ctx, &mut config, &locs);
    let mut diagnostics = ctx.diags;
    diagnostics.sort_by_key(|d| d.line == 0);
    let (diagnostics, errors) = diag::limit(diagnostics);
    if errors > 0 {
        Err(Failed {
            diagnostics,
            errors,
        })
    } else {
        Ok(Loaded {
            config,
            diagnostics,
        })
    }
}
