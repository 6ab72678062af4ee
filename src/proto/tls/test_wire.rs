//! TLS bytes built by hand for the tests of this folder: records, handshake
//! messages, hellos and whole conversations as the wire shows them, and a
//! helper that runs them through a [`TlsTracker`].

use super::handshake::{CLIENT_HELLO, SERVER_HELLO};
use super::hello::{EXT_ALPN, EXT_SERVER_NAME, EXT_SUPPORTED_VERSIONS};
use super::names::TLS_1_3;
use super::record::HANDSHAKE;
use super::tracker::TlsTracker;
use crate::flow::Direction;
use crate::trace::TlsSummary;

pub(super) use Direction::{ClientToServer as C, ServerToClient as S};

/// Feeds the pieces in order and returns the summary.
pub(super) fn run(pieces: &[(Direction, &[u8])]) -> TlsSummary {
    let mut t = TlsTracker::default();
    for (dir, bytes) in pieces {
        t.feed(*dir, bytes);
    }
    t.summary().clone()
}

/// A TLS 1.2 ClientHello record, byte by byte: SNI hamburger.edu,
/// ALPN imap, no supported_versions extension.
pub(super) fn client_hello_tls12() -> Vec<u8> {
    [
        &[0x16, 0x03, 0x01, 0x00, 0x54][..], // record: handshake, TLS 1.0 layer, 84 bytes
        &[0x01, 0x00, 0x00, 0x50],           // ClientHello, 80 bytes
        &[0x03, 0x03],                       // legacy_version TLS 1.2
        &[0x11; 32],                         // random
        &[0x00],                             // session id: empty
        &[0x00, 0x06, 0x00, 0x04, 0xc0, 0x2f, 0x00, 0x9c], // 3 cipher suites
        &[0x01, 0x00],                       // compression: null
        &[0x00, 0x21],                       // extensions: 33 bytes
        &[0x00, 0x00, 0x00, 0x12],           // server_name, 18 bytes
        &[0x00, 0x10, 0x00, 0x00, 0x0d],     // list 16, host_name, 13 bytes
        b"hamburger.edu",
        &[0x00, 0x10, 0x00, 0x07], // ALPN, 7 bytes
        &[0x00, 0x05, 0x04],       // list 5, name of 4 bytes
        b"imap",
    ]
    .concat()
}

/// A TLS 1.2 ServerHello record that also carries an (empty)
/// Certificate and the ServerHelloDone: three messages, one record.
pub(super) fn server_flight_tls12() -> Vec<u8> {
    [
        &[0x16, 0x03, 0x03, 0x00, 0x37][..], // record: handshake, 55 bytes
        &[0x02, 0x00, 0x00, 0x28],           // ServerHello, 40 bytes
        &[0x03, 0x03],                       // legacy_version TLS 1.2
        &[0x22; 32],                         // random
        &[0x00],                             // session id: empty
        &[0xc0, 0x2f],                       // ECDHE-RSA AES-128-GCM
        &[0x00],                             // compression: null
        &[0x00, 0x00],                       // extensions: none
        &[0x0b, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00], // Certificate: empty list
        &[0x0e, 0x00, 0x00, 0x00],           // ServerHelloDone
    ]
    .concat()
}

pub(super) const CCS: [u8; 6] = [20, 3, 3, 0, 1, 1];

/// An application data record of `len` bytes.
pub(super) fn app_data(len: u16) -> Vec<u8> {
    let mut r = vec![23, 3, 3];
    r.extend_from_slice(&len.to_be_bytes());
    r.resize(5 + len as usize, 0xab);
    r
}

pub(super) fn record(content_type: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type, 3, 3];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

pub(super) fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

pub(super) fn len8(data: &[u8]) -> Vec<u8> {
    [&[data.len() as u8][..], data].concat()
}

pub(super) fn len16(data: &[u8]) -> Vec<u8> {
    [&(data.len() as u16).to_be_bytes()[..], data].concat()
}

pub(super) fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
    [&kind.to_be_bytes()[..], &len16(data)].concat()
}

/// A TLS 1.3 ClientHello message offering GREASE, 1.3 and 1.2.
pub(super) fn client_hello_tls13(sni: &str) -> Vec<u8> {
    client_hello_padded(sni, 0)
}

/// The same with a padding extension (RFC 7685) of `padding` bytes.
pub(super) fn client_hello_padded(sni: &str, padding: usize) -> Vec<u8> {
    let name = [&[0][..], &len16(sni.as_bytes())].concat();
    let mut exts = [
        ext(EXT_SERVER_NAME, &len16(&name)),
        ext(EXT_ALPN, &len16(&len8(b"imap"))),
        ext(EXT_SUPPORTED_VERSIONS, &len8(&[0x2a, 0x2a, 3, 4, 3, 3])),
    ]
    .concat();
    if padding > 0 {
        exts.extend(ext(21, &vec![0; padding]));
    }
    let body = [
        &[3, 3][..],
        &[0x33; 32],
        &len8(&[0x44; 32]), // session id (middlebox compatibility)
        &len16(&[0x13, 0x01, 0x13, 0x02, 0x13, 0x03]),
        &[1, 0],
        &len16(&exts),
    ]
    .concat();
    message(CLIENT_HELLO, &body)
}

pub(super) fn server_hello(random: [u8; 32], suite: u16, version_ext: Option<u16>) -> Vec<u8> {
    let exts = version_ext.map_or(Vec::new(), |v| {
        ext(EXT_SUPPORTED_VERSIONS, &v.to_be_bytes())
    });
    let body = [
        &[3, 3][..],
        &random,
        &len8(&[0x44; 32]),
        &suite.to_be_bytes(),
        &[0],
        &len16(&exts),
    ]
    .concat();
    message(SERVER_HELLO, &body)
}

/// A whole TLS 1.3 exchange as the wire shows it: both hellos in clear,
/// the middlebox ChangeCipherSpecs, then only application data records.
pub(super) fn tls13_conversation() -> (Vec<u8>, Vec<u8>) {
    let mut c = record(HANDSHAKE, &client_hello_tls13("hamburger.edu"));
    c[2] = 1; // the first record says TLS 1.0 (RFC 8446 §5.1)
    c.extend_from_slice(&CCS);
    c.extend(app_data(53)); // encrypted Finished
    c.extend(app_data(30));
    let mut s = record(HANDSHAKE, &server_hello([0x55; 32], 0x1302, Some(TLS_1_3)));
    s.extend_from_slice(&CCS);
    s.extend(app_data(900)); // encrypted EncryptedExtensions..Finished
    s.extend(app_data(40));
    (c, s)
}

pub(super) fn tls12_conversation() -> (Vec<u8>, Vec<u8>) {
    let mut c = client_hello_tls12();
    c.extend(record(HANDSHAKE, &[0x10, 0, 0, 2, 0, 0])); // ClientKeyExchange
    c.extend_from_slice(&CCS);
    c.extend(record(HANDSHAKE, &[0x5a; 40])); // encrypted Finished
    c.extend(app_data(100));
    let mut s = server_flight_tls12();
    s.extend_from_slice(&CCS);
    // The encrypted Finished is a handshake record too; its bytes here
    // would even parse as a ServerHello choosing RC4, which must not be
    // believed: after ChangeCipherSpec TLS 1.2 records are ciphertext.
    s.extend(record(HANDSHAKE, &server_hello([0x66; 32], 0x0005, None)));
    s.extend(app_data(200));
    (c, s)
}

/// The pieces a stream is cut into, from sorted cut points.
pub(super) fn cut<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort();
    let mut out = Vec::new();
    let mut start = 0;
    for p in points.into_iter().chain([bytes.len()]) {
        out.push(&bytes[start..p]);
        start = p;
    }
    out
}
