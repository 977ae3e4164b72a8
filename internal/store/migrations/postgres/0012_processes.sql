-- The serving processes and their heartbeats: a process whose beat stopped
-- is dead, and the others take back the deliveries it had leased
-- (ReclaimDead).
CREATE TABLE processes (
    id         TEXT PRIMARY KEY,
    started_at BIGINT NOT NULL,
    beat_at    BIGINT NOT NULL
);
