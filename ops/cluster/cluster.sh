#!/usr/bin/env bash
# A local three-node RabbitMQ cluster for trying Hopper on a cluster and for its node-loss tests.
#
#   ops/cluster/cluster.sh start            start hopper-c1..c3@localhost, join them, print the --uri to use
#   ops/cluster/cluster.sh stop             stop exactly the nodes this folder's start recorded (then kill -9 by pid)
#   ops/cluster/cluster.sh status           nodes, pids, running or not, cluster members
#   ops/cluster/cluster.sh uri              the comma-separated --uri of all nodes
#   ops/cluster/cluster.sh leader QUEUE     the node that leads a quorum queue (its number, 1..3)
#   ops/cluster/cluster.sh kill N           kill -9 node N (its recorded pid)
#   ops/cluster/cluster.sh start-node N     start node N again on its data (it rejoins the cluster by itself)
#   ops/cluster/cluster.sh stop-app N       rabbitmqctl stop_app on node N (graceful: the node leaves service)
#   ops/cluster/cluster.sh start-app N      rabbitmqctl start_app on node N
#   ops/cluster/cluster.sh ctl N ARGS...    rabbitmqctl -n <node N> ARGS (with this cluster's cookie)
#   ops/cluster/cluster.sh queues ARGS...   rabbitmq-queues -n <node 1> ARGS (e.g. quorum_status Q)
#
# Settings (environment):
#   HOPPER_CLUSTER_DIR   data, logs, cookie and the node registry; default ${TMPDIR:-/tmp}/hopper-cluster
#   HOPPER_CLUSTER_NODES how many nodes (default 3)
#   HOPPER_CLUSTER_AMQP  first AMQP port (default 5681; node i listens on AMQP+i-1)
#   HOPPER_CLUSTER_DIST  first Erlang distribution port (default 25681)
#   HOPPER_CLUSTER_NAME  node name prefix (default hopper-c: hopper-c1@localhost ...)
#
# The nodes get their own Erlang cookie through HOME (3.10 reads $HOME/.erlang.cookie; RABBITMQ_ERLANG_COOKIE is
# deprecated there), their own config, env and enabled-plugins files, so the machine's broker and its cookie are
# never touched. No plugin is enabled (nothing that needs the internet). Each node runs with one Erlang scheduler to
# spare a small machine. Nodes are stopped by name and, if they do not stop, by the pid recorded when they started,
# after checking that the pid still runs that node.
set -euo pipefail

DIR=${HOPPER_CLUSTER_DIR:-${TMPDIR:-/tmp}/hopper-cluster}
NODES=${HOPPER_CLUSTER_NODES:-3}
AMQP=${HOPPER_CLUSTER_AMQP:-5681}
DIST=${HOPPER_CLUSTER_DIST:-25681}
NAME=${HOPPER_CLUSTER_NAME:-hopper-c}
SERVER=${RABBITMQ_SERVER_BIN:-/usr/lib/rabbitmq/bin/rabbitmq-server}
CTL=${RABBITMQCTL_BIN:-/usr/lib/rabbitmq/bin/rabbitmqctl}
QUEUES=${RABBITMQ_QUEUES_BIN:-/usr/lib/rabbitmq/bin/rabbitmq-queues}

die() { echo "cluster: $*" >&2; exit 1; }
usage() { echo "cluster: $*; usage: cluster.sh start|stop|status|uri|leader Q|kill N|start-node N|stop-app N|start-app N|ctl N ...|queues ..." >&2; exit 2; }

node() { echo "${NAME}$1@localhost"; }
check_index() {
  [[ "${1:-}" =~ ^[0-9]+$ ]] && (( $1 >= 1 && $1 <= NODES )) || usage "node number must be 1..$NODES, was '${1:-}'"
}

# rabbitmqctl / rabbitmq-queues with this cluster's cookie only (HOME), bounded in time.
ctl() { local i=$1; shift; HOME="$DIR/home" timeout 120 "$CTL" -q -n "$(node "$i")" "$@"; }
queues() { HOME="$DIR/home" timeout 120 "$QUEUES" -q -n "$(node 1)" "$@"; }

pid_of() { cat "$DIR/node$1/pid" 2>/dev/null || true; }

# True when the recorded pid is alive and is the beam of node i (guards against a reused pid).
runs_node() {
  local pid; pid=$(pid_of "$1")
  [[ -n "$pid" && -r "/proc/$pid/environ" ]] \
    && tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -x -- "RABBITMQ_NODENAME=$(node "$1")" >/dev/null
}

prepare() {
  mkdir -p "$DIR/home"
  if [[ ! -f "$DIR/home/.erlang.cookie" ]]; then
    (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$DIR/home/.erlang.cookie")
    chmod 400 "$DIR/home/.erlang.cookie"
  fi
  echo "[]." >"$DIR/enabled_plugins"
  # Loopback only, like the machine's broker; the node's own env file replaces /etc/rabbitmq/rabbitmq-env.conf.
  cat >"$DIR/rabbitmq-env.conf" <<'EOF'
ERL_EPMD_ADDRESS=127.0.0.1
EOF
}

start_node() {
  local i=$1 d="$DIR/node$1"
  runs_node "$i" && { echo "cluster: $(node "$i") already runs (pid $(pid_of "$i"))"; return 0; }
  mkdir -p "$d/mnesia" "$d/log"
  cat >"$d/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:$((AMQP + i - 1))
loopback_users = none
disk_free_limit.absolute = 50MB
cluster_partition_handling = pause_minority
EOF
  rm -f "$d/pid"
  HOME="$DIR/home" \
  RABBITMQ_NODENAME="$(node "$i")" \
  RABBITMQ_NODE_PORT=$((AMQP + i - 1)) \
  RABBITMQ_DIST_PORT=$((DIST + i - 1)) \
  RABBITMQ_MNESIA_BASE="$d/mnesia" \
  RABBITMQ_LOG_BASE="$d/log" \
  RABBITMQ_PID_FILE="$d/pid" \
  RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
  RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
  RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+S 1:1 +SDio 2 -kernel inet_dist_use_interface {127,0,0,1}" \
    "$SERVER" -detached >"$d/log/start.out" 2>&1 || die "$(node "$i") did not start; see $d/log"
  # 'wait' returns once the pid file exists and the node has booted.
  for _ in $(seq 1 60); do [[ -s "$d/pid" ]] && break; sleep 1; done
  [[ -s "$d/pid" ]] || die "$(node "$i") wrote no pid file within 60 s; see $d/log"
  ctl "$i" wait --timeout 180 "$d/pid" >/dev/null || die "$(node "$i") did not boot within 180 s; see $d/log"
  echo "cluster: started $(node "$i") pid $(pid_of "$i") amqp 127.0.0.1:$((AMQP + i - 1))"
}

uri() {
  local out="" i
  for i in $(seq 1 "$NODES"); do out+="${out:+,}amqp://guest:guest@127.0.0.1:$((AMQP + i - 1))/"; done
  echo "$out"
}

cmd_start() {
  prepare
  local i
  for i in $(seq 1 "$NODES"); do start_node "$i"; done
  for i in $(seq 2 "$NODES"); do
    if ctl 1 cluster_status --formatter json | grep -q "\"$(node "$i")\""; then
      continue
    fi
    { ctl "$i" stop_app && ctl "$i" reset && ctl "$i" join_cluster "$(node 1)" && ctl "$i" start_app; } \
      >>"$DIR/node$i/log/join.out" 2>&1 || die "$(node "$i") could not join $(node 1); see $DIR/node$i/log/join.out"
    echo "cluster: $(node "$i") joined $(node 1)"
  done
  ctl 1 await_online_nodes "$NODES" --timeout 120 >/dev/null 2>&1 || true
  echo "cluster: up; use --uri '$(uri)'"
}

cmd_stop() {
  [[ -d "$DIR" ]] || { echo "cluster: nothing recorded in $DIR"; return 0; }
  local i pid
  for i in $(seq 1 "$NODES"); do
    runs_node "$i" || continue
    pid=$(pid_of "$i")
    ctl "$i" stop >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do runs_node "$i" || break; sleep 1; done
    if runs_node "$i"; then
      kill -9 "$pid" && echo "cluster: $(node "$i") did not stop in 30 s; killed pid $pid"
    else
      echo "cluster: stopped $(node "$i") (pid $pid)"
    fi
  done
}

cmd_status() {
  local i
  for i in $(seq 1 "$NODES"); do
    if runs_node "$i"; then state=running; else state=down; fi
    printf '%s\tpid %s\tamqp %s\t%s\n' "$(node "$i")" "$(pid_of "$i")" $((AMQP + i - 1)) "$state"
  done
}

cmd_leader() {
  local q=${1:-}; [[ -n "$q" ]] || usage "leader needs a queue name"
  local i leader
  for i in $(seq 1 "$NODES"); do
    runs_node "$i" || continue
    leader=$(ctl "$i" list_queues name leader --no-table-headers 2>/dev/null | awk -v q="$q" '$1 == q { print $2 }')
    [[ -n "$leader" ]] || continue
    for j in $(seq 1 "$NODES"); do [[ "$leader" == "$(node "$j")" ]] && { echo "$j"; return 0; }; done
  done
  die "no running node knows a leader for queue '$q'"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  uri) uri ;;
  leader) shift; cmd_leader "$@" ;;
  kill) check_index "${2:-}"; runs_node "$2" || die "$(node "$2") is not running"
        pid=$(pid_of "$2"); kill -9 "$pid"; echo "cluster: killed $(node "$2") (kill -9 $pid)" ;;
  start-node) check_index "${2:-}"; prepare; start_node "$2" ;;
  stop-app) check_index "${2:-}"; ctl "$2" stop_app >/dev/null; echo "cluster: stop_app $(node "$2")" ;;
  start-app) check_index "${2:-}"; ctl "$2" start_app >/dev/null; echo "cluster: start_app $(node "$2")" ;;
  ctl) check_index "${2:-}"; i=$2; shift 2; ctl "$i" "$@" ;;
  queues) shift; queues "$@" ;;
  *) usage "unknown or missing command '${1:-}'" ;;
esac
