//! Streaming the config: a top-level statement that can be built on its own
//! (`virtual_server`, the bulk of a large config) goes into the model as soon as it is
//! complete, and its part of the statement tree is dropped at once. The other
//! statements (`global_defs`, `vrrp_instance`, ... — instances inherit from
//! `global_defs` wherever it is in the file) are kept in a tree for the end, as before.
//!
//! Lines are grouped: a *group* holds the top-level statements read since no block was
//! last open. A group ends when a new line starts while no block is open, unless that
//! line starts with `{` (which belongs to the statement on the line before). A group
//! whose first keyword is not streamed goes straight into the kept tree. One that starts
//! with `virtual_server` is tokenised into a small buffer (the line's text once, and
//! each token as a range of it); when it ends, the tokens are fed to a [`TreeBuilder`]
//! over a scratch arena that the next group reuses (so the whole tree of a
//! 100,000-line config never exists at once) and built, or, if something else shares
//! the group, fed to the kept tree.
//!
//! Nothing observable changes: every top-level statement gets an ordinal (its place in
//! the file), and [`Finished::merge_before`] puts what was built early back in file
//! order — virtual servers in the model and their diagnostics among the others.

use super::build::{self, Ctx};
use super::diag::{Diagnostic, Severity};
use super::lexer::{self, Tok, Token};
use super::source::Sources;
use super::tree::{Loc, Node, Problem, TreeBuilder};
use bumpalo::Bump;
use ka_proto::config::{Config, VirtualServer};
use std::borrow::Cow;
use std::collections::HashMap;

/// Top-level keywords built as soon as their statement is complete: their builders
/// read nothing but their own block and only append to their own list in the model.
const STREAMED: &[&str] = &["virtual_server"];

/// Longest logical line read; a longer one is reported and ignored.
pub const MAX_LOGICAL_LINE: usize = 1 << 20;
/// Most words and braces held at once (in the kept tree, or in one streamed group):
/// past that the rest of the config is reported and ignored, so memory stays bounded.
/// The generated 100,000-line bench config keeps ~10,000.
pub const MAX_TOKENS: usize = 250_000;

/// What a buffered token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A word; its text is `text[start..end]`.
    Word,
    /// `{`
    Open,
    /// `}`
    Close,
    /// The end of a logical line.
    EndLine,
    /// A line that could not be tokenised; the message is `text[start..end]`.
    Error,
}

/// One token of the current group.
#[derive(Debug, Clone, Copy)]
struct Buffered {
    kind: Kind,
    /// Index of the token in its logical line.
    i: u32,
    start: u32,
    end: u32,
    loc: Loc,
}

/// Where the lines of the current group go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// No group is open.
    Idle,
    /// Straight into the kept tree, which held `before` top-level statements when the
    /// group began.
    Kept { before: usize },
    /// Buffered, to be built when the group ends.
    Buffered,
}

/// One statement built while streaming: its ordinal, and where its diagnostics and
/// virtual servers end in the streamed lists.
#[derive(Debug, Clone, Copy)]
struct Built {
    ordinal: usize,
    diags_end: usize,
    servers_end: usize,
}

/// Reads logical lines (from the preprocessor) into the model and a tree of what is left.
pub struct Streamer<'r> {
    retained: TreeBuilder<'r>,
    /// The ordinal of each top-level statement kept in `retained`, in order.
    retained_ordinals: Vec<usize>,
    scratch: Bump,
    route: Route,
    /// Text of the buffered lines (and of words that are not slices of them).
    text: String,
    /// The buffered tokens of the current group.
    toks: Vec<Buffered>,
    /// Blocks open after the lines read so far.
    depth: usize,
    next_ordinal: usize,
    problems: Vec<Problem>,
    built: Vec<Built>,
    diags: Vec<Diagnostic>,
    /// Receives the statements built while streaming.
    model: Config,
    interfaces: HashMap<String, bool>,
    check_interfaces: bool,
    /// Too many tokens: the rest of the config is ignored.
    stopped: bool,
}

impl<'r> Streamer<'r> {
    /// A streamer keeping the statements it cannot build early in `bump`.
    pub fn new(bump: &'r Bump, check_interfaces: bool) -> Self {
        Streamer {
            retained: TreeBuilder::new(bump),
            retained_ordinals: Vec::new(),
            scratch: Bump::new(),
            route: Route::Idle,
            text: String::new(),
            toks: Vec::new(),
            depth: 0,
            next_ordinal: 0,
            problems: Vec::new(),
            built: Vec::new(),
            diags: Vec::new(),
            model: Config::default(),
            interfaces: HashMap::new(),
            check_interfaces,
            stopped: false,
        }
    }

    /// Add one logical line (as [`TreeBuilder::line`]); `sources` quotes lines in the
    /// diagnostics of what is built now.
    pub fn line(
        &mut self,
        sources: &Sources,
        text: &str,
        file: u32,
        line: u32,
        offset: Option<u32>,
        plain: bool,
    ) {
        if self.stopped {
            return;
        }
        let here = Loc { file, line, col: 1 };
        if text.len() > MAX_LOGICAL_LINE {
            self.retained.problem(
                Severity::Error,
                here,
                format!(
                    "line of {} bytes is longer than {MAX_LOGICAL_LINE}: ignored",
                    text.len()
                ),
            );
            return;
        }
        if self.retained.tokens > MAX_TOKENS || self.toks.len() > MAX_TOKENS {
            self.retained.problem(
                Severity::Error,
                here,
                format!(
                    "more than {MAX_TOKENS} words and braces: the rest of the configuration is ignored"
                ),
            );
            self.stopped = true;
            return;
        }
        if !plain {
            if let Some(at) = lexer::unterminated_quote(text) {
                // keepalived says so too (and reads the quote to the end of the line).
                let col = offset.map_or(at, |base| base + at) + 1;
                self.retained.problem(
                    Severity::Warning,
                    Loc { file, line, col },
                    format!("Unterminated quote '{}'", text.trim()),
                );
            }
        }
        if self.depth == 0 {
            // A group may end here: it does unless the line starts with `{` (or has
            // nothing a group could start with).
            match lexer::first_token(text) {
                Ok(Some(first)) => {
                    if self.route != Route::Idle && first != Tok::Open {
                        self.end_group(sources);
                    }
                    if self.route == Route::Idle {
                        self.route = match first {
                            Tok::Word(w) if STREAMED.contains(&&*w) => Route::Buffered,
                            _ => Route::Kept {
                                before: self.retained.top_len(),
                            },
                        };
                    }
                }
                Ok(None) if self.route == Route::Idle => return,
                Ok(None) => {}
                // Reported by the tree builder; the line ends no group.
                Err(_) if self.route == Route::Idle => {
                    self.route = Route::Kept {
                        before: self.retained.top_len(),
                    };
                }
                Err(_) => {}
            }
        }
        if self.route == Route::Buffered {
            self.buffer(text, file, line, offset, plain);
        } else {
            self.retained.line_known(text, file, line, offset, plain);
            self.depth = self.retained.depth();
        }
    }

    /// Tokenise a line of a streamed group into the buffer.
    fn buffer(&mut self, text: &str, file: u32, line: u32, offset: Option<u32>, plain: bool) {
        let loc_of = |o: u32| Loc {
            file,
            line,
            col: offset.map_or(o, |base| base + o) + 1,
        };
        let base = self.text.len();
        self.text.push_str(text);
        let mut i = 0u32;
        let (toks, buf, depth) = (&mut self.toks, &mut self.text, &mut self.depth);
        let res = lexer::tokenize_each(text, plain, |t: Token<'_>| {
            let (kind, start, end) = match t.tok {
                Tok::Open => {
                    *depth += 1;
                    (Kind::Open, 0, 0)
                }
                Tok::Close => {
                    *depth = depth.saturating_sub(1);
                    (Kind::Close, 0, 0)
                }
                // A slice of the line: its place in the copy (pointer arithmetic on
                // addresses only, no dereference).
                Tok::Word(Cow::Borrowed(w)) => {
                    let at = base + (w.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                    (Kind::Word, at, at + w.len())
                }
                Tok::Word(Cow::Owned(w)) => {
                    let at = buf.len();
                    buf.push_str(&w);
                    (Kind::Word, at, buf.len())
                }
            };
            toks.push(Buffered {
                kind,
                i,
                start: start as u32,
                end: end as u32,
                loc: loc_of(t.offset),
            });
            i += 1;
        });
        match res {
            Ok(()) => self.toks.push(Buffered {
                kind: Kind::EndLine,
                i,
                start: 0,
                end: 0,
                loc: loc_of(0),
            }),
            // As TreeBuilder::line: reported, and the line does not end a statement.
            // Past the per-kind budget: counted only.
            Err(_) if !super::diag::admit(Severity::Error, "cannot tokenise: ") => {}
            Err(e) => {
                let start = self.text.len();
                self.text.push_str("cannot tokenise: ");
                self.text.push_str(&e);
                self.toks.push(Buffered {
                    kind: Kind::Error,
                    i: 0,
                    start: start as u32,
                    end: self.text.len() as u32,
                    loc: loc_of(0),
                });
            }
        }
    }

    /// The current group is complete: count what it added to the kept tree, or build
    /// it now (or, when it is not all streamed statements, read it into the kept tree).
    fn end_group(&mut self, sources: &Sources) {
        let before = match self.route {
            Route::Idle => return,
            Route::Kept { before } => before,
            Route::Buffered => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.reset();
                let streamed = {
                    let mut tb = TreeBuilder::new(&scratch);
                    replay(&self.toks, &self.text, &mut tb);
                    let (top, problems) = tb.finish();
                    if top.iter().all(|n| STREAMED.contains(&n.keyword())) {
                        self.problems.extend(problems);
                        for n in top {
                            self.build(sources, n);
                        }
                        true
                    } else {
                        false
                    }
                };
                self.scratch = scratch;
                let before = self.retained.top_len();
                if !streamed {
                    replay(&self.toks, &self.text, &mut self.retained);
                }
                self.toks.clear();
                self.text.clear();
                before
            }
        };
        self.route = Route::Idle;
        let added = self.retained.top_len().saturating_sub(before);
        for _ in 0..added {
            self.retained_ordinals.push(self.next_ordinal);
            self.next_ordinal += 1;
        }
        self.problems.append(&mut self.retained.problems);
    }

    fn build(&mut self, sources: &Sources, n: &Node<'_>) {
        let mut ctx = Ctx::new(sources, self.check_interfaces);
        ctx.set_interface_cache(std::mem::take(&mut self.interfaces));
        build::build_node(&mut ctx, n, &mut self.model);
        self.interfaces = ctx.take_interface_cache();
        self.diags.append(&mut ctx.diags);
        self.built.push(Built {
            ordinal: self.next_ordinal,
            diags_end: self.diags.len(),
            servers_end: self.model.virtual_servers.len(),
        });
        self.next_ordinal += 1;
    }

    /// The end of the config: the last group, then what is still open.
    pub fn finish(mut self, sources: &Sources) -> Finished<'r> {
        self.end_group(sources);
        let (top, problems) = self.retained.finish();
        self.problems.extend(problems);
        // Statements whose blocks were still open at the end join the top level now.
        while self.retained_ordinals.len() < top.len() {
            self.retained_ordinals.push(self.next_ordinal);
            self.next_ordinal += 1;
        }
        Finished {
            top,
            ordinals: self.retained_ordinals,
            problems: self.problems,
            interfaces: self.interfaces,
            built: self.built.into_iter(),
            diags: self.diags.into_iter(),
            servers: self.model.virtual_servers.into_iter(),
            diags_taken: 0,
            servers_taken: 0,
        }
    }
}

/// Feed buffered tokens to a tree builder, exactly as [`TreeBuilder::line`] would have.
fn replay(toks: &[Buffered], text: &str, tb: &mut TreeBuilder<'_>) {
    for t in toks {
        let tok = match t.kind {
            Kind::Word => Tok::Word(Cow::Borrowed(
                text.get(t.start as usize..t.end as usize).unwrap_or(""),
            )),
            Kind::Open => Tok::Open,
            Kind::Close => Tok::Close,
            Kind::EndLine => {
                tb.end_line();
                continue;
            }
            Kind::Error => {
                let msg = text
                    .get(t.start as usize..t.end as usize)
                    .unwrap_or("")
                    .to_string();
                // Counted by `admit` when it was buffered.
                tb.problems.push((Severity::Error, t.loc, msg));
                continue;
            }
        };
        tb.token(t.i as usize, Token { tok, offset: 0 }, t.loc, t.loc.line);
    }
}

/// What streaming leaves: the tree of the statements kept for the end, and what was
/// built early, to be merged back in file order.
pub struct Finished<'r> {
    /// The top-level statements kept for the end, in file order.
    pub top: &'r [Node<'r>],
    /// The ordinal of each statement in `top`.
    pub ordinals: Vec<usize>,
    /// Structural problems, in file order.
    pub problems: Vec<Problem>,
    /// Interface lookups made so far.
    pub interfaces: HashMap<String, bool>,
    built: std::vec::IntoIter<Built>,
    diags: std::vec::IntoIter<Diagnostic>,
    servers: std::vec::IntoIter<VirtualServer>,
    diags_taken: usize,
    servers_taken: usize,
}

impl Finished<'_> {
    /// Move what was built early from statements before `ordinal` (all of it with
    /// `usize::MAX`) into `diags` and `c`, in file order.
    pub fn merge_before(&mut self, ordinal: usize, diags: &mut Vec<Diagnostic>, c: &mut Config) {
        while self
            .built
            .as_slice()
            .first()
            .is_some_and(|b| b.ordinal < ordinal)
        {
            let Some(b) = self.built.next() else {
                break;
            };
            let nd = b.diags_end.saturating_sub(self.diags_taken);
            diags.extend(self.diags.by_ref().take(nd));
            self.diags_taken = b.diags_end;
            let ns = b.servers_end.saturating_sub(self.servers_taken);
            c.virtual_servers.extend(self.servers.by_ref().take(ns));
            self.servers_taken = b.servers_end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::preprocess::{PreOptions, Preprocessor};
    use super::super::{build, load_with, LoadOptions};
    use super::*;
    use std::path::Path;

    /// The reference: the whole tree first, then global_defs, then the rest (what
    /// `load_with` did before streaming).
    fn whole_tree(path: &Path) -> (Config, Vec<Diagnostic>) {
        let opts = PreOptions {
            config_id: "n".into(),
            instance: None,
            all_config: false,
        };
        let bump = Bump::new();
        let mut tb = TreeBuilder::new(&bump);
        let mut sink =
            |_: &Sources, t: &str, f: u32, l: u32, o: Option<u32>, _: bool| tb.line(t, f, l, o);
        let mut pre = Preprocessor::new(&opts, &mut sink);
        pre.read_main(path).unwrap();
        let sources = std::mem::take(&mut pre.sources);
        let mut pre_diags = std::mem::take(&mut pre.diags);
        drop(pre);
        let (top, problems) = tb.finish();
        let mut ctx = Ctx::new(&sources, false);
        ctx.diags.append(&mut pre_diags);
        for (sev, loc, msg) in problems {
            ctx.push(sev, loc, msg);
        }
        let mut c = build::build_into(
            &mut ctx,
            top.iter().filter(|n| n.keyword() == "global_defs"),
            Default::default(),
        );
        let g = std::mem::take(&mut c.global);
        let c = build::build_into(
            &mut ctx,
            top.iter().filter(|n| n.keyword() != "global_defs"),
            g,
        );
        (c, ctx.diags)
    }

    fn same_as_whole_tree(name: &str, text: &str) {
        let dir = std::env::temp_dir().join(format!("ka-stream-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("k.conf");
        std::fs::write(&path, text).unwrap();
        let (want_c, mut want_d) = whole_tree(&path);
        let opts = LoadOptions {
            config_id: "n".into(),
            instance: None,
        };
        // load_with sorts whole-config messages (line 0) last; the reference does not.
        want_d.sort_by_key(|d| d.line == 0);
        match load_with(&path, &opts, false, false) {
            Ok(l) => {
                assert_eq!(l.diagnostics, want_d, "{name}");
                assert_eq!(l.config, want_c, "{name}");
            }
            Err(f) => assert_eq!(f.diagnostics, want_d, "{name}"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn streaming_changes_nothing() {
        let vs = |a: u32| {
            format!(
                "virtual_server 10.0.0.{a} 80 {{\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  \
                 real_server 10.1.0.{a} 80 {{\n    weight 2\n    TCP_CHECK {{\n      retry x\n    }}\n  }}\n}}\n"
            )
        };
        let inst = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 5\n  \
                    priority 100\n  virtual_ipaddress {\n    10.9.9.9\n  }\n}\n";
        let global = "global_defs {\n  router_id late\n  vrrp_garp_master_delay 3\n}\n";
        let cases = [
            ("plain", format!("{global}{inst}{}{}", vs(1), vs(2))),
            ("global_last", format!("{}{inst}{}{global}", vs(1), vs(2))),
            (
                "brace_next_line",
                "virtual_server 10.0.0.3 80\n{\n protocol UDP\n real_server 10.0.0.4 80\n {\n weight 1\n }\n}\n".into(),
            ),
            (
                "mixed_line",
                format!(
                    "{}virtual_server 10.0.0.7 80 {{ protocol TCP real_server 1.1.1.1 80 {{ }} }} \
                     static_ipaddress {{ 1.2.3.4 dev eth0 }}\n{}",
                    vs(1),
                    vs(2)
                ),
            ),
            ("extra_brace", format!("{}}}\n{}{{ x }}\n{}", vs(1), vs(2), vs(3))),
            ("unclosed_vs", format!("{}{inst}virtual_server 10.0.0.9 80 {{\n", vs(1))),
            ("unclosed_other", format!("{}vrrp_script s {{\n{}", vs(1), vs(2))),
            (
                "quotes_and_braces_in_words",
                format!(
                    "virtual_server 10.0.0.5 80 {{\n  virtualhost \"a {{ b\"\n  real_server 10.0.0.6 80 {{\n    \
                     HTTP_GET {{ url {{ path \"/x}}\" }} }}\n  }}\n}}\n'virtual_server' 10.0.0.8 80 {{ protocol TCP }}\n\
                     global_defs {{ router_id \"r{{\" }}\n{}",
                    vs(4)
                ),
            ),
            (
                "kept_then_brace_lines",
                format!("static_ipaddress\n{{\n 1.2.3.4 dev eth0\n}}\n}}\n{}\n{{\n}}\n", vs(5)),
            ),
            ("group", format!("virtual_server_group G {{\n 10.0.0.1 80\n}}\n{}virtual_server group G {{ protocol TCP real_server 1.1.1.1 80 {{ }} }}\n", vs(1))),
        ];
        for (name, text) in &cases {
            same_as_whole_tree(name, text);
        }
    }
}
