-- a stream is a table whose inserts logical decoding sees: a logged table of
-- this database; so is each of its partitions, at any depth, however it
-- joins the stream
SET timezone = 'UTC';
\set VERBOSITY default
CREATE FOREIGN DATA WRAPPER kinds_fdw;
CREATE SERVER elsewhere FOREIGN DATA WRAPPER kinds_fdw;

-- unlogged and temporary tables are refused, partitioned ones too
CREATE UNLOGGED TABLE u_events (v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('u_events', 'ts');
CREATE TEMP TABLE t_events (v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('t_events', 'ts');
CREATE UNLOGGED TABLE u_parted (v int, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
SELECT streamext.create_stream('u_parted', 'ts');
CREATE FOREIGN TABLE f_events (v int, ts timestamptz NOT NULL) SERVER elsewhere;
SELECT streamext.create_stream('f_events', 'ts');

-- a partitioned table with an unlogged or a foreign partition, at any depth
CREATE TABLE readings (device text NOT NULL, v int, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE readings_2025 PARTITION OF readings
    FOR VALUES FROM ('2025-01-01') TO ('2026-01-01') PARTITION BY LIST (device);
CREATE UNLOGGED TABLE readings_2025_a PARTITION OF readings_2025 FOR VALUES IN ('a');
SELECT streamext.create_stream('readings', 'ts');
ALTER TABLE readings_2025_a SET LOGGED;
CREATE FOREIGN TABLE readings_2024 PARTITION OF readings
    FOR VALUES FROM ('2024-01-01') TO ('2025-01-01') SERVER elsewhere;
SELECT streamext.create_stream('readings', 'ts');
ALTER TABLE readings DETACH PARTITION readings_2024;
SELECT streamext.create_stream('readings', 'ts');

-- a partition decoding would not see cannot join the stream: created ...
CREATE UNLOGGED TABLE readings_2026 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE UNLOGGED TABLE readings_2025_b PARTITION OF readings_2025 FOR VALUES IN ('b');
CREATE FOREIGN TABLE readings_2027 PARTITION OF readings
    FOR VALUES FROM ('2027-01-01') TO ('2028-01-01') SERVER elsewhere;
-- ... or attached, to the stream or to a partition of it, also as a
-- partitioned table with such a partition
ALTER TABLE readings ATTACH PARTITION readings_2024 FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE UNLOGGED TABLE readings_2023 (device text NOT NULL, v int, ts timestamptz NOT NULL);
ALTER TABLE readings ATTACH PARTITION readings_2023 FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
ALTER TABLE readings_2025 ATTACH PARTITION readings_2023 FOR VALUES IN ('c');
CREATE TABLE readings_2022 (device text NOT NULL, v int, ts timestamptz NOT NULL) PARTITION BY LIST (device);
CREATE UNLOGGED TABLE readings_2022_a PARTITION OF readings_2022 FOR VALUES IN ('a');
ALTER TABLE readings ATTACH PARTITION readings_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
-- ... and neither the stream nor a partition turns unlogged
ALTER TABLE readings SET UNLOGGED;
ALTER TABLE readings_2025 SET UNLOGGED;
ALTER TABLE readings_2025_a SET UNLOGGED;
CREATE TABLE plain_events (v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('plain_events', 'ts');
ALTER TABLE plain_events SET UNLOGGED;
ALTER TABLE plain_events ADD COLUMN note text, SET UNLOGGED;

-- logged partitions join as before, and tables outside streams are free
CREATE TABLE readings_2026 PARTITION OF readings FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
ALTER TABLE readings_2022_a SET LOGGED;
ALTER TABLE readings ATTACH PARTITION readings_2022 FOR VALUES FROM ('2022-01-01') TO ('2023-01-01');
CREATE TABLE elsewhere_parted (k int) PARTITION BY LIST (k);
CREATE UNLOGGED TABLE elsewhere_1 PARTITION OF elsewhere_parted FOR VALUES IN (1);
ALTER TABLE readings_2023 SET LOGGED;
ALTER TABLE readings_2023 SET UNLOGGED;
SELECT c.relname, c.relpersistence, c.relkind FROM pg_class c
 WHERE c.oid IN (SELECT relid FROM pg_partition_tree('readings')) ORDER BY 1;

-- so every event reaches the views
SELECT streamext.create_view('per_device',
  $$ SELECT device, count(*) AS n, sum(v) AS s FROM readings GROUP BY device $$);
INSERT INTO readings VALUES ('a', 1, '2025-03-01'), ('a', 2, '2022-05-01'),
                            ('b', 3, '2026-07-01'), ('a', 4, '2025-12-31 23:59:59');
SELECT streamext.wait_caught_up();
SELECT * FROM per_device ORDER BY device;
(SELECT device, count(*), sum(v) FROM readings GROUP BY device) EXCEPT ALL SELECT * FROM per_device;

-- nothing else became a stream
SELECT stream FROM streamext.streams WHERE stream::text IN
  ('u_events', 't_events', 'u_parted', 'f_events', 'readings', 'plain_events') ORDER BY 1;
SELECT streamext.drop_view('per_device');
SELECT streamext.drop_stream('readings');
SELECT streamext.drop_stream('plain_events');
DROP TABLE readings, readings_2023, plain_events, u_events, t_events, u_parted, elsewhere_parted;
DROP FOREIGN TABLE f_events, readings_2024;
DROP SERVER elsewhere;
DROP FOREIGN DATA WRAPPER kinds_fdw;
