#!/bin/sh
# Before a member stops (the pod's preStop; the pod is already out of the Service's endpoints, so
# no new client connection should arrive, though a node's kube-proxy may lag a second or two):
# close the clients' connections while they are idle, until none is left (at least MIN_SECONDS,
# at most DRAIN_SECONDS). A pool then drops each one at its next checkout instead of losing a query
# that was in flight when mariadbd shut down (measured: a node drain cost the app a request without
# it; a fixed-length loop could still leave one that arrived late). Replication and root's own
# connections are left alone. Never fails the stop.
set -u
# Milliseconds: whole seconds would cut the bounds short by up to a second.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(now_ms)
end=$(( start + ${DRAIN_SECONDS:-10} * 1000 ))
min_end=$(( start + ${MIN_SECONDS:-3} * 1000 ))
sql() { MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb --no-defaults --socket="${RUN_DIR:-/run/mysqld}/mysqld.sock" --user=root \
  --connect-timeout=2 --batch --skip-column-names --execute="$1" 2>/dev/null; }
clients="USER NOT IN ('root', 'system user', 'event_scheduler', 'unauthenticated user')"
while [ "$(now_ms)" -lt "$end" ]; do
  ids="$(sql "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Sleep' AND $clients")" || break
  for id in $ids; do sql "KILL CONNECTION $id" || :; done
  left="$(sql "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE $clients")" || break
  if [ "$left" = 0 ] && [ "$(now_ms)" -ge "$min_end" ]; then break; fi
  sleep 0.5
done
exit 0
