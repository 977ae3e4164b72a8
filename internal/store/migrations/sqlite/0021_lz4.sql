-- PostgreSQL only (lz4 compression of large text columns); SQLite
-- compresses nothing. The statement keeps the versions in step.
SELECT 1;
