# Sourced by the experiment scripts (through launch/tracker-common.sh, or directly).
# wait_all: waits for every background job of this shell and returns the first failure, so that
# under `set -e` a crashed run stops the script. (A bare `wait` returns 0 even when a job failed,
# and the evaluation after it would load that run's last checkpoint as if it had finished.)
wait_all() {
  local pid status=0 code
  for pid in $(jobs -p); do
    code=0; wait "$pid" || code=$?
    [ "$status" != 0 ] || status=$code
  done
  return "$status"
}
