#!/usr/bin/env bash
# The node-loss ledger runs of docs/cluster.md: starts the local three-node cluster (cluster.sh), runs
# NodeLossClusterIT (2 publishers, 3 worker JVMs, one fault per run), stops the cluster, prints the ledger tables
# (also in ops/target/cluster-ledger.md). Settings go through as system properties:
#
#   ops/cluster/ledger.sh                                   20,000 tasks; kill -9, stop_app and network cut
#   ops/cluster/ledger.sh -Dcluster.tasks=5000 -Dcluster.faults=kill
#   ops/cluster/ledger.sh -Dcluster.rate=200 -Dcluster.outage-seconds=20 -Dcluster.handler-ms=2
#
# Needs RabbitMQ (Debian's rabbitmq-server, not running on ports 5681-5683 / 25681-25683), redis-server and the
# machine's broker on 5672 (the test fixtures check it). Takes several minutes per fault on a small machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
mvn -B -ntp -Pcluster -pl ops -am verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
  -Dit.test=NodeLossClusterIT -Dfailsafe.failIfNoSpecifiedTests=false "$@"
cat ops/target/cluster-ledger.md
