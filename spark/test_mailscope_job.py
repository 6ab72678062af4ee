#!/usr/bin/env python3
"""End-to-end test of spark/mailscope_job.py on a local Spark.

    python3 spark/test_mailscope_job.py [BIN]

BIN (or $MAILSCOPE_BIN; default target/release/mailscope) is the mailscope
binary. For each case the job runs under `spark-submit --master local[2]`
and its Parquet output is compared with what `BIN analyze --json` says
about the same capture analyzed whole, in one process: the sharded,
distributed run must find the same messages, flows, credentials,
transactions, attachments and message paths.

Cases: captures/alice-to-bob-path.pcapng whole (its message crosses
three connections); the same with two more captures (messages seen on one
connection only, and one more path) cut into 4 shards; a synthetic 8 MiB
capture (shared/bench/make-mail-pcap.py) cut into 4 shards.
"""

import collections
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
JOB = os.path.join(HERE, "mailscope_job.py")
LOG4J = os.path.join(HERE, "log4j2.properties")
SHARED = os.environ.get("MAILSCOPE_SHARED", os.path.join(os.path.dirname(REPO), "shared"))

# What `analyze` lists per path (trace::paths::MAX_HOPS); the job lists all.
ANALYZE_MAX_HOPS = 64

RESULTS = {"passed": 0, "failed": 0}


def run(cmd, **kw):
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, **kw)
    if done.returncode != 0:
        sys.stderr.write(done.stdout.decode("utf-8", "replace"))
        sys.stderr.write(done.stderr.decode("utf-8", "replace"))
        raise AssertionError(f"{cmd} exited with {done.returncode}")
    return done.stdout.decode("utf-8")


def whole_records(binary, captures):
    """`analyze --json` of the captures read as one, records grouped by
    type."""
    by_type = collections.defaultdict(list)
    for line in run([binary, "analyze", *captures, "--json"]).splitlines():
        if line.strip():
            record = json.loads(line)
            by_type[record["type"]].append(record)
    return by_type


def spark_submit_path():
    """$SPARK_SUBMIT, else the spark-submit of the installed pyspark (the
    pinned version, whatever else is on PATH)."""
    if os.environ.get("SPARK_SUBMIT"):
        return os.environ["SPARK_SUBMIT"]
    import pyspark
    return os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")


def spark_submit(binary, out, inputs):
    env = dict(os.environ)
    # Loopback only: without this Spark binds the driver to the host's
    # first interface address.
    env["SPARK_LOCAL_IP"] = "127.0.0.1"
    # The executors' Python is this one (it has pyarrow).
    env["PYSPARK_PYTHON"] = sys.executable
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    cmd = [
        spark_submit_path(), "--master", "local[2]",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
        "--conf", "spark.sql.shuffle.partitions=4",
        "--driver-java-options", f"-Dlog4j2.configurationFile=file:{LOG4J}",
        JOB, "--mailscope", binary, "--out", out, *inputs,
    ]
    started = time.monotonic()
    stdout = run(cmd, env=env)
    print(stdout, end="")
    print(f"  (spark-submit took {time.monotonic() - started:.1f} s)")
    return stdout


def read_table(out, name):
    # pyarrow skips Spark's _SUCCESS and hidden .crc files.
    return pq.read_table(os.path.join(out, name))


def path_key(record):
    if record.get("message_id") is not None:
        return ("id", record["message_id"])
    return ("sha256", record["sha256"])


def micros_of_seconds(seconds):
    return round(seconds * 1_000_000)


def micros_of_datetime(ts):
    delta = ts - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def endpoint(ip, port):
    """`ip:port` as the JSON writes a socket address."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def check(name, condition, detail=""):
    if condition:
        RESULTS["passed"] += 1
        print(f"  ok   {name}")
    else:
        RESULTS["failed"] += 1
        print(f"  FAIL {name} {detail}")


def compare(case, binary, captures, inputs, tmp, min_paths, min_lone=0):
    print(f"== {case}")
    whole = whole_records(binary, captures)
    expected_paths = whole["message_path"]
    # The test is void if the capture has no path to follow.
    check(f"{case}: the whole capture has at least {min_paths} message path(s)",
          len(expected_paths) >= min_paths, f"(it has {len(expected_paths)})")
    # Keyed messages seen on one connection only must not become paths:
    # make sure some are there to be left out.
    connections = collections.defaultdict(set)
    for m in whole["message"]:
        if m.get("message_id") is not None or (m["part"] == "full" and m["size"] > 0):
            connections[path_key(m)].add(m["flow_uid"])
    lone = sum(1 for uids in connections.values() if len(uids) == 1)
    check(f"{case}: the whole capture has at least {min_lone} key(s) on one connection only",
          lone >= min_lone, f"(it has {lone})")

    out = os.path.join(tmp, case + "-out")
    stdout = spark_submit(binary, out, inputs)

    # (a) the same messages, as many times each, on the same connections.
    messages = read_table(out, "messages")
    got = collections.Counter(zip(messages.column("sha256").to_pylist(),
                                  messages.column("flow_uid").to_pylist()))
    want = collections.Counter((m["sha256"], m["flow_uid"]) for m in whole["message"])
    check(f"{case}: messages (sha256, flow_uid) multiset, {sum(want.values())} rows",
          got == want, f"(got {sum(got.values())} rows; differing: {list((got - want).items())[:3]} / {list((want - got).items())[:3]})")
    check(f"{case}: messages sha256 multiset",
          collections.Counter(messages.column("sha256").to_pylist())
          == collections.Counter(m["sha256"] for m in whole["message"]))

    # (b) row counts of the other tables.
    expected_counts = {
        "flows": len(whole["flow"]),
        "credentials": len(whole["credential"]),
        "transactions": len(whole["transaction"]),
        "attachments": sum(len(m.get("attachments") or []) for m in whole["message"]),
    }
    for name, want_rows in expected_counts.items():
        got_rows = read_table(out, name).num_rows
        check(f"{case}: {name} has {want_rows} rows", got_rows == want_rows, f"(got {got_rows})")
    flow_uids = read_table(out, "flows").column("flow_uid").to_pylist()
    check(f"{case}: flows' flow_uids are those of the whole",
          sorted(flow_uids) == sorted(f["flow_uid"] for f in whole["flow"]))

    # (c) message paths.
    paths = read_table(out, "message_paths")
    hop_type = paths.schema.field("hops").type.value_type
    check(f"{case}: message_paths columns",
          paths.schema.names == ["message_id", "sha256", "subject", "hops_total", "hops"]
          and paths.schema.field("hops_total").type == pa.int64()
          and [f.name for f in hop_type] == ["flow_uid", "file", "via", "message", "ts",
                                             "client_ip", "client_port", "server_ip", "server_port"]
          and hop_type.field("ts").type == pa.timestamp("us", tz="UTC")
          and hop_type.field("message").type == pa.int64(),
          f"({paths.schema})")
    got_paths = {}
    for row in paths.to_pylist():
        key = ("id", row["message_id"]) if row["message_id"] is not None else ("sha256", row["sha256"])
        got_paths[key] = row
    want_paths = {path_key(p): p for p in expected_paths}
    check(f"{case}: message path keys ({len(want_paths)})",
          set(got_paths) == set(want_paths),
          f"(got {len(got_paths)}; only got: {list(set(got_paths) - set(want_paths))[:3]}; "
          f"only whole: {list(set(want_paths) - set(got_paths))[:3]})")
    bad_total, bad_hops, bad_fields = [], [], []
    for key, want in want_paths.items():
        got = got_paths.get(key)
        if got is None:
            continue
        if got["hops_total"] != want["hops_total"] or len(got["hops"]) != want["hops_total"]:
            bad_total.append((key, got["hops_total"], want["hops_total"]))
        # Same instant on two connections: analyze breaks the tie by its
        # run-local flow id, the job by flow_uid; compare in one order.
        want_hops = sorted(want["hops"], key=lambda h: (micros_of_seconds(h["ts"]), h["flow_uid"]))
        want_uids = [h["flow_uid"] for h in want_hops]
        got_uids = [h["flow_uid"] for h in got["hops"]]
        if want["hops_total"] <= ANALYZE_MAX_HOPS:
            if got_uids != want_uids:
                bad_hops.append((key, got_uids, want_uids))
                continue
            # Each hop's transfer, endpoints and time agree too.
            for g, w in zip(got["hops"], want_hops):
                if (g["via"] != w["via"]
                        or endpoint(g["client_ip"], g["client_port"]) != w["client"]
                        or endpoint(g["server_ip"], g["server_port"]) != w["server"]
                        or abs(micros_of_datetime(g["ts"]) - micros_of_seconds(w["ts"])) > 1):
                    bad_fields.append((key, g, w))
                    break
        else:
            # analyze listed only some hops: they must be among the job's,
            # in the same order.
            remaining = iter(got_uids)
            if not all(any(u == g for g in remaining) for u in want_uids):
                bad_hops.append((key, got_uids, want_uids))
    check(f"{case}: hops_total per path", not bad_total, f"{bad_total[:3]}")
    check(f"{case}: hop flow_uids in time order per path", not bad_hops, f"{bad_hops[:2]}")
    check(f"{case}: hop via, endpoints and time per path", not bad_fields, f"{bad_fields[:2]}")
    check(f"{case}: the job's summary counts the paths",
          f"message_paths{len(want_paths):>12} paths".replace(" ", "") in stdout.replace(" ", ""),
          f"({stdout!r})")
    return want_paths


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
        "MAILSCOPE_BIN", os.path.join(REPO, "target", "release", "mailscope"))
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"no mailscope binary at {binary} (build it: cargo build --release)")
    maker = os.path.join(SHARED, "bench", "make-mail-pcap.py")
    alice = os.path.join(REPO, "captures", "alice-to-bob-path.pcapng")

    tmp = tempfile.mkdtemp(prefix="mailscope-spark-test-")
    try:
        # The alice capture: one message submitted, relayed and retrieved
        # (a path of three hops), whole.
        compare("alice-whole", binary, [alice], [alice], tmp, min_paths=1)
        # The same, beside two captures with messages seen once and one
        # more path, read as one capture and cut into 4 shards.
        mixed = [alice] + [os.path.join(REPO, "captures", name) for name in
                           ("pop3-unterminated.pcapng", "smtp-crepes-hamburger.pcapng")]
        run([binary, "shard", *mixed, "-n", "4", "-o", os.path.join(tmp, "mixed-shards")])
        compare("mixed-shards", binary, mixed, [os.path.join(tmp, "mixed-shards")], tmp,
                min_paths=2, min_lone=2)

        bench = os.path.join(tmp, "bench.pcap")
        run([sys.executable, maker, "--size", "8MiB", "--seed", "3", "--out", bench, "-q"])
        shards = os.path.join(tmp, "shards")
        run([binary, "shard", bench, "-n", "4", "-o", shards])
        check("bench: 4 shards written", len(os.listdir(shards)) == 4, f"{os.listdir(shards)}")
        compare("bench-shards", binary, [bench], [shards], tmp, min_paths=100)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
