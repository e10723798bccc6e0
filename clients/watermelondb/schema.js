// WatermelonDB schema for fieldsync (`GET`/`POST /api/v1/sync/watermelon`).
// Generated from the server's record schemas (sync/watermelon/raw.py `columns()`); see
// docs/watermelondb.md for the mapping. Ids are the server's UUIDs: give WatermelonDB a
// UUID generator (setGenerator) so records created on the phone get valid ids.
//
// Column kinds: dates are numbers (ms since the epoch, UTC); JSON fields (order `lines`,
// `opening_hours`, id lists, plan stops, geometry) are JSON strings; decimals (money,
// quantities) are strings, exact. `version`, `created_at`, `updated_at` and server-derived
// columns are the server's: the server ignores them on push (WatermelonDB itself stamps
// `updated_at` on local edits; the server reads it as the edit time).
import { appSchema, tableSchema } from '@nozbe/watermelondb'

export const SCHEMA_VERSION = 2

export const schema = appSchema({
  version: SCHEMA_VERSION,
  tables: [
    tableSchema({
      name: 'teams',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'name', type: 'string', isOptional: true },
        { name: 'manager_ids', type: 'string', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'users',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'email', type: 'string', isOptional: true },
        { name: 'name', type: 'string', isOptional: true },
        { name: 'role', type: 'string', isOptional: true },
        { name: 'team_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'territory_ids', type: 'string', isOptional: true },  // server's
        { name: 'home_lat', type: 'number', isOptional: true },
        { name: 'home_lon', type: 'number', isOptional: true },
        { name: 'locale', type: 'string', isOptional: true },
        { name: 'active', type: 'boolean', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'territories',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'name', type: 'string', isOptional: true },
        { name: 'team_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'color', type: 'string', isOptional: true },
        { name: 'geometry', type: 'string', isOptional: true },
        { name: 'rep_ids', type: 'string', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'products',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'sku', type: 'string', isOptional: true },
        { name: 'name', type: 'string', isOptional: true },
        { name: 'unit_price', type: 'string', isOptional: true },
        { name: 'currency', type: 'string', isOptional: true },
        { name: 'active', type: 'boolean', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'customers',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'name', type: 'string', isOptional: true },
        { name: 'address', type: 'string', isOptional: true },
        { name: 'city', type: 'string', isOptional: true },
        { name: 'postal_code', type: 'string', isOptional: true },
        { name: 'country', type: 'string', isOptional: true },
        { name: 'lat', type: 'number', isOptional: true },
        { name: 'lon', type: 'number', isOptional: true },
        { name: 'phone', type: 'string', isOptional: true },
        { name: 'email', type: 'string', isOptional: true },
        { name: 'territory_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'owner_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'status', type: 'string', isOptional: true },
        { name: 'tier', type: 'string', isOptional: true },
        { name: 'visit_every_days', type: 'number', isOptional: true },
        { name: 'visit_minutes', type: 'number', isOptional: true },
        { name: 'opening_hours', type: 'string', isOptional: true },
        { name: 'notes', type: 'string', isOptional: true },
        { name: 'last_visit_at', type: 'number', isOptional: true },  // server's
        { name: 'location_approved', type: 'boolean' },  // server's (version 2)
        { name: 'proposed_lat', type: 'number', isOptional: true },  // server's (version 2)
        { name: 'proposed_lon', type: 'number', isOptional: true },  // server's (version 2)
        { name: 'proposed_by', type: 'string', isOptional: true },  // server's (version 2)
        { name: 'proposed_at', type: 'number', isOptional: true },  // server's (version 2)
      ],
    }),
    tableSchema({
      name: 'contacts',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'customer_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'name', type: 'string', isOptional: true },
        { name: 'role', type: 'string', isOptional: true },
        { name: 'phone', type: 'string', isOptional: true },
        { name: 'email', type: 'string', isOptional: true },
        { name: 'notes', type: 'string', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'visits',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'customer_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'rep_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'planned_at', type: 'number', isOptional: true },
        { name: 'status', type: 'string', isOptional: true },
        { name: 'check_in_at', type: 'number', isOptional: true },
        { name: 'check_in_lat', type: 'number', isOptional: true },
        { name: 'check_in_lon', type: 'number', isOptional: true },
        { name: 'check_in_accuracy_m', type: 'number', isOptional: true },
        { name: 'check_in_mocked', type: 'boolean', isOptional: true },  // version 2
        { name: 'check_out_at', type: 'number', isOptional: true },
        { name: 'check_out_lat', type: 'number', isOptional: true },
        { name: 'check_out_lon', type: 'number', isOptional: true },
        { name: 'check_out_accuracy_m', type: 'number', isOptional: true },
        { name: 'outcome', type: 'string', isOptional: true },
        { name: 'notes', type: 'string', isOptional: true },
        { name: 'check_in_distance_m', type: 'number', isOptional: true },  // server's
        { name: 'location_status', type: 'string', isOptional: true },  // server's
      ],
    }),
    tableSchema({
      name: 'orders',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'customer_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'visit_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'rep_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'status', type: 'string', isOptional: true },
        { name: 'lines', type: 'string', isOptional: true },
        { name: 'currency', type: 'string', isOptional: true },
        { name: 'total', type: 'string', isOptional: true },  // server's
        { name: 'submitted_at', type: 'number', isOptional: true },  // server's
        { name: 'notes', type: 'string', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'tasks',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'customer_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'assignee_id', type: 'string', isOptional: true, isIndexed: true },
        { name: 'title', type: 'string', isOptional: true },
        { name: 'due_at', type: 'number', isOptional: true },
        { name: 'done', type: 'boolean', isOptional: true },
        { name: 'notes', type: 'string', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'route_plans',
      columns: [
        { name: 'version', type: 'number' },  // server's
        { name: 'created_at', type: 'number' },  // server's
        { name: 'updated_at', type: 'number' },  // server's
        { name: 'deleted_at', type: 'number', isOptional: true },  // server's
        { name: 'rep_id', type: 'string', isOptional: true, isIndexed: true },  // server's
        { name: 'plan_date', type: 'string', isOptional: true },  // server's
        { name: 'timezone', type: 'string', isOptional: true },  // server's
        { name: 'start_lat', type: 'number', isOptional: true },  // server's
        { name: 'start_lon', type: 'number', isOptional: true },  // server's
        { name: 'end_lat', type: 'number', isOptional: true },  // server's
        { name: 'end_lon', type: 'number', isOptional: true },  // server's
        { name: 'start_at', type: 'number', isOptional: true },  // server's
        { name: 'end_at', type: 'number', isOptional: true },  // server's
        { name: 'shift_end_at', type: 'number', isOptional: true },  // server's
        { name: 'stops', type: 'string', isOptional: true },  // server's
        { name: 'lunch', type: 'string', isOptional: true },  // server's
        { name: 'unassigned', type: 'string', isOptional: true },  // server's
        { name: 'needs_location', type: 'string', isOptional: true },  // server's
        { name: 'total_travel_s', type: 'number', isOptional: true },  // server's
        { name: 'total_distance_m', type: 'number', isOptional: true },  // server's
        { name: 'total_service_s', type: 'number', isOptional: true },  // server's
        { name: 'total_waiting_s', type: 'number', isOptional: true },  // server's
        { name: 'geometry', type: 'string', isOptional: true },  // server's
        { name: 'travel_provider', type: 'string', isOptional: true },  // server's
      ],
    }),
  ],
})

export default schema
