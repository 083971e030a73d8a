//! Streaming the config: a top-level statement that can be built on its own
//! (`virtual_server`, the bulk of a large config) goes into the model as soon as it is
//! complete, and its part of the statement tree is dropped at once. The other
//! statements (`global_defs`, `vrrp_instance`, ... — instances inherit from
//! `global_defs` wherever it is in the file) are kept in a tree for the end, as before.
//!
//! Each logical line is tokenised into a small buffer holding the current *group*:
//! the tokens of the top-level statements read since no block was last open. A group
//! ends when a new line starts while no block is open, unless that line starts with
//! `{` (which belongs to the statement on the line before). The group is then replayed
//! into a [`TreeBuilder`] over a scratch arena that the next group reuses, so the
//! whole tree of a 100,000-line config never exists at once.
//!
//! Nothing observable changes: every top-level statement gets an ordinal (its place in
//! the file), and [`Finished::merge_before`] puts what was built early back in file
//! order — virtual servers in the model and their diagnostics among the others.

use super::build::{self, Ctx};
use super::diag::{Diagnostic, Severity};
use super::lexer::{tokenize_each, Tok, Token};
use super::source::Sources;
use super::tree::{Loc, Node, Problem, TreeBuilder};
use bumpalo::Bump;
use ka_proto::config::{Config, VirtualServer};
use std::borrow::Cow;
use std::collections::HashMap;

/// Top-level keywords built as soon as their statement is complete: their builders
/// read nothing but their own block and only append to their own list in the model.
const STREAMED: &[&str] = &["virtual_server"];

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
    start: usize,
    end: usize,
    /// Index of the token in its logical line.
    i: usize,
    loc: Loc,
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
    /// Word texts of the current group.
    text: String,
    /// Tokens of the current group.
    toks: Vec<Buffered>,
    /// Blocks open at the end of the buffered tokens.
    depth: usize,
    next_ordinal: usize,
    problems: Vec<Problem>,
    built: Vec<Built>,
    diags: Vec<Diagnostic>,
    /// Receives the statements built while streaming.
    model: Config,
    interfaces: HashMap<String, bool>,
    check_interfaces: bool,
}

impl<'r> Streamer<'r> {
    /// A streamer keeping the statements it cannot build early in `bump`.
    pub fn new(bump: &'r Bump, check_interfaces: bool) -> Self {
        Streamer {
            retained: TreeBuilder::new(bump),
            retained_ordinals: Vec::new(),
            scratch: Bump::new(),
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
    ) {
        let loc_of = |o: u32| Loc {
            file,
            line,
            col: offset.map_or(o, |base| base + o) + 1,
        };
        let mut i = 0usize;
        let res = tokenize_each(text, |t| {
            if i == 0 && self.depth == 0 && !self.toks.is_empty() && t.tok != Tok::Open {
                self.flush_group(sources);
            }
            self.push(i, t.tok, loc_of(t.offset));
            i += 1;
        });
        match res {
            Ok(()) => self.toks.push(Buffered {
                kind: Kind::EndLine,
                start: 0,
                end: 0,
                i,
                loc: loc_of(0),
            }),
            // As TreeBuilder::line: reported, and the line does not end a statement.
            Err(e) => {
                let start = self.text.len();
                self.text.push_str("cannot tokenise: ");
                self.text.push_str(&e);
                self.toks.push(Buffered {
                    kind: Kind::Error,
                    start,
                    end: self.text.len(),
                    i: 0,
                    loc: loc_of(0),
                });
            }
        }
    }

    fn push(&mut self, i: usize, tok: Tok<'_>, loc: Loc) {
        let (kind, start, end) = match tok {
            Tok::Open => {
                self.depth += 1;
                (Kind::Open, 0, 0)
            }
            Tok::Close => {
                // A `}` with no open block is reported by the tree builder.
                self.depth = self.depth.saturating_sub(1);
                (Kind::Close, 0, 0)
            }
            Tok::Word(w) => {
                let start = self.text.len();
                self.text.push_str(&w);
                (Kind::Word, start, self.text.len())
            }
        };
        self.toks.push(Buffered {
            kind,
            start,
            end,
            i,
            loc,
        });
    }

    /// The current group is complete: build it now, or keep its tree for the end.
    fn flush_group(&mut self, sources: &Sources) {
        if self.toks.is_empty() {
            return;
        }
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
        if !streamed {
            let before = self.retained.top_len();
            replay(&self.toks, &self.text, &mut self.retained);
            let added = self.retained.top_len().saturating_sub(before);
            for _ in 0..added {
                self.retained_ordinals.push(self.next_ordinal);
                self.next_ordinal += 1;
            }
            self.problems.append(&mut self.retained.problems);
        }
        self.toks.clear();
        self.text.clear();
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
        self.flush_group(sources);
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
            Kind::Word => Tok::Word(Cow::Borrowed(text.get(t.start..t.end).unwrap_or(""))),
            Kind::Open => Tok::Open,
            Kind::Close => Tok::Close,
            Kind::EndLine => {
                tb.end_line();
                continue;
            }
            Kind::Error => {
                let msg = text.get(t.start..t.end).unwrap_or("").to_string();
                tb.problems.push((Severity::Error, t.loc, msg));
                continue;
            }
        };
        tb.token(t.i, Token { tok, offset: 0 }, t.loc, t.loc.line);
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
#[allow(clippy::unwrap_used)]
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
        let mut sink = |_: &Sources, t: &str, f: u32, l: u32, o: Option<u32>| tb.line(t, f, l, o);
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
            ("group", format!("virtual_server_group G {{\n 10.0.0.1 80\n}}\n{}virtual_server group G {{ protocol TCP real_server 1.1.1.1 80 {{ }} }}\n", vs(1))),
        ];
        for (name, text) in &cases {
            same_as_whole_tree(name, text);
        }
    }
}
