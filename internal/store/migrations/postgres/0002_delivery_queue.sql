-- The delivery queue's access paths: an endpoint's pending deliveries in log
-- order (the head of an ordered endpoint, queue depth), and an endpoint's
-- deliveries newest first (the deliveries listing).
CREATE INDEX deliveries_pending ON deliveries (endpoint_id, event_seq) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint_list ON deliveries (endpoint_id, id);

-- retry_base is the attempt count when the delivery was last queued by hand
-- (resend, recover): the retry schedule starts over from there.
ALTER TABLE deliveries ADD COLUMN retry_base BIGINT NOT NULL DEFAULT 0;
