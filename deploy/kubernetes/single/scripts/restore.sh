#!/bin/sh
# The restore initContainer's command (the pattern of the article on
# restoring Neo4j backups on Kubernetes): before graftd starts, restores
# each of $DATABASES from $BACKUP_DIR/<db>-latest.backup when the data
# volume does not hold that database yet. With
# FORCE_OVERWRITE=true it replaces an existing one too — on every pod
# start, so set it for a one-off recovery and remove it afterwards.
set -eu
: "${GRAFT_ADMIN:=graft-admin}"
: "${BACKUP_DIR:=/backups}"
: "${DATABASES:=neo4j system}"
: "${DATA_DIR:=/data}"
: "${FORCE_OVERWRITE:=false}"

has_data() {
	ls "$DATA_DIR/databases/$1" "$DATA_DIR/transactions/$1" 2>/dev/null |
		grep -q '^checkpoint\.\|^txlog\.'
}

for db in $DATABASES; do
	latest=$BACKUP_DIR/$db-latest.backup
	if [ ! -f "$latest" ]; then
		echo "$db: no $latest; the database starts as it is"
	elif has_data "$db" && [ "$FORCE_OVERWRITE" != true ]; then
		echo "$db: exists; not restored (FORCE_OVERWRITE=true replaces it)"
	else
		"$GRAFT_ADMIN" database restore --from-path="$latest" \
			--overwrite-destination="$FORCE_OVERWRITE" "$db"
	fi
done
