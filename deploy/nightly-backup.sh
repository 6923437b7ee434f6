#!/bin/sh
# Knotwork's nightly backup: a consistent copy (`flask backup`, safe while the app serves), the audit chain
# checked on it, encrypted with age for the clinic's recovery key, copied off this machine, then the plain copy
# removed. Run by deploy/knotwork-backup.timer (systemd) or cron, as the user the app runs as:
#   15 2 * * *  /srv/knotwork/deploy/nightly-backup.sh >> /var/log/knotwork-backup.log 2>&1
#
# Settings (environment, or /etc/knotwork/backup.env read by the systemd unit):
#   KNOTWORK_DIR       the checkout (default /srv/knotwork)
#   BACKUP_DIR         where encrypted copies are kept here, briefly (default /var/backups/knotwork, mode 0700)
#   AGE_RECIPIENT      the public key of the clinic's recovery key (`age-keygen`; keep the secret key offline)
#   OFFSITE            an rsync/scp destination on another machine, e.g. backup@vault.example:knotwork/
#   KEEP_DAYS          encrypted copies kept here (default 7); the off-site store keeps its own history
# plus the app's own settings (DATABASE_URL, SECRET_KEY, KNOTWORK_CONFIG) as the service has them.
set -eu
umask 077

KNOTWORK_DIR=${KNOTWORK_DIR:-/srv/knotwork}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/knotwork}
KEEP_DAYS=${KEEP_DAYS:-7}
: "${AGE_RECIPIENT:?set AGE_RECIPIENT to the recovery key's public key}"
: "${OFFSITE:?set OFFSITE to a destination on another machine}"

mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"
stamp=$(date -u +%Y-%m-%dT%H%MZ)
plain="$BACKUP_DIR/knotwork-$stamp.backup"
trap 'rm -f "$plain"' EXIT

cd "$KNOTWORK_DIR"
export FLASK_APP=app.py
.venv/bin/flask backup "$plain"
# The head of the audit chain, kept beside the copy: entries removed from the end later would show against it.
.venv/bin/flask audit verify | tee "$BACKUP_DIR/knotwork-$stamp.audit-head.txt"

age --encrypt --recipient "$AGE_RECIPIENT" --output "$plain.age" "$plain"
rm -f "$plain"
rsync --archive "$plain.age" "$BACKUP_DIR/knotwork-$stamp.audit-head.txt" "$OFFSITE"

find "$BACKUP_DIR" -name 'knotwork-*' -mtime +"$KEEP_DAYS" -delete
echo "backup $stamp done"
