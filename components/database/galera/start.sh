#!/bin/sh
# Starts one member of the in-cluster database's Galera cluster, then becomes mariadbd.
# components/database/galeraCluster.ts mounts this file from a ConfigMap and sets the environment;
# it runs on any image with MariaDB 10.6+, Galera 4, mariadb-backup and socat (the official
# mariadb image, or scripts/cluster/images.sh database).
#
# How the member starts, decided again every 2 s until one applies:
#   join       another member's Galera port answers: a cluster is running; this member joins it
#              (IST from the cache when it has the history, else a full copy by mariadb-backup).
#   bootstrap  nobody runs and this member may start the cluster alone: its grastate.dat says
#              safe_to_bootstrap (it left last, cleanly), or every member has said where it stands
#              and this one holds the newest commit (the lowest ordinal among equals).
#   recover    nobody runs and this member crashed inside a primary component (gvwstate.dat is
#              there): it starts and waits; Galera re-forms that component once its members are
#              back (pc.recovery), with no member chosen by hand.
#   wait       none of these yet (peers still down, or one of them will bootstrap): it publishes
#              where it stands on STATE_PORT for the others and asks again.
# A member without data bootstraps only when every member is without data (the very first start)
# and then creates the schema and users; it never starts an empty cluster beside members that hold
# data. When members disagree on the cluster's identity, or some never answer, it waits and says so
# (docs/database.md, "Galera: starting by hand", is the runbook).
set -eu

: "${MEMBER_HOSTS:?the members\' host names, in ordinal order}" "${CLUSTER_NAME:?}" "${POD_IP:?}"
: "${LISTEN_PORT:?}" "${STATE_PORT:?}" "${MAX_CONNECTIONS:?}"
: "${MYSQL_ROOT_PASSWORD:?}" "${MYSQL_DATABASE:?}" "${MYSQL_USER:?}" "${MYSQL_PASSWORD:?}"
# The pod's name (a StatefulSet's: <name>-<ordinal>).
HOSTNAME="${POD_NAME:-$HOSTNAME}"
DATADIR="${DATADIR:-/var/lib/mysql/data}"
RUN="${RUN_DIR:-/run/mysqld}"
GALERA_PORT=4567
self="${HOSTNAME##*-}"
say() { echo "galera-start[$HOSTNAME]: $*" >&2; }

announcer=""
stop_announcer() { if [ -n "$announcer" ]; then kill "$announcer" 2>/dev/null || :; wait "$announcer" 2>/dev/null || :; announcer=""; fi; }
# Until mariadbd takes over, this shell is the container's first process: stop on SIGTERM.
trap 'stop_announcer; exit 0' TERM INT

provider=""
for p in /usr/lib/galera/libgalera_smm.so /usr/lib/libgalera_smm.so /usr/lib64/galera-4/libgalera_smm.so; do
  if [ -f "$p" ]; then provider="$p"; break; fi
done
[ -n "$provider" ] || { say "no Galera 4 library in this image (libgalera_smm.so)"; exit 1; }

members=0
address=""
for h in $MEMBER_HOSTS; do
  members=$((members + 1))
  address="${address:+$address,}$h"
done

sql_string() { printf "'%s'" "$(printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g")"; }
sql_name() { printf '`%s`' "$(printf '%s' "$1" | sed 's/`/``/g')"; }

# Every setting of the member, the SST credentials among them: in the pod's memory-backed run
# folder, readable by mysql only, never in the ConfigMap or the process list.
umask 077
cat > "$RUN/galera.cnf" <<CNF
[mysqld]
datadir=$DATADIR
port=$LISTEN_PORT
bind-address=0.0.0.0
socket=$RUN/mysqld.sock
pid-file=$RUN/mysqld.pid
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
skip-name-resolve
max_connections=$MAX_CONNECTIONS
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_flush_log_at_trx_commit=1
wsrep_on=ON
wsrep_provider=$provider
wsrep_cluster_name=$CLUSTER_NAME
wsrep_cluster_address=gcomm://$address
wsrep_node_name=$HOSTNAME
wsrep_node_address=$POD_IP
wsrep_provider_options=pc.recovery=TRUE;gcache.size=256M
wsrep_sst_method=mariabackup
wsrep_sst_auth=root:$MYSQL_ROOT_PASSWORD
wsrep_slave_threads=2
wsrep_mode=REQUIRED_PRIMARY_KEY,STRICT_REPLICATION
[sst]
# SST logs go to the container's output, never to a syslog the container does not have.
sst-syslog=-1
[client]
socket=$RUN/mysqld.sock
[mariadb-backup]
socket=$RUN/mysqld.sock
CNF
umask 022
mariadbd_base="--defaults-extra-file=$RUN/galera.cnf"

# This member's standing: cluster uuid, last committed seqno, safe_to_bootstrap, and "fresh" when
# the data folder holds no database yet.
mkdir -p "$DATADIR"
uuid=00000000-0000-0000-0000-000000000000 seqno=-1 safe=0 fresh=1
if [ -d "$DATADIR/mysql" ]; then fresh=0; fi
if [ -f "$DATADIR/grastate.dat" ]; then
  uuid="$(sed -n 's/^uuid:[[:space:]]*//p' "$DATADIR/grastate.dat")"
  seqno="$(sed -n 's/^seqno:[[:space:]]*//p' "$DATADIR/grastate.dat")"
  safe="$(sed -n 's/^safe_to_bootstrap:[[:space:]]*//p' "$DATADIR/grastate.dat")"
fi
start_position=""
if [ "$fresh" = 0 ] && [ "$seqno" = -1 ]; then
  # Stopped without a clean shutdown: InnoDB knows the last commit (what mysqld_safe does).
  say "recovering the last committed position from InnoDB"
  mariadbd "$mariadbd_base" --wsrep-recover --log-error="$RUN/recover.log" >/dev/null 2>&1 || :
  position="$(sed -n 's/.*Recovered position:[[:space:]]*//p' "$RUN/recover.log" | tail -1)"
  rm -f "$RUN/recover.log"
  if [ -n "$position" ]; then
    uuid="${position%:*}" seqno="${position##*:}"
    start_position="$position"
  fi
fi
say "standing: ordinal $self of $members, uuid $uuid, seqno $seqno, safe_to_bootstrap $safe, fresh $fresh"

echo "$uuid $seqno $safe $fresh $self" > "$RUN/standing"
socat -U "TCP-LISTEN:$STATE_PORT,reuseaddr,fork" "SYSTEM:cat $RUN/standing" 2>/dev/null &
announcer=$!

answers() { # <port> <host>: succeeds when the host accepts a connection on the port
  socat -u OPEN:/dev/null "TCP:$2:$1,connect-timeout=1" 2>/dev/null
}

run() { # <why> <mariadbd options...>
  why="$1"; shift
  stop_announcer
  trap - TERM INT
  say "$why"
  # shellcheck disable=SC2086
  exec mariadbd "$mariadbd_base" ${start_position:+--wsrep-start-position=$start_position} "$@"
}

initialise() { # the very first start: system tables, the schema and users, by a server without networking or replication
  say "initialising $DATADIR"
  mariadb-install-db --no-defaults --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal \
    --skip-name-resolve > /dev/null
  mariadbd --no-defaults --datadir="$DATADIR" --skip-networking --wsrep-on=OFF --socket="$RUN/init.sock" \
    --pid-file="$RUN/init.pid" --log-error="$RUN/init.log" &
  init_pid=$!
  i=0
  until mariadb-admin --no-defaults --socket="$RUN/init.sock" --user=root ping > /dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge 60 ] || ! kill -0 "$init_pid" 2>/dev/null; then cat "$RUN/init.log" >&2; say "the initialising server did not start"; exit 1; fi
    sleep 1
  done
  mariadb --no-defaults --socket="$RUN/init.sock" --user=root <<SQL
DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');
ALTER USER 'root'@'localhost' IDENTIFIED BY $(sql_string "$MYSQL_ROOT_PASSWORD");
CREATE DATABASE IF NOT EXISTS $(sql_name "$MYSQL_DATABASE") CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");
GRANT ALL ON $(sql_name "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';
FLUSH PRIVILEGES;
SQL
  kill "$init_pid"
  wait "$init_pid" || :
  rm -f "$RUN/init.log"
}

may_bootstrap() { # Galera starts a cluster only from a member marked safe_to_bootstrap
  if [ -f "$DATADIR/grastate.dat" ]; then sed -i 's/^safe_to_bootstrap:.*/safe_to_bootstrap: 1/' "$DATADIR/grastate.dat"; fi
}

round=0
while :; do
  i=0
  for h in $MEMBER_HOSTS; do
    if [ "$i" != "$self" ] && answers "$GALERA_PORT" "$h"; then
      run "joining the running cluster through $h" --wsrep-cluster-address="gcomm://$address"
    fi
    i=$((i + 1))
  done
  if [ "$fresh" = 0 ] && [ "$safe" = 1 ]; then
    run "no member runs and this one left last (safe_to_bootstrap): bootstrapping" --wsrep-new-cluster
  fi
  if [ "$fresh" = 0 ] && [ -f "$DATADIR/gvwstate.dat" ]; then
    run "no member runs and this one crashed inside a primary component: starting to re-form it (pc.recovery)"
  fi
  # Everyone's standing; the newest commit bootstraps.
  heard=1 best="$self" best_seqno="$seqno" all_fresh="$fresh" conflict="" silent="" someone_safe=""
  [ "$fresh" = 1 ] && best_seqno=-2
  i=0
  for h in $MEMBER_HOSTS; do
    if [ "$i" != "$self" ]; then
      line="$(socat -u "TCP:$h:$STATE_PORT,connect-timeout=1" - 2>/dev/null || :)"
      # shellcheck disable=SC2086
      set -- $line
      if [ "$#" -ne 5 ]; then
        silent="$silent $h"
      else
        heard=$((heard + 1))
        [ "$4" = 1 ] || all_fresh=0
        [ "$3" = 1 ] && [ "$4" = 0 ] && someone_safe="$h"
        if [ "$4" = 0 ] && [ "$fresh" = 0 ] && [ "$1" != "$uuid" ]; then conflict="$h has cluster $1, this member $uuid"; fi
        if [ "$4" = 0 ] && { [ "$2" -gt "$best_seqno" ] || { [ "$2" -eq "$best_seqno" ] && [ "$5" -lt "$best" ]; }; }; then
          best="$5" best_seqno="$2"
        fi
      fi
    fi
    i=$((i + 1))
  done
  if [ -n "$conflict" ]; then
    [ $((round % 15)) = 0 ] && say "waiting: members disagree on the cluster ($conflict); see docs/database.md, \"Galera: starting by hand\""
  elif [ -n "$someone_safe" ]; then
    [ $((round % 15)) = 0 ] && say "waiting for $someone_safe, which left last, to bootstrap"
  elif [ "$heard" = "$members" ] && [ "$all_fresh" = 1 ]; then
    if [ "$self" = 0 ]; then
      initialise
      run "every member is new: bootstrapping a new cluster" --wsrep-new-cluster
    fi
    [ $((round % 15)) = 0 ] && say "waiting: every member is new, the first one bootstraps"
  elif [ "$heard" = "$members" ] && [ "$best" = "$self" ]; then
    may_bootstrap
    run "no member runs; this one holds the newest commit ($seqno): bootstrapping" --wsrep-new-cluster
  elif [ "$heard" = "$members" ]; then
    [ $((round % 15)) = 0 ] && say "waiting for member $best (newest commit $best_seqno) to bootstrap"
  else
    [ $((round % 15)) = 0 ] && say "waiting: no member runs, and not every member has said where it stands (silent:${silent})"
  fi
  round=$((round + 1))
  sleep 2 &
  wait $! || :
done
