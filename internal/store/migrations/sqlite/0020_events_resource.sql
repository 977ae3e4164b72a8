-- A resource's timeline: GET /projects/{p}/events?resource=ID.
CREATE INDEX events_resource ON events (project, resource, id);
