"""`/api/v1/sync/watermelon`: WatermelonDB's `synchronize()` backend on the sync engine."""
