#!/usr/bin/env bash
# Point-in-time recovery drill on a throwaway PostgreSQL 15 cluster (127.0.0.1:5742, under
# /tmp/pitr_backup, removed first), following the README's WAL archiving steps: archive WAL,
# take a base backup, write rows before and after a target time, recover to that time and show
# that only the rows before it came back. Run as the postgres user:
#   su postgres -c "bash scripts/pitr-drill.sh"
set -euo pipefail
B="${PG_BIN:-/usr/lib/postgresql/15/bin}"
R=/tmp/pitr_backup
P=5742
rm -rf "$R"; mkdir -p "$R/wal-archive"
$B/initdb -D "$R/data" -A trust -U postgres >/dev/null
cat >> "$R/data/postgresql.conf" <<CONF
port = $P
listen_addresses = '127.0.0.1'
unix_socket_directories = '$R'
wal_level = replica
archive_mode = on
archive_command = 'test ! -f $R/wal-archive/%f && cp %p $R/wal-archive/%f'
archive_timeout = 300
CONF
$B/pg_ctl -D "$R/data" -l "$R/log1" -w start >/dev/null
trap '$B/pg_ctl -D "$R/data" -m fast -w stop >/dev/null 2>&1 || true' EXIT
q() { $B/psql -h 127.0.0.1 -p $P -U postgres -d postgres -qAtc "$1"; }
q "create table t(v text)"; q "insert into t values ('before the base backup')"
$B/pg_basebackup -h 127.0.0.1 -p $P -U postgres -D "$R/base" -Ft -z -X stream
q "insert into t values ('after the base backup, before the target')"
sleep 1; T=$(q "select now()"); sleep 1
q "insert into t values ('after the target: must not come back')"
q "select pg_switch_wal()" >/dev/null; sleep 2
$B/pg_ctl -D "$R/data" -w stop >/dev/null
mv "$R/data" "$R/data.broken"
mkdir -m 700 "$R/data"; tar -xzf "$R/base/base.tar.gz" -C "$R/data"
mkdir -p "$R/data/pg_wal"; tar -xzf "$R/base/pg_wal.tar.gz" -C "$R/data/pg_wal"
cat >> "$R/data/postgresql.conf" <<CONF
restore_command = 'cp $R/wal-archive/%f %p'
recovery_target_time = '$T'
recovery_target_action = 'promote'
CONF
touch "$R/data/recovery.signal"
$B/pg_ctl -D "$R/data" -l "$R/log2" -w start >/dev/null
sleep 2
rows=$(q "select v from t order by v")
echo "recovered to $T:"; echo "$rows"
if [ "$rows" != $'after the base backup, before the target\nbefore the base backup' ]; then
  echo "PITR drill FAILED: not exactly the rows written before the target time" >&2
  exit 1
fi
echo "PITR drill passed"
