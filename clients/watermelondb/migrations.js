// WatermelonDB migrations for fieldsync's schema (schema.js). Each version that adds
// tables or columns has a step here; `synchronize({migrationsEnabledAtVersion: 1})` then
// sends the server a `migration` pull, and the server returns the full content of what
// was added.
import {
  addColumns,
  schemaMigrations,
} from '@nozbe/watermelondb/Schema/migrations/index.js'

export const migrations = schemaMigrations({
  migrations: [
    {
      // Customer locations a manager approves; the phone's mock-location signal.
      toVersion: 2,
      steps: [
        addColumns({
          table: 'customers',
          columns: [
            { name: 'location_approved', type: 'boolean' },
            { name: 'proposed_lat', type: 'number', isOptional: true },
            { name: 'proposed_lon', type: 'number', isOptional: true },
            { name: 'proposed_by', type: 'string', isOptional: true },
            { name: 'proposed_at', type: 'number', isOptional: true },
          ],
        }),
        addColumns({
          table: 'visits',
          columns: [{ name: 'check_in_mocked', type: 'boolean', isOptional: true }],
        }),
      ],
    },
  ],
})

export default migrations
