//! `mailscope shard FILE… -n N -o DIR`: the capture (several files,
//! directories, stdin, compressed: read as one, `capture::MergedReader`) split into N pcapng
//! files by the symmetric flow hash (`capture::shard`), for analysing the
//! pieces apart (`spark/mailscope_job.py` runs one task per shard).

use std::cell::RefCell;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::rc::Rc;

use mailscope::capture::MergedReader;
use mailscope::capture::selection::PacketSelection;
use mailscope::capture::shard::{ShardStats, Sharder};

use super::{Failure, json_stdout, output_error, print_warnings, progress};

#[derive(clap::Args, Debug)]
pub(crate) struct ShardArgs {
    #[command(flatten)]
    inputs: super::Captures,
    /// How many shards.
    #[arg(short = 'n', long = "shards", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    shards: u16,
    /// Where the shards go (created if needed): shard-000.pcapng, …
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// A `shards` record in JSON instead of the table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    selection: super::selection::SelectionArgs,
}

/// The name of shard `k` of `n`: numbered with as many digits as the
/// largest needs (at least 3), so that names sort in shard order.
pub fn shard_name(k: usize, n: usize) -> String {
    let width = (n.saturating_sub(1)).to_string().len().max(3);
    format!("shard-{k:0width$}.pcapng")
}

pub fn run(args: &ShardArgs, quiet: bool) -> Result<(), Failure> {
    let selection = args.selection.selection()?;
    let n = args.shards as usize;
    fs::create_dir_all(&args.output)
        .map_err(|e| Failure::input(format!("cannot create {}: {e}", args.output.display())))?;
    let paths: Vec<PathBuf> = (0..n).map(|k| args.output.join(shard_name(k, n))).collect();
    let outputs = paths
        .iter()
        .map(|p| {
            File::create(p)
                .map(|f| BufWriter::with_capacity(1 << 20, f))
                .map_err(|e| Failure::input(format!("cannot write {}: {e}", p.display())))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let write_error = |e: io::Error| Failure::input(format!("cannot write a shard: {e}"));
    let mut sharder = Sharder::new(outputs).map_err(write_error)?;
    let (packets, left_out) = shard_all(&args.inputs, &selection, &mut sharder, quiet)?;
    let (outs, stats) = sharder.finish().map_err(write_error)?;
    for w in outs {
        w.into_inner().map_err(|e| write_error(e.into_error()))?;
    }
    report(args, &paths, &stats, packets, left_out).map_err(output_error)
}

/// A Decryption Secrets Block as read: its type and its bytes.
type Secrets = (u32, Vec<u8>);

/// Reads the inputs, as one capture, into the sharder; returns the frames
/// read and those the selection left out.
fn shard_all(
    inputs: &super::Captures,
    selection: &PacketSelection,
    sharder: &mut Sharder<BufWriter<File>>,
    quiet: bool,
) -> Result<(u64, u64), Failure> {
    let mut reader = MergedReader::open(&inputs.sources()?)?;
    // Secrets blocks are handed over as the reader meets them, before the
    // frame that follows them: write them first.
    let secrets: Rc<RefCell<Vec<Secrets>>> = Rc::default();
    let sink = secrets.clone();
    reader.on_secrets(Box::new(move |kind, data| {
        sink.borrow_mut().push((kind, data.to_vec()))
    }));
    let bar = progress::bar(reader.total_len(), quiet);
    let write_error = |e: io::Error| Failure::input(format!("cannot write a shard: {e}"));
    let everything = selection.is_everything();
    let mut left_out = 0u64;
    let mut count = 0u32;
    while let Some(packet) = reader.next_packet()? {
        for (kind, data) in secrets.borrow_mut().drain(..) {
            sharder.secrets(kind, &data).map_err(write_error)?;
        }
        if everything || selection.admits(&packet) {
            sharder.packet(&packet).map_err(write_error)?;
        } else {
            left_out += 1;
        }
        count = count.wrapping_add(1);
        if count.is_multiple_of(1 << 16)
            && let Some(bar) = &bar
        {
            bar.set_position(reader.progress());
        }
    }
    for (kind, data) in secrets.borrow_mut().drain(..) {
        sharder.secrets(kind, &data).map_err(write_error)?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let warnings: Vec<String> = reader.warnings().iter().map(|w| w.to_string()).collect();
    print_warnings(&warnings, quiet);
    Ok((reader.stats().packets, left_out))
}

fn report(
    args: &ShardArgs,
    paths: &[PathBuf],
    stats: &ShardStats,
    packets: u64,
    left_out: u64,
) -> io::Result<()> {
    let mut out = json_stdout();
    if args.json {
        let record = serde_json::json!({
            "type": "shards",
            "inputs": args.inputs.paths,
            "packets": packets,
            "filtered_out": left_out,
            "files": paths,
            "stats": stats,
        });
        serde_json::to_writer(&mut out, &record).map_err(io::Error::other)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{packets} packets into {} shards ({left_out} left out by the filter; fragments: {} waited for their first, {} placed by address alone)",
            paths.len(),
            stats.fragments_held,
            stats.fragments_unrouted
        )?;
        for (k, p) in paths.iter().enumerate() {
            writeln!(
                out,
                "  {}  {:>10} packets  {:>12} bytes",
                mailscope::trace::text::visible(&p.display().to_string()),
                stats.packets[k],
                stats.bytes[k]
            )?;
        }
    }
    out.flush()
}
