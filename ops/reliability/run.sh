#!/usr/bin/env bash
# The reliability ledger, every row: real worker JVMs, throwaway RabbitMQ nodes (ports 5690-5722, node names
# rel-*@localhost, data under a temp folder) and a throwaway Redis; the shared broker's settings are never touched.
# Needs the shared broker on 5672 and Redis on 6379 (as .ci/run does), rabbitmq-server and redis-server on PATH.
# Writes ops/target/reliability/ledger.md (the table), one <row>.txt per row, and worker logs under runs/.
set -euo pipefail
cd "$(dirname "$0")/../.."

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
answers 5672 || { echo "reliability: no RabbitMQ on 127.0.0.1:5672 (start it: rabbitmq-server -detached)" >&2; exit 1; }
answers 6379 || { echo "reliability: no Redis on 127.0.0.1:6379 (start it: redis-server --daemonize yes)" >&2; exit 1; }
command -v rabbitmq-server >/dev/null || { echo "reliability: rabbitmq-server is not on PATH" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "reliability: redis-server is not on PATH" >&2; exit 1; }

rm -rf ops/target/reliability
status=0
mvn -B -ntp -Preliability verify "$@" || status=$?
if [ -f ops/target/reliability/ledger.md ]; then
  echo
  cat ops/target/reliability/ledger.md
fi
exit "$status"
