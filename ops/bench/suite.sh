#!/usr/bin/env bash
# The measurements of docs/benchmarks.md, in one go (about 17 minutes on a 2-core machine):
#   1. unkeyed noop tasks (store none) vs PerfTest: compare.sh, RUNS triples of TASKS messages
#   2. keyed noop tasks with the Redis store vs PerfTest: compare.sh, RUNS triples of TASKS_KEYED messages
#   3. latency at a fixed publish rate (RATE, default: half the keyed+Redis completion rate of step 2):
#      unkeyed vs keyed+memory vs keyed+Redis, RUNS runs each, interleaved; each run warms up for ~10 s at that
#      rate (--warmup) and then measures ~20 s; keyed runs also log the lock + revision check's p50/p99 (the
#      report's lockCheck; ops/bench/latency.sh runs just this step for one configuration)
#   4. a long run (LONG, default 5m) with one worker JVM at LONG_RATE (default: 90% of the unkeyed completion rate
#      of step 1, so the queue stays short on a shared broker) with a JFR recording of the worker JVM; heap after
#      GC at start and end, and ops/bench/jfr-top.py on the recording.
# Environment: RUNS (3), TASKS (200000), TASKS_KEYED (100000), PREFETCH (64), CONCURRENCY (4), RATE, LONG (5m), LONG_RATE, RABBITMQ_URI,
# REDIS_URI. Everything is written to ops/bench/results/suite-<time>/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
runs="${RUNS:-3}" tasks="${TASKS:-200000}" tasks_keyed="${TASKS_KEYED:-100000}" prefetch="${PREFETCH:-64}" concurrency="${CONCURRENCY:-4}"
long="${LONG:-5m}"
uri="${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672/}"
out="$here/results/suite-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
jar="$root/ops/target/hopper.jar"
[ -f "$jar" ] || (cd "$root" && mvn -q -B -ntp -pl ops -am package -DskipTests)

log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$out/summary.txt" >&2; }
median() { python3 -c "import statistics,sys; print(round(statistics.median(map(float, sys.argv[1:])), 2))" "$@"; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split('.'): v=v[k]
print(v)" "$1" "$2"; }

{ echo "machine: $(nproc) cores; $(free -h | awk '/Mem:/ {print $2 " RAM"}'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "rabbitmq: $(rabbitmqctl -q version 2>/dev/null || echo '?'); redis: $(redis-cli INFO server 2>/dev/null | sed -n 's/^redis_version:\(.*\)\r*$/\1/p')"
} | tee "$out/machine.txt" >&2

log "1. unkeyed noop vs PerfTest"
"$here/compare.sh" --runs "$runs" --tasks "$tasks" --prefetch "$prefetch" --concurrency "$concurrency" --uri "$uri" \
  | tee "$out/1-unkeyed-compare.txt"
log "2. keyed noop, Redis store vs PerfTest"
"$here/compare.sh" --runs "$runs" --tasks "$tasks_keyed" --prefetch "$prefetch" --concurrency "$concurrency" --uri "$uri" \
  -- --keyed --keys 1000 --store redis | tee "$out/2-keyed-redis-compare.txt"

unkeyed_rate=$(median $(awk '$1 ~ /^[0-9]+$/ {print $3}' "$out/1-unkeyed-compare.txt"))
keyed_rate=$(median $(awk '$1 ~ /^[0-9]+$/ {print $3}' "$out/2-keyed-redis-compare.txt"))
rate="${RATE:-$(python3 -c "print(int($keyed_rate / 2))")}"
log "median completion rates: unkeyed $unkeyed_rate/s, keyed+redis $keyed_rate/s; latency runs at $rate/s"

log "3. latency at $rate/s"
n=$(python3 -c "print(int($rate * 20))")  # about 20 s of publishing per run
warm=$(python3 -c "print(int($rate * 10))")  # after about 10 s of warm-up
for i in $(seq 1 "$runs"); do
  for mode in unkeyed keyed-memory keyed-redis; do
    case "$mode" in
      unkeyed) opts=() ;;
      keyed-memory) opts=(--keyed --keys 1000 --store memory) ;;
      keyed-redis) opts=(--keyed --keys 1000 --store redis) ;;
    esac
    java -jar "$jar" --uri "$uri" bench --tasks "$n" --warmup "$warm" --rate "$rate" --prefetch "$prefetch" \
      --concurrency "$concurrency" "${opts[@]+"${opts[@]}"}" --json > "$out/3-latency-$mode-$i.json"
    log "  $mode run $i: p50 $(field "$out/3-latency-$mode-$i.json" latency.p50Ms) p95 $(field "$out/3-latency-$mode-$i.json" latency.p95Ms) p99 $(field "$out/3-latency-$mode-$i.json" latency.p99Ms) ms, completion $(field "$out/3-latency-$mode-$i.json" completionRate)/s"
    [ "$mode" = unkeyed ] || log "  $mode run $i: lock + revision check p50 $(field "$out/3-latency-$mode-$i.json" lockCheck.p50Ms) p99 $(field "$out/3-latency-$mode-$i.json" lockCheck.p99Ms) ms; handler p99 $(field "$out/3-latency-$mode-$i.json" handler.p99Ms) ms"
  done
done
for mode in unkeyed keyed-memory keyed-redis; do
  for p in p50Ms p95Ms p99Ms; do
    vals=(); for i in $(seq 1 "$runs"); do vals+=("$(field "$out/3-latency-$mode-$i.json" "latency.$p")"); done
    log "  median $mode $p: $(median "${vals[@]}")"
  done
  [ "$mode" = unkeyed ] && continue
  for p in p50Ms p99Ms; do
    vals=(); for i in $(seq 1 "$runs"); do vals+=("$(field "$out/3-latency-$mode-$i.json" "lockCheck.$p")"); done
    log "  median $mode lock + revision check $p: $(median "${vals[@]}") (target p50 <= 0.3, p99 <= 1)"
  done
done

long_rate="${LONG_RATE:-$(python3 -c "print(int($unkeyed_rate * 0.9))")}"
log "4. long run: $long at $long_rate/s, one worker JVM with JFR"
java -jar "$jar" --uri "$uri" bench --duration "$long" --rate "$long_rate" --workers 1 --prefetch "$prefetch" \
  --concurrency "$concurrency" --worker-jvm-arg=-XX:StartFlightRecording=filename=$out/worker.jfr,dumponexit=true,settings=profile \
  --json > "$out/4-long.json"
log "  heap after GC: start $(field "$out/4-long.json" heapStartBytes) B, end $(field "$out/4-long.json" heapEndBytes) B; completion $(field "$out/4-long.json" completionRate)/s; worker CPU $(field "$out/4-long.json" workerCpuMicrosPerTask) us/task"
"$here/jfr-top.py" "$out/worker.jfr" 30 > "$out/4-profile.txt" 2>&1 || log "  jfr-top.py failed, see $out/4-profile.txt"
log "done: $out"
