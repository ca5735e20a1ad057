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
# XChart draws the PNG charts (bench/Charts.java); for PNG it needs none of its dependencies (those are for PDF, SVG
# and GIF). dependency:copy copies that one jar from ~/.m2, fetching it once, so later runs need no network.
xchart=target/bench-lib/xchart-3.8.8.jar
[ -f "$xchart" ] || mvn -B -q dependency:copy -Dartifact=org.knowm.xchart:xchart:3.8.8 \
  -DoutputDirectory=target/bench-lib
cp="target/cvm-manager.jar:target/test-classes:$xchart"
javac -d "$out" -cp "$cp" bench/Bench.java bench/Charts.java
java -Djava.awt.headless=true ${BENCH_OPTS:-} -cp "$cp:$out" Bench
