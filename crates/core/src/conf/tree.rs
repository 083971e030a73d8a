//! From tokenised lines to a tree of statements: `words.. { children }`.
//!
//! A `{` opens a block for the statement before it on the same line, or — when it starts a
//! line — for the statement on the previous line. Text after a brace is the next
//! statement. A `}` closes the innermost block.

use super::diag::Severity;
use super::lexer::{tokenize, Tok};
use super::preprocess::Line;

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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The text, quotes removed.
    pub text: String,
    /// Where it starts.
    pub loc: Loc,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    /// The words (at least one, except for a bare `{ }`).
    pub words: Vec<Word>,
    /// The block, if the statement has one.
    pub children: Option<Vec<Node>>,
    /// Where the statement starts.
    pub loc: Loc,
}

impl Node {
    /// The keyword (first word), or "" for a bare block.
    pub fn keyword(&self) -> &str {
        self.words.first().map_or("", |w| w.text.as_str())
    }

    /// Argument `i` (0 = the first word after the keyword).
    pub fn arg(&self, i: usize) -> Option<&Word> {
        self.words.get(i + 1)
    }

    /// The arguments after the keyword.
    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The children, or an empty slice.
    pub fn block(&self) -> &[Node] {
        self.children.as_deref().unwrap_or(&[])
    }
}

/// A structural problem: (severity, location, message).
pub type Problem = (Severity, Loc, String);

fn loc_of(line: &Line, offset: u32) -> Loc {
    Loc {
        file: line.file,
        line: line.line,
        col: line.offset.map_or(offset, |o| o + offset) + 1,
    }
}

/// One open block while building.
struct Level {
    owner: Node,
    children: Vec<Node>,
    open: Loc,
}

/// Build the statement tree of a whole config.
pub fn build(lines: &[Line]) -> (Vec<Node>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut stack: Vec<Level> = vec![Level {
        owner: Node::default(),
        children: Vec::new(),
        open: Loc::default(),
    }];
    for line in lines {
        let toks = match tokenize(&line.text) {
            Ok(t) => t,
            Err(e) => {
                problems.push((
                    Severity::Error,
                    loc_of(line, 0),
                    format!("cannot tokenise: {e}"),
                ));
                continue;
            }
        };
        let mut pending: Vec<Word> = Vec::new();
        for (i, t) in toks.into_iter().enumerate() {
            let loc = loc_of(line, t.offset);
            match t.tok {
                Tok::Word(text) => pending.push(Word { text, loc }),
                Tok::Open => {
                    let owner = if !pending.is_empty() {
                        Node {
                            loc: pending[0].loc,
                            words: std::mem::take(&mut pending),
                            children: None,
                        }
                    } else {
                        // `{` starting a line belongs to the statement on the line before.
                        let level = stack.len() - 1;
                        let prev = stack[level]
                            .children
                            .last()
                            .is_some_and(|n| n.children.is_none() && n.loc.line < line.line);
                        if i == 0 && prev {
                            stack[level].children.pop().unwrap_or_default()
                        } else {
                            problems.push((
                                Severity::Warning,
                                loc,
                                "'{' with no keyword before it: block ignored".into(),
                            ));
                            Node::default()
                        }
                    };
                    stack.push(Level {
                        owner,
                        children: Vec::new(),
                        open: loc,
                    });
                }
                Tok::Close => {
                    flush(&mut pending, &mut stack);
                    if stack.len() == 1 {
                        problems.push((
                            Severity::Error,
                            loc,
                            "extra '}' with no open block".into(),
                        ));
                    } else {
                        close(&mut stack);
                    }
                }
            }
        }
        flush(&mut pending, &mut stack);
    }
    while stack.len() > 1 {
        if let Some(l) = stack.last() {
            problems.push((
                Severity::Error,
                l.open,
                format!(
                    "missing '}}': the block of '{}' opened here is never closed",
                    l.owner.keyword()
                ),
            ));
        }
        close(&mut stack);
    }
    let top = stack.pop().map(|l| l.children).unwrap_or_default();
    (top, problems)
}

fn flush(pending: &mut Vec<Word>, stack: &mut [Level]) {
    if pending.is_empty() {
        return;
    }
    let node = Node {
        loc: pending[0].loc,
        words: std::mem::take(pending),
        children: None,
    };
    if let Some(l) = stack.last_mut() {
        l.children.push(node);
    }
}

/// Close the innermost open level: its owner gets the children.
fn close(stack: &mut Vec<Level>) {
    let Some(level) = stack.pop() else {
        return;
    };
    let mut owner = level.owner;
    owner.children = Some(level.children);
    if owner.words.is_empty() {
        return; // an anonymous block, already reported
    }
    if let Some(parent) = stack.last_mut() {
        parent.children.push(owner);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Line> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| Line {
                text: l.trim().to_string(),
                file: 0,
                line: i as u32 + 1,
                offset: Some((l.len() - l.trim_start().len()) as u32),
            })
            .collect()
    }

    fn shape(nodes: &[Node]) -> String {
        nodes
            .iter()
            .map(|n| {
                let w: Vec<&str> = n.words.iter().map(|w| w.text.as_str()).collect();
                match &n.children {
                    Some(c) => format!("{}{{{}}}", w.join(" "), shape(c)),
                    None => w.join(" "),
                }
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    #[test]
    fn braces_same_line_next_line_and_inline() {
        let (t, p) = build(&lines("a x {\n b 1\n}\nc\n{\n d { e f }\n g\n}\n"));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(shape(&t), "a x{b 1};c{d{e f};g}");
    }

    #[test]
    fn missing_and_extra_braces_are_reported() {
        let (_, p) = build(&lines("a {\n b\n"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1.line, 1);
        let (_, p) = build(&lines("a\n}\n"));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].1.line, 2);
    }

    #[test]
    fn columns() {
        let (t, _) = build(&lines("  vrrp_instance VI_1 {\n    state MASTER\n  }\n"));
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
}
