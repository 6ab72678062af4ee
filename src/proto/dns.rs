//! DNS messages (RFC 1035 §4.1), as both ends write and read them: the
//! world's server and resolver (`world::dns`), the analyzer reading the
//! answers a capture holds (`analysis::mta_sts_check`) and the window.
//!
//! A 12-byte header (id, flags, four counts), the question (name, type,
//! class), then resource records (name, type, class, TTL, data length,
//! data). Names are sequences of length-prefixed labels ending with a zero
//! byte; a name can also be a two-byte pointer (top bits 11) to an earlier
//! copy (§4.1.4). Only the record types the mail path uses are read: A,
//! MX and TXT.

use std::net::Ipv4Addr;

pub const TYPE_A: u16 = 1;
pub const TYPE_MX: u16 = 15;
pub const TYPE_TXT: u16 = 16;
pub const CLASS_IN: u16 = 1;
pub const RCODE_NXDOMAIN: u16 = 3;
pub const RCODE_FORMERR: u16 = 1;

/// A TXT record's data: the text as character-strings of at most 255
/// bytes, each after its length byte (RFC 1035 §3.3.14).
pub fn txt_rdata(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 1);
    for chunk in text.as_bytes().chunks(255) {
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
    if text.is_empty() {
        out.push(0);
    }
    out
}

/// Append a name as labels (RFC 1035 §3.1). Labels longer than 63 bytes
/// cannot be encoded; the caller's names are our own configuration.
pub fn put_name(out: &mut Vec<u8>, name: &str) {
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let label = &label.as_bytes()[..label.len().min(63)];
        out.push(label.len() as u8);
        out.extend_from_slice(label);
    }
    out.push(0);
}

/// Read a name at `pos`, following compression pointers (at most 16, so a
/// pointer loop cannot hang us). Returns the name and the position after it.
pub fn get_name(msg: &[u8], mut pos: usize) -> Option<(String, usize)> {
    let mut labels: Vec<String> = Vec::new();
    let mut end = None;
    for _ in 0..128 {
        let len = *msg.get(pos)? as usize;
        if len == 0 {
            return Some((labels.join("."), end.unwrap_or(pos + 1)));
        }
        if len & 0xC0 == 0xC0 {
            let target = ((len & 0x3F) << 8) | *msg.get(pos + 1)? as usize;
            end.get_or_insert(pos + 2);
            if target >= pos {
                return None; // pointers must point backwards
            }
            pos = target;
            continue;
        }
        let label = msg.get(pos + 1..pos + 1 + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += 1 + len;
    }
    None
}

pub fn u16_at(msg: &[u8], pos: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]))
}

/// Build a query for `name` and `qtype`, recursion desired.
pub fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(32);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // one question
    put_name(&mut q, name);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&CLASS_IN.to_be_bytes());
    q
}

/// One record of an answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Mx {
        name: String,
        preference: u16,
        exchange: String,
    },
    A {
        name: String,
        addr: Ipv4Addr,
    },
    /// The character-strings joined, as SPF and MTA-STS read them (RFC
    /// 7208 §3.3).
    Txt {
        name: String,
        text: String,
    },
}

impl Record {
    /// The owner name.
    pub fn name(&self) -> &str {
        match self {
            Record::Mx { name, .. } | Record::A { name, .. } | Record::Txt { name, .. } => name,
        }
    }

    /// The type and data as a zone file writes them: `MX 10 hamburger.edu`,
    /// `A 127.0.10.3`, `TXT "v=STSv1; id=1;"` (the text escaped: it comes
    /// from the wire and may hold anything).
    pub fn data_text(&self) -> String {
        match self {
            Record::Mx {
                preference,
                exchange,
                ..
            } => format!("MX {preference} {}", exchange.escape_debug()),
            Record::A { addr, .. } => format!("A {addr}"),
            Record::Txt { text, .. } => format!("TXT \"{}\"", text.escape_debug()),
        }
    }
}

/// Parse a response: its rcode and all records (answer and additional).
pub fn parse_response(msg: &[u8]) -> Option<(u16, Vec<Record>)> {
    let flags = u16_at(msg, 2)?;
    let counts: Vec<u16> = (0..4)
        .map(|i| u16_at(msg, 4 + 2 * i))
        .collect::<Option<_>>()?;
    let mut pos = 12;
    for _ in 0..counts[0] {
        let (_, p) = get_name(msg, pos)?;
        pos = p + 4;
    }
    let mut records = Vec::new();
    for _ in 0..(counts[1] as usize + counts[2] as usize + counts[3] as usize) {
        let (name, p) = get_name(msg, pos)?;
        let rtype = u16_at(msg, p)?;
        let len = u16_at(msg, p + 8)? as usize;
        let data_at = p + 10;
        let data = msg.get(data_at..data_at + len)?;
        match rtype {
            TYPE_MX if len >= 3 => {
                let (exchange, _) = get_name(msg, data_at + 2)?;
                records.push(Record::Mx {
                    name,
                    preference: u16::from_be_bytes([data[0], data[1]]),
                    exchange,
                });
            }
            TYPE_A if len == 4 => records.push(Record::A {
                name,
                addr: Ipv4Addr::new(data[0], data[1], data[2], data[3]),
            }),
            TYPE_TXT => {
                let mut text = Vec::with_capacity(len);
                let mut rest = data;
                while let Some((&n, tail)) = rest.split_first() {
                    let n = (n as usize).min(tail.len());
                    text.extend_from_slice(&tail[..n]);
                    rest = &tail[n..];
                }
                records.push(Record::Txt {
                    name,
                    text: String::from_utf8_lossy(&text).into_owned(),
                });
            }
            _ => {}
        }
        pos = data_at + len;
    }
    Some((flags & 0x000F, records))
}

/// The question of a query: (name, type).
pub fn parse_question(msg: &[u8]) -> Option<(String, u16)> {
    if u16_at(msg, 4)? == 0 {
        return None;
    }
    let (name, pos) = get_name(msg, 12)?;
    Some((name, u16_at(msg, pos)?))
}

/// The mnemonic of a record type.
pub fn type_name(t: u16) -> String {
    match t {
        TYPE_A => "A".into(),
        TYPE_MX => "MX".into(),
        TYPE_TXT => "TXT".into(),
        other => format!("TYPE{other}"),
    }
}
