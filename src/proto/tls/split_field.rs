//! A fixed-size field whose bytes may arrive in pieces.
//!
//! TCP cuts a stream wherever it likes, and TLS puts its own boundaries on
//! top: a record header (5 bytes), a handshake message header (4 bytes,
//! RFC 8446 §4) or an alert (2 bytes, RFC 8446 §6) may be split across
//! segments, and a handshake header across records. Each reader keeps the
//! bytes seen so far in a [`SplitField`] and goes on when it is whole.

/// `N` bytes gathered from as many pieces as they come in.
#[derive(Clone, Debug)]
pub(super) struct SplitField<const N: usize> {
    bytes: [u8; N],
    have: usize,
}

impl<const N: usize> Default for SplitField<N> {
    fn default() -> Self {
        SplitField {
            bytes: [0; N],
            have: 0,
        }
    }
}

impl<const N: usize> SplitField<N> {
    /// Moves the bytes the field still lacks from the front of `input`.
    /// Returns the field on the call that completes it, and only then: a
    /// complete field takes nothing more until [`clear`](Self::clear).
    pub(super) fn fill(&mut self, input: &mut &[u8]) -> Option<[u8; N]> {
        if self.is_complete() {
            return None;
        }
        let take = (N - self.have).min(input.len());
        self.bytes[self.have..self.have + take].copy_from_slice(&input[..take]);
        self.have += take;
        *input = &input[take..];
        self.is_complete().then_some(self.bytes)
    }

    /// No byte of the field gathered yet.
    pub(super) fn is_empty(&self) -> bool {
        self.have == 0
    }

    pub(super) fn is_complete(&self) -> bool {
        self.have == N
    }

    /// Ready for the next field.
    pub(super) fn clear(&mut self) {
        self.have = 0;
    }

    /// The field's bytes are lost (a gap in the capture): take none of the
    /// bytes that follow for it, and report nothing, until the next
    /// [`clear`](Self::clear).
    pub(super) fn skip(&mut self) {
        self.have = N;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gathered_from_pieces_and_reported_once() {
        let mut f = SplitField::<4>::default();
        let mut input: &[u8] = &[1, 2];
        assert_eq!(f.fill(&mut input), None);
        assert!(input.is_empty() && !f.is_empty());
        let mut input: &[u8] = &[3, 4, 5];
        assert_eq!(f.fill(&mut input), Some([1, 2, 3, 4]));
        assert_eq!(input, [5]);
        assert_eq!(f.fill(&mut input), None);
        assert_eq!(input, [5]);
        f.clear();
        f.skip();
        assert_eq!(f.fill(&mut input), None);
        assert!(f.is_complete());
    }
}
