-- streams: create_stream, the append-only guard, drop_stream
SET client_min_messages = warning;
CREATE EXTENSION streamext;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE TABLE clicks (id bigserial PRIMARY KEY, url text NOT NULL, user_id bigint, ms int,
                     ts timestamptz NOT NULL DEFAULT clock_timestamp());
SELECT streamext.create_stream('clicks', time_column => 'ts');
SELECT stream, time_column FROM streamext.streams;

-- producers insert and copy as into any table
INSERT INTO clicks (url, ms, ts) VALUES ('/home', 12, '2026-01-01 10:00:05+00');
COPY clicks (url, ms, ts) FROM stdin;
/cart	40	2026-01-01 10:00:06+00
/home	7	2026-01-01 10:01:00+00
\.
SELECT count(*) FROM clicks;

-- a stream is append-only
UPDATE clicks SET ms = 0;
DELETE FROM clicks;
TRUNCATE clicks;
SELECT count(*) FROM clicks;

-- a stream without time column uses commit time
CREATE TABLE events (kind text NOT NULL, payload jsonb);
SELECT streamext.create_stream('events');
SELECT stream, time_column FROM streamext.streams ORDER BY stream::text;

-- drop_stream gives the table back
SELECT streamext.drop_stream('events');
UPDATE events SET kind = 'x';
SELECT stream FROM streamext.streams ORDER BY stream::text;
