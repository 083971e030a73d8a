//! Tokenising one logical line with the pest grammar in `keepalived.pest`.

use pest::Parser;
use pest_derive::Parser;
use std::borrow::Cow;

#[derive(Parser)]
#[grammar = "conf/keepalived.pest"]
struct LineParser;

/// One token of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok<'l> {
    /// `{`
    Open,
    /// `}`
    Close,
    /// A word, quotes removed and escapes in double quotes applied.
    Word(Cow<'l, str>),
}

/// A token and where it starts in the logical line (byte offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token<'l> {
    /// The token.
    pub tok: Tok<'l>,
    /// Byte offset in the logical line.
    pub offset: u32,
}

/// Split a line into tokens. The grammar accepts every input (an unterminated quote
/// runs to the end of the line), so an error here is a bug; it is reported, not panicked.
pub fn tokenize(line: &str) -> Result<Vec<Token<'_>>, String> {
    if !has_quote(line) {
        return Ok(tokenize_plain(line));
    }
    tokenize_pest(line)
}

/// The fast path for lines without quotes (nearly all of them): with no quote the
/// grammar reduces to "words are runs of characters other than blanks and braces", so
/// a split gives exactly the tokens pest would. `plain_lines_match_the_grammar` checks
/// that against the pest parser on random input.
fn tokenize_plain(line: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    plain_each(line, |t| out.push(t));
    out
}

/// Call `f` with each token of `line`, in order, without collecting them: the
/// tree builder's path for every line (no allocation for lines without quotes). `plain`:
/// the caller knows the line holds no quote, so it is not looked for.
pub fn tokenize_each<'l>(
    line: &'l str,
    plain: bool,
    f: impl FnMut(Token<'l>),
) -> Result<(), String> {
    if plain || !has_quote(line) {
        plain_each(line, f);
        return Ok(());
    }
    tokenize_pest(line)?.into_iter().for_each(f);
    Ok(())
}

/// The first token of a line, cheaply: None for a line with none. Only the first word
/// is looked at, unless it holds a quote (then the line is tokenised). Measured: going
/// through [`tokenize_each`] instead costs ~2.8 M more instructions on the bench config.
pub fn first_token(line: &str) -> Result<Option<Tok<'_>>, String> {
    let b = line.as_bytes();
    let Some(start) = b.iter().position(|&c| CLASS[usize::from(c)] != BLANK) else {
        return Ok(None);
    };
    let end = b[start..]
        .iter()
        .position(|&c| CLASS[usize::from(c)] != WORD)
        .map_or(b.len(), |n| start + n);
    if b[start..end].iter().any(|&c| c == b'"' || c == b'\'') {
        return Ok(tokenize_pest(line)?.into_iter().next().map(|t| t.tok));
    }
    Ok(Some(match b.get(start) {
        Some(b'{') if end == start => Tok::Open,
        Some(b'}') if end == start => Tok::Close,
        _ => Tok::Word(Cow::Borrowed(line.get(start..end).unwrap_or(""))),
    }))
}

/// Where the quote that `line` leaves open starts (byte offset), as the grammar reads
/// quotes: `"` up to the next unescaped `"`, `'` up to the next `'`.
pub fn unterminated_quote(line: &str) -> Option<u32> {
    if !has_quote(line) {
        return None;
    }
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let q = b[i];
        if q == b'"' || q == b'\'' {
            let open = i;
            i += 1;
            loop {
                match b.get(i) {
                    None => return Some(open as u32),
                    Some(&c) if c == q => break,
                    Some(b'\\') if q == b'"' => i += 2,
                    Some(_) => i += 1,
                }
            }
        }
        i += 1;
    }
    None
}

/// Does `line` hold a quote? (A byte scan: both quotes are ASCII, and a `char` pattern
/// would decode every character.)
fn has_quote(line: &str) -> bool {
    line.bytes().any(|c| c == b'"' || c == b'\'')
}

/// How the fast path sees a byte.
const WORD: u8 = 0;
const BLANK: u8 = 1;
const OPEN: u8 = 2;
const CLOSE: u8 = 3;

/// The class of each byte: the grammar's `blank` rule (space, tab, CR, VT, FF), the
/// braces, and everything else (part of a word).
const CLASS: [u8; 256] = {
    let mut t = [WORD; 256];
    t[b' ' as usize] = BLANK;
    t[b'\t' as usize] = BLANK;
    t[b'\r' as usize] = BLANK;
    t[0x0b] = BLANK;
    t[0x0c] = BLANK;
    t[b'{' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t
};

/// The fast path: blanks separate words, braces are tokens of their own. Every byte
/// that matters is ASCII, so a byte scan splits UTF-8 text only at char boundaries.
fn plain_each<'l>(line: &'l str, mut f: impl FnMut(Token<'l>)) {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Skip blanks; then a brace, or a word up to the next blank or brace.
        let class = CLASS[usize::from(b[i])];
        if class == BLANK {
            i += 1;
            continue;
        }
        if class != WORD {
            f(Token {
                tok: if class == OPEN { Tok::Open } else { Tok::Close },
                offset: i as u32,
            });
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && CLASS[usize::from(b[i])] == WORD {
            i += 1;
        }
        f(Token {
            tok: Tok::Word(Cow::Borrowed(line.get(start..i).unwrap_or(""))),
            offset: start as u32,
        });
    }
}

/// Tokenise with the pest grammar (any line; used for lines with quotes).
pub fn tokenize_pest(line: &str) -> Result<Vec<Token<'_>>, String> {
    let pairs = LineParser::parse(Rule::line, line).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for pair in pairs.flatten() {
        let offset = pair.as_span().start() as u32;
        match pair.as_rule() {
            Rule::lbrace => out.push(Token {
                tok: Tok::Open,
                offset,
            }),
            Rule::rbrace => out.push(Token {
                tok: Tok::Close,
                offset,
            }),
            Rule::word => {
                let mut text = String::new();
                for piece in pair.into_inner() {
                    match piece.as_rule() {
                        Rule::bare => text.push_str(piece.as_str()),
                        Rule::squoted => {
                            for inner in piece.into_inner() {
                                text.push_str(inner.as_str());
                            }
                        }
                        Rule::dquoted => {
                            for inner in piece.into_inner() {
                                unescape_into(inner.as_str(), &mut text);
                            }
                        }
                        _ => {}
                    }
                }
                out.push(Token {
                    tok: Tok::Word(Cow::Owned(text)),
                    offset,
                });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Shell-like escapes inside double quotes: `\n \t \r \\ \" \xHH \NNN (octal) \cC`;
/// any other `\c` is kept as written.
fn unescape_into(s: &str, out: &mut String) {
    if !s.contains('\\') {
        out.push_str(s);
        return;
    }
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('x') => {
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 {
                    match chars.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            chars.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                if n == 0 {
                    out.push_str("\\x");
                } else {
                    out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
                }
            }
            Some(d @ '0'..='7') => {
                let mut v = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(x) => {
                            v = v * 8 + x;
                            chars.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            Some('c') => match chars.next() {
                Some(x) => out.push(char::from_u32((x as u32) & 0x1f).unwrap_or('\u{fffd}')),
                None => out.push_str("\\c"),
            },
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokenize(s)
            .unwrap()
            .into_iter()
            .map(|t| match t.tok {
                Tok::Open => "{".into(),
                Tok::Close => "}".into(),
                Tok::Word(w) => w.into_owned(),
            })
            .collect()
    }

    #[test]
    fn unterminated_quotes_are_found() {
        assert_eq!(unterminated_quote("notify \"/bin/true abc"), Some(7));
        assert_eq!(unterminated_quote("notify '/bin/true abc"), Some(7));
        assert_eq!(unterminated_quote("notify \"a\" \"b"), Some(11));
        assert_eq!(unterminated_quote("notify \"a \\\" b\""), None);
        assert_eq!(unterminated_quote("notify \"it's\" 'a\"b'"), None);
        assert_eq!(unterminated_quote("notify \"a\\"), Some(7));
        assert_eq!(unterminated_quote("plain words"), None);
    }

    #[test]
    fn words_quotes_and_braces() {
        assert_eq!(words("a  b\tc"), vec!["a", "b", "c"]);
        assert_eq!(words("a\"b c\"d"), vec!["ab cd"]);
        assert_eq!(words("x 'one two' \"t\\tx\""), vec!["x", "one two", "t\tx"]);
        assert_eq!(words("VI_1{ a }"), vec!["VI_1", "{", "a", "}"]);
        assert_eq!(words("\"unterminated x"), vec!["unterminated x"]);
        assert_eq!(words("\"\\x41\\101\""), vec!["AA"]);
        assert!(words("").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn plain_lines_match_the_grammar(s in "[ a-z0-9{}\t._/\\#!$:-]{0,40}") {
            proptest::prop_assert_eq!(tokenize_plain(&s), tokenize_pest(&s).unwrap());
        }
    }

    #[test]
    fn offsets() {
        let t = tokenize("  ab \"c\" {").unwrap();
        let o: Vec<u32> = t.iter().map(|t| t.offset).collect();
        assert_eq!(o, vec![2, 5, 9]);
    }
}
