// WatermelonDB migrations for fieldsync's schema (schema.js). Version 1 is the first
// synced schema, so there is nothing to migrate yet. When a later version adds tables or
// columns, add a step here; `synchronize({migrationsEnabledAtVersion: 1})` then sends the
// server a `migration` pull, and the server returns the full content of what was added.
import { schemaMigrations } from '@nozbe/watermelondb/Schema/migrations/index.js'

export const migrations = schemaMigrations({ migrations: [] })

export default migrations
