#!/usr/bin/env bash
# Shared by the Java benchmarks (dev.timbre.bench, in the cli module's tests): compiles cli and the modules it
# needs, test classes included, into their own build folder and prints the classpath (cli's test classes and
# classes, then its test-scope class path: the other modules' classes and test classes, and the libraries).
#   source bench/lib.sh; CP="$(bench_classpath target-bench)"
# Java 25 for Maven and the benchmark JVMs (JAVA_HOME if 25+, else the installed Temurin 25)
source "$(dirname "${BASH_SOURCE[0]}")/../infra/java/select-jdk.sh"
bench_classpath() {
  local build_dir="$1"
  echo "building test classes in */$build_dir ..." >&2
  # the class path file is relative to each module: every module of the -am reactor writes its own
  mvn -q -Dtimbre.build.dir="$build_dir" -pl cli -am test-compile dependency:build-classpath \
    -Dmdep.includeScope=test -Dmdep.outputFile="$build_dir/bench.classpath" >&2
  echo "$PWD/cli/$build_dir/test-classes:$PWD/cli/$build_dir/classes:$(cat "cli/$build_dir/bench.classpath")"
}

# JVM flags every Java benchmark runs with: warnings-only logging, offline DJL, one PyTorch thread per converter.
BENCH_JVM_FLAGS=(-Dlogback.configurationFile="$PWD/bench/logback-quiet.xml" -Dai.djl.offline=true
                 -DOPT_OUT_TRACKING=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1)
