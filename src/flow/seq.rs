//! Wrap-safe TCP sequence numbers (RFC 9293 §3.4, "modular arithmetic").
//!
//! A sequence number is a 32-bit counter that wraps from 2^32 - 1 back to 0,
//! so `a < b` on the raw `u32`s is wrong as soon as a stream crosses the wrap
//! (a 4 GiB transfer always does; a random initial sequence number near 2^32
//! does after a few bytes). Comparisons are made on the signed 32-bit
//! difference instead: `b` is after `a` when `b - a`, taken modulo 2^32 and
//! read as a signed number, is positive. That is valid while the two numbers
//! are less than 2^31 apart, which a TCP window guarantees.

use std::cmp::Ordering;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// The number `n` bytes later, wrapping at 2^32.
    #[inline]
    pub fn wrapping_add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }

    /// Signed distance `self - earlier`, in bytes: positive when `self` comes
    /// after `earlier`.
    #[inline]
    pub fn distance_from(self, earlier: SeqNumber) -> i64 {
        self.0.wrapping_sub(earlier.0) as i32 as i64
    }
}

/// Ordering by sequence-space distance. It is only a partial order (the
/// space is a circle), which is exactly what `PartialOrd` allows.
impl PartialOrd for SeqNumber {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.distance_from(*other).cmp(&0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ordering_across_the_wrap() {
        let near_end = SeqNumber(0xffff_fff0);
        let after_wrap = near_end.wrapping_add(0x20);
        assert_eq!(after_wrap, SeqNumber(0x10));
        assert!(after_wrap > near_end);
        assert!(near_end < after_wrap);
        assert_eq!(after_wrap.distance_from(near_end), 0x20);
        assert_eq!(near_end.distance_from(after_wrap), -0x20);
    }

    proptest! {
        #[test]
        fn distance_inverts_add(start: u32, n in 0u32..(1 << 31)) {
            let a = SeqNumber(start);
            prop_assert_eq!(a.wrapping_add(n).distance_from(a), n as i64);
            prop_assert_eq!(a.distance_from(a.wrapping_add(n)), -(n as i64));
        }

        #[test]
        fn order_is_consistent_with_distance(a: u32, b: u32) {
            let (a, b) = (SeqNumber(a), SeqNumber(b));
            let d = b.distance_from(a);
            prop_assert_eq!(b > a, d > 0);
            prop_assert_eq!(a > b, a.distance_from(b) > 0);
            // Apart from the one antipodal point, exactly one of them is later.
            if d != -(1 << 31) && d != 0 {
                prop_assert!((a > b) != (b > a));
            }
        }
    }
}
