#!/bin/sh
# The local database image's entrypoint (MariaDB 10.11 from Debian, standing in for MySQL 8 on the
# local stack only): what components/database/inClusterMysql.ts expects of the official MySQL
# image. Arguments are mariadbd options (the StatefulSet passes --datadir, --port, ...). On the
# first start (no mysql/ system schema in the data directory) it initialises the directory, starts
# a server without networking, sets root's password (root only from localhost: MYSQL_ROOT_HOST),
# creates MYSQL_DATABASE and MYSQL_USER with MYSQL_PASSWORD, stops it; then runs mariadbd.
set -eu

datadir=/var/lib/mysql
for arg in "$@"; do
  case "$arg" in --datadir=*) datadir="${arg#--datadir=}" ;; esac
done
: "${MYSQL_ROOT_PASSWORD:?is required}" "${MYSQL_DATABASE:?is required}" "${MYSQL_USER:?is required}" "${MYSQL_PASSWORD:?is required}"
root_host="${MYSQL_ROOT_HOST:-localhost}"

sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"; }
sql_name() { printf '`%s`' "$(printf '%s' "$1" | sed 's/`/``/g')"; }

if [ ! -d "$datadir/mysql" ]; then
  echo "entrypoint: initialising $datadir"
  mkdir -p "$datadir"
  mariadb-install-db --datadir="$datadir" --skip-test-db --auth-root-authentication-method=normal \
    --skip-name-resolve --rpm > /dev/null
  socket=/run/mysqld/init.sock
  mariadbd --datadir="$datadir" --skip-networking --socket="$socket" --pid-file=/run/mysqld/init.pid &
  pid=$!
  i=0
  until mariadb-admin --socket="$socket" --user=root ping > /dev/null 2>&1; do
    i=$((i + 1)); [ "$i" -lt 60 ] || { echo "entrypoint: the initial server did not start" >&2; exit 1; }
    kill -0 "$pid" 2>/dev/null || { echo "entrypoint: the initial server exited" >&2; exit 1; }
    sleep 1
  done
  mariadb --socket="$socket" --user=root <<SQL
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost'));
ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD");
$( [ "$root_host" = localhost ] || echo "CREATE USER 'root'@$(sql_string "$root_host") IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD"); GRANT ALL ON *.* TO 'root'@$(sql_string "$root_host") WITH GRANT OPTION;" )
CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE");
CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");
GRANT ALL ON $(sql_name "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';
FLUSH PRIVILEGES;
SQL
  kill "$pid"
  wait "$pid" || true
  echo "entrypoint: $datadir initialised (database $MYSQL_DATABASE, user $MYSQL_USER)"
fi
exec mariadbd "$@"
