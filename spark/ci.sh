#!/usr/bin/env bash
# The Spark job's end-to-end test (spark/README.md). It needs a Java 17
# runtime; on CI it comes from Debian:
#   apt-get install -y openjdk-17-jre-headless
# and pyspark, pyarrow and pandas (mapInArrow refuses to run without
# pandas even though the job never uses it), installed below.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v java >/dev/null 2>&1; then
    for jdk in /usr/lib/jvm/java-17-openjdk-*; do
        [ -x "$jdk/bin/java" ] && export JAVA_HOME="$jdk" PATH="$jdk/bin:$PATH" && break
    done
fi
command -v java >/dev/null || { echo "spark/ci.sh: no Java runtime (apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }

python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    pyspark==4.3.0 pyarrow==26.0.1 pandas==2.3.3 numpy==2.4.6

# The binary under test: MAILSCOPE_BIN when set (CI passes the one
# `cargo test --release` built), else the release build, made here.
bin="${MAILSCOPE_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=target/release/mailscope
fi

python3 spark/test_mailscope_job.py "$bin"
