#!/usr/bin/env bash
# The demo as a benchmark: N synthetic clips of S seconds through the whole local pipeline
# (embedded S3/SQS/Postgres, local event-source mapping, the real Lambda handler), and the jobs/s the demo
# reports, written to docs/benchmarks.md between the demo markers.
#   bench/demo.sh                 # 50 clips of 10 s
#   CLIPS=20 SECONDS_PER_CLIP=3 bench/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/java/select-jdk.sh
CLIPS="${CLIPS:-50}"
SECS="${SECONDS_PER_CLIP:-10}"
COMMAND="bench/demo.sh (./timbre demo --clips $CLIPS --seconds $SECS)"
LOAD="$(cut -d' ' -f1-3 /proc/loadavg)"
OUT="$(mktemp)"
start=$(date +%s.%N)
./timbre demo --clips "$CLIPS" --seconds "$SECS" --timeout 1800 --data-dir "$(mktemp -d)" | tee "$OUT"
end=$(date +%s.%N)
LINE="$(grep '^throughput:' "$OUT")"
READY="$(grep '^ready in' "$OUT" | sed 's/ (logs.*//')"
CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
python3 - "$LINE" "$READY" "$CLIPS" "$SECS" "$LOAD" "$CPU" "$COMMAND" "$start" "$end" <<'PY'
import re, sys, datetime
line, ready, clips, secs, load, cpu, command, start, end = sys.argv[1:]
m = re.search(r'(\d+) jobs completed in ([\d.]+) s = ([\d.]+) jobs/s \((\d+) worker threads, (\d+) concurrent', line)
jobs, elapsed, rate, threads, conc = m.groups()
audio_per_s = float(rate) * float(secs)
section = f"""<!-- demo:begin -->
## The demo as a benchmark: {clips} synthetic {secs} s clips through the whole local pipeline

| jobs completed | wall time (first submit → last done) | jobs/s | audio seconds per second | worker threads | concurrent invocations | stack start |
|---|---|---|---|---|---|---|
| {jobs} / {clips} | {float(elapsed):.1f} s | {float(rate):.2f} | {audio_per_s:.1f} | {threads} | {conc} | {ready.replace('ready in ', '')} |

Path: S3Proxy (filesystem) → ElasticMQ → local event-source mapping (batches of 10) → `VoiceEmbeddingHandler`
→ Postgres embedding store, embedded PostgreSQL; every job also goes through the job-row transitions. Machine:
{cpu}, load average at start {load}; {datetime.date.today()}. Command: `{command}`.
<!-- demo:end -->"""
path = "docs/benchmarks.md"
text = open(path).read()
if "<!-- demo:begin -->" in text:
    text = re.sub(r"<!-- demo:begin -->.*?<!-- demo:end -->", lambda _: section, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(path, "w").write(text)
print("bench/demo.sh: wrote the demo section of", path)
PY
