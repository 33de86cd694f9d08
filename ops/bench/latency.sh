#!/usr/bin/env bash
# Issue 18's latency run: what the lock + revision check adds at half of the maximum rate.
#   1. a maximum run: `hopper bench --tasks MAX_TASKS` with the given options and no --rate; its completion rate
#      is the maximum;
#   2. RUNS runs at FRACTION (default 0.5) of that rate: --rate R, warm-up of ~10 s at that rate (--warmup R*10),
#      then ~20 s measured (--tasks R*20);
# and prints, per run, end-to-end latency, handler time and the lock + revision check (p50/p95/p99/max, ms), then
# the medians. The target is on the lock check: p50 <= 0.3 ms, p99 <= 1 ms. With --store redis, storePing is a bare
# Redis PING every 5 ms over a connection of its own during the same runs: this machine's round trip at that moment,
# the floor under the lock check (StorePingProbe).
#
# Usage: ops/bench/latency.sh [--runs N] [--max-tasks N] [--fraction F] [--rate R] [--uri AMQP_URI]
#                             [-- hopper bench options]
#   e.g. ops/bench/latency.sh -- --keyed --keys 1000 --store redis --prefetch 64 --concurrency 4
#        ops/bench/latency.sh --rate 1500 -- --keyed --keys 1000 --store redis   # skip the maximum run
# The options after -- go to every run (maximum and latency runs alike). Raw `--json` reports go to
# ops/bench/results/latency-<time>/ (gitignored). Uses ops/target/hopper.jar (built if missing); HOPPER_JAR=path runs
# another build (to interleave before/after runs under the same load).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
uri="${RABBITMQ_URI:-amqp://guest:guest@127.0.0.1:5672/}"
runs=1 max_tasks=20000 fraction=0.5 rate=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --max-tasks) max_tasks="$2"; shift 2 ;;
    --fraction) fraction="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --uri) uri="$2"; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "latency.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
jar="${HOPPER_JAR:-$root/ops/target/hopper.jar}"
[ -f "$jar" ] || (cd "$root" && mvn -q -B -ntp -pl ops -am package -DskipTests) >&2
out="$here/results/latency-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
echo "latency.sh: results in $out; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

bench() { # $1 = report file; the rest: bench options
  local file="$1"; shift
  java -jar "$jar" --uri "$uri" bench "$@" ${extra[@]+"${extra[@]}"} --json > "$file"
}
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=d
for k in sys.argv[2].split('.'): v=v[k]
print(v)" "$1" "$2"; }

if [ -z "$rate" ]; then
  bench "$out/max.json" --tasks "$max_tasks"
  max=$(field "$out/max.json" completionRate)
  rate=$(python3 -c "print(int(float('$max') * float('$fraction')))")
  echo "maximum: $(printf '%.0f' "$max")/s completed ($max_tasks tasks); latency runs at $rate/s ($fraction of it)"
fi
n=$(python3 -c "print(int($rate * 20))")     # about 20 s measured
warm=$(python3 -c "print(int($rate * 10))")  # after about 10 s of warm-up
printf '%-5s %-12s %-10s %-10s %-10s %-10s %s\n' run what p50 p95 p99 max "(ms)"
for i in $(seq 1 "$runs"); do
  f="$out/run-$i.json"
  bench "$f" --tasks "$n" --warmup "$warm" --rate "$rate"
  for part in latency handler lockCheck storePing; do
    printf '%-5s %-12s %-10s %-10s %-10s %-10s %s\n' "$i" "$part" "$(field "$f" "$part.p50Ms")" \
      "$(field "$f" "$part.p95Ms")" "$(field "$f" "$part.p99Ms")" "$(field "$f" "$part.maxMs")" \
      "n=$(field "$f" "$part.count")"
  done
  echo "      completion $(printf '%.0f' "$(field "$f" completionRate)")/s, clean=$(field "$f" clean)"
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
reports = [json.load(open(f"{out}/run-{i}.json")) for i in range(1, runs + 1)]
for part in ("latency", "handler", "lockCheck", "storePing"):
    med = {p: statistics.median(r[part][p] for r in reports) for p in ("p50Ms", "p95Ms", "p99Ms", "maxMs")}
    print(f"median {part:<12} p50 {med['p50Ms']:.3f}  p95 {med['p95Ms']:.3f}  p99 {med['p99Ms']:.3f}  "
          f"max {med['maxMs']:.3f} ms")
PY
