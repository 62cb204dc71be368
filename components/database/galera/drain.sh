#!/bin/sh
# Before a member stops (the pod's preStop; the pod is already out of the Service's endpoints, so
# no new client connection arrives): close the clients' connections while they are idle, for up to
# DRAIN_SECONDS. A pool then drops each one at its next checkout instead of losing a query that
# was in flight when mariadbd shut down (measured: a node drain cost the app a request without it).
# Replication and root's own connections are left alone. Never fails the stop.
set -u
end=$(( $(date +%s) + ${DRAIN_SECONDS:-10} ))
sql() { MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb --no-defaults --socket="${RUN_DIR:-/run/mysqld}/mysqld.sock" --user=root \
  --connect-timeout=2 --batch --skip-column-names --execute="$1" 2>/dev/null; }
while [ "$(date +%s)" -lt "$end" ]; do
  ids="$(sql "SELECT ID FROM information_schema.PROCESSLIST WHERE COMMAND = 'Sleep' AND USER NOT IN ('root', 'system user', 'event_scheduler', 'unauthenticated user')")" || break
  for id in $ids; do sql "KILL CONNECTION $id" || :; done
  sleep 0.5
done
exit 0
