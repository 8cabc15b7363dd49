#!/usr/bin/env bash
# Shared by the Java benchmarks: compiles functions' test classes into its own build folder and prints the
# classpath (test classes, classes, test-scope dependencies; the dependency list is cached until a pom changes).
#   source bench/lib.sh; CP="$(bench_classpath target-bench)"
bench_classpath() {
  local build_dir="$1"
  echo "building test classes in functions/$build_dir ..." >&2
  mvn -q -Dtimbre.build.dir="$build_dir" -pl functions -am test-compile >&2
  local cp_file="functions/$build_dir/bench.classpath"
  if [ ! -s "$cp_file" ] || [ functions/pom.xml -nt "$cp_file" ] || [ pom.xml -nt "$cp_file" ]; then
    # -am and test-compile in the same run: functions' tests take test-support (ChildJvm) from the reactor, which
    # resolves only for modules built in this run; functions comes last, so the file ends up holding its class path
    mvn -q -Dtimbre.build.dir="$build_dir" -pl functions -am test-compile dependency:build-classpath \
      -Dmdep.includeScope=test -Dmdep.outputFile="$PWD/$cp_file" >&2
  fi
  echo "$PWD/functions/$build_dir/test-classes:$PWD/functions/$build_dir/classes:$(cat "$cp_file")"
}

# JVM flags every Java benchmark runs with: warnings-only logging, offline DJL, one PyTorch thread per converter.
BENCH_JVM_FLAGS=(-Dlogback.configurationFile="$PWD/bench/logback-quiet.xml" -Dai.djl.offline=true
                 -DOPT_OUT_TRACKING=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1)
