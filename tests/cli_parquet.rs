//! `analyze --format parquet -o DIR` (issue 19, "Columnar output"): the six
//! tables hold exactly the records of `analyze --json`, row for row and
//! column for column, on every capture of the corpus, a busy capture that
//! fills several record batches, and several inputs read together (each
//! row names its file). The files are read back with the parquet crate's
//! own Arrow reader, not with the code that wrote them.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMicrosecondType};
use arrow_array::{Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use common::busy::busy_capture;
use common::{all_captures, json_lines, mailscope, stderr, temp_dir};
use mailscope::report::columnar::TABLES;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value, json};

/// Every row of `DIR/<table>.parquet`, as JSON objects keyed by column.
/// Timestamps become `{"us": N}` so the comparison can allow for the
/// JSON's float seconds.
fn parquet_rows(dir: &Path, table: &str) -> Vec<Map<String, Value>> {
    let path = dir.join(format!("{table}.parquet"));
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.unwrap();
        for i in 0..batch.num_rows() {
            let mut row = Map::new();
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                row.insert(field.name().clone(), cell(column.as_ref(), i));
            }
            rows.push(row);
        }
    }
    rows
}

fn cell(column: &dyn Array, i: usize) -> Value {
    if column.is_null(i) {
        return Value::Null;
    }
    match column.data_type() {
        DataType::Utf8 => json!(column.as_string::<i32>().value(i)),
        DataType::Int64 => json!(column.as_primitive::<Int64Type>().value(i)),
        DataType::Int32 => json!(column.as_primitive::<Int32Type>().value(i)),
        DataType::Boolean => json!(column.as_boolean().value(i)),
        DataType::Float64 => {
            let f = column.as_any().downcast_ref::<Float64Array>().unwrap();
            json!(f.value(i))
        }
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) => {
            assert_eq!(tz.as_ref(), "UTC");
            json!({"us": column.as_primitive::<TimestampMicrosecondType>().value(i)})
        }
        DataType::List(_) => {
            let items = column.as_list::<i32>().value(i);
            Value::Array((0..items.len()).map(|j| cell(items.as_ref(), j)).collect())
        }
        DataType::Struct(fields) => {
            let s = column.as_struct();
            let mut out = Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                out.insert(f.name().clone(), cell(c.as_ref(), i));
            }
            Value::Object(out)
        }
        other => panic!("unexpected column type {other:?}"),
    }
}

/// Splits an `ip:port` (or `[v6]:port`) endpoint into two columns.
fn endpoint(row: &mut Map<String, Value>, side: &str, addr: &Value) {
    let addr: std::net::SocketAddr = addr.as_str().unwrap().parse().unwrap();
    row.insert(format!("{side}_ip"), json!(addr.ip().to_string()));
    row.insert(format!("{side}_port"), json!(addr.port()));
}

fn endpoints_of(row: &mut Map<String, Value>, flow: Option<&Value>) {
    let (c, s) = match flow {
        Some(f) => (f["client"].clone(), f["server"].clone()),
        None => panic!("a record before its flow"),
    };
    endpoint(row, "client", &c);
    endpoint(row, "server", &s);
}

/// What each table should hold, built from the JSON records by the
/// documented mapping (README, "Columnar output").
fn expected_rows(
    records: &[Value],
    only_file: Option<&str>,
) -> BTreeMap<&'static str, Vec<Map<String, Value>>> {
    let mut tables: BTreeMap<&'static str, Vec<Map<String, Value>>> =
        TABLES.iter().map(|t| (*t, Vec::new())).collect();
    let mut flows: BTreeMap<u64, Value> = BTreeMap::new();
    let mut capture_findings = Vec::new();
    let mut message_index = 0i64;
    let file_of = |flows: &BTreeMap<u64, Value>, id: &Value| -> Value {
        id.as_u64()
            .and_then(|id| flows.get(&id))
            .and_then(|f| f.get("file").cloned())
            .or_else(|| only_file.map(|f| json!(f)))
            .unwrap_or(Value::Null)
    };
    for r in records {
        let mut row = r.as_object().unwrap().clone();
        let kind = row.remove("type").unwrap();
        match kind.as_str().unwrap() {
            "flow" => {
                flows.insert(r["id"].as_u64().unwrap(), r.clone());
                let id = row.remove("id").unwrap();
                row.insert("flow".into(), id);
                row.insert("file".into(), file_of(&flows, &r["id"]));
                endpoint(&mut row, "client", &r["client"]);
                endpoint(&mut row, "server", &r["server"]);
                row.remove("client");
                row.remove("server");
                if let Some(t) = row.remove("tunnel") {
                    row.insert("tunnel".into(), t["kind"].clone());
                    row.insert("tunnel_host".into(), t["host"].clone());
                    row.insert("tunnel_port".into(), t["port"].clone());
                    row.insert(
                        "tunnel_user".into(),
                        t.get("user").cloned().unwrap_or_default(),
                    );
                }
                row.entry("capabilities").or_insert(json!([]));
                if let Some(t) = row.remove("tls_info") {
                    row.insert("tls_version".into(), t["version"].clone());
                    row.insert("tls_sni".into(), t["sni"].clone());
                    row.insert("tls_cipher".into(), t["cipher"].clone());
                    row.insert("tls_alpn".into(), t["alpn"].clone());
                }
                tables.get_mut("flows").unwrap().push(row);
            }
            "message" => {
                let flow = flows.get(&r["flow"].as_u64().unwrap());
                row.insert("message".into(), json!(message_index));
                row.insert("file".into(), file_of(&flows, &r["flow"]));
                endpoints_of(&mut row, flow);
                let attachments = row.remove("attachments").unwrap();
                let attachments = attachments.as_array().unwrap();
                row.insert("attachments".into(), json!(attachments.len()));
                for (k, a) in attachments.iter().enumerate() {
                    let mut a = a.as_object().unwrap().clone();
                    a.insert("message".into(), json!(message_index));
                    a.insert("flow".into(), r["flow"].clone());
                    a.insert("flow_uid".into(), r["flow_uid"].clone());
                    a.insert("file".into(), file_of(&flows, &r["flow"]));
                    a.insert("message_sha256".into(), r["sha256"].clone());
                    a.insert("attachment".into(), json!(k));
                    tables.get_mut("attachments").unwrap().push(a);
                }
                message_index += 1;
                tables.get_mut("messages").unwrap().push(row);
            }
            table @ ("credential" | "transaction") => {
                let flow = flows.get(&r["flow"].as_u64().unwrap());
                row.insert("file".into(), file_of(&flows, &r["flow"]));
                endpoints_of(&mut row, flow);
                let name = if table == "credential" {
                    "credentials"
                } else {
                    "transactions"
                };
                tables.get_mut(name).unwrap().push(row);
            }
            "finding" => {
                row.insert("file".into(), file_of(&flows, &r["flow"]));
                if r["flow"].is_null() {
                    // Written last in the table (they come with the capture
                    // record, which is complete only at the end).
                    capture_findings.push(row);
                } else {
                    tables.get_mut("findings").unwrap().push(row);
                }
            }
            "capture" | "message_path" => {}
            other => panic!("unknown record type {other}"),
        }
    }
    tables.get_mut("findings").unwrap().extend(capture_findings);
    tables
}

/// Columns the JSON does not have (or keeps elsewhere): they must be
/// there, and are checked by the mapping above or not at all.
fn compare(what: &str, table: &str, got: &[Map<String, Value>], want: &[Map<String, Value>]) {
    assert_eq!(got.len(), want.len(), "{what}: {table}: rows");
    for (n, (g, w)) in got.iter().zip(want).enumerate() {
        for (column, value) in g {
            let expected = w.get(column).cloned().unwrap_or(Value::Null);
            let same = match (value, &expected) {
                // Float seconds in the JSON, microseconds here: equal to
                // within the float's precision.
                (Value::Object(ts), Value::Number(secs)) if ts.contains_key("us") => {
                    let us = ts["us"].as_i64().unwrap() as f64;
                    (us - secs.as_f64().unwrap() * 1e6).abs() <= 1.0
                }
                (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (a, b) => a == b,
            };
            assert!(
                same,
                "{what}: {table} row {n} column {column}: parquet {value}, json {expected}"
            );
        }
        // Every key of the JSON record has a column (except the TLS
        // record counters, which the flows table leaves out).
        for key in w.keys() {
            assert!(g.contains_key(key), "{what}: {table}: no column for {key}");
        }
    }
}

/// Runs both outputs over `inputs` and compares every table.
fn check(what: &str, inputs: &[&str], dir: &Path) -> [usize; 6] {
    let mut args = vec!["analyze", "--json"];
    args.extend(inputs);
    let records = json_lines(&args);
    let out_dir = dir.to_str().unwrap();
    let mut args = vec!["--quiet", "analyze", "--format", "parquet", "-o", out_dir];
    args.extend(inputs);
    let out = mailscope(&args);
    assert!(out.status.success(), "{what}: {}", stderr(&out));
    let only_file = match inputs {
        [one] => Some(*one),
        _ => None,
    };
    let want = expected_rows(&records, only_file);
    let mut counts = [0; 6];
    for (k, table) in TABLES.iter().enumerate() {
        let got = parquet_rows(dir, table);
        compare(what, table, &got, &want[table]);
        counts[k] = got.len();
    }
    counts
}

#[test]
fn every_capture_gives_the_json_records_as_rows() {
    let dir = temp_dir("parquet-corpus");
    let mut totals = [0usize; 6];
    for capture in all_captures() {
        let path = capture.to_str().unwrap();
        let counts = check(path, &[path], &dir.join("out"));
        for (t, n) in totals.iter_mut().zip(counts) {
            *t += n;
        }
    }
    // The corpus has rows in every table (else the comparison above
    // proved nothing for that table).
    for (table, n) in TABLES.iter().zip(totals) {
        assert!(n > 0, "no {table} rows in the whole corpus");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_busy_capture_fills_several_batches() {
    let dir = temp_dir("parquet-busy");
    let busy = dir.join("busy.pcapng");
    // More flows than one record batch (8192 rows) holds.
    busy_capture(&busy, 9000, 1 << 10);
    let counts = check("busy", &[busy.to_str().unwrap()], &dir.join("out"));
    assert_eq!(counts[0], 9000, "flows");
    assert!(counts[1] >= 9000, "messages: {}", counts[1]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn several_inputs_name_their_file_on_every_row() {
    let dir = temp_dir("parquet-inputs");
    let inputs = ["captures/pop3-bob.pcapng", "captures/imap-bob.pcapng"];
    check("two inputs", &inputs, &dir.join("out"));
    for table in ["flows", "messages", "credentials"] {
        let rows = parquet_rows(&dir.join("out"), table);
        let files: std::collections::BTreeSet<&str> =
            rows.iter().map(|r| r["file"].as_str().unwrap()).collect();
        assert_eq!(files, inputs.into_iter().collect(), "{table}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_and_unwritable_directories() {
    let dir = temp_dir("parquet-errors");
    let capture = "captures/pop3-bob.pcapng";
    for args in [
        vec!["analyze", "--format", "parquet", capture],
        vec!["analyze", "--json", "-o", "x", capture],
        vec!["analyze", "--json", "--format", "text", capture],
        vec!["analyze", "-o", "x", capture],
    ] {
        let out = mailscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
    // -o names a file, not a directory: a clear error, no panic.
    let file = dir.join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let out = mailscope(&[
        "analyze",
        "--format",
        "parquet",
        "-o",
        file.to_str().unwrap(),
        capture,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
    let _ = std::fs::remove_dir_all(&dir);
}
