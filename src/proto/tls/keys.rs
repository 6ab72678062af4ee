//! From logged secrets to record keys: the TLS key schedules (issue 6).
//!
//! A key log does not hold the keys that encrypt records, only secrets
//! they are derived from. This file derives them, exactly as the two
//! endpoints did:
//!
//! * **TLS 1.3** (RFC 8446 §7.1, §7.3): each logged traffic secret gives a
//!   `key` and an `iv` through HKDF-Expand-Label. A KeyUpdate replaces the
//!   secret with `HKDF-Expand-Label(secret, "traffic upd", "", Hash.len)`
//!   (§7.2).
//! * **TLS 1.2** (RFC 5246 §6.3, RFC 5288 §3, RFC 7905 §2): the logged
//!   master secret is stretched by the PRF (HMAC with the suite's hash)
//!   over "key expansion" and the two hello randoms into a key block that
//!   is cut into the client's and the server's key and IV.
//!
//! The cryptography itself (HMAC, HKDF, AES-GCM, ChaCha20-Poly1305) comes
//! from `ring`, the library rustls uses; only the schedule is written here.

use ring::aead;
use ring::hkdf;
use ring::hmac;

/// The hash a suite's key schedule and PRF use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha256,
    Sha384,
}

impl Hash {
    pub fn output_len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
        }
    }

    fn hkdf(self) -> hkdf::Algorithm {
        match self {
            Hash::Sha256 => hkdf::HKDF_SHA256,
            Hash::Sha384 => hkdf::HKDF_SHA384,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha384 => hmac::HMAC_SHA384,
        }
    }
}

/// The AEAD ciphers mailscope can open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    Aes128Gcm,
    Aes256Gcm,
    Chacha20Poly1305,
}

impl Cipher {
    fn key_len(self) -> usize {
        match self {
            Cipher::Aes128Gcm => 16,
            Cipher::Aes256Gcm | Cipher::Chacha20Poly1305 => 32,
        }
    }

    fn algorithm(self) -> &'static aead::Algorithm {
        match self {
            Cipher::Aes128Gcm => &aead::AES_128_GCM,
            Cipher::Aes256Gcm => &aead::AES_256_GCM,
            Cipher::Chacha20Poly1305 => &aead::CHACHA20_POLY1305,
        }
    }
}

/// Bytes of the authentication tag every AEAD here appends.
pub const TAG_LEN: usize = 16;

/// How TLS 1.2 builds the per-record nonce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonce12 {
    /// AES-GCM (RFC 5288 §3): a 4-byte salt from the key block, then 8
    /// bytes sent in clear at the front of every record.
    Explicit,
    /// ChaCha20-Poly1305 (RFC 7905 §2): a 12-byte IV XORed with the
    /// sequence number, as in TLS 1.3; nothing extra on the wire.
    Xored,
}

/// A cipher suite mailscope can decrypt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suite {
    pub id: u16,
    pub cipher: Cipher,
    pub hash: Hash,
    /// `None` for TLS 1.3 suites; the TLS 1.2 nonce construction otherwise.
    pub tls12: Option<Nonce12>,
}

/// The suites with an AEAD cipher: every TLS 1.3 suite but the CCM ones,
/// and the TLS 1.2 ECDHE/DHE/RSA suites with AES-GCM or ChaCha20 (the key
/// exchange does not matter here: the key log already holds its result).
pub fn suite(id: u16) -> Option<Suite> {
    use Cipher::*;
    use Hash::*;
    let (cipher, hash, tls12) = match id {
        0x1301 => (Aes128Gcm, Sha256, None),
        0x1302 => (Aes256Gcm, Sha384, None),
        0x1303 => (Chacha20Poly1305, Sha256, None),
        // RSA, DHE_RSA, ECDHE_ECDSA, ECDHE_RSA with AES-GCM (RFC 5288, 5289).
        0x009c | 0x009e | 0xc02b | 0xc02f => (Aes128Gcm, Sha256, Some(Nonce12::Explicit)),
        0x009d | 0x009f | 0xc02c | 0xc030 => (Aes256Gcm, Sha384, Some(Nonce12::Explicit)),
        // ECDHE_RSA, ECDHE_ECDSA, DHE_RSA with ChaCha20-Poly1305 (RFC 7905).
        0xcca8..=0xccaa => (Chacha20Poly1305, Sha256, Some(Nonce12::Xored)),
        _ => return None,
    };
    Some(Suite {
        id,
        cipher,
        hash,
        tls12,
    })
}

/// An output length for ring's HKDF.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 §7.1) with an empty context:
///
/// ```text
/// struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
///          opaque context<0..255>; } HkdfLabel;
/// ```
pub fn hkdf_expand_label(hash: Hash, secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let full_label_len = 6 + label.len();
    let info: [&[u8]; 6] = [
        &(len as u16).to_be_bytes(),
        &[full_label_len as u8],
        b"tls13 ",
        label,
        &[0u8], // empty context
        &[],
    ];
    let prk = hkdf::Prk::new_less_safe(hash.hkdf(), secret);
    let mut out = vec![0u8; len];
    // `expand` fails only for lengths above 255 × Hash.len; ours are ≤ 48.
    if let Ok(okm) = prk.expand(&info, Len(len)) {
        let _ = okm.fill(&mut out);
    }
    out
}

/// The secret after a KeyUpdate (RFC 8446 §7.2).
pub fn next_traffic_secret(hash: Hash, secret: &[u8]) -> Vec<u8> {
    hkdf_expand_label(hash, secret, b"traffic upd", hash.output_len())
}

/// TLS 1.2's PRF (RFC 5246 §5): `P_hash(secret, label + seed)`, where
/// `A(0) = label + seed`, `A(i) = HMAC(secret, A(i-1))`, and the output
/// is `HMAC(secret, A(1) + label + seed) ‖ HMAC(secret, A(2) + …) ‖ …`.
pub fn prf(hash: Hash, secret: &[u8], label: &[u8], seed: &[&[u8]], len: usize) -> Vec<u8> {
    let key = hmac::Key::new(hash.hmac(), secret);
    let mut label_seed = label.to_vec();
    for s in seed {
        label_seed.extend_from_slice(s);
    }
    let mut out = Vec::with_capacity(len + hash.output_len());
    let mut a = hmac::sign(&key, &label_seed);
    while out.len() < len {
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(a.as_ref());
        ctx.update(&label_seed);
        out.extend_from_slice(ctx.sign().as_ref());
        a = hmac::sign(&key, a.as_ref());
    }
    out.truncate(len);
    out
}

/// The key and IV that protect one direction of a connection.
pub struct RecordKey {
    key: aead::LessSafeKey,
    /// TLS 1.3 and ChaCha20 in 1.2: the 12-byte IV; AES-GCM in 1.2: the
    /// 4-byte salt.
    iv: Vec<u8>,
}

impl std::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("RecordKey")
    }
}

impl RecordKey {
    fn new(cipher: Cipher, key: &[u8], iv: Vec<u8>) -> Option<RecordKey> {
        let unbound = aead::UnboundKey::new(cipher.algorithm(), key).ok()?;
        Some(RecordKey {
            key: aead::LessSafeKey::new(unbound),
            iv,
        })
    }

    /// A TLS 1.3 traffic secret's record key (RFC 8446 §7.3).
    pub fn tls13(suite: &Suite, secret: &[u8]) -> Option<RecordKey> {
        let key = hkdf_expand_label(suite.hash, secret, b"key", suite.cipher.key_len());
        let iv = hkdf_expand_label(suite.hash, secret, b"iv", 12);
        RecordKey::new(suite.cipher, &key, iv)
    }

    /// The client's and the server's record keys of a TLS 1.2 session
    /// (RFC 5246 §6.3): AEAD suites have no MAC keys, so the key block is
    /// `client_write_key ‖ server_write_key ‖ client_IV ‖ server_IV`.
    pub fn tls12(
        suite: &Suite,
        master_secret: &[u8],
        client_random: &[u8; 32],
        server_random: &[u8; 32],
    ) -> Option<(RecordKey, RecordKey)> {
        let key_len = suite.cipher.key_len();
        let iv_len = match suite.tls12? {
            Nonce12::Explicit => 4,
            Nonce12::Xored => 12,
        };
        let block = prf(
            suite.hash,
            master_secret,
            b"key expansion",
            &[server_random, client_random],
            2 * (key_len + iv_len),
        );
        let (client_key, rest) = block.split_at(key_len);
        let (server_key, rest) = rest.split_at(key_len);
        let (client_iv, server_iv) = rest.split_at(iv_len);
        Some((
            RecordKey::new(suite.cipher, client_key, client_iv.to_vec())?,
            RecordKey::new(suite.cipher, server_key, server_iv.to_vec())?,
        ))
    }

    /// The nonce of record number `seq`: the IV XORed with the sequence
    /// number (RFC 8446 §5.3), or for AES-GCM in TLS 1.2 the salt followed
    /// by the record's explicit part.
    fn nonce(&self, seq: u64, explicit: Option<&[u8]>) -> Option<aead::Nonce> {
        let mut n = [0u8; 12];
        match explicit {
            Some(e) => {
                n[..4].copy_from_slice(self.iv.get(..4)?);
                n[4..].copy_from_slice(e.get(..8)?);
            }
            None => {
                n.copy_from_slice(self.iv.get(..12)?);
                for (b, s) in n[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *b ^= s;
                }
            }
        }
        Some(aead::Nonce::assume_unique_for_key(n))
    }

    /// Decrypts `sealed` (ciphertext and tag) in place; returns the
    /// plaintext's length, or None when the tag does not verify (wrong key,
    /// wrong sequence number, or damaged bytes).
    pub fn open(
        &self,
        seq: u64,
        explicit: Option<&[u8]>,
        aad: &[u8],
        sealed: &mut [u8],
    ) -> Option<usize> {
        let nonce = self.nonce(seq, explicit)?;
        self.key
            .open_in_place(nonce, aead::Aad::from(aad), sealed)
            .ok()
            .map(|plain| plain.len())
    }

    /// Encrypts `plain` in place, appending the tag (for tests that make
    /// records to decrypt).
    #[cfg(test)]
    pub fn seal(&self, seq: u64, explicit: Option<&[u8]>, aad: &[u8], data: &mut Vec<u8>) {
        let nonce = self.nonce(seq, explicit).expect("nonce");
        self.key
            .seal_in_place_append_tag(nonce, aead::Aad::from(aad), data)
            .expect("seal");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// RFC 8448 §3 ("Simple 1-RTT Handshake"): the server handshake
    /// traffic secret and the write key and IV derived from it.
    #[test]
    fn rfc8448_handshake_key_and_iv() {
        let secret = unhex(
            "b6 7b 7d 69 0c c1 6c 4e 75 e5 42 13 cb 2d 37 b4
             e9 c9 12 bc de d9 10 5d 42 be fd 59 d3 91 ad 38",
        );
        let key = hkdf_expand_label(Hash::Sha256, &secret, b"key", 16);
        let iv = hkdf_expand_label(Hash::Sha256, &secret, b"iv", 12);
        assert_eq!(
            key,
            unhex("3f ce 51 60 09 c2 17 27 d0 f2 e4 e8 6e e4 03 bc")
        );
        assert_eq!(iv, unhex("5d 31 3e b2 67 12 76 ee 13 00 0b 30"));
    }

    /// The P_SHA256 test vector circulated on the IETF TLS list for
    /// RFC 5246 implementers (secret, seed and label as there).
    #[test]
    fn tls12_prf_sha256_vector() {
        let out = prf(
            Hash::Sha256,
            &unhex("9b be 43 6b a9 40 f0 17 b1 76 52 84 9a 71 db 35"),
            b"test label",
            &[&unhex("a0 ba 9f 93 6c da 31 18 27 a6 f7 96 ff d5 19 8c")],
            100,
        );
        assert_eq!(
            out,
            unhex(
                "e3 f2 29 ba 72 7b e1 7b 8d 12 26 20 55 7c d4 53
                 c2 aa b2 1d 07 c3 d4 95 32 9b 52 d4 e6 1e db 5a
                 6b 30 17 91 e9 0d 35 c9 c9 a4 6b 4e 14 ba f9 af
                 0f a0 22 f7 07 7d ef 17 ab fd 37 97 c0 56 4b ab
                 4f bc 91 66 6e 9d ef 9b 97 fc e3 4f 79 67 89 ba
                 a4 80 82 d1 22 ee 42 c5 a7 2e 5a 51 10 ff f7 01
                 87 34 7b 66"
            )
        );
    }

    #[test]
    fn every_listed_suite_has_a_cipher() {
        for id in [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca8, 0xcca9,
        ] {
            assert!(suite(id).is_some(), "{id:04x}");
        }
        // CCM and CBC suites are not decrypted.
        assert!(suite(0x1304).is_none());
        assert!(suite(0xc013).is_none());
    }

    #[test]
    fn sealed_records_open_only_with_the_right_sequence_number() {
        for id in [0x1301, 0x1302, 0x1303] {
            let s = suite(id).unwrap();
            let key = RecordKey::tls13(&s, &[7u8; 48][..s.hash.output_len()]).unwrap();
            let mut data = b"EHLO crepes.fr\r\n".to_vec();
            key.seal(3, None, b"aad", &mut data);
            let mut wrong = data.clone();
            assert_eq!(key.open(2, None, b"aad", &mut wrong), None);
            assert_eq!(key.open(3, None, b"aad", &mut data), Some(16));
            assert_eq!(&data[..16], b"EHLO crepes.fr\r\n");
        }
    }
}
