//! Sequence sets (RFC 3501 §9: sequence-set) like `2,4:6,10:*`: parsing
//! the ones clients send, and writing UID lists compactly for COPYUID
//! (RFC 4315 §3).

/// A set like `2,4:6,10:*`. `*` (the largest number in use) is stored as 0,
/// which no real number can be.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SeqSet(Vec<(u32, u32)>);

impl SeqSet {
    /// Parse a set; None if it is not one (zero is no message number).
    pub(super) fn parse(text: &str) -> Option<SeqSet> {
        let number = |s: &str| -> Option<u32> {
            if s == "*" {
                return Some(0);
            }
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<u32>().ok().filter(|&n| n > 0)
        };
        let mut ranges = Vec::new();
        for part in text.split(',') {
            let range = match part.split_once(':') {
                Some((a, b)) => (number(a)?, number(b)?),
                None => {
                    let n = number(part)?;
                    (n, n)
                }
            };
            ranges.push(range);
        }
        Some(SeqSet(ranges))
    }

    /// Is `n` in the set, when `*` stands for `star`? `4:2` is the same as
    /// `2:4` (§9).
    pub(super) fn contains(&self, n: u32, star: u32) -> bool {
        self.0.iter().any(|&(a, b)| {
            let a = if a == 0 { star } else { a };
            let b = if b == 0 { star } else { b };
            a.min(b) <= n && n <= a.max(b)
        })
    }

    /// The largest number written out (not `*`).
    pub(super) fn max_explicit(&self) -> u32 {
        self.0.iter().map(|&(a, b)| a.max(b)).max().unwrap_or(0)
    }
}

/// A UID list as a compact set: `1:3,7`.
pub(super) fn uid_set_text(uids: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < uids.len() {
        let mut j = i;
        while j + 1 < uids.len() && uids[j + 1] == uids[j].wrapping_add(1) {
            j += 1;
        }
        parts.push(if i == j {
            uids[i].to_string()
        } else {
            format!("{}:{}", uids[i], uids[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_sets() {
        let s = SeqSet::parse("2,4:6,10:*").unwrap();
        let hits: Vec<u32> = (1..=12).filter(|&n| s.contains(n, 12)).collect();
        assert_eq!(hits, vec![2, 4, 5, 6, 10, 11, 12]);
        assert!(SeqSet::parse("*").unwrap().contains(7, 7));
        assert!(SeqSet::parse("0").is_none());
        assert!(SeqSet::parse("1,,2").is_none());
        assert!(SeqSet::parse("99999999999").is_none());
        assert_eq!(uid_set_text(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
    }
}
