-- Each project's clock: its offset from the wall clock, in nanoseconds.
-- Only a test project's grows, and never shrinks; a row is made with
-- its project (so a project ID is taken once).
CREATE TABLE project_clocks (
    project     TEXT PRIMARY KEY,
    offset_nanos BIGINT NOT NULL
);
-- The timers of one project, for firing them by that project's clock.
CREATE INDEX resources_project_due ON resources (project, due_at) WHERE due_at IS NOT NULL;
