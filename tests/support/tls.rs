//! `tls-implicit-465.pcapng`: implicit TLS on port 465 (SMTPS, RFC 8314).
//!
//! A TLS-looking exchange: well-formed record headers (RFC 5246 section 6.2:
//! content type, version, 16-bit length) and hello messages around made-up
//! contents, plus a Decryption Secrets Block with a fake key log. It teaches
//! that a mail port may carry only encrypted records: the analyzer must say
//! "encrypted mail", not try to read SMTP commands in them.

use mailscope::capture::builder::{Conversation, Dir};
use mailscope::capture::link::LINKTYPE_ETHERNET;
use mailscope::capture::writer::PcapNgWriter;

use super::Sample;
use super::toolkit::{SNAPLEN, START_NANOS, addr, summary};

/// Deterministic filler bytes (xorshift64*), for the fake TLS records.
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

// Record content types (RFC 5246 section 6.2.1).
const TLS_HANDSHAKE: u8 = 22;
const TLS_CHANGE_CIPHER_SPEC: u8 = 20;
const TLS_APPLICATION_DATA: u8 = 23;

/// A record: content type, protocol version, 16-bit length, body.
fn tls_record(content_type: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A handshake message: type, 24-bit length, body.
fn tls_handshake_msg(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![msg_type];
    m.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    m.extend_from_slice(body);
    m
}

/// A TLS extension: type, 16-bit length, data.
fn tls_extension(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend_from_slice(&(data.len() as u16).to_be_bytes());
    e.extend_from_slice(data);
    e
}

/// A TLS 1.2 ClientHello (RFC 5246 section 7.4.1.2) naming `server_name`
/// in the server_name extension (RFC 6066 section 3).
fn client_hello(random: &[u8], server_name: &str) -> Vec<u8> {
    let mut body = vec![0x03, 0x03]; // client_version TLS 1.2
    body.extend_from_slice(random);
    body.push(0); // no session id
    body.extend_from_slice(&[0x00, 0x06, 0xC0, 0x2F, 0xC0, 0x30, 0x00, 0x9C]); // 3 cipher suites
    body.extend_from_slice(&[0x01, 0x00]); // compression: null only
    let mut sni = ((server_name.len() + 3) as u16).to_be_bytes().to_vec();
    sni.push(0); // host_name
    sni.extend_from_slice(&(server_name.len() as u16).to_be_bytes());
    sni.extend_from_slice(server_name.as_bytes());
    let mut extensions = tls_extension(0x0000, &sni); // server_name
    extensions.extend(tls_extension(0x000A, &[0x00, 0x02, 0x00, 0x1D])); // supported_groups: x25519
    extensions.extend(tls_extension(0x000B, &[0x01, 0x00])); // ec_point_formats: uncompressed
    extensions.extend(tls_extension(0x000D, &[0x00, 0x02, 0x04, 0x01])); // signature_algorithms
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    tls_handshake_msg(1, &body)
}

/// The ServerHello choosing TLS 1.2 and an ECDHE-RSA AES-GCM suite.
fn server_hello(random: &[u8]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(random);
    body.push(0); // no session id
    body.extend_from_slice(&[0xC0, 0x2F]); // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    body.push(0); // null compression
    let extensions = tls_extension(0xFF01, &[0x00]); // renegotiation_info
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);
    tls_handshake_msg(2, &body)
}

/// An "encrypted" record of `plain_len` bytes of plaintext: AES-GCM adds
/// an 8-byte explicit nonce and a 16-byte tag in TLS 1.2.
fn fake_encrypted(content_type: u8, plain_len: usize, seed: u64) -> Vec<u8> {
    tls_record(content_type, 0x0303, &pseudo_random(seed, plain_len + 24))
}

pub fn tls_implicit_465() -> Sample {
    use Dir::{ClientToServer as C, ServerToClient as S};
    let client_random = pseudo_random(1, 32);
    let server_random = pseudo_random(2, 32);
    let mut c = Conversation::new(addr("10.0.0.1:1036"), addr("10.0.0.2:465"), START_NANOS);
    c.handshake();
    // Implicit TLS (RFC 8314): the client starts TLS at once, no greeting.
    c.client_sends(&tls_record(
        TLS_HANDSHAKE,
        0x0301,
        &client_hello(&client_random, "hamburger.edu"),
    ));
    let mut flight = tls_record(TLS_HANDSHAKE, 0x0303, &server_hello(&server_random));
    flight.extend(tls_record(
        TLS_HANDSHAKE,
        0x0303,
        &tls_handshake_msg(14, &[]),
    )); // ServerHelloDone
    c.server_sends(&flight);
    let mut key_exchange = vec![32];
    key_exchange.extend(pseudo_random(3, 32));
    let mut flight = tls_record(TLS_HANDSHAKE, 0x0303, &tls_handshake_msg(16, &key_exchange));
    flight.extend(tls_record(TLS_CHANGE_CIPHER_SPEC, 0x0303, &[1]));
    flight.extend(fake_encrypted(TLS_HANDSHAKE, 16, 4)); // Finished
    c.client_sends(&flight);
    let mut flight = tls_record(TLS_CHANGE_CIPHER_SPEC, 0x0303, &[1]);
    flight.extend(fake_encrypted(TLS_HANDSHAKE, 16, 5));
    c.server_sends(&flight);
    // The SMTP dialogue, encrypted: greeting, EHLO, reply, QUIT, bye.
    let exchanges: [(Dir, usize); 5] = [(S, 30), (C, 21), (S, 60), (C, 6), (S, 15)];
    for (k, (dir, len)) in exchanges.into_iter().enumerate() {
        c.send(
            dir,
            &fake_encrypted(TLS_APPLICATION_DATA, len, 10 + k as u64),
        );
    }
    c.close();
    let flows = vec![summary("TLS", &c)];
    let mut key_log = b"# fake TLS key log: the records below are not real encryption\n".to_vec();
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    key_log.extend_from_slice(
        format!(
            "CLIENT_RANDOM {} {}\n",
            hex(&client_random),
            hex(&pseudo_random(6, 48))
        )
        .as_bytes(),
    );
    let mut w = PcapNgWriter::new(Vec::new()).expect("write to Vec");
    let eth0 = w
        .add_interface(LINKTYPE_ETHERNET, SNAPLEN, Some("eth0"))
        .expect("write to Vec");
    w.write_decryption_secrets(&key_log).expect("write to Vec");
    for f in c.frames() {
        w.write_packet(eth0, f.ts_nanos, &f.data)
            .expect("write to Vec");
    }
    Sample {
        file_name: "tls-implicit-465.pcapng",
        description: "Implicit TLS on port 465 (SMTPS, RFC 8314): a well-formed TLS 1.2 record exchange \
                      (ClientHello with SNI hamburger.edu, ServerHello, key exchange, ChangeCipherSpec, then \
                      application-data records) whose contents are pseudo-random bytes, and a Decryption \
                      Secrets Block with a (fake) TLS key log. The analyzer should report encrypted mail \
                      (SMTPS), not plaintext SMTP."
            .into(),
        flows,
        notes: vec![],
        bytes: w.into_inner(),
    }
}

/// A TLS 1.2 ClientHello in its record, as a client sends it first thing
/// on an implicit-TLS port.
pub fn client_hello_record(server_name: &str) -> Vec<u8> {
    tls_record(
        TLS_HANDSHAKE,
        0x0301,
        &client_hello(&pseudo_random(7, 32), server_name),
    )
}
