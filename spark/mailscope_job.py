#!/usr/bin/env python3
"""mailscope on a Spark cluster.

    spark-submit [--master URL] spark/mailscope_job.py --mailscope BIN --out DIR INPUT...

Each input (a pcap/pcapng file, typically a shard written by
`mailscope shard`; a directory stands for the files in it) is analyzed by
the mailscope binary on an executor, as `BIN analyze PATH --format parquet`.
The six tables of every run are gathered into Parquet datasets under
DIR/<table>/, and the paths of messages seen on several connections, which
no single shard can see whole, are computed with a join across all of them
into DIR/message_paths/. See spark/README.md.
"""

import argparse
import os
import shutil
import stat
import subprocess
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

# The files `analyze --format parquet -o DIR` always writes (maybe with no
# rows), in the binary's order.
TABLES = ("flows", "messages", "attachments", "credentials", "findings", "transactions")

# One cell of stage 1's `data` column holds at most about this much
# uncompressed Arrow data: Spark keeps a binary value in one byte array
# (under 2 GiB) and a whole Arrow batch of the column under 2 GiB of
# 32-bit offsets, so a big shard's table is cut into several cells.
CHUNK_BYTES = 64 << 20

# Stage 1's rows: one piece of one table of one input.
STAGE1_SCHEMA = (
    "input string, table string, schema binary, rows long, data binary"
)


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="mailscope_job.py",
        description="Run `mailscope analyze` over many captures on Spark "
        "executors and gather its Parquet tables and the message paths "
        "across them.",
    )
    p.add_argument("--mailscope", required=True, metavar="BIN",
                   help="the mailscope binary (shipped to the executors "
                   "with addFile unless --no-ship)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output directory: DIR/<table>/ and "
                   "DIR/message_paths/ (overwritten)")
    p.add_argument("--no-ship", action="store_true",
                   help="do not ship BIN: it is already at that path on "
                   "every node")
    p.add_argument("--partitions", type=int, default=0, metavar="N",
                   help="tasks for the analysis (default: one per input)")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="capture files, or directories of them; every "
                   "executor must be able to read these paths")
    return p.parse_args(argv)


def expand_inputs(inputs):
    """Absolute paths of the input files, in the order given.

    Directories are expanded here, on the driver, to the regular files
    directly in them (sorted; hidden files skipped): a shard directory is
    flat. Paths are made absolute because an executor's working directory
    is not the driver's.
    """
    out = []
    for given in inputs:
        path = os.path.abspath(given)
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if not n.startswith("."))
            files = [os.path.join(path, n) for n in names
                     if os.path.isfile(os.path.join(path, n))]
            if not files:
                raise SystemExit(f"mailscope_job: no files in directory {given}")
            out.extend(files)
        elif os.path.isfile(path):
            out.append(path)
        else:
            raise SystemExit(f"mailscope_job: no such file or directory: {given}")
    # The same file named twice would be analyzed twice and every one of its
    # messages would then look like a two-hop path of itself.
    seen = set()
    unique = []
    for path in out:
        if path not in seen:
            seen.add(path)
            unique.append(path)
    return unique


# ---------------------------------------------------------------------------
# Arrow types Spark's JVM side accepts

def spark_safe_type(t):
    """The type a column of type `t` is carried as.

    Spark's Arrow reader takes microsecond timestamps only, no unsigned
    integers, and (by default) neither large nor view variants of strings,
    binaries and lists. The binary already writes Spark-friendly types;
    this only guards against a reader or a writer choosing another
    encoding of the same values.
    """
    types = pa.types
    if types.is_timestamp(t):
        # Naive capture times are UTC in mailscope; a zone only changes how
        # the same instant is shown.
        return pa.timestamp("us", tz="UTC")
    if types.is_uint8(t):
        return pa.int16()
    if types.is_uint16(t):
        return pa.int32()
    if types.is_uint32(t) or types.is_uint64(t):
        # uint64 values above 2^63 make the (safe) cast fail loudly rather
        # than wrap around.
        return pa.int64()
    if types.is_float16(t):
        return pa.float32()
    if types.is_date64(t):
        return pa.date32()
    if types.is_duration(t):
        return pa.duration("us")
    if types.is_large_string(t) or types.is_string_view(t):
        return pa.string()
    if types.is_large_binary(t) or types.is_binary_view(t) or types.is_fixed_size_binary(t):
        return pa.binary()
    if types.is_dictionary(t):
        return spark_safe_type(t.value_type)
    if (types.is_list(t) or types.is_large_list(t) or types.is_fixed_size_list(t)
            or types.is_list_view(t) or types.is_large_list_view(t)):
        return pa.list_(pa.field(t.value_field.name, spark_safe_type(t.value_type), True))
    if types.is_map(t):
        return pa.map_(spark_safe_type(t.key_type),
                       pa.field(t.item_field.name, spark_safe_type(t.item_type), True))
    if types.is_struct(t):
        return pa.struct([pa.field(f.name, spark_safe_type(f.type), True) for f in t])
    return t


def spark_safe_schema(schema):
    # Every column nullable: Spark reads every Parquet column back as
    # nullable anyway, and the same table from two runs must not disagree
    # on it.
    return pa.schema([pa.field(f.name, spark_safe_type(f.type), True) for f in schema])


def conform(batch, schema):
    """`batch` with exactly the columns of `schema`, in its order and types
    (a column missing from the batch is all nulls)."""
    columns = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            columns.append(pa.nulls(batch.num_rows, field.type))
            continue
        column = batch.column(index)
        if not column.type.equals(field.type):
            column = column.cast(field.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


# ---------------------------------------------------------------------------
# Stage 1: run the binary on each input (on the executors)

def resolve_binary(shipped_name, given_path):
    """The binary's path on this executor: the copy Spark fetched with
    addFile, else the same path as on the driver."""
    from pyspark import SparkFiles
    candidates = [SparkFiles.get(shipped_name), given_path]
    for path in candidates:
        if not os.path.isfile(path):
            continue
        if not os.access(path, os.X_OK):
            # A file fetched by Spark may lose its execute bit on the way.
            try:
                os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            except OSError:
                pass
        if os.access(path, os.X_OK):
            return path
    raise RuntimeError(f"mailscope binary not found or not executable on this node; tried {candidates}")


def ipc_bytes(schema, batches):
    """An Arrow IPC stream of `batches` (zstd-compressed when pyarrow has
    it: this is what stage 1 keeps persisted)."""
    options = pa.ipc.IpcWriteOptions(
        compression="zstd" if pa.Codec.is_available("zstd") else None)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def table_pieces(input_path, name, table):
    """Stage 1 rows for one table of one input: at least one (an empty
    table still tells its schema), more when the table is big."""
    schema = spark_safe_schema(table.schema)
    table = table.cast(schema) if not table.schema.equals(schema) else table
    schema_bytes = schema.serialize().to_pybytes()
    n = table.num_rows
    if n == 0:
        yield (input_path, name, schema_bytes, 0, ipc_bytes(schema, []))
        return
    per_piece = max(1, (n * CHUNK_BYTES) // max(1, table.nbytes))
    for start in range(0, n, per_piece):
        piece = table.slice(start, per_piece)
        yield (input_path, name, schema_bytes, piece.num_rows,
               ipc_bytes(schema, piece.combine_chunks().to_batches()))


def analyze_one(binary, input_path):
    """Runs the binary on one input in a fresh temporary directory and
    yields its stage 1 rows."""
    tmp = tempfile.mkdtemp(prefix="mailscope-")
    try:
        cmd = [binary, "analyze", input_path, "--format", "parquet",
               "-o", tmp, "--threads", "1", "--quiet"]
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace")[-2000:]
            raise RuntimeError(
                f"{' '.join(cmd)} exited with {done.returncode}: {tail}")
        for name in TABLES:
            path = os.path.join(tmp, name + ".parquet")
            if not os.path.isfile(path):
                raise RuntimeError(f"mailscope analyze wrote no {name}.parquet for {input_path}")
            # Read fully before the directory goes away.
            table = pq.read_table(path)
            table = table.replace_schema_metadata(None)
            yield from table_pieces(input_path, name, table)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def make_stage1(shipped_name, given_path):
    def run(batches):
        binary = resolve_binary(shipped_name, given_path)
        for batch in batches:
            for input_path in batch.column("path").to_pylist():
                for row in analyze_one(binary, input_path):
                    # One row a batch: a batch's binary column stays small.
                    yield pa.RecordBatch.from_arrays(
                        [pa.array([row[0]], pa.string()),
                         pa.array([row[1]], pa.string()),
                         pa.array([row[2]], pa.binary()),
                         pa.array([row[3]], pa.int64()),
                         pa.array([row[4]], pa.binary())],
                        names=["input", "table", "schema", "rows", "data"])
    return run


# ---------------------------------------------------------------------------
# Stage 2: one table's pieces back to rows

def make_decoder(schema_bytes):
    def decode(batches):
        schema = pa.ipc.read_schema(pa.py_buffer(schema_bytes))
        for batch in batches:
            for data in batch.column("data").to_pylist():
                with pa.ipc.open_stream(pa.py_buffer(data)) as reader:
                    for piece in reader:
                        if piece.num_rows:
                            yield conform(piece, schema)
    return decode


def table_schema(name, schemas):
    """One Arrow schema for a table from the schemas its runs reported.

    They are normally identical; if runs of different binary versions
    were mixed, columns are unified by name (a column only some runs have
    is null in the others), and types that cannot be unified stop the job.
    """
    decoded = [pa.ipc.read_schema(pa.py_buffer(b)) for b in schemas]
    if len(decoded) == 1:
        return decoded[0]
    try:
        merged = pa.unify_schemas(decoded, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise SystemExit(f"mailscope_job: the runs disagree on table {name}'s columns: {e}")
    return spark_safe_schema(merged)


# ---------------------------------------------------------------------------
# Message paths across all inputs

HOP_FIELDS = ("flow_uid", "file", "via", "message", "ts",
              "client_ip", "client_port", "server_ip", "server_port")


def message_paths(messages):
    """The message_path rows of all the messages, wherever they were seen.

    Same definition as `analyze`'s message_path records: a message's key
    is its Message-ID, else, for a whole non-empty message, its SHA-256;
    a path is every message row with the key, and it is kept when those
    rows lie on at least two connections (flow_uid: the same connection
    has the same uid in every shard). Unlike `analyze`, every hop is
    listed (it lists the first 64).
    """
    from pyspark.sql import functions as F

    keyed = (
        messages
        .withColumn("key_id", F.col("message_id"))
        .withColumn("key_sha", F.when(
            F.col("message_id").isNull() & (F.col("part") == "full") & (F.col("size") > 0),
            F.col("sha256")))
        .where(F.col("key_id").isNotNull() | F.col("key_sha").isNotNull())
        # One join column: "i" + Message-ID or "s" + hash, so a Message-ID
        # that happens to look like a hash is never the same key.
        .withColumn("key", F.when(F.col("key_id").isNotNull(), F.concat(F.lit("i"), F.col("key_id")))
                    .otherwise(F.concat(F.lit("s"), F.col("key_sha"))))
    )
    multi = (
        keyed.groupBy("key")
        .agg(F.countDistinct("flow_uid").alias("connections"))
        .where(F.col("connections") >= 2)
        .select("key")
    )
    # The sort key leads the struct (sort_array orders structs field by
    # field): hops in time order, then by connection and message index.
    hop = F.struct(
        F.col("ts"), F.col("flow_uid"), F.col("message"),
        *[F.col(c) for c in HOP_FIELDS if c not in ("ts", "flow_uid", "message")],
        F.col("subject"),
    )
    grouped = (
        keyed.join(multi, "key")
        .groupBy("key")
        .agg(
            F.first("key_id", ignorenulls=True).alias("message_id"),
            F.first("key_sha", ignorenulls=True).alias("sha256"),
            F.count(F.lit(1)).cast("long").alias("hops_total"),
            F.sort_array(F.collect_list(hop)).alias("sorted"),
        )
    )
    return (
        grouped.select(
            F.col("message_id"),
            F.when(F.col("message_id").isNull(), F.col("sha256")).alias("sha256"),
            F.element_at("sorted", 1)["subject"].alias("subject"),
            F.col("hops_total"),
            F.transform("sorted", lambda h: F.struct(
                *[h[c].alias(c) for c in HOP_FIELDS])).alias("hops"),
        )
        # Paths in the order of their first hop, like analyze's records.
        .orderBy(F.col("hops")[0]["ts"], F.col("hops")[0]["flow_uid"],
                 F.col("hops")[0]["message"])
    )


# ---------------------------------------------------------------------------

def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    inputs = expand_inputs(args.inputs)

    from pyspark import StorageLevel
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    spark = SparkSession.builder.appName("mailscope").getOrCreate()
    sc = spark.sparkContext
    sc.setLogLevel("WARN")
    # Timestamps are instants; UTC keeps Spark from shifting them anywhere.
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # Spark writes INT96 timestamps by default; standard readers (pyarrow,
    # DuckDB, Polars) expect the binary's own TIMESTAMP(MICROS, UTC).
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")

    # Tasks look for the binary among the files Spark fetched (addFile
    # here, or spark-submit --files) by its base name, then at BIN itself.
    shipped_name = os.path.basename(args.mailscope)
    given_path = args.mailscope
    if not args.no_ship:
        given_path = os.path.abspath(args.mailscope)
        if not (os.path.isfile(given_path) and os.access(given_path, os.X_OK)):
            raise SystemExit(f"mailscope_job: not an executable file: {args.mailscope}")
        sc.addFile(given_path)

    # One row per input and, by default, one partition per row: parallelize
    # slices a list evenly, so each task gets exactly one input, whereas a
    # hash or round-robin repartition of a few rows can put two in one task
    # and leave another task empty.
    tasks = args.partitions if args.partitions > 0 else len(inputs)
    paths = spark.createDataFrame(
        sc.parallelize([(p,) for p in inputs], min(tasks, len(inputs))), "path string")

    stage1 = paths.mapInArrow(make_stage1(shipped_name, given_path), STAGE1_SCHEMA)
    # Kept so that the binary runs once per input although every table's
    # stage 2 reads stage 1.
    stage1 = stage1.persist(StorageLevel.MEMORY_AND_DISK)

    info = (stage1.groupBy("table", "schema")
            .agg(F.sum("rows").alias("rows")).collect())
    schemas = {}
    rows = {name: 0 for name in TABLES}
    for r in info:
        schemas.setdefault(r["table"], []).append(bytes(r["schema"]))
        rows[r["table"]] += r["rows"]
    missing = [name for name in TABLES if name not in schemas]
    if missing:
        raise SystemExit(f"mailscope_job: no schema for tables {missing}")

    out = os.path.abspath(args.out)
    for name in TABLES:
        arrow_schema = table_schema(name, schemas[name])
        spark_schema = from_arrow_schema(arrow_schema, prefer_timestamp_ntz=False)
        decoded = (stage1.where(F.col("table") == name).select("data")
                   .mapInArrow(make_decoder(arrow_schema.serialize().to_pybytes()),
                               spark_schema))
        decoded.write.mode("overwrite").parquet(os.path.join(out, name))

    # Read back what was written: the paths are computed from exactly the
    # rows in DIR/messages, and stage 1 is no longer needed.
    stage1.unpersist()
    messages = spark.read.parquet(os.path.join(out, "messages"))
    for column in ("message_id", "part", "size", "sha256", "flow_uid", "ts", "subject"):
        if column not in messages.columns:
            raise SystemExit(f"mailscope_job: messages has no column {column}")
    paths_df = message_paths(messages)
    paths_df.write.mode("overwrite").parquet(os.path.join(out, "message_paths"))
    n_paths = spark.read.parquet(os.path.join(out, "message_paths")).count()

    print(f"mailscope_job: {len(inputs)} input(s) in {min(tasks, len(inputs))} task(s) -> {out}")
    for name in TABLES:
        print(f"  {name:<14}{rows[name]:>12} rows")
    print(f"  {'message_paths':<14}{n_paths:>12} paths")
    spark.stop()


if __name__ == "__main__":
    main()
