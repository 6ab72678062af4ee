//! The recorder: every byte the simulated hosts exchange, written as a
//! pcapng capture without root and without libpcap.
//!
//! The servers of the world wrap each accepted socket in a [`Tapped`]
//! stream. It notes, with the time, every `read()` (bytes the client sent)
//! and every `write()` (bytes the server sent), the end of each direction
//! (FIN) and resets. The DNS server notes each datagram. At the end
//! [`Recorder::write_pcapng`] turns those notes into Ethernet/IPv4/TCP/UDP
//! frames with the packet builder of `capture::builder`: a three-way
//! handshake when the connection was accepted, one segment (or several, at
//! the MSS) per write with correct sequence and acknowledgement numbers,
//! an ACK for each, FIN/ACK at each close, RST when the peer aborted.
//!
//! Because the tap sits *below* TLS, the capture holds what an eavesdropper
//! on the wire would see. Above TLS, the same session is also kept as the
//! *endpoint view* (the plaintext each side read and wrote), which the demo
//! prints as the textbook transcript. The file gets a Name Resolution Block
//! (so Wireshark shows "crepes.fr" instead of 127.0.10.2) and a Decryption
//! Secrets Block with the TLS key log (so Wireshark decrypts the sessions).

use std::io::{self, Write};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::capture::builder::{Conversation, Dir, Frame, udp_frame};
use crate::capture::writer::PcapNgWriter;
use crate::flow::Direction;

/// Time between a synthesized frame and the next when the real writes
/// give no better time: loopback answers within microseconds.
const LOOPBACK_HALF_RTT_NANOS: u64 = 5_000;

/// What happened on one TCP connection, in order.
#[derive(Clone, Debug)]
enum TcpEvent {
    Data {
        ts: u64,
        dir: Direction,
        bytes: Vec<u8>,
    },
    Fin {
        ts: u64,
        dir: Direction,
    },
    Rst {
        ts: u64,
        dir: Direction,
    },
}

/// One recorded TCP connection.
#[derive(Clone, Debug)]
pub struct RecordedConnection {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub opened: u64,
    events: Vec<TcpEvent>,
    /// The plaintext each side handled, above TLS: the endpoint view.
    pub endpoint_view: Vec<ViewEvent>,
}

/// One piece of the endpoint view of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewEvent {
    /// Plaintext read or written by the server.
    Bytes(Direction, Vec<u8>),
    /// TLS started here (STARTTLS accepted, or implicit TLS at the start).
    TlsStarted,
}

#[derive(Default)]
struct State {
    connections: Vec<RecordedConnection>,
    datagrams: Vec<(u64, SocketAddr, SocketAddr, Vec<u8>)>,
    names: Vec<(IpAddr, String)>,
}

/// Shared by all hosts of one world; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    /// `None`: recording is off (a long-running `serve` without `-w`).
    state: Option<Arc<Mutex<State>>>,
    epoch_nanos: u64,
    start: Instant,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder::new()
    }
}

/// Identifies a connection inside the recorder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConnectionId(usize);

impl Recorder {
    pub fn new() -> Recorder {
        let epoch_nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Recorder {
            state: Some(Arc::new(Mutex::new(State::default()))),
            epoch_nanos,
            start: Instant::now(),
        }
    }

    /// A recorder that keeps nothing: servers that run for days must not
    /// hold every byte they ever exchanged.
    pub fn off() -> Recorder {
        Recorder {
            state: None,
            ..Recorder::new()
        }
    }

    /// Wall-clock nanoseconds, from a monotonic clock: the capture's
    /// timestamps never go backwards even if the system clock is changed.
    pub fn now(&self) -> u64 {
        self.epoch_nanos + self.start.elapsed().as_nanos() as u64
    }

    fn with<R: Default>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        match &self.state {
            Some(state) => {
                let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
                f(&mut guard)
            }
            None => R::default(),
        }
    }

    /// Name an address (written to the Name Resolution Block).
    pub fn name_host(&self, addr: IpAddr, name: &str) {
        self.with(|s| {
            if !s.names.iter().any(|(a, n)| *a == addr && n == name) {
                s.names.push((addr, name.to_string()));
            }
        });
    }

    /// A server accepted a connection from `client`.
    pub fn open(&self, client: SocketAddr, server: SocketAddr) -> ConnectionId {
        let opened = self.now();
        self.with(|s| {
            s.connections.push(RecordedConnection {
                client,
                server,
                opened,
                events: Vec::new(),
                endpoint_view: Vec::new(),
            });
            ConnectionId(s.connections.len() - 1)
        })
    }

    fn event(&self, id: ConnectionId, event: TcpEvent) {
        self.with(|s| {
            if let Some(c) = s.connections.get_mut(id.0) {
                c.events.push(event);
            }
        });
    }

    /// Plaintext one side handled above TLS (or in clear).
    pub fn endpoint_bytes(&self, id: ConnectionId, dir: Direction, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.with(|s| {
            if let Some(c) = s.connections.get_mut(id.0) {
                match c.endpoint_view.last_mut() {
                    Some(ViewEvent::Bytes(d, b)) if *d == dir => b.extend_from_slice(bytes),
                    _ => c.endpoint_view.push(ViewEvent::Bytes(dir, bytes.to_vec())),
                }
            }
        });
    }

    /// The connection switched to TLS (STARTTLS or implicit).
    pub fn tls_started(&self, id: ConnectionId) {
        self.with(|s| {
            if let Some(c) = s.connections.get_mut(id.0) {
                c.endpoint_view.push(ViewEvent::TlsStarted);
            }
        });
    }

    /// One UDP datagram (the DNS traffic).
    pub fn datagram(&self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        let ts = self.now();
        self.with(|s| s.datagrams.push((ts, src, dst, payload.to_vec())));
    }

    /// A copy of the connections recorded so far, in the order they opened.
    pub fn connections(&self) -> Vec<RecordedConnection> {
        self.with(|s| s.connections.clone())
    }

    /// The UDP datagrams recorded so far: (time, source, destination, payload).
    pub fn datagrams(&self) -> Vec<(u64, SocketAddr, SocketAddr, Vec<u8>)> {
        self.with(|s| s.datagrams.clone())
    }

    /// Host names given with [`name_host`](Self::name_host).
    pub fn names(&self) -> Vec<(IpAddr, String)> {
        self.with(|s| s.names.clone())
    }

    /// Build every frame, in time order.
    pub fn frames(&self) -> Vec<Frame> {
        let (connections, datagrams) = self.with(|s| (s.connections.clone(), s.datagrams.clone()));
        let mut frames = Vec::new();
        for c in &connections {
            frames.extend(connection_frames(c));
        }
        for (i, (ts, src, dst, payload)) in datagrams.iter().enumerate() {
            frames.push(Frame {
                ts_nanos: *ts,
                data: udp_frame(*src, *dst, 0x4000u16.wrapping_add(i as u16), payload),
            });
        }
        // Stable: frames of one connection keep their order when times tie.
        frames.sort_by_key(|f| f.ts_nanos);
        frames
    }

    /// Write the capture: SHB, NRB with the host names, DSB with the TLS key
    /// log (when there is one), an Ethernet interface, then every frame.
    pub fn write_pcapng(&self, out: impl Write, key_log: &str) -> io::Result<usize> {
        let mut w = PcapNgWriter::new(out)?;
        let names = self.names();
        if !names.is_empty() {
            let entries: Vec<(IpAddr, &str)> =
                names.iter().map(|(a, n)| (*a, n.as_str())).collect();
            w.write_name_resolution(&entries)?;
        }
        if !key_log.is_empty() {
            w.write_decryption_secrets(key_log.as_bytes())?;
        }
        let lo = w.add_interface(
            1,
            262_144,
            Some("mailscope world (synthesized from socket taps)"),
        )?;
        let frames = self.frames();
        for f in &frames {
            w.write_packet(lo, f.ts_nanos, &f.data)?;
        }
        w.flush()?;
        Ok(frames.len())
    }
}

fn dir_of(d: Direction) -> Dir {
    match d {
        Direction::ClientToServer => Dir::ClientToServer,
        Direction::ServerToClient => Dir::ServerToClient,
    }
}

/// Replay one connection's notes through the packet builder. Sequence
/// numbers start from values derived from the ports, as a real stack picks
/// a different ISN per connection (RFC 6528).
fn connection_frames(c: &RecordedConnection) -> Vec<Frame> {
    let isn_c = 0x1000_0000u32 ^ (u32::from(c.client.port()) << 12);
    let isn_s = 0x6000_0000u32 ^ (u32::from(c.server.port()) << 8) ^ u32::from(c.client.port());
    // Loopback's MTU is 65 536, so Linux uses a large MSS there.
    let mut conv = Conversation::new(c.client, c.server, c.opened)
        .isn(isn_c, isn_s)
        .mss(65_483)
        .half_rtt(LOOPBACK_HALF_RTT_NANOS);
    conv.handshake();
    let mut closed = [false; 2];
    for e in &c.events {
        match e {
            TcpEvent::Data { ts, dir, bytes } => {
                if closed[dir.index()] {
                    continue;
                }
                conv.advance_to(*ts);
                conv.send(dir_of(*dir), bytes);
            }
            TcpEvent::Fin { ts, dir } => {
                if !closed[dir.index()] {
                    conv.advance_to(*ts);
                    conv.half_close(dir_of(*dir));
                    closed[dir.index()] = true;
                }
            }
            TcpEvent::Rst { ts, dir } => {
                conv.advance_to(*ts);
                conv.reset(dir_of(*dir));
                break;
            }
        }
    }
    conv.into_frames()
}

/// A server-side socket whose traffic is noted in a [`Recorder`]. Reads are
/// bytes the client sent, writes are bytes the server sent.
pub struct Tapped<S> {
    inner: S,
    recorder: Recorder,
    id: ConnectionId,
    closed: [bool; 2],
}

impl<S> Tapped<S> {
    pub fn new(inner: S, recorder: Recorder, id: ConnectionId) -> Self {
        Tapped {
            inner,
            recorder,
            id,
            closed: [false; 2],
        }
    }

    /// The socket under the tap.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn close(&mut self, dir: Direction) {
        if !self.closed[dir.index()] {
            self.closed[dir.index()] = true;
            let ts = self.recorder.now();
            self.recorder.event(self.id, TcpEvent::Fin { ts, dir });
        }
    }
}

impl<S> Drop for Tapped<S> {
    fn drop(&mut self) {
        // Dropping the socket closes it: the kernel sends our FIN.
        self.close(Direction::ServerToClient);
        self.close(Direction::ClientToServer);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let got = &buf.filled()[before..];
                if got.is_empty() {
                    this.close(Direction::ClientToServer);
                } else {
                    let ts = this.recorder.now();
                    this.recorder.event(
                        this.id,
                        TcpEvent::Data {
                            ts,
                            dir: Direction::ClientToServer,
                            bytes: got.to_vec(),
                        },
                    );
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => {
                if e.kind() == io::ErrorKind::ConnectionReset {
                    let ts = this.recorder.now();
                    this.recorder.event(
                        this.id,
                        TcpEvent::Rst {
                            ts,
                            dir: Direction::ClientToServer,
                        },
                    );
                    this.closed = [true; 2];
                }
                Poll::Ready(Err(e))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r
            && *n > 0
        {
            let ts = this.recorder.now();
            this.recorder.event(
                this.id,
                TcpEvent::Data {
                    ts,
                    dir: Direction::ServerToClient,
                    bytes: buf[..*n].to_vec(),
                },
            );
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        if r.is_ready() {
            self.close(Direction::ServerToClient);
        }
        r
    }
}
