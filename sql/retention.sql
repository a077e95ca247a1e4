-- retention: partitioned streams, create_stream(..., retention), set_stream_retention
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS streamext;
RESET client_min_messages;
SET timezone = 'UTC';

-- a stream partitioned by range on its time column, with a retention:
-- streamext creates a default partition and partitions around now()
CREATE TABLE readings (id bigserial, gone int, device text NOT NULL, value int,
                       ts timestamptz NOT NULL DEFAULT clock_timestamp())
  PARTITION BY RANGE (ts);
ALTER TABLE readings DROP COLUMN gone;
SELECT streamext.create_stream('readings', 'ts', retention => '1 hour');
SELECT stream, time_column, retention FROM streamext.streams WHERE stream = 'readings'::regclass;
-- 1 hour: partitions of 15 minutes, from the one holding now() - 1 hour to
-- at least now() + 1 hour, and the default partition
SELECT count(*) FILTER (WHERE pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT') AS "default",
       count(*) BETWEEN 9 AND 10 AS ranges_ok,
       bool_and(c.relowner = (SELECT relowner FROM pg_class WHERE oid = 'readings'::regclass)) AS owned
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'readings'::regclass;
-- every partition is 15 minutes wide, aligned to 2000-01-01
SELECT DISTINCT upper - lower AS width, extract(epoch FROM lower - '2000-01-01+00') % 900 AS misalign
  FROM (SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']*)'\) TO \('([^']*)'\)$$))[1]::timestamptz AS lower,
               (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']*)'\) TO \('([^']*)'\)$$))[2]::timestamptz AS upper
          FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'readings'::regclass) p
 WHERE lower IS NOT NULL;

-- events go to partitions; those far from now() to the default partition
INSERT INTO readings (device, value) SELECT 'd' || (i % 3), i FROM generate_series(1, 30) i;
INSERT INTO readings (device, value, ts) VALUES ('d0', 100, '2024-01-01 00:00+00'),
                                               ('d1', 200, now() + interval '1 day');
SELECT CASE WHEN pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' THEN 'default' ELSE 'range' END AS part,
       count(*), sum(value)
  FROM readings r JOIN pg_class c ON c.oid = r.tableoid GROUP BY 1 ORDER BY 1;

-- views over a partitioned stream: backfill over the partitions, then the worker
SELECT streamext.create_view('readings_total',
  $$ SELECT device, count(*) AS n, sum(value) AS total FROM readings GROUP BY device $$);
INSERT INTO readings (device, value) SELECT 'd' || (i % 3), i FROM generate_series(31, 60) i;
SELECT streamext.wait_caught_up();
SELECT * FROM readings_total ORDER BY device;
SELECT (SELECT count(*) FROM ((SELECT device, count(*), sum(value) FROM readings GROUP BY 1)
                              EXCEPT ALL SELECT * FROM readings_total) a) AS missing,
       (SELECT count(*) FROM (SELECT * FROM readings_total
                              EXCEPT ALL (SELECT device, count(*), sum(value) FROM readings GROUP BY 1)) b) AS extra;

-- partitions are append-only too, and stay with their stream
SELECT c.relname AS part FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'readings'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' \gset
UPDATE readings SET value = 0;
UPDATE :part SET value = 0;
DELETE FROM :part;
TRUNCATE :part;
DROP TABLE :part;
DROP TABLE :part CASCADE;
ALTER TABLE readings DETACH PARTITION :part;
CREATE TABLE readings_2030 (LIKE readings INCLUDING DEFAULTS);
INSERT INTO readings_2030 (device, value, ts) VALUES ('d9', 1, '2030-01-01 00:00+00');
ALTER TABLE readings ATTACH PARTITION readings_2030 FOR VALUES FROM ('2030-01-01') TO ('2030-01-02');
TRUNCATE readings_2030;     -- not a partition yet: allowed
ALTER TABLE readings ATTACH PARTITION readings_2030 FOR VALUES FROM ('2030-01-01') TO ('2030-01-02');
INSERT INTO readings (device, value, ts) VALUES ('d9', 1, '2030-01-01 00:00+00');
UPDATE readings_2030 SET value = 2;
SELECT count(*) FROM readings_2030;

-- set_stream_retention
SELECT streamext.set_stream_retention('readings', '2 days');
SELECT stream, retention FROM streamext.streams WHERE stream = 'readings'::regclass;
SELECT streamext.set_stream_retention('readings', NULL);
SELECT stream, retention FROM streamext.streams WHERE stream = 'readings'::regclass;

-- bad input, each a clear error, nothing changed
SELECT streamext.set_stream_retention('readings', '0 seconds');
SELECT streamext.set_stream_retention('readings', '-1 day');
SELECT streamext.set_stream_retention('readings', '500 milliseconds');
SELECT streamext.set_stream_retention('readings', '1 month');
SELECT streamext.set_stream_retention(NULL, '1 day');
CREATE TABLE notastream (ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
SELECT streamext.set_stream_retention('notastream', '1 day');
-- a plain table is not converted: the hint shows how to make one
CREATE TABLE plain_ev (k text, ts timestamptz NOT NULL);
SELECT streamext.create_stream('plain_ev', 'ts', retention => '1 day');
SELECT streamext.create_stream('plain_ev', 'ts');
SELECT streamext.set_stream_retention('plain_ev', '1 day');
-- commit-time streams have no event time to drop by
CREATE TABLE commit_ev (k text, ts timestamptz NOT NULL) PARTITION BY RANGE (ts);
SELECT streamext.create_stream('commit_ev', retention => '1 day');
SELECT streamext.create_stream('commit_ev');
SELECT streamext.set_stream_retention('commit_ev', '1 day');
-- partitioned by something else
CREATE TABLE by_list (k text NOT NULL, ts timestamptz NOT NULL) PARTITION BY LIST (k);
SELECT streamext.create_stream('by_list', 'ts', retention => '1 day');
CREATE TABLE by_other (k text, ts timestamptz NOT NULL, ts2 timestamptz NOT NULL) PARTITION BY RANGE (ts2);
SELECT streamext.create_stream('by_other', 'ts', retention => '1 day');
CREATE TABLE by_two (k text NOT NULL, ts timestamptz NOT NULL) PARTITION BY RANGE (ts, k);
SELECT streamext.create_stream('by_two', 'ts', retention => '1 day');
-- a partition is not a stream of its own
SELECT streamext.create_stream('readings_2030', 'ts');
SELECT stream, time_column, retention FROM streamext.streams
 WHERE stream::text IN ('readings', 'plain_ev', 'commit_ev', 'by_list', 'by_other', 'by_two')
 ORDER BY stream::text;

-- drop_stream gives the partitions back
SELECT streamext.drop_view('readings_total');
SELECT streamext.drop_stream('readings');
DELETE FROM readings_2030;
SELECT streamext.drop_stream('plain_ev');
SELECT streamext.drop_stream('commit_ev');
DROP TABLE readings, plain_ev, commit_ev, notastream, by_list, by_other, by_two;
