//! `mailscope shard`: one capture split into N pcapng files by the
//! symmetric flow hash (`capture::flow_hash`), in one streaming
//! pass, so that each file can be analysed on its own (on another core,
//! another machine, a Spark executor) and the shards together give
//! exactly the messages of the whole.
//!
//! * Both directions of a connection go to one shard: the hash orders the
//!   endpoints (addresses and TCP/UDP/SCTP ports) first.
//! * IP fragments follow their datagram: only the first fragment carries
//!   the ports, so a later fragment that arrives before it (captures show
//!   them out of order) waits, a bounded while, until the first tells its
//!   shard. A fragment whose first never comes goes by its addresses alone.
//! * What is not IP (ARP, LLDP…) goes to shard 0; frames whose link layer
//!   cannot be read too.
//! * Every shard gets the capture's Decryption Secrets Blocks (TLS key
//!   logs), written before the frames that follow them in the input, and
//!   an interface description for each interface its frames came from.

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};

use rustc_hash::FxHashMap;

use super::flow_hash::bucket_of;
use super::frame_layers::{FragmentOf, FrameLayers};
use super::writer::PcapNgWriter;
use super::{Packet, Timestamp};

/// How long a datagram's route (or its waiting fragments) is kept: the
/// reassembly timeout of Linux (`ipfrag_time`, 30 s), in capture time.
const FRAGMENT_LIFETIME_NANOS: i64 = 30_000_000_000;
/// At most this many bytes of fragments wait for their first.
const MAX_HELD_BYTES: usize = 16 << 20;

/// What the sharder did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ShardStats {
    /// Frames written to each shard.
    pub packets: Vec<u64>,
    /// Captured bytes written to each shard.
    pub bytes: Vec<u64>,
    /// Fragments that waited for the first fragment of their datagram.
    pub fragments_held: u64,
    /// Fragments whose first fragment never came (or came too late),
    /// placed by their addresses alone.
    pub fragments_unrouted: u64,
    /// Decryption Secrets Blocks copied into every shard.
    pub secrets: u64,
}

struct Shard<W: Write> {
    out: PcapNgWriter<W>,
    /// (input interface, link type) → this file's interface id (a list:
    /// captures have one or a few interfaces).
    interfaces: Vec<((u32, u16), u32)>,
}

/// A fragment waiting for its datagram's first fragment.
struct Held {
    interface: u32,
    linktype: u16,
    ts: Timestamp,
    data: Vec<u8>,
    orig_len: u32,
}

/// Writes each frame it is given to its shard.
pub struct Sharder<W: Write> {
    shards: Vec<Shard<W>>,
    /// Datagrams whose first fragment was seen: their shard and when.
    routes: FxHashMap<DatagramKey, (usize, Timestamp)>,
    held: FxHashMap<DatagramKey, Vec<Held>>,
    held_bytes: usize,
    since_expiry: u32,
    stats: ShardStats,
}

/// A datagram (RFC 791 §3.2): the fragment's identity without `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

impl From<FragmentOf> for DatagramKey {
    fn from(f: FragmentOf) -> Self {
        DatagramKey {
            src: f.src,
            dst: f.dst,
            protocol: f.protocol,
            id: f.id,
        }
    }
}

fn nanos(ts: Timestamp) -> u64 {
    // pcapng timestamps are unsigned: a frame from before 1970 is written
    // at the epoch rather than refused.
    ts.as_nanos().max(0) as u64
}

impl<W: Write> Sharder<W> {
    /// One shard per output, each starting with its section header.
    pub fn new(outputs: Vec<W>) -> io::Result<Self> {
        let n = outputs.len();
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no shard to write",
            ));
        }
        let shards = outputs
            .into_iter()
            .map(|w| {
                Ok(Shard {
                    out: PcapNgWriter::new(w)?,
                    interfaces: Vec::new(),
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        Ok(Sharder {
            shards,
            routes: FxHashMap::default(),
            held: FxHashMap::default(),
            held_bytes: 0,
            since_expiry: 0,
            stats: ShardStats {
                packets: vec![0; n],
                bytes: vec![0; n],
                ..ShardStats::default()
            },
        })
    }

    /// The shard of the connection between two endpoints.
    fn shard_of(&self, src: SocketAddr, dst: SocketAddr) -> usize {
        bucket_of(src, dst, self.shards.len())
    }

    /// A Decryption Secrets Block of the input: into every shard.
    pub fn secrets(&mut self, secrets_type: u32, data: &[u8]) -> io::Result<()> {
        for s in &mut self.shards {
            s.out.write_secrets(secrets_type, data)?;
        }
        self.stats.secrets += 1;
        Ok(())
    }

    /// Writes one frame to its shard (or holds it, for a fragment that
    /// came before its datagram's first).
    pub fn packet(&mut self, packet: &Packet<'_>) -> io::Result<()> {
        self.since_expiry += 1;
        if self.since_expiry == 1 << 14 {
            self.since_expiry = 0;
            self.expire(packet.ts)?;
        }
        let layers = FrameLayers::of(packet);
        let Some(ip) = &layers.ip else {
            return self.write(
                0,
                packet.interface,
                packet.linktype,
                packet.ts,
                packet.data,
                packet.orig_len,
            );
        };
        let (sport, dport) = layers.ports().unwrap_or((0, 0));
        let by_ports = self.shard_of(
            SocketAddr::new(ip.src, sport),
            SocketAddr::new(ip.dst, dport),
        );
        let Some(fragment) = ip.fragment else {
            return self.write(
                by_ports,
                packet.interface,
                packet.linktype,
                packet.ts,
                packet.data,
                packet.orig_len,
            );
        };
        let key = DatagramKey::from(fragment);
        if fragment.first {
            self.routes.insert(key, (by_ports, packet.ts));
            self.write(
                by_ports,
                packet.interface,
                packet.linktype,
                packet.ts,
                packet.data,
                packet.orig_len,
            )?;
            // The fragments that came before it follow it.
            if let Some(waiting) = self.held.remove(&key) {
                for h in waiting {
                    self.held_bytes -= h.data.len();
                    self.write(by_ports, h.interface, h.linktype, h.ts, &h.data, h.orig_len)?;
                }
            }
            return Ok(());
        }
        if let Some(&(shard, _)) = self.routes.get(&key) {
            return self.write(
                shard,
                packet.interface,
                packet.linktype,
                packet.ts,
                packet.data,
                packet.orig_len,
            );
        }
        self.stats.fragments_held += 1;
        self.held_bytes += packet.data.len();
        self.held.entry(key).or_default().push(Held {
            interface: packet.interface,
            linktype: packet.linktype,
            ts: packet.ts,
            data: packet.data.to_vec(),
            orig_len: packet.orig_len,
        });
        if self.held_bytes > MAX_HELD_BYTES {
            self.release_held(|_| true)?;
        }
        Ok(())
    }

    /// Forgets old routes and releases fragments that waited too long.
    fn expire(&mut self, now: Timestamp) -> io::Result<()> {
        let old =
            |ts: Timestamp| now.as_nanos().saturating_sub(ts.as_nanos()) > FRAGMENT_LIFETIME_NANOS;
        self.routes.retain(|_, (_, ts)| !old(*ts));
        self.release_held(|held| held.first().is_some_and(|h| old(h.ts)))
    }

    /// Writes the held fragments `which` selects by their addresses alone.
    fn release_held(&mut self, which: impl Fn(&Vec<Held>) -> bool) -> io::Result<()> {
        let mut keys: Vec<DatagramKey> = self
            .held
            .iter()
            .filter(|(_, h)| which(h))
            .map(|(k, _)| *k)
            .collect();
        // In the order they were captured, whatever the map's order.
        keys.sort_by_key(|k| self.held[k].first().map(|h| h.ts));
        for key in keys {
            let shard = self.shard_of(SocketAddr::new(key.src, 0), SocketAddr::new(key.dst, 0));
            for h in self.held.remove(&key).unwrap_or_default() {
                self.held_bytes -= h.data.len();
                self.stats.fragments_unrouted += 1;
                self.write(shard, h.interface, h.linktype, h.ts, &h.data, h.orig_len)?;
            }
        }
        Ok(())
    }

    fn write(
        &mut self,
        shard: usize,
        interface: u32,
        linktype: u16,
        ts: Timestamp,
        data: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        let s = &mut self.shards[shard];
        let id = match s
            .interfaces
            .iter()
            .find(|(k, _)| *k == (interface, linktype))
        {
            Some(&(_, id)) => id,
            None => {
                // Snap length 0: no limit (pcapng §4.2); the frames are
                // already as long as the input kept them.
                let id = s.out.add_interface(linktype, 0, None)?;
                s.interfaces.push(((interface, linktype), id));
                id
            }
        };
        s.out
            .write_packet_truncated(id, nanos(ts), data, orig_len.max(data.len() as u32))?;
        self.stats.packets[shard] += 1;
        self.stats.bytes[shard] += data.len() as u64;
        Ok(())
    }

    /// Writes what still waits, flushes every shard and hands the outputs
    /// back.
    pub fn finish(mut self) -> io::Result<(Vec<W>, ShardStats)> {
        self.release_held(|_| true)?;
        let mut outs = Vec::with_capacity(self.shards.len());
        for mut s in self.shards {
            s.out.flush()?;
            outs.push(s.out.into_inner());
        }
        Ok((outs, self.stats))
    }
}
