//! `--threads N`: one reader, N workers, one collector.
//!
//! Nine tenths of `analyze` is the mail layer (parsers, MIME, hashes), and
//! it is per flow; the reader under it (capture, decode, TCP reassembly) is
//! cheap and needs the whole capture in order. So, as Suricata's `autofp`
//! runmode and a Zeek cluster do, the calling thread keeps the capture
//! reader and the flow table, and hands each flow's reassembled events to
//! one of N workers chosen by a symmetric hash of the flow's endpoints
//! (Suricata's flow hash, Zeek's cluster load balancing: both directions of
//! a connection land on the same worker). The workers own the flows'
//! readers ([`FlowReader`], a [`FlowSession`](super::session::FlowSession)
//! for `analyze`) and send back what each made of its flow; the calling
//! thread collects.
//!
//! * **Same records.** The reader numbers flows in the order they end, as
//!   the one-thread driver hands them on; the collector puts the workers'
//!   results back in that order (then in id order for [`Order::ById`]), so
//!   the caller sees the very sequence one thread gives: message numbers,
//!   `message_path` and `open-relay` (computed by the caller after the last
//!   flow) come out the same.
//! * **Bounded memory.** Events travel in batches (one owned copy of the
//!   bytes per batch, to keep the channel cost per event low) over bounded
//!   queues: the reader waits when a worker is behind. Emptied batches come
//!   back for reuse. What waits in the collector is bounded by what the
//!   queues hold.
//! * **Keys in order.** A key log found inside the capture (pcapng
//!   Decryption Secrets Block) goes to every worker as an event, at its
//!   place among the flows' events, and each worker adds it to its own copy
//!   of the run's key log: a flow sees exactly the secrets it would have
//!   seen with one thread, no lock on the hot path.
//!
//! Nothing here changes one thread: `Driver::run` stays the path of
//! `--threads 1`.

use std::cell::RefCell;
use std::io::Read;
use std::net::SocketAddr;
use std::ops::Range;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use rustc_hash::FxHashMap;

use super::driver::{Driver, FlowReader, FlowStart, Order, RunOptions};
use super::order::InOrder;
use super::pipeline::Observed;
use crate::capture::flow_hash::bucket_of;
use crate::capture::{CaptureError, Timestamp};
use crate::flow::{Direction, FinishedFlow, FlowSummary, Piece, StreamEvent, StreamHandler};
use crate::proto::tls::keylog::KeyLog;

/// A batch is sent once it holds this many bytes of stream…
const BATCH_BYTES: usize = 256 << 10;
/// …or this many events.
const BATCH_EVENTS: usize = 2048;
/// Batches waiting per worker before the reader waits: with
/// [`BATCH_BYTES`], about 1 MiB of stream per worker in flight.
const QUEUE_BATCHES: usize = 4;

/// What the reader tells a worker, in the capture's order.
enum Event {
    /// A new flow: the worker makes its reader.
    Start {
        id: u64,
        client: SocketAddr,
        server: SocketAddr,
    },
    /// [`StreamEvent::Data`], its bytes in the batch's `bytes`.
    Data {
        id: u64,
        dir: Direction,
        offset: u64,
        bytes: Range<usize>,
        packet: u64,
        ts: Timestamp,
    },
    Gap {
        id: u64,
        dir: Direction,
        offset: u64,
        len: u64,
    },
    /// The flow is over; it was the `seq`-th to end.
    End { seq: u64, summary: Box<FlowSummary> },
    /// A TLS key log read from the capture (in the batch's `bytes`).
    Secrets(Range<usize>),
}

/// Events for one worker, and the bytes they carry.
#[derive(Default)]
struct Batch {
    events: Vec<Event>,
    bytes: Vec<u8>,
}

impl Batch {
    fn keep(&mut self, bytes: &[u8]) -> Range<usize> {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(bytes);
        start..self.bytes.len()
    }

    fn is_full(&self) -> bool {
        self.bytes.len() >= BATCH_BYTES || self.events.len() >= BATCH_EVENTS
    }
}

/// The reader's end of the queues: the batch being filled for each worker.
struct Router {
    queues: Vec<SyncSender<Batch>>,
    filling: Vec<Batch>,
    /// Batches the workers emptied.
    spare: Receiver<Batch>,
}

impl Router {
    fn push(&mut self, worker: usize, event: impl FnOnce(&mut Batch) -> Event) {
        let batch = &mut self.filling[worker];
        let event = event(batch);
        batch.events.push(event);
        if batch.is_full() {
            self.send(worker);
        }
    }

    /// The same secrets to every worker, after what each was sent before.
    fn secrets(&mut self, data: &[u8]) {
        for worker in 0..self.filling.len() {
            self.push(worker, |b| Event::Secrets(b.keep(data)));
        }
    }

    fn send(&mut self, worker: usize) {
        let next = self.spare.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut self.filling[worker], next);
        if let Some(queue) = self.queues.get(worker) {
            // Waits while the worker is behind. An error means the worker
            // panicked: the scope reports it once the run is over.
            let _ = queue.send(batch);
        }
    }

    /// Sends what is left and closes the queues: the workers finish.
    fn close(&mut self) {
        for worker in 0..self.filling.len() {
            if !self.filling[worker].events.is_empty() {
                self.send(worker);
            }
        }
        self.queues.clear();
    }
}

/// The flow table's handler on the reader: passes the events on.
struct Forwarder {
    id: u64,
    worker: usize,
    router: Rc<RefCell<Router>>,
}

impl StreamHandler for Forwarder {
    fn on_event(&mut self, dir: Direction, event: StreamEvent<'_>) {
        let id = self.id;
        self.router
            .borrow_mut()
            .push(self.worker, |batch| match event {
                StreamEvent::Data(Piece {
                    offset,
                    bytes,
                    packet,
                    ts,
                }) => Event::Data {
                    id,
                    dir,
                    offset,
                    bytes: batch.keep(bytes),
                    packet,
                    ts,
                },
                StreamEvent::Gap { offset, len } => Event::Gap {
                    id,
                    dir,
                    offset,
                    len,
                },
            });
    }
}

/// What a worker sends back: the flow's end number, id and reader output.
type Done<O> = (u64, u64, Option<O>);

/// One worker: reads the flows it is given, in the order it is given
/// their events.
fn work<F, N>(
    queue: Receiver<Batch>,
    spare: Sender<Batch>,
    done: Sender<Done<F::Output>>,
    keys: Option<KeyLog>,
    new_reader: &N,
) where
    F: FlowReader,
    N: Fn(FlowStart<'_>) -> Option<F>,
{
    let keys = keys.map(|k| Rc::new(RefCell::new(k)));
    let mut readers: FxHashMap<u64, F> = FxHashMap::default();
    for mut batch in queue {
        let bytes = &batch.bytes;
        for event in batch.events.drain(..) {
            match event {
                Event::Start { id, client, server } => {
                    let start = FlowStart {
                        id,
                        client,
                        server,
                        keys: keys.as_ref(),
                    };
                    if let Some(r) = new_reader(start) {
                        readers.insert(id, r);
                    }
                }
                Event::Data {
                    id,
                    dir,
                    offset,
                    bytes: range,
                    packet,
                    ts,
                } => {
                    if let Some(r) = readers.get_mut(&id) {
                        let bytes = &bytes[range];
                        let event = StreamEvent::Data(Piece {
                            offset,
                            bytes,
                            packet,
                            ts,
                        });
                        r.on_event(dir, event);
                    }
                }
                Event::Gap {
                    id,
                    dir,
                    offset,
                    len,
                } => {
                    if let Some(r) = readers.get_mut(&id) {
                        r.on_event(dir, StreamEvent::Gap { offset, len });
                    }
                }
                Event::End { seq, summary } => {
                    let id = summary.id;
                    let output = readers.remove(&id).map(|r| r.finish(*summary));
                    let _ = done.send((seq, id, output));
                }
                Event::Secrets(range) => {
                    if let Some(k) = &keys {
                        k.borrow_mut().add(&bytes[range]);
                    }
                }
            }
        }
        batch.bytes.clear();
        let _ = spare.send(batch);
    }
}

/// Puts the workers' outputs back in the order the flows ended, then in
/// the caller's order.
struct Collector<O> {
    order: Order,
    by_end: InOrder<(u64, Option<O>)>,
    by_id: InOrder<Option<O>>,
}

impl<O> Collector<O> {
    fn new(order: Order) -> Self {
        Collector {
            order,
            by_end: InOrder::new(),
            by_id: InOrder::new(),
        }
    }

    fn push(&mut self, (seq, id, output): Done<O>, on_flow: &mut impl FnMut(O)) {
        let (order, by_id) = (self.order, &mut self.by_id);
        self.by_end.push(seq, (id, output), |(id, o)| {
            release(order, by_id, id, o, on_flow)
        });
    }

    fn drain(mut self, on_flow: &mut impl FnMut(O)) {
        let (order, by_id) = (self.order, &mut self.by_id);
        self.by_end
            .drain(|(id, o)| release(order, by_id, id, o, on_flow));
        self.by_id.drain(|o| o.into_iter().for_each(&mut *on_flow));
    }
}

/// What the one-thread driver does with a finished flow's output.
fn release<O>(
    order: Order,
    by_id: &mut InOrder<Option<O>>,
    id: u64,
    output: Option<O>,
    on_flow: &mut impl FnMut(O),
) {
    match order {
        Order::AsTheyEnd => output.into_iter().for_each(on_flow),
        Order::ById => by_id.push(id, output, |o| o.into_iter().for_each(&mut *on_flow)),
    }
}

/// The workers `--threads` gives by default: the machine's cores.
pub fn machine_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl<R: Read> Driver<R> {
    /// Reads the capture as `options` ask: on `options.threads` workers
    /// when there are several ([`Self::run_parallel`]), else on the calling
    /// thread ([`Driver::run`]). `--flow N` reads on one thread, which stops
    /// once flow N is over.
    pub fn run_on<F, N>(
        &mut self,
        options: &RunOptions,
        new_reader: N,
        on_flow: impl FnMut(F::Output),
        progress: impl FnMut(u64),
        on_packet: impl FnMut(Observed<'_>),
    ) -> Result<(), CaptureError>
    where
        F: FlowReader,
        F::Output: Send,
        N: Fn(FlowStart<'_>) -> Option<F> + Sync,
    {
        if options.threads > 1 && options.only_flow.is_none() {
            let threads = options.threads;
            self.run_parallel(
                threads,
                options.order,
                new_reader,
                on_flow,
                progress,
                on_packet,
            )
        } else {
            self.run(options.order, new_reader, on_flow, progress, on_packet)
        }
    }

    /// [`Driver::run`] with the flows' readers on `threads` workers (see
    /// the module's notes): `new_reader` runs on the workers, `on_flow`,
    /// `progress` and `on_packet` on the calling thread, and `on_flow` sees
    /// the outputs in the order [`Driver::run`] gives them.
    fn run_parallel<F, N>(
        &mut self,
        threads: usize,
        order: Order,
        new_reader: N,
        mut on_flow: impl FnMut(F::Output),
        progress: impl FnMut(u64),
        on_packet: impl FnMut(Observed<'_>),
    ) -> Result<(), CaptureError>
    where
        F: FlowReader,
        F::Output: Send,
        N: Fn(FlowStart<'_>) -> Option<F> + Sync,
    {
        let threads = threads.max(1);
        let (done_tx, done_rx) = mpsc::channel();
        let (spare_tx, spare_rx) = mpsc::channel();
        let (queues, inputs): (Vec<_>, Vec<_>) = (0..threads)
            .map(|_| mpsc::sync_channel(QUEUE_BATCHES))
            .unzip();
        let router = Rc::new(RefCell::new(Router {
            queues,
            filling: (0..threads).map(|_| Batch::default()).collect(),
            spare: spare_rx,
        }));
        let initial_keys = self.keys.as_ref().map(|k| k.borrow().clone());
        if let Some(keys) = self.keys.clone() {
            let router = router.clone();
            self.pipeline.on_tls_key_log(move |data| {
                keys.borrow_mut().add(data);
                router.borrow_mut().secrets(data);
            });
        }
        let new_reader = &new_reader;
        let result = std::thread::scope(|scope| {
            for input in inputs {
                let (done, spare, keys) = (done_tx.clone(), spare_tx.clone(), initial_keys.clone());
                scope.spawn(move || work(input, spare, done, keys, new_reader));
            }
            drop((done_tx, spare_tx));
            let mut collector = Collector::new(order);
            let mut ended = 0u64;
            let result = self.pipeline.run_observed(
                |id, client, server| {
                    let worker = bucket_of(client, server, threads);
                    router
                        .borrow_mut()
                        .push(worker, |_| Event::Start { id, client, server });
                    Forwarder {
                        id,
                        worker,
                        router: router.clone(),
                    }
                },
                |flow: FinishedFlow<Forwarder>| {
                    let (seq, summary) = (ended, Box::new(flow.summary));
                    ended += 1;
                    router
                        .borrow_mut()
                        .push(flow.handler.worker, |_| Event::End { seq, summary });
                    for d in done_rx.try_iter() {
                        collector.push(d, &mut on_flow);
                    }
                },
                progress,
                on_packet,
            );
            router.borrow_mut().close();
            // Every worker ends once its queue is empty and closed.
            for d in done_rx.iter() {
                collector.push(d, &mut on_flow);
            }
            collector.drain(&mut on_flow);
            result
        });
        if let Some(keys) = self.keys.clone() {
            self.pipeline.collect_secrets(keys);
        }
        result
    }
}
