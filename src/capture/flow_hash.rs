//! The symmetric flow hash: which of N buckets a connection goes to, the
//! same for both of its directions. `analyze --threads N` gives each
//! worker the flows of one bucket; `shard -n N` writes each bucket's
//! frames to one file, so shard K holds the flows worker K would read.
//!
//! As Suricata's `autofp` and Zeek's cluster do, the two endpoints are
//! put in order before hashing, so client → server and server → client
//! meet. Deterministic (FxHash has no random seed): a run is repeatable
//! and shards of one capture are the same on every machine.

use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use rustc_hash::FxHasher;

/// The bucket (0..buckets) of the connection between `a` and `b`.
pub fn bucket_of(a: SocketAddr, b: SocketAddr, buckets: usize) -> usize {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = FxHasher::default();
    lo.hash(&mut h);
    hi.hash(&mut h);
    // The high bits of an Fx hash are the well mixed ones.
    ((h.finish() >> 32) % buckets.max(1) as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_directions_meet_and_buckets_fill() {
        let server: SocketAddr = "10.0.0.2:25".parse().unwrap();
        let mut counts = [0usize; 4];
        for port in 1024..5120u16 {
            let client = SocketAddr::from(([10, 0, 0, 1], port));
            let b = bucket_of(client, server, 4);
            assert_eq!(b, bucket_of(server, client, 4));
            counts[b] += 1;
        }
        // 4096 connections: each bucket within a fifth of its share.
        assert!(
            counts.iter().all(|&c| (820..=1230).contains(&c)),
            "{counts:?}"
        );
    }
}
