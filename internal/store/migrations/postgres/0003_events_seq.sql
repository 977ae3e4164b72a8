-- EventsSince tails a project's log by seq; PostgreSQL assigns a project's
-- seqs in commit order (InsertEvent takes the project's event lock), so a
-- reader that has seen seq N never finds a smaller one later.
CREATE INDEX events_seq ON events (project, seq);
