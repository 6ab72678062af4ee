//! The words and signs of a capture filter (pcap-filter(7)), with where
//! each starts, so that an error can point at it.

use super::FilterError;

/// A relation between two arithmetic expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A binary arithmetic operator; BPF computes in unsigned 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A keyword, a number, an address, a name: what pcap-filter(7) calls
    /// an id. Words may hold `.`, `:` (IPv6, MAC), `-` (`tcp-syn`,
    /// `20-25`), `/` (`10.0.0.0/8`) and a leading `\` (`\tcp`).
    Word(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// The `:` of `tcp[2:2]` (inside brackets only).
    Colon,
    /// `!` or `not`.
    Not,
    /// `&&` or `and`.
    And,
    /// `||` or `or`.
    Or,
    Rel(RelOp),
    Arith(ArithOp),
}

/// A token and the byte offset where it starts.
#[derive(Clone, Debug)]
pub struct Spanned {
    pub token: Token,
    pub at: usize,
}

fn is_word_byte(b: u8, in_brackets: bool) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(b, b'.' | b'_' | b'-' | b'/' | b'\\')
        || (b == b':' && !in_brackets)
}

/// Splits a filter into tokens.
pub fn tokenize(text: &str) -> Result<Vec<Spanned>, FilterError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut brackets = 0usize;
    while i < b.len() {
        let at = i;
        let two = b.get(i + 1).copied();
        let (token, len) = match b[i] {
            c if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'(' => (Token::LParen, 1),
            b')' => (Token::RParen, 1),
            b'[' => {
                brackets += 1;
                (Token::LBracket, 1)
            }
            b']' => {
                brackets = brackets.saturating_sub(1);
                (Token::RBracket, 1)
            }
            b':' if brackets > 0 => (Token::Colon, 1),
            b'&' if two == Some(b'&') => (Token::And, 2),
            b'&' => (Token::Arith(ArithOp::And), 1),
            b'|' if two == Some(b'|') => (Token::Or, 2),
            b'|' => (Token::Arith(ArithOp::Or), 1),
            b'!' if two == Some(b'=') => (Token::Rel(RelOp::Ne), 2),
            b'!' => (Token::Not, 1),
            b'=' if two == Some(b'=') => (Token::Rel(RelOp::Eq), 2),
            b'=' => (Token::Rel(RelOp::Eq), 1),
            b'<' if two == Some(b'=') => (Token::Rel(RelOp::Le), 2),
            b'<' if two == Some(b'<') => (Token::Arith(ArithOp::Shl), 2),
            b'<' => (Token::Rel(RelOp::Lt), 1),
            b'>' if two == Some(b'=') => (Token::Rel(RelOp::Ge), 2),
            b'>' if two == Some(b'>') => (Token::Arith(ArithOp::Shr), 2),
            b'>' => (Token::Rel(RelOp::Gt), 1),
            b'+' => (Token::Arith(ArithOp::Add), 1),
            // A word never starts with `-`: a lone one is subtraction or
            // negation (`len - 14`, `-1`).
            b'-' => (Token::Arith(ArithOp::Sub), 1),
            b'*' => (Token::Arith(ArithOp::Mul), 1),
            b'/' => (Token::Arith(ArithOp::Div), 1),
            b'%' => (Token::Arith(ArithOp::Mod), 1),
            b'^' => (Token::Arith(ArithOp::Xor), 1),
            c if is_word_byte(c, brackets > 0) => {
                let len = b[i..]
                    .iter()
                    .take_while(|&&c| is_word_byte(c, brackets > 0))
                    .count();
                let word = &text[i..i + len];
                let token = match word {
                    "and" => Token::And,
                    "or" => Token::Or,
                    "not" => Token::Not,
                    _ => Token::Word(word.to_string()),
                };
                (token, len)
            }
            _ => {
                let shown = text[i..].chars().next().unwrap_or('?');
                return Err(FilterError::at(
                    text,
                    at,
                    format!("'{}' has no meaning in a filter", shown.escape_default()),
                ));
            }
        };
        out.push(Spanned { token, at });
        i += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Token> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|s| s.token)
            .collect()
    }

    fn w(s: &str) -> Token {
        Token::Word(s.to_string())
    }

    #[test]
    fn words_keep_addresses_and_ranges_whole() {
        assert_eq!(
            kinds("host fe80::1 and net 10.0.0.0/8 || portrange 20-25"),
            vec![
                w("host"),
                w("fe80::1"),
                Token::And,
                w("net"),
                w("10.0.0.0/8"),
                Token::Or,
                w("portrange"),
                w("20-25")
            ]
        );
    }

    #[test]
    fn brackets_split_offset_and_size() {
        assert_eq!(
            kinds("tcp[2:2]>=1024&&!(tcp[tcpflags]&tcp-syn!=0)"),
            vec![
                w("tcp"),
                Token::LBracket,
                w("2"),
                Token::Colon,
                w("2"),
                Token::RBracket,
                Token::Rel(RelOp::Ge),
                w("1024"),
                Token::And,
                Token::Not,
                Token::LParen,
                w("tcp"),
                Token::LBracket,
                w("tcpflags"),
                Token::RBracket,
                Token::Arith(ArithOp::And),
                w("tcp-syn"),
                Token::Rel(RelOp::Ne),
                w("0"),
                Token::RParen
            ]
        );
    }

    #[test]
    fn a_stray_sign_is_pointed_at() {
        let e = tokenize("port 25 ; rm").unwrap_err();
        assert_eq!(e.at, 8);
    }
}
