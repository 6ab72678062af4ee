//! A command line kept as it was sent: what the SMTP and POP3 grammars
//! make of a verb they do not model, so that nothing the client said is
//! lost and it can be written back as it was.

use std::fmt;

/// The verb (as sent, any case) and the rest of the line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verbatim {
    pub verb: String,
    pub argument: String,
}

impl Verbatim {
    pub fn new(verb: &str, argument: &str) -> Verbatim {
        Verbatim {
            verb: verb.to_string(),
            argument: argument.to_string(),
        }
    }
}

/// `verb argument`, or the verb alone.
impl fmt::Display for Verbatim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.verb)?;
        if !self.argument.is_empty() {
            write!(f, " {}", self.argument)?;
        }
        Ok(())
    }
}
