"""`/api/v1/sync/pull`, `/sync/push` and `/conflicts`: HTTP around the sync engine (`sync/`)."""
