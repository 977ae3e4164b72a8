-- The dashboard's sessions, shared by every process. The browser's cookie
-- holds a random session ID; the row is keyed by that ID's SHA-256 and holds
-- the API key sealed (AES-GCM) under a key derived from the ID, so neither
-- the database nor the browser alone yields the API key.
CREATE TABLE dashboard_sessions (
    id          TEXT PRIMARY KEY,
    project     TEXT NOT NULL,
    sealed_key  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions (expires_at);
