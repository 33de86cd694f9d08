#!/usr/bin/env bash
# Hopper vs RabbitMQ PerfTest on the same broker with equivalent settings, back to back:
#   PerfTest, then `hopper bench`, then PerfTest again, RUNS times; prints each completion rate and the ratio
#   Hopper / mean(PerfTest before, PerfTest after), then the median ratio over the runs.
#
# Usage: ops/bench/compare.sh [--runs N] [--tasks N] [--publishers P] [--workers K] [--concurrency C]
#                             [--prefetch F] [--payload-bytes B] [--uri AMQP_URI] [--publish-only]
#                             [-- extra hopper bench options]
#   e.g. ops/bench/compare.sh --runs 3 --tasks 20000                               # unkeyed, store none
#        ops/bench/compare.sh --runs 3 --tasks 20000 -- --keyed --keys 1000 --store redis
#        ops/bench/compare.sh --runs 3 --tasks 100000 --publish-only -- --keyed --keys 1000 --store redis
#   Runs of 100 000 tasks or fewer mostly measure the JIT's warm-up (Hopper's C2 compiles for ~16 s, ~100 000 tasks
#   at keyed Redis rates): --tasks 400000 gives the rates of running workers (docs/benchmarks.md, sixth session).
#   --publish-only: publishers only (PerfTest --consumers 0, its "sending rate avg"; hopper bench --publish-only,
#   its publishRate, i.e. publishAllAsync in chunks of 200 with confirms).
#
# PerfTest (com.rabbitmq:perf-test from Maven Central) and its dependencies are fetched once into ops/bench/lib
# (gitignored) with `mvn -f ops/bench/perf-test-pom.xml dependency:copy-dependencies`, and run as a separate JVM:
#   java -cp 'ops/bench/lib/*' com.rabbitmq.perf.PerfTest --uri URI --quorum-queue --queue Q \
#     --queue-args x-dead-letter-exchange=hopper.dead,x-dead-letter-strategy=at-least-once,x-overflow=reject-publish,x-delivery-limit=20 \
#     --flag persistent --confirm 1000 --multi-ack-every 0 --qos F --size B \
#     --producers P --consumers max(K,1) --pmessages N/P --cmessages N/max(K,1)
# i.e. the arguments of Hopper's work queue, persistent messages, publisher confirms with Hopper's window of 1000
# unconfirmed messages, manual per-message acks (no --auto-ack, no multiple acks), the same prefetch, payload size,
# producer and consumer counts, and a fixed message count. PerfTest's "receiving rate avg" (messages / time from
# start to the last message) is compared with Hopper's completionRate (tasks / first publish to last completion).
# Each PerfTest queue is deleted with rabbitmqctl afterwards. Both JVMs run under /usr/bin/time: the CPU columns are
# user+sys seconds of the whole process (publishers and consumers, JVM start-up included) for the same N messages,
# and the same per message in microseconds (PerfTest: mean of its two runs) with the ratio Hopper / PerfTest.
# Raw outputs go to ops/bench/results/<time>/ (gitignored). HOPPER_JAR=path runs another build of hopper.jar (to
# interleave before/after runs under the same load).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
uri="${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672/}"
runs=1 tasks=20000 publishers=1 workers=0 concurrency=4 prefetch=16 payload=1024 publish_only=0
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --tasks) tasks="$2"; shift 2 ;;
    --publishers) publishers="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    --concurrency) concurrency="$2"; shift 2 ;;
    --prefetch) prefetch="$2"; shift 2 ;;
    --payload-bytes) payload="$2"; shift 2 ;;
    --uri) uri="$2"; shift 2 ;;
    --publish-only) publish_only=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
consumers=$(( workers > 0 ? workers : 1 ))
pt_consume=(--consumers "$consumers" --cmessages $(( tasks / consumers )))
pt_rate="receiving" h_rate="completionRate" h_only=()
if [ "$publish_only" = 1 ]; then
  pt_consume=(--consumers 0) pt_rate="sending" h_rate="publishRate" h_only=(--publish-only)
fi

lib="$here/lib"
if ! ls "$lib"/perf-test-*.jar >/dev/null 2>&1; then
  echo "compare.sh: fetching RabbitMQ PerfTest into $lib" >&2
  mvn -q -B -ntp -f "$here/perf-test-pom.xml" dependency:copy-dependencies -DoutputDirectory="$lib" -DincludeScope=runtime >&2
fi
jar="${HOPPER_JAR:-$root/ops/target/hopper.jar}" # HOPPER_JAR: compare another build (e.g. a saved copy of main)
if [ ! -f "$jar" ]; then
  echo "compare.sh: building $jar" >&2
  (cd "$root" && mvn -q -B -ntp -pl ops -am package -DskipTests) >&2
fi

# amqp-client reads the path "/" as the empty vhost name; spell the default vhost out for PerfTest.
pt_uri="$uri"
case "$pt_uri" in */) pt_uri="${pt_uri}%2F" ;; esac

out="$here/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
echo "compare.sh: results in $out" >&2

perftest() { # $1 = label; prints the receiving rate
  local q="perftest-hopper-cmp-$1-$$"
  /usr/bin/time -f '%U %S' -o "$out/$1.time" java -cp "$lib/*" com.rabbitmq.perf.PerfTest --uri "$pt_uri" --id "$1" --quorum-queue --queue "$q" \
    --queue-args x-dead-letter-exchange=hopper.dead,x-dead-letter-strategy=at-least-once,x-overflow=reject-publish,x-delivery-limit=20 \
    --flag persistent --confirm 1000 --multi-ack-every 0 --qos "$prefetch" --size "$payload" \
    --producers "$publishers" --pmessages $(( tasks / publishers )) "${pt_consume[@]}" > "$out/$1.log" 2>&1
  rabbitmqctl -q delete_queue "$q" >/dev/null 2>&1 || echo "compare.sh: could not delete PerfTest queue $q" >&2
  sed -n "s/.*${pt_rate} rate avg: \\([0-9.]*\\) msg\\/s.*/\\1/p" "$out/$1.log" | tail -1
}

hopper() { # $1 = label; prints the completion rate
  /usr/bin/time -f '%U %S' -o "$out/$1.time" java -jar "$jar" --uri "$uri" bench --tasks "$tasks" --publishers "$publishers" --workers "$workers" \
    --concurrency "$concurrency" --prefetch "$prefetch" --payload-bytes "$payload" ${h_only[@]+"${h_only[@]}"} ${extra[@]+"${extra[@]}"} --json \
    > "$out/$1.json"
  python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$out/$1.json" "$h_rate"
}

echo "settings: tasks=$tasks publishers=$publishers consumers/workers=$consumers (hopper --workers $workers)" \
  "concurrency=$concurrency prefetch=$prefetch payload=$payload hopper extra: ${extra[*]:-none}" \
  "compared: PerfTest $pt_rate rate / hopper $h_rate"
cpu() { awk '{printf "%.1f", $1 + $2}' "$out/$1.time"; }
# Whole-process CPU per message in microseconds (publishers and consumers of one tool, JVM start-up included).
cpu_us() { awk -v n="$tasks" '{printf "%.0f", ($1 + $2) * 1e6 / n}' "$out/$1.time"; }
printf '%-4s %14s %14s %14s %8s   %-40s %s\n' run perftest-before hopper perftest-after ratio \
  "JVM CPU s (user+sys) before/hopper/after" "CPU us/msg perftest(mean)/hopper, ratio"
ratios=()
for i in $(seq 1 "$runs"); do
  before=$(perftest "perftest-$i-before")
  h=$(hopper "hopper-$i")
  after=$(perftest "perftest-$i-after")
  ratio=$(python3 -c "import sys; b,h,a=map(float,sys.argv[1:]); print(f'{h/((b+a)/2):.2f}')" "$before" "$h" "$after")
  ratios+=("$ratio")
  pt_us=$(( ($(cpu_us "perftest-$i-before") + $(cpu_us "perftest-$i-after")) / 2 ))
  h_us=$(cpu_us "hopper-$i")
  printf '%-4s %14s %14s %14s %8s   %-40s %s\n' "$i" "$before" "$h" "$after" "$ratio" \
    "$(cpu "perftest-$i-before") / $(cpu "hopper-$i") / $(cpu "perftest-$i-after")" \
    "$pt_us / $h_us, $(python3 -c "import sys; print(f'{int(sys.argv[2])/int(sys.argv[1]):.2f}')" "$pt_us" "$h_us")x"
done
python3 -c "import statistics,sys; print('median ratio hopper/perftest:', statistics.median(map(float, sys.argv[1:])))" "${ratios[@]}"
