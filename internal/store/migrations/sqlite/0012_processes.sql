-- The serving processes and their heartbeats: a process whose beat stopped
-- is dead, and the others take back the deliveries it had leased
-- (ReclaimDead). On SQLite one process serves a file (an OS lock), so the
-- table only records it.
CREATE TABLE processes (
    id         TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    beat_at    INTEGER NOT NULL
);
