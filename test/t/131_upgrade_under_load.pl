# ALTER EXTENSION streamext UPDATE while producers write: a database
# created at 0.1 (served by this library since the server started), with
# views of every window kind and subscriptions, is updated to 0.2 in the
# middle of a load of late and out-of-order events.  Afterwards every view
# equals plain SQL and every subscription has queued each event or closed
# window exactly once, in commit order.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('upgrade_load');
$node->safe_psql('postgres', "CREATE EXTENSION streamext VERSION '0.1'");

# the stream of the window tests, created with 0.1's create_stream
$node->safe_psql('postgres', q{
CREATE TABLE ev (id bigserial PRIMARY KEY, g int, k int, v int, ts timestamptz NOT NULL);
SELECT streamext.create_stream('ev', time_column => 'ts');
CREATE TABLE gen (t0 timestamptz, started timestamptz, speed float8);
INSERT INTO gen VALUES (date_bin('1 minute', now() - interval '1 hour', '2000-01-01 00:00+00'),
                        clock_timestamp(), 30);
CREATE FUNCTION gen_ts(late_max float8 DEFAULT NULL) RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
  SELECT t0 + (clock_timestamp() - started) * speed
         - CASE WHEN late_max IS NULL THEN random() ^ 3 * interval '90 seconds'
                ELSE random() * late_max * interval '1 second' END
    FROM gen
$$;
CREATE FUNCTION gen_g() RETURNS int LANGUAGE sql VOLATILE AS
  $$ SELECT CASE WHEN random() < 0.03 THEN NULL ELSE 1 + (random() * 5)::int END $$;
CREATE FUNCTION gen_k() RETURNS int LANGUAGE sql VOLATILE AS $$ SELECT 1 + (random() * 149)::int $$;
CREATE FUNCTION gen_v() RETURNS int LANGUAGE sql VOLATILE AS
  $$ SELECT CASE WHEN random() < 0.03 THEN NULL ELSE (random() * 120)::int - 20 END $$;
});

my @views = every_window_kind();
create_window_view($node, 'postgres', $_) or BAIL_OUT("view $_->{name}") for @views;
$node->safe_psql('postgres', q{
SELECT streamext.create_subscription('positive', 'ev', filter => 'v > 50', notify => 'none');
SELECT streamext.create_subscription('tumb_final', 'tumb', notify => 'none');
});
wait_caught_up($node);

# 1. the update in the middle of the load
my $p = start_event_producers($node, seconds => 6, rate => 300);
sleep 2;
$node->safe_psql('postgres', 'ALTER EXTENSION streamext UPDATE');
is($node->safe_psql('postgres', "SELECT extversion FROM pg_extension WHERE extname = 'streamext'"),
	'0.2', 'updated to 0.2 while producers write');
finish_producers($p);
# windows the watermark has passed, closed: events after the load, in order
$node->safe_psql('postgres', q{INSERT INTO ev (g, k, v, ts) SELECT 1, 1, 1, now() FROM generate_series(1, 3)});
wait_checkpointed($node);

for my $spec (@views)
{
	check_view($node, 'postgres', $spec->{name}, window_oracle($spec),
		'after the update under load, ' . ($spec->{window} // 'running'));
}

# 2. the event subscription: each matching event once, in commit order
is($node->safe_psql('postgres', q{
SELECT count(*) = (SELECT count(*) FROM ev WHERE v > 50)
       AND count(DISTINCT event->>'id') = count(*)
       AND min(position) = 1 AND max(position) = count(*)
  FROM streamext.poll('positive', 1000000)}), 't',
	'every matching event queued once, positions without a gap');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM (
  SELECT (event->>'id')::bigint AS id FROM streamext.poll('positive', 1000000)
  EXCEPT SELECT id FROM ev WHERE v > 50) x}), '0', 'and only matching events');

# 3. the view subscription: each closed window once, with its final or
# corrected row last
is($node->safe_psql('postgres', q{
WITH q AS (
  SELECT position, kind, event FROM streamext.poll('tumb_final', 1000000)),
last AS (
  SELECT DISTINCT ON (event->>'window_start', event->>'k1') event
    FROM q ORDER BY event->>'window_start', event->>'k1', position DESC),
closed AS (
  SELECT to_jsonb(t) AS row FROM tumb t, streamext.view_progress p, streamext.view_def d
   WHERE d.name = 'tumb' AND p.view_id = d.id AND t.window_end <= p.closed_upto)
SELECT (SELECT count(*) FROM q WHERE kind = 'window') =
       (SELECT count(DISTINCT (event->>'window_start', event->>'k1')) FROM q WHERE kind = 'window'),
       (SELECT count(*) FROM (SELECT row FROM closed EXCEPT SELECT event::jsonb FROM last) m),
       (SELECT count(*) FROM closed) > 0}), 't|0|t',
	'every closed window queued once, its last entry equal to the view');

done_testing();
