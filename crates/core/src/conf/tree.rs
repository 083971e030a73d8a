//! From tokenised lines to a tree of statements: `words.. { children }`.
//!
//! A `{` opens a block for the statement before it on the same line, or — when it starts a
//! line — for the statement on the previous line. Text after a brace is the next
//! statement. A `}` closes the innermost block.
//!
//! The whole tree lives in one arena ([`bumpalo::Bump`]): words and nodes are bump
//! allocated and freed together, which keeps a 100,000-line config cheap to read.

use super::diag::Severity;
use super::lexer::{tokenize_each, Tok, Token};
use bumpalo::Bump;

/// Where something is: file index, line, 1-based column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    /// Index into the sources.
    pub file: u32,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

/// A word with its location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'b> {
    /// The text, quotes removed.
    pub text: &'b str,
    /// Where it starts.
    pub loc: Loc,
}

/// One statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Node<'b> {
    /// The words (at least one, except for a bare `{ }`).
    pub words: &'b [Word<'b>],
    /// The block, if the statement has one.
    pub children: Option<&'b [Node<'b>]>,
    /// Where the statement starts.
    pub loc: Loc,
}

impl<'b> Node<'b> {
    /// The keyword (first word), or "" for a bare block.
    pub fn keyword(&self) -> &'b str {
        self.words.first().map_or("", |w| w.text)
    }

    /// Argument `i` (0 = the first word after the keyword).
    pub fn arg(&self, i: usize) -> Option<&'b Word<'b>> {
        self.words.get(i + 1)
    }

    /// The arguments after the keyword.
    pub fn args(&self) -> &'b [Word<'b>] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The children, or an empty slice.
    pub fn block(&self) -> &'b [Node<'b>] {
        self.children.unwrap_or(&[])
    }
}

/// A structural problem: (severity, location, message).
pub type Problem = (Severity, Loc, String);

/// Most blocks open at once (keepalived's own grammar needs 4: `virtual_server` >
/// `real_server` > `HTTP_GET` > `url`). A deeper `{` is reported once and ignored with
/// everything up to its `}`.
pub const MAX_NESTING: usize = 32;

/// One open block while building.
struct Level<'b> {
    owner: Node<'b>,
    /// Collected on the heap, copied into the arena with its exact length when the
    /// block closes (an arena vector would leave every outgrown buffer behind).
    children: Vec<Node<'b>>,
    open: Loc,
}

/// Builds the tree one logical line at a time (the preprocessor feeds it).
pub struct TreeBuilder<'b> {
    bump: &'b Bump,
    stack: Vec<Level<'b>>,
    /// Words of the statement being read (reused from line to line).
    pending: Vec<Word<'b>>,
    /// Structural problems found so far.
    pub problems: Vec<Problem>,
    /// Emptied child lists of closed blocks, reused for the next blocks opened (a
    /// fresh list per block would grow, and be freed, once per block).
    spare: Vec<Vec<Node<'b>>>,
    /// `{` read beyond [`MAX_NESTING`] and not closed yet: what they hold is ignored.
    overflow: usize,
    /// Tokens read so far.
    pub tokens: usize,
}

impl<'b> TreeBuilder<'b> {
    /// An empty tree in `bump`.
    pub fn new(bump: &'b Bump) -> Self {
        TreeBuilder {
            bump,
            stack: vec![Level {
                owner: Node::default(),
                children: Vec::new(),
                open: Loc::default(),
            }],
            pending: Vec::new(),
            problems: Vec::new(),
            spare: Vec::new(),
            overflow: 0,
            tokens: 0,
        }
    }

    /// Add one logical line. `offset`: where `text` starts in the physical line, when
    /// columns can be exact.
    pub fn line(&mut self, text: &str, file: u32, line: u32, offset: Option<u32>) {
        self.line_known(text, file, line, offset, false);
    }

    /// [`TreeBuilder::line`] for a line known (`plain`) to hold no quote.
    pub fn line_known(
        &mut self,
        text: &str,
        file: u32,
        line: u32,
        offset: Option<u32>,
        plain: bool,
    ) {
        let loc_of = |o: u32| Loc {
            file,
            line,
            col: offset.map_or(o, |base| base + o) + 1,
        };
        let mut i = 0usize;
        let res = tokenize_each(text, plain, |t| {
            let loc = loc_of(t.offset);
            self.token(i, t, loc, line);
            i += 1;
        });
        if let Err(e) = res {
            self.problem(Severity::Error, loc_of(0), format!("cannot tokenise: {e}"));
            return;
        }
        self.flush();
    }

    /// One token of the logical line `line`; `i` is its index in the line. A caller
    /// that feeds tokens itself ends each line with [`TreeBuilder::end_line`].
    pub fn token(&mut self, i: usize, t: Token<'_>, loc: Loc, line: u32) {
        self.tokens += 1;
        if self.overflow > 0 {
            match t.tok {
                Tok::Open => self.overflow += 1,
                Tok::Close => self.overflow -= 1,
                Tok::Word(_) => {}
            }
            return;
        }
        if t.tok == Tok::Open && self.stack.len() > MAX_NESTING {
            self.problem(
                Severity::Error,
                loc,
                format!(
                    "blocks nested more than {MAX_NESTING} deep: this block and all it holds are ignored"
                ),
            );
            self.pending.clear();
            self.overflow = 1;
            return;
        }
        match t.tok {
            Tok::Word(w) => self.pending.push(Word {
                text: self.bump.alloc_str(&w),
                loc,
            }),
            Tok::Open => {
                let owner = if !self.pending.is_empty() {
                    let words = self.bump.alloc_slice_copy(&self.pending);
                    self.pending.clear();
                    Node {
                        loc: words[0].loc,
                        words,
                        children: None,
                    }
                } else {
                    // `{` starting a line belongs to the statement on the line before.
                    let level = self.stack.len() - 1;
                    let prev = self.stack[level]
                        .children
                        .last()
                        .is_some_and(|n| n.children.is_none() && n.loc.line < line);
                    if i == 0 && prev {
                        self.stack[level].children.pop().unwrap_or_default()
                    } else {
                        self.problem(
                            Severity::Warning,
                            loc,
                            "'{' with no keyword before it: block ignored".into(),
                        );
                        Node::default()
                    }
                };
                let children = self.spare.pop().unwrap_or_default();
                self.stack.push(Level {
                    owner,
                    children,
                    open: loc,
                });
            }
            Tok::Close => {
                self.flush();
                if self.stack.len() == 1 {
                    self.problem(Severity::Error, loc, "extra '}' with no open block".into());
                } else {
                    self.close();
                }
            }
        }
    }

    /// The end of a logical line fed with [`TreeBuilder::token`]: the statement being
    /// read ends here.
    pub fn end_line(&mut self) {
        self.flush();
    }

    /// Record a problem (only counted past the per-kind budget, see
    /// [`super::diag::admit`]).
    pub fn problem(&mut self, severity: Severity, loc: Loc, msg: String) {
        let msg = super::diag::cut_message(msg);
        if super::diag::admit(severity, &msg) {
            self.problems.push((severity, loc, msg));
        }
    }

    /// How many blocks are open.
    pub fn depth(&self) -> usize {
        self.stack.len().saturating_sub(1)
    }

    /// How many statements the top level holds so far.
    pub fn top_len(&self) -> usize {
        self.stack.first().map_or(0, |l| l.children.len())
    }

    fn flush(&mut self) {
        if self.pending.is_empty() || self.overflow > 0 {
            self.pending.clear();
            return;
        }
        let words = self.bump.alloc_slice_copy(&self.pending);
        self.pending.clear();
        let node = Node {
            loc: words[0].loc,
            words,
            children: None,
        };
        if let Some(l) = self.stack.last_mut() {
            l.children.push(node);
        }
    }

    /// Close the innermost open level: its owner gets the children.
    fn close(&mut self) {
        let Some(mut level) = self.stack.pop() else {
            return;
        };
        let mut owner = level.owner;
        owner.children = Some(self.bump.alloc_slice_copy(&level.children));
        level.children.clear();
        self.spare.push(level.children);
        if owner.words.is_empty() {
            return; // an anonymous block, already reported
        }
        if let Some(parent) = self.stack.last_mut() {
            parent.children.push(owner);
        }
    }

    /// Close what is still open (reporting each) and return the top-level statements.
    pub fn finish(mut self) -> (&'b [Node<'b>], Vec<Problem>) {
        while self.stack.len() > 1 {
            if let Some(l) = self.stack.last() {
                let msg = if l.owner.keyword().is_empty() {
                    "missing '}': the block opened here is never closed".to_string()
                } else {
                    format!(
                        "missing '}}': the block of '{}' opened here is never closed",
                        l.owner.keyword()
                    )
                };
                let open = l.open;
                // keepalived warns ("There are N missing '}'s or extra '{'s"), closes the
                // block at the end of the file and runs: so does keepalived-rs (`-t`
                // still fails, as keepalived's).
                self.problem(Severity::Warning, open, msg);
            }
            self.close();
        }
        let top = match self.stack.pop() {
            Some(l) => &*self.bump.alloc_slice_copy(&l.children),
            None => &[],
        };
        (top, self.problems)
    }
}

/// Build the statement tree of a list of lines (text, file, line, offset) in `bump`.
pub fn build<'b>(
    bump: &'b Bump,
    lines: &[(String, u32, u32, Option<u32>)],
) -> (&'b [Node<'b>], Vec<Problem>) {
    let mut b = TreeBuilder::new(bump);
    for (text, file, line, offset) in lines {
        b.line(text, *file, *line, *offset);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(String, u32, u32, Option<u32>)> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                (
                    l.trim().to_string(),
                    0,
                    i as u32 + 1,
                    Some((l.len() - l.trim_start().len()) as u32),
                )
            })
            .collect()
    }

    fn shape(nodes: &[Node]) -> String {
        nodes
            .iter()
            .map(|n| {
                let w: Vec<&str> = n.words.iter().map(|w| w.text).collect();
                match n.children {
                    Some(c) => format!("{}{{{}}}", w.join(" "), shape(c)),
                    None => w.join(" "),
                }
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    #[test]
    fn braces_same_line_next_line_and_inline() {
        let bump = Bump::new();
        let (t, p) = build(&bump, &lines("a x {\n b 1\n}\nc\n{\n d { e f }\n g\n}\n"));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(shape(t), "a x{b 1};c{d{e f};g}");
    }

    #[test]
    fn missing_and_extra_braces_are_reported() {
        let bump = Bump::new();
        let (_, p) = build(&bump, &lines("a {\n b\n"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1.line, 1);
        let bump = Bump::new();
        let (_, p) = build(&bump, &lines("a\n}\n"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1.line, 2);
    }

    #[test]
    fn columns() {
        let bump = Bump::new();
        let (t, _) = build(
            &bump,
            &lines("  vrrp_instance VI_1 {\n    state MASTER\n  }\n"),
        );
        assert_eq!(t[0].loc.col, 3);
        assert_eq!(t[0].words[1].loc.col, 17);
        assert_eq!(
            t[0].block()[0].words[1].loc,
            Loc {
                file: 0,
                line: 2,
                col: 11
            }
        );
    }

    #[test]
    fn nesting_is_limited_with_one_error() {
        let bump = Bump::new();
        let deep = "a {\n".repeat(MAX_NESTING + 8) + "b 1\n" + &"}\n".repeat(MAX_NESTING + 8);
        let (t, p) = build(&bump, &lines(&(deep + "c\n")));
        let nested: Vec<_> = p
            .iter()
            .filter(|p| p.2.contains("nested more than"))
            .collect();
        assert_eq!(nested.len(), 1, "{p:?}");
        assert_eq!(nested[0].1.line, MAX_NESTING as u32 + 1);
        assert_eq!(nested[0].0, Severity::Error);
        // The braces beyond the limit balance: nothing else is wrong, and what follows
        // is read at the top level.
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(t.len(), 2);
        assert_eq!(t[1].keyword(), "c");
    }

    #[test]
    fn a_line_of_200000_braces_is_bounded() {
        let bump = Bump::new();
        let line = format!("vrrp_instance V {}", "{".repeat(200_000));
        super::super::diag::reset_budget();
        let (_, p) = build(&bump, &[(line, 0, 1, Some(0))]);
        assert!(p.len() < 600, "{} problems", p.len());
        assert!(p.iter().any(|p| p.2.contains("nested more than 32 deep")));
    }
}
