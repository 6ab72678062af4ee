//! TLS on the wire: what a connection shows in clear, and what a key log
//! opens (RFC 8446 for TLS 1.3, RFC 5246 for TLS 1.2).
//!
//! Every TLS record starts with a 5-byte header: content type (20–23: change
//! cipher spec, alert, handshake, application data), the legacy version
//! (major 3, minor 0–4) and a 16-bit length of at most 2^14 + 2048 bytes.
//! A connection opens with a handshake record (type 22), so "16 03 0x" is how
//! TLS looks in its first bytes.
//!
//! Encryption hides the mail, not everything: the ClientHello and the
//! ServerHello travel in clear, so anyone on the path reads the server name
//! the client asked for (SNI, RFC 6066 §3), the application protocols it
//! offers (ALPN, RFC 7301), the TLS versions on both sides and the cipher
//! suite the server chose. With the session's secrets (a key log) the
//! records themselves open.
//!
//! One concept per file, from the bytes up:
//!
//! * `record`: the 5-byte record header and what looks like TLS;
//! * `split_field`: a fixed-size field whose bytes arrive in pieces;
//! * `handshake`: handshake messages cut out of the handshake records;
//! * `hello`: the ClientHello and ServerHello, field by field;
//! * `names`: the numbers of the IANA registries as names for people;
//! * `tracker`: [`TlsTracker`], which follows a flow's records and
//!   reads the hellos into a [`TlsSummary`];
//! * [`keylog`]: the NSS key log (`SSLKEYLOGFILE`);
//! * [`keys`]: from logged secrets to record keys (the key schedules);
//! * [`decrypt`]: opening the records of a flow with those keys.

pub(crate) mod decrypt;
mod handshake;
mod hello;
pub(crate) mod keylog;
pub(crate) mod keys;
mod names;
mod record;
mod split_field;
#[cfg(test)]
mod test_wire;
mod tracker;

pub use crate::trace::TlsSummary;
pub use hello::HelloParams;
pub use names::cipher_name;
pub use record::{looks_like_handshake, looks_like_record};
pub use tracker::TlsTracker;
