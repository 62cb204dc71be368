#!/bin/sh
# Ready: this member is in the primary component and synced, so it takes writes and holds every
# commit. A member that is joining, donating a full copy, or cut off from the majority is alive
# (the liveness probe) but not ready: the database Service stops sending it connections.
set -eu
state="$(MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mariadb --no-defaults --socket="${RUN_DIR:-/run/mysqld}/mysqld.sock" --user=root \
  --connect-timeout=2 --batch --skip-column-names --execute="SELECT GROUP_CONCAT(VARIABLE_VALUE ORDER BY VARIABLE_NAME)
    FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME IN ('wsrep_local_state_comment', 'wsrep_ready')")"
[ "$state" = "Synced,ON" ] || { echo "not ready: wsrep_local_state_comment,wsrep_ready = $state" >&2; exit 1; }
