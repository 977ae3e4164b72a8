-- Resources of every kind (porting, subscription, user, plan, sim, apiKey,
-- webhookEndpoint, serviceProvider, portOutCredentials …) as JSON documents,
-- with the columns the API filters on and the scheduler's timer.
CREATE TABLE resources (
    id      TEXT PRIMARY KEY,
    kind    TEXT NOT NULL,
    project TEXT NOT NULL,
    status  TEXT NOT NULL DEFAULT '',
    owner   TEXT NOT NULL DEFAULT '',
    ref     TEXT NOT NULL DEFAULT '',
    uniq    TEXT,
    due_at  BIGINT,
    body    TEXT NOT NULL
);
CREATE INDEX resources_list ON resources (project, kind, id);
CREATE INDEX resources_status ON resources (project, kind, status, id);
CREATE INDEX resources_owner ON resources (project, kind, owner, id);
CREATE INDEX resources_ref ON resources (project, kind, ref, id);
CREATE UNIQUE INDEX resources_uniq ON resources (project, kind, uniq) WHERE uniq IS NOT NULL;
CREATE INDEX resources_due ON resources (due_at) WHERE due_at IS NOT NULL;

-- The event log: the canonical event, once; every version is rendered from it.
CREATE TABLE events (
    seq           BIGSERIAL PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    project       TEXT NOT NULL,
    type          TEXT NOT NULL,
    resource      TEXT NOT NULL,
    time          BIGINT NOT NULL,
    source        TEXT NOT NULL,
    data          TEXT NOT NULL,
    previous_data TEXT,
    actor         TEXT
);
CREATE INDEX events_list ON events (project, id);
CREATE INDEX events_type ON events (project, type, id);

-- One row per (event, endpoint): pending until a success is recorded.
CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    project         TEXT NOT NULL,
    endpoint_id     TEXT NOT NULL,
    event_id        TEXT NOT NULL,
    event_seq       BIGINT NOT NULL,
    status          TEXT NOT NULL,
    ordered         BIGINT NOT NULL DEFAULT 0,
    paused          BIGINT NOT NULL DEFAULT 0,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    claim_id        TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    last_status     BIGINT NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND paused = 0;
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, event_seq);
CREATE INDEX deliveries_event ON deliveries (event_id);

-- The attempt log.
CREATE TABLE attempts (
    delivery_id   TEXT NOT NULL,
    n             BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    status_code   BIGINT NOT NULL,
    response_body TEXT NOT NULL,
    latency_ms    BIGINT NOT NULL,
    error         TEXT NOT NULL,
    PRIMARY KEY (delivery_id, n)
);

-- Idempotency keys: the first response to a POST, replayed on retries.
CREATE TABLE idempotency (
    project     TEXT NOT NULL,
    key         TEXT NOT NULL,
    hash        TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    body        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project, key)
);

-- Settings shared by every process: the simulator clock's offset, …
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
