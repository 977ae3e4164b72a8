-- deliveries_endpoint (endpoint_id, event_seq) served nothing the other
-- indexes do not: an endpoint's pending deliveries in log order come from
-- deliveries_pending, all of its deliveries from deliveries_endpoint_list.
-- Every delivery row paid for it on insert.
DROP INDEX deliveries_endpoint;
