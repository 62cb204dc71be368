#!/bin/sh
# The in-cluster database's dumps, run by the DatabaseBackups CronJob's pods (components/database/backups.ts)
# and by the Jobs `npm run db:*` makes from it (scripts/db/db.ts):
#   dumps.sh backup          dump the app's schema into BACKUP_DIR, then drop dumps older than RETENTION_DAYS
#   dumps.sh list            every dump, oldest first: name, bytes, whether it matches its checksum
#   dumps.sh restore NAME    load a dump (its name, or "latest") into the schema, in place of its tables
# A dump is <schema>-<UTC stamp>.sql.gz with <name>.sha256 beside it. A dump the server broke off (no
# closing line) or the dumper failed is never kept; a dump that does not match its checksum is never loaded.
set -eu
: "${DB_HOST:?}" "${DB_PORT:?}" "${DB_NAME:?}" "${DB_USER:?}" "${DB_PASSWORD_FILE:?}" "${BACKUP_DIR:?}" "${RETENTION_DAYS:?}"
WAIT_SECONDS=${WAIT_SECONDS:-120}

say() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { say "error: $*" >&2; exit 1; }

client=$(command -v mariadb || command -v mysql) || die "the image has no mariadb or mysql client"
dumper=$(command -v mariadb-dump || command -v mysqldump) || die "the image has no mariadb-dump or mysqldump"

# The password goes to the clients in an option file only this process can read, never on a command line.
options=$(mktemp)
trap 'rm -f "$options"' EXIT
password=$(sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' "$DB_PASSWORD_FILE")
printf '[client]\nhost=%s\nport=%s\nuser=%s\npassword="%s"\n' "$DB_HOST" "$DB_PORT" "$DB_USER" "$password" > "$options"
sql() { "$client" --defaults-extra-file="$options" --connect-timeout=5 --batch --skip-column-names "$@" "$DB_NAME"; }

# A new pod's NetworkPolicies can reach its node seconds after it starts, and a member may be
# rejoining: wait for the database rather than fail the run.
wait_for_database() {
  end=$(( $(date +%s) + WAIT_SECONDS ))
  until answer=$(sql --execute='SELECT 1' 2>&1); do
    [ "$(date +%s)" -lt "$end" ] || die "the database at $DB_HOST:$DB_PORT did not answer within $WAIT_SECONDS s: $answer"
    sleep 2
  done
}

is_dump_name() { printf '%s\n' "$1" | grep -Eq "^$DB_NAME-[0-9]{8}T[0-9]{6}Z\\.sql\\.gz\$"; }
dumps() { ls -1 "$BACKUP_DIR" | while read -r n; do if is_dump_name "$n"; then echo "$n"; fi; done | sort; }
stamp_of() { n=${1#"$DB_NAME-"}; echo "${n%.sql.gz}"; }
matches_checksum() { (cd "$BACKUP_DIR" && sha256sum -c --status "$1.sha256" 2>/dev/null); }

backup() {
  wait_for_database
  # A schema without tables is a new or a lost database: its dump would become "latest" and hide the
  # last real one from a restore. Refused (and the missed dumps alert), never kept.
  tables=$(sql --execute="SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")
  [ "$tables" != 0 ] || die "the schema $DB_NAME has no tables (a new or a lost database): no dump taken, the last one stays the newest"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  name="$DB_NAME-$stamp.sql.gz"
  partial="$BACKUP_DIR/.partial-$name"
  status="$BACKUP_DIR/.partial-$name.status"
  # MySQL's mysqldump writes GTID statements a restore into a running server refuses; MariaDB's has no such option.
  gtid=""
  if "$dumper" --help 2>/dev/null | grep -q -- '--set-gtid-purged'; then gtid="--set-gtid-purged=OFF"; fi
  # One consistent snapshot (InnoDB), no table locks, nothing that needs more than the app user's grants.
  # shellcheck disable=SC2086
  # (In an && / || list, a failing dumper does not end the script under set -e; its code is kept.)
  { "$dumper" --defaults-extra-file="$options" --single-transaction --skip-add-locks --no-tablespaces $gtid "$DB_NAME" \
      && echo 0 > "$status" || echo $? > "$status"; } | gzip -c > "$partial"
  code=$(cat "$status"); rm -f "$status"
  if [ "$code" != 0 ]; then rm -f "$partial"; die "the dump failed (exit $code): nothing kept"; fi
  if ! gzip -dc "$partial" | tail -n 1 | grep -q '^-- Dump completed'; then
    rm -f "$partial"; die "the dump has no closing line (the server broke it off): nothing kept"
  fi
  (cd "$BACKUP_DIR" && sha256sum ".partial-$name" | sed "s/\\.partial-$name\$/$name/" > "$name.sha256")
  mv "$partial" "$BACKUP_DIR/$name"
  say "dumped $name ($(wc -c < "$BACKUP_DIR/$name") bytes)"
  prune
}

# By the stamp in the name (a copied file's time is the copy's), never the dump just written.
prune() {
  cutoff=$(date -u -d "@$(( $(date +%s) - RETENTION_DAYS * 86400 ))" +%Y%m%dT%H%M%SZ)
  for n in $(dumps); do
    if [ "$(stamp_of "$n")" \< "$cutoff" ]; then
      rm -f "$BACKUP_DIR/$n" "$BACKUP_DIR/$n.sha256"
      say "dropped $n (older than $RETENTION_DAYS days)"
    fi
  done
  # What a killed run left behind (a run that is still going is younger than a day).
  find "$BACKUP_DIR" -maxdepth 1 -name '.partial-*' -mmin +1440 -exec rm -f {} + || :
}

list() {
  names=$(dumps)
  [ -n "$names" ] || { say "no dumps in $BACKUP_DIR"; return 0; }
  for n in $names; do
    if matches_checksum "$n"; then check=ok; else check=CORRUPT; fi
    printf 'dump\t%s\t%s\t%s\n' "$n" "$(wc -c < "$BACKUP_DIR/$n")" "$check"
  done
}

restore() {
  want=${1:-}
  [ -n "$want" ] || die "restore needs a dump's name or \"latest\""
  if [ "$want" = latest ]; then
    want=$(dumps | tail -n 1)
    [ -n "$want" ] || die "no dumps in $BACKUP_DIR"
  fi
  is_dump_name "$want" || die "not a dump's name: $want (allowed: $DB_NAME-<yyyymmddThhmmssZ>.sql.gz, or latest)"
  [ -f "$BACKUP_DIR/$want" ] || die "no dump $want in $BACKUP_DIR"
  matches_checksum "$want" || die "$want does not match its checksum: not loaded"
  wait_for_database
  # Every table goes first, so the schema holds what the dump holds and nothing written after it.
  tables=$(sql --execute="SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")
  drop="SET FOREIGN_KEY_CHECKS = 0;"
  for t in $tables; do drop="$drop DROP TABLE \`$t\`;"; done
  sql --execute="$drop"
  gzip -dc "$BACKUP_DIR/$want" | sql
  loaded=$(sql --execute="SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()")
  say "restored $want: $loaded tables"
}

case "${1:-}" in
  backup) backup ;;
  list) list ;;
  restore) restore "${2:-}" ;;
  *) die "usage: dumps.sh backup | list | restore NAME|latest" ;;
esac
