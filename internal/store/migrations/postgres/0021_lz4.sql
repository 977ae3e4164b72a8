-- Events' data and resources' bodies of over 2 kB (subscriptions, with
-- their plan, user and porting embedded) are compressed when stored;
-- PostgreSQL's default, pglz, costs several times the CPU of lz4 for a
-- like ratio. Servers built without lz4 keep pglz: the change is an
-- optimisation, not a requirement.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN data SET COMPRESSION lz4,
        ALTER COLUMN previous_data SET COMPRESSION lz4;
    ALTER TABLE resources ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'lz4 compression unavailable: %', SQLERRM;
END
$$;
