//! Puts records back in id order.
//!
//! Flows finish in any order (a short flow that started late ends before a
//! long one that started early), but reports list them by id. Each record
//! waits here until every lower id has been released.

use std::collections::BTreeMap;

pub struct InOrder<T> {
    next: u64,
    waiting: BTreeMap<u64, T>,
}

impl<T> Default for InOrder<T> {
    fn default() -> Self {
        InOrder {
            next: 0,
            waiting: BTreeMap::new(),
        }
    }
}

impl<T> InOrder<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds record `id` and passes every record that is now in order to
    /// `release`.
    pub fn push(&mut self, id: u64, record: T, mut release: impl FnMut(T)) {
        self.waiting.insert(id, record);
        while let Some(entry) = self.waiting.first_entry() {
            if *entry.key() != self.next {
                break;
            }
            release(entry.remove());
            self.next += 1;
        }
    }

    /// Releases whatever is left, in id order (ids may have holes when some
    /// flows were not reported).
    pub fn drain(&mut self, mut release: impl FnMut(T)) {
        for (_, record) in std::mem::take(&mut self.waiting) {
            release(record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_in_id_order() {
        let mut q = InOrder::new();
        let mut out = Vec::new();
        q.push(2, "c", |r| out.push(r));
        q.push(0, "a", |r| out.push(r));
        assert_eq!(out, ["a"]);
        q.push(1, "b", |r| out.push(r));
        assert_eq!(out, ["a", "b", "c"]);
        q.push(5, "f", |r| out.push(r));
        q.drain(|r| out.push(r));
        assert_eq!(out, ["a", "b", "c", "f"]);
    }
}
