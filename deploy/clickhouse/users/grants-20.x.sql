-- govlisten's users with SQL access control, for ClickHouse 20.4 or later
-- (SQL-driven access control arrived in 20.4; use 20.6 or later, where it
-- is complete). NOT for Debian's 18.16, which has no GRANT: there, install
-- govlisten.xml beside this file instead. Use one or the other: a user
-- defined both in a users.d file and with CREATE USER is an error.
--
-- Not applied by `govlisten migrate` (it reads deploy/clickhouse/*.sql
-- only). Run it once, by hand, as a user with access_management = 1,
-- after replacing the two password hashes:
--
--     printf '%s' 'the-password' | sha256sum | cut -d' ' -f1
--     clickhouse-client --user admin --ask-password --multiquery < grants-20.x.sql
--
-- What this allows that 18.16 cannot: the processor gets INSERT (and the
-- SELECT it needs to read back) and nothing else, so a leaked processor
-- password cannot drop or alter a table; the analyst gets SELECT, and may
-- change settings for a query (no readonly = 1 needed) except the limits,
-- which the profile pins with READONLY constraints. Run `govlisten migrate`
-- and `govlisten retag` (CREATE, ALTER, DROP PARTITION) as the administrator,
-- and start processors with `govlisten process --no-migrate`.

CREATE SETTINGS PROFILE IF NOT EXISTS govlisten_analyst SETTINGS
    max_execution_time = 300 READONLY,
    timeout_overflow_mode = 'throw' READONLY,
    max_memory_usage = 4000000000 READONLY,
    max_result_rows = 1000000 READONLY,
    result_overflow_mode = 'throw' READONLY,
    max_threads = 2 READONLY;

CREATE USER IF NOT EXISTS analyst
    IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_HEX_OF_THE_ANALYST_PASSWORD'
    HOST IP '127.0.0.1', IP '::1'
    SETTINGS PROFILE 'govlisten_analyst';

GRANT SELECT ON govlisten.* TO analyst;

CREATE USER IF NOT EXISTS processor
    IDENTIFIED WITH sha256_hash BY 'REPLACE_WITH_SHA256_HEX_OF_THE_PROCESSOR_PASSWORD'
    HOST IP '127.0.0.1', IP '::1';

GRANT INSERT, SELECT ON govlisten.* TO processor;
