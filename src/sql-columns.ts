/**
 * Columns added to tables that an earlier release stored: Durable Object storage outlives a
 * deploy, and SQLite has no ADD COLUMN IF NOT EXISTS.
 */
export function hasColumn(sql: SqlStorage, table: string, column: string): boolean {
  return sql
    .exec<{ name: string }>(`PRAGMA table_info(${table})`)
    .toArray()
    .some((c) => c.name === column);
}

/** Adds `column` (with its type and constraints) unless `table` has it; true when it was added. */
export function addColumn(sql: SqlStorage, table: string, column: string, definition: string): boolean {
  if (hasColumn(sql, table, column)) return false;
  sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`);
  return true;
}
