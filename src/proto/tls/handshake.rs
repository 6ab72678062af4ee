//! Handshake messages inside the handshake records (RFC 8446 §4, RFC 5246
//! §7.4): a type, a 24-bit length, the body. A message may span several
//! records and a record may hold several messages, so [`HandshakeReader`]
//! keeps its state between records. The tracker reads the plaintext hellos
//! with it; the decryption reads the TLS 1.3 handshake records it opened.

use super::split_field::SplitField;

/// Handshake message types (RFC 8446 §4).
pub(super) const CLIENT_HELLO: u8 = 1;
pub(super) const SERVER_HELLO: u8 = 2;
pub(super) const FINISHED: u8 = 20;
pub(super) const KEY_UPDATE: u8 = 24;

/// Largest message kept for reading. A real ClientHello is a few hundred
/// bytes to a few KiB; a bigger announced length is skipped without being
/// buffered, so a hostile 24-bit length (16 MiB) never becomes an
/// allocation.
pub(super) const MAX_HANDSHAKE: usize = 64 * 1024;

/// Cuts one direction's plaintext handshake bytes into messages.
#[derive(Clone, Debug, Default)]
pub(super) struct HandshakeReader {
    header: SplitField<4>,
    /// Body bytes of the current message still to come.
    remaining: usize,
    kind: u8,
    /// The current message is being gathered into `body`.
    keep: bool,
    body: Vec<u8>,
    /// Message boundaries were lost: read nothing more.
    broken: bool,
}

impl HandshakeReader {
    /// Reads `bytes`, calling `on_message(kind, body)` at the end of each
    /// message. Only a message of type `wanted` (and at most
    /// [`MAX_HANDSHAKE`] bytes) is gathered and handed on as `Some(body)`;
    /// the others are skipped unbuffered and come with `None`.
    pub(super) fn feed(
        &mut self,
        mut bytes: &[u8],
        wanted: Option<u8>,
        mut on_message: impl FnMut(u8, Option<&[u8]>),
    ) {
        if self.broken {
            return;
        }
        while !bytes.is_empty() {
            if !self.header.is_complete() {
                let Some([kind, a, b, c]) = self.header.fill(&mut bytes) else {
                    return;
                };
                self.kind = kind;
                self.remaining = u32::from_be_bytes([0, a, b, c]) as usize;
                self.keep = Some(kind) == wanted && self.remaining <= MAX_HANDSHAKE;
                if self.remaining == 0 {
                    self.end_message(&mut on_message);
                }
                continue;
            }
            let take = self.remaining.min(bytes.len());
            if self.keep {
                // Grows with the bytes that arrived, never with the length
                // the peer announced.
                self.body.extend_from_slice(&bytes[..take]);
            }
            self.remaining -= take;
            bytes = &bytes[take..];
            if self.remaining == 0 {
                self.end_message(&mut on_message);
            }
        }
    }

    fn end_message(&mut self, on_message: &mut impl FnMut(u8, Option<&[u8]>)) {
        on_message(self.kind, self.keep.then_some(&self.body[..]));
        self.header.clear();
        self.keep = false;
        // Release the hello's memory: the flow may live for hours.
        self.body = Vec::new();
    }

    /// Missing bytes inside a handshake record. Within a message's body the
    /// next message is still found (the message being gathered is lost);
    /// anywhere else the message boundaries are gone.
    pub(super) fn gap(&mut self, len: u64) {
        if self.broken {
            return;
        }
        let in_body = self.header.is_complete() && len <= self.remaining as u64;
        if !in_body {
            self.give_up();
            return;
        }
        self.remaining -= len as usize;
        self.keep = false;
        self.body = Vec::new();
        if self.remaining == 0 {
            self.header.clear();
        }
    }

    /// Message boundaries are lost for good (see [`gap`](Self::gap)).
    pub(super) fn give_up(&mut self) {
        self.broken = true;
        self.keep = false;
        self.body = Vec::new();
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::HANDSHAKE;
    use super::super::test_wire::*;
    use super::super::tracker::TlsTracker;
    use super::*;

    #[test]
    fn messages_are_cut_across_pieces() {
        let mut r = HandshakeReader::default();
        let mut seen = Vec::new();
        let wire = [message(9, &[1, 2, 3]), message(7, &[]), message(9, &[4])].concat();
        for piece in wire.chunks(2) {
            r.feed(piece, Some(9), |kind, body| {
                seen.push((kind, body.map(<[u8]>::to_vec)))
            });
        }
        assert_eq!(
            seen,
            [(9, Some(vec![1, 2, 3])), (7, None), (9, Some(vec![4]))]
        );
    }

    #[test]
    fn a_hello_may_span_records() {
        let msg = client_hello_tls13("hamburger.edu");
        let (a, b) = msg.split_at(7);
        let (b, c) = b.split_at(50);
        let wire = [
            record(HANDSHAKE, a),
            record(HANDSHAKE, b),
            record(HANDSHAKE, c),
        ]
        .concat();
        let sum = run(&[(C, &wire)]);
        assert_eq!(sum.records_c2s, 3);
        assert_eq!(sum.sni.as_deref(), Some("hamburger.edu"));
    }

    #[test]
    fn hellos_beyond_the_bound_are_not_parsed() {
        // A ClientHello padded past MAX_HANDSHAKE, sent in five records:
        // counted, not read.
        let msg = client_hello_padded("hamburger.edu", MAX_HANDSHAKE - 100);
        assert!(msg.len() > MAX_HANDSHAKE + 4);
        let wire: Vec<u8> = msg
            .chunks(1 << 14)
            .flat_map(|c| record(HANDSHAKE, c))
            .collect();
        let sum = run(&[(C, &wire)]);
        assert_eq!((sum.records_c2s, sum.sni), (5, None));
        // Just under the bound it is read.
        let msg = client_hello_padded("hamburger.edu", MAX_HANDSHAKE - 200);
        assert!(msg.len() <= MAX_HANDSHAKE + 4);
        let wire: Vec<u8> = msg
            .chunks(1 << 14)
            .flat_map(|c| record(HANDSHAKE, c))
            .collect();
        assert_eq!(run(&[(C, &wire)]).sni.as_deref(), Some("hamburger.edu"));
    }

    #[test]
    fn gaps_in_the_handshake() {
        let (c, s) = tls12_conversation();
        // Inside the ClientHello's body: that hello is lost, the record
        // boundaries and the other direction are not.
        let mut t = TlsTracker::default();
        t.feed(C, &c[..30]);
        t.gap(C, 10);
        t.feed(C, &c[40..]);
        t.feed(S, &s);
        let sum = t.summary();
        assert_eq!((sum.sni.as_deref(), sum.records_c2s), (None, 5));
        assert_eq!(
            sum.cipher.as_deref(),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        // Across a handshake message header (the ServerHello's header sits
        // at bytes 5..9 of the record): messages cannot be found again.
        let mut t = TlsTracker::default();
        t.feed(S, &s[..6]);
        t.gap(S, 2);
        t.feed(S, &s[8..]);
        assert_eq!(
            (t.summary().cipher.as_deref(), t.summary().records_s2c),
            (None, 4)
        );
        // Over a record header: even a new hello after the resync is not
        // trusted (it might continue a message begun before the hole).
        let mut t = TlsTracker::default();
        t.feed(C, &c[..10]);
        t.gap(C, 200);
        t.feed(C, &client_hello_tls12());
        assert_eq!(
            (t.summary().sni.as_deref(), t.summary().records_c2s),
            (None, 2)
        );
    }
}
