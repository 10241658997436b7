"""What operators need: health and metrics, logs, backups, retention, audit export, the pepper
and the data inventory. See docs/operations.md."""
