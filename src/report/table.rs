//! The plain tables of the human output (`analyze`, `creds`): columns as
//! wide as their widest cell, but never wider than the column's bound, so
//! one 100-character user name, address or subject from the wire cannot
//! widen the whole table.

use std::io::{self, Write};

use super::analysis::cell;

/// A column: its heading and the most characters a cell may show (longer
/// cells are cut with `…`).
#[derive(Clone, Copy, Debug)]
pub struct Column {
    pub name: &'static str,
    pub max: usize,
}

/// A column named `name` whose cells show at most `max` characters.
pub const fn col(name: &'static str, max: usize) -> Column {
    Column { name, max }
}

/// Writes a table: a heading line, then one line per row. Every cell goes
/// through [`cell`] first (unsafe characters written out, then cut at the
/// column's bound), so the widths are those of what is shown.
pub fn table<const N: usize>(
    out: &mut impl Write,
    columns: &[Column; N],
    rows: &[[String; N]],
) -> io::Result<()> {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|row| {
            let mut shown = row.clone();
            for (c, column) in shown.iter_mut().zip(columns) {
                *c = cell(c, column.max);
            }
            shown
        })
        .collect();
    let mut width = columns.map(|c| c.name.chars().count());
    for row in &rows {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::from(" ");
        for (c, w) in cells.iter().zip(width) {
            s.push(' ');
            s.push_str(c);
            for _ in c.chars().count()..w {
                s.push(' ');
            }
            s.push(' ');
        }
        s.trim_end().to_string()
    };
    writeln!(out, "{}", line(columns.iter().map(|c| c.name).collect()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// Bounds shared by the tables, so the same kind of value is cut the same
/// way everywhere.
pub mod width {
    /// A flow id, a message index, a count.
    pub const NUMBER: usize = 12;
    /// `ip:port`: the longest IPv6 socket address (`[ffff:…:ffff]:65535`)
    /// is 47 characters; scope ids and anything longer are cut.
    pub const ENDPOINT: usize = 47;
    /// A host without its port (IPv6 at full length is 39 characters).
    pub const HOST: usize = 39;
    /// A word the program chose (`smtp`, `starttls`, `accepted`).
    pub const WORD: usize = 10;
    /// A mail address, a user name, a password.
    pub const ADDRESS: usize = 40;
    /// A display name and its address (`Bob Boss <attacker@evil.example>`).
    pub const NAMED_ADDRESS: usize = 48;
    /// A subject, a list of file names, a server name.
    pub const TEXT: usize = 40;
    /// A short token from the wire (a SASL mechanism, a TLS version).
    pub const TOKEN: usize = 16;
    /// How a message travelled: `FETCH 12 1.2.HEADER (deleted)`; the IMAP
    /// section comes from the wire.
    pub const VIA: usize = 24;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_cell_is_cut_and_does_not_widen_its_column() {
        let long = "u".repeat(100);
        let mut out = Vec::new();
        table(
            &mut out,
            &[col("user", 8), col("n", 3)],
            &[[long, "1".into()], ["bob\x1b[2J".into(), "22".into()]],
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        // The escape is written out before measuring: `bob\e[2J` is 8
        // characters and fits; the long name is cut to 7 and `…`.
        assert_eq!(text, "  user      n\n  uuuuuuu…  1\n  bob\\e[2J  22\n");
    }
}
