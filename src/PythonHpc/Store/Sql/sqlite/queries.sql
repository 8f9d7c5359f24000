-- What SQLite needs said its own way (postgres/queries.sql has the same names); the rest is in
-- common/queries.sql.

-- The column types the shared migrations (common/migrations) leave to each provider.
-- name: type-time
TEXT

-- name: type-id
INTEGER PRIMARY KEY AUTOINCREMENT

-- name: type-ref
INTEGER

-- Run on every connection as it is opened. {busy_timeout_ms} is Store:BusyTimeout.
-- name: connection-session
PRAGMA busy_timeout = {busy_timeout_ms};

-- Migrations take turns among processes starting together: BEGIN IMMEDIATE already holds SQLite's
-- one write lock, so nothing is needed here.
-- name: migrations-lock

-- name: migrations-table
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TEXT NOT NULL
);
