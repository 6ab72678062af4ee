//! A tiny DNS server and resolver (RFC 1035) for the simulated domains.
//!
//! Alice's mail server does what a real one does before relaying: it asks
//! "who receives mail for hamburger.edu?" (an MX query, RFC 5321 §5.1) and
//! then "what is the address of that host?" (an A query, answered at once
//! in the additional section). The queries travel over real UDP on
//! loopback, so they appear in the capture.
//!
//! The messages themselves are written and read by `proto::dns`, which the
//! analyzer shares.

use std::collections::BTreeMap;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;

use super::recorder::Recorder;
use crate::proto::dns::{
    CLASS_IN, RCODE_FORMERR, RCODE_NXDOMAIN, Record, TYPE_A, TYPE_MX, TYPE_TXT, get_name,
    parse_response, put_name, query, txt_rdata, u16_at,
};

const TTL: u32 = 300;

/// The records the server knows.
#[derive(Clone, Debug, Default)]
pub struct Zone {
    /// domain → (preference, mail exchanger host name)
    pub mx: BTreeMap<String, (u16, String)>,
    /// host name → IPv4 address
    pub a: BTreeMap<String, Ipv4Addr>,
    /// name → text records (MTA-STS's `_mta-sts` record, RFC 8461 §3.1)
    pub txt: BTreeMap<String, Vec<String>>,
}

impl Zone {
    fn knows(&self, name: &str) -> bool {
        self.mx.contains_key(name) || self.a.contains_key(name) || self.txt.contains_key(name)
    }
}

fn put_rr(out: &mut Vec<u8>, name: &str, rtype: u16, rdata: &[u8]) {
    put_name(out, name);
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out.extend_from_slice(&TTL.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
}

/// The server's answer to one query datagram; `None` for datagrams that
/// are not queries at all (those are dropped, as real servers do).
pub fn answer(zone: &Zone, msg: &[u8]) -> Option<Vec<u8>> {
    let id = u16_at(msg, 0)?;
    let flags = u16_at(msg, 2)?;
    if flags & 0x8000 != 0 {
        return None; // a response, not a query
    }
    let header = |rcode: u16, an: u16, ar: u16| {
        let mut h = Vec::with_capacity(512);
        h.extend_from_slice(&id.to_be_bytes());
        // QR=1, opcode 0, AA=1, RD copied, RA=0, rcode.
        h.extend_from_slice(&(0x8400 | (flags & 0x0100) | rcode).to_be_bytes());
        h.extend_from_slice(&1u16.to_be_bytes());
        h.extend_from_slice(&an.to_be_bytes());
        h.extend_from_slice(&0u16.to_be_bytes());
        h.extend_from_slice(&ar.to_be_bytes());
        h
    };
    let parsed = (u16_at(msg, 4)? == 1)
        .then(|| get_name(msg, 12))
        .flatten()
        .and_then(|(name, pos)| Some((name, u16_at(msg, pos)?, u16_at(msg, pos + 2)?)));
    let Some((name, qtype, qclass)) = parsed else {
        let mut out = header(RCODE_FORMERR, 0, 0);
        out[4..6].copy_from_slice(&0u16.to_be_bytes());
        return Some(out);
    };
    let rcode = if zone.knows(&name) { 0 } else { RCODE_NXDOMAIN };
    let mut answers = Vec::new();
    let mut additional = Vec::new();
    if qclass == CLASS_IN {
        if qtype == TYPE_MX
            && let Some((pref, exchange)) = zone.mx.get(&name)
        {
            let mut rdata = pref.to_be_bytes().to_vec();
            put_name(&mut rdata, exchange);
            answers.push((name.clone(), TYPE_MX, rdata));
            if let Some(ip) = zone.a.get(exchange) {
                additional.push((exchange.clone(), TYPE_A, ip.octets().to_vec()));
            }
        }
        if qtype == TYPE_A
            && let Some(ip) = zone.a.get(&name)
        {
            answers.push((name.clone(), TYPE_A, ip.octets().to_vec()));
        }
        if qtype == TYPE_TXT {
            for text in zone.txt.get(&name).into_iter().flatten() {
                answers.push((name.clone(), TYPE_TXT, txt_rdata(text)));
            }
        }
    }
    let mut out = header(rcode, answers.len() as u16, additional.len() as u16);
    put_name(&mut out, &name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&qclass.to_be_bytes());
    for (n, t, d) in answers.iter().chain(&additional) {
        put_rr(&mut out, n, *t, d);
    }
    Some(out)
}

/// Serve DNS on `socket` until the task is dropped.
pub async fn serve(socket: UdpSocket, zone: Arc<Zone>, recorder: Recorder) -> io::Result<()> {
    let local = socket.local_addr()?;
    let mut buf = vec![0u8; 1500];
    loop {
        let (n, peer) = socket.recv_from(&mut buf).await?;
        recorder.datagram(peer, local, &buf[..n]);
        if let Some(reply) = answer(&zone, &buf[..n]) {
            socket.send_to(&reply, peer).await?;
            recorder.datagram(local, peer, &reply);
        }
    }
}

/// Ask `server` about `name` and `qtype` from the address `bind`: the
/// records of the answer. Retries three times, one second apart, as UDP
/// may lose datagrams; NXDOMAIN is a `NotFound` error.
pub async fn lookup(
    server: SocketAddr,
    bind: SocketAddr,
    name: &str,
    qtype: u16,
) -> io::Result<Vec<Record>> {
    let socket = UdpSocket::bind(bind).await?;
    let id = (std::process::id() as u16) ^ (name.len() as u16).rotate_left(7) ^ qtype;
    let q = query(id, name, qtype);
    let mut buf = vec![0u8; 1500];
    for _ in 0..3 {
        socket.send_to(&q, server).await?;
        let Ok(r) = tokio::time::timeout(Duration::from_secs(1), socket.recv_from(&mut buf)).await
        else {
            continue;
        };
        let (n, from) = r?;
        if from != server || u16_at(&buf[..n], 0) != Some(id) {
            continue; // not our answer (RFC 5452: check id and source)
        }
        let Some((rcode, records)) = parse_response(&buf[..n]) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "malformed DNS answer",
            ));
        };
        if rcode == RCODE_NXDOMAIN {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{name}: no such domain"),
            ));
        }
        return Ok(records);
    }
    Err(io::Error::new(
        io::ErrorKind::TimedOut,
        "DNS server did not answer",
    ))
}

/// The mail exchangers of `domain`: (exchange host, its address) by
/// preference.
pub async fn lookup_mx(
    server: SocketAddr,
    bind: SocketAddr,
    domain: &str,
) -> io::Result<Vec<(String, Option<Ipv4Addr>)>> {
    let records = lookup(server, bind, domain, TYPE_MX).await?;
    let mut mx: Vec<(u16, String)> = records
        .iter()
        .filter_map(|r| match r {
            Record::Mx {
                preference,
                exchange,
                ..
            } => Some((*preference, exchange.clone())),
            _ => None,
        })
        .collect();
    mx.sort();
    Ok(mx
        .into_iter()
        .map(|(_, host)| {
            let addr = records.iter().find_map(|r| match r {
                Record::A { name, addr } if *name == host => Some(*addr),
                _ => None,
            });
            (host, addr)
        })
        .collect())
}

/// The text records of `name`; none when the name does not exist.
pub async fn lookup_txt(
    server: SocketAddr,
    bind: SocketAddr,
    name: &str,
) -> io::Result<Vec<String>> {
    match lookup(server, bind, name, TYPE_TXT).await {
        Ok(records) => Ok(records
            .into_iter()
            .filter_map(|r| match r {
                Record::Txt { text, .. } => Some(text),
                _ => None,
            })
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The address of the host `name`.
pub async fn lookup_a(server: SocketAddr, bind: SocketAddr, name: &str) -> io::Result<Ipv4Addr> {
    lookup(server, bind, name, TYPE_A)
        .await?
        .into_iter()
        .find_map(|r| match r {
            Record::A { addr, .. } => Some(addr),
            _ => None,
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{name} has no address")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> Zone {
        let mut z = Zone::default();
        z.mx.insert("hamburger.edu".into(), (10, "mail.hamburger.edu".into()));
        z.a.insert("mail.hamburger.edu".into(), Ipv4Addr::new(127, 0, 10, 3));
        z
    }

    #[test]
    fn txt_records_split_at_255_bytes_and_join_again() {
        let mut z = zone();
        let long = "v=STSv1; id=1; ".to_string() + &"x".repeat(300);
        z.txt
            .insert("_mta-sts.hamburger.edu".into(), vec![long.clone()]);
        let a = answer(&z, &query(9, "_mta-sts.hamburger.edu", TYPE_TXT)).unwrap();
        let (rcode, records) = parse_response(&a).unwrap();
        assert_eq!(rcode, 0);
        assert_eq!(
            records,
            [Record::Txt {
                name: "_mta-sts.hamburger.edu".into(),
                text: long
            }]
        );
        // Two character-strings on the wire: 255 bytes, then the rest.
        assert_eq!(txt_rdata(&"y".repeat(300))[0], 255);
        assert_eq!(txt_rdata(&"y".repeat(300))[256], 45);
    }

    #[test]
    fn mx_answer_carries_the_address_too() {
        let a = answer(&zone(), &query(7, "Hamburger.EDU", TYPE_MX)).unwrap();
        let (rcode, records) = parse_response(&a).unwrap();
        assert_eq!(rcode, 0);
        assert_eq!(
            records,
            vec![
                Record::Mx {
                    name: "hamburger.edu".into(),
                    preference: 10,
                    exchange: "mail.hamburger.edu".into()
                },
                Record::A {
                    name: "mail.hamburger.edu".into(),
                    addr: Ipv4Addr::new(127, 0, 10, 3)
                }
            ]
        );
    }

    #[test]
    fn unknown_names_get_nxdomain_and_garbage_gets_nothing_or_formerr() {
        let a = answer(&zone(), &query(7, "nowhere.example", TYPE_MX)).unwrap();
        assert_eq!(parse_response(&a).unwrap(), (RCODE_NXDOMAIN, vec![]));
        assert_eq!(answer(&zone(), b"\x00"), None);
        let mut bad = query(1, "a", TYPE_A);
        bad.truncate(14);
        let a = answer(&zone(), &bad).unwrap();
        assert_eq!(a[3] & 0x0F, RCODE_FORMERR as u8);
        // A pointer loop must not hang the parser.
        let mut lp = query(1, "a", TYPE_A);
        lp.truncate(12);
        lp.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1]);
        assert!(answer(&zone(), &lp).is_some());
    }
}
