-- The claim's access paths (ClaimDeliveries): due unordered deliveries by
-- time, and the ordered endpoints that have pending deliveries, whose heads
-- are found one endpoint at a time on deliveries_pending. Ordered rows leave
-- the due index: only an endpoint's head may be claimed, and scanning past
-- the rest of its backlog on every claim made draining it quadratic.
DROP INDEX deliveries_due;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending' AND paused = 0 AND ordered = 0;
CREATE INDEX deliveries_ordered ON deliveries (endpoint_id) WHERE status = 'pending' AND ordered = 1;
