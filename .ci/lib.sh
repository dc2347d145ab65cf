# Helpers sourced by .ci/dist-check and .ci/docs-check.
# shellcheck shell=bash

# Ports are picked as tests/.../MemberProcess.java picks them: below Linux's ephemeral range and
# above etcd's e2e ports, so no outgoing connection takes one between the pick and the bind.
CI_PORT_FIRST=21000
CI_PORT_LAST=32000
CI_PORT_TRIES_MAX=200
ci_port_next=$((CI_PORT_FIRST + ($$ * 7919) % (CI_PORT_LAST - CI_PORT_FIRST)))

# Is a TCP port bound by any socket (IPv4 or IPv6, any state)? Reads /proc/net/tcp{,6}.
ci_port_taken() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v p=":$hex" 'NR > 1 && substr($2, length($2) - 4) == p { found = 1 } END { exit !found }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# Sets the variable named $1 to a port that is free now and was not handed out before by this
# shell (not in a $(...) subshell: the counter must advance in the caller's shell).
ci_pick_port() {
  local i ci_candidate
  for ((i = 0; i < CI_PORT_TRIES_MAX; i++)); do
    ci_candidate=$((CI_PORT_FIRST + (ci_port_next - CI_PORT_FIRST) % (CI_PORT_LAST - CI_PORT_FIRST)))
    ci_port_next=$((ci_port_next + 1))
    if ! ci_port_taken "$ci_candidate"; then
      printf -v "$1" %s "$ci_candidate"
      return 0
    fi
  done
  echo "ci: no free port in $CI_PORT_FIRST-$CI_PORT_LAST after $CI_PORT_TRIES_MAX tries" >&2
  return 1
}

# Waits up to $2 seconds (default 60) for http://127.0.0.1:$1/health to answer {"health":"true"};
# gives up at once if the process $3 (optional) has ended.
ci_wait_healthy() {
  local port=$1 seconds=${2:-60} pid=${3:-} i
  for ((i = 0; i < seconds * 5; i++)); do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "ci: the member (process $pid) ended before it was healthy" >&2
      return 1
    fi
    if curl -fsS -m 1 "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"health":"true"'; then
      return 0
    fi
    sleep 0.2
  done
  echo "ci: no healthy member on 127.0.0.1:$port after $seconds s" >&2
  return 1
}

# Stops a process by its id: SIGTERM, then SIGKILL after $2 seconds (default 15).
ci_stop() {
  local pid=$1 seconds=${2:-15} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "ci: process $pid still running after $seconds s; killing it" >&2
  kill -KILL "$pid" 2>/dev/null || true
}
