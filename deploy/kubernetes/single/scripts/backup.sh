#!/bin/sh
# The backup CronJob's command: backs up each of $DATABASES from the
# server's backup port into $BACKUP_DIR/<db>/ (FULL the first time, DIFFs
# after), then collapses that chain into $BACKUP_DIR/<db>-latest.backup, one
# FULL artifact that the restore initContainer (restore.sh) reads. Exits
# non-zero when any database failed, so the Job shows it.
set -eu
: "${GRAFT_ADMIN:=graft-admin}"
: "${BACKUP_FROM:=graft-0.graft:6362}"
: "${BACKUP_DIR:=/backups}"
: "${DATABASES:=neo4j system}"

rc=0
for db in $DATABASES; do
	mkdir -p "$BACKUP_DIR/$db"
	if ! "$GRAFT_ADMIN" database backup --from="$BACKUP_FROM" \
		--to-path="$BACKUP_DIR/$db" "$db"; then
		rc=1
		continue
	fi
	out=$("$GRAFT_ADMIN" database aggregate-backup --keep-old-backup \
		--from-path="$BACKUP_DIR/$db" "$db") || { rc=1; continue; }
	latest=$(echo "$out" | sed -n 's/.* into \(.*\); [0-9]* older artifacts removed\.$/\1/p')
	# rename(2) replaces the previous latest in one step
	mv -f "$latest" "$BACKUP_DIR/$db-latest.backup"
	echo "$db: $BACKUP_DIR/$db-latest.backup updated"
done
exit $rc
