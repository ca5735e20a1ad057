#!/usr/bin/env bash
# Runs the benchmark (bench/README.md): builds the jar and the dev guest if needed, compiles Bench.java against
# the jar, and runs it. Options as Java properties: BENCH_OPTS="-Dbench.runs=20 -Dbench.concurrent=100".
set -euo pipefail
cd "$(dirname "$0")/.."
# The soak's sampler is a test class (testing/Soak.java, shared with it/SoakIT): package compiles the tests too.
[ -f target/cvm-manager.jar ] && [ -d target/test-classes ] || mvn -B -q package -DskipTests
bash deploy/guest/build.sh >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
javac -d "$out" -cp target/cvm-manager.jar:target/test-classes bench/Bench.java
java ${BENCH_OPTS:-} -cp "target/cvm-manager.jar:target/test-classes:$out" Bench
