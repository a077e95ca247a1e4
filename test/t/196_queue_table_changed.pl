# The worker inserts subscription entries straight into the queue table
# (src/row_insert.c), and through an INSERT that names the columns when
# the table was changed so that this would not do: here the restore
# trigger's function replaced by one that does more, then a column dropped
# and added again, which moves it.  Every entry is still queued, once, the
# replaced function fires, and the worker does not fail on the table's
# shape.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('queue_changed');
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE TABLE t (id int NOT NULL, v text);
SELECT streamext.create_stream('t');
SELECT streamext.create_subscription('all_t', 't', notify => 'none');
SELECT streamext.create_subscription('even_t', 't', filter => 'id % 2 = 0', notify => 'none');
INSERT INTO t SELECT g, 'before ' || g FROM generate_series(1, 10) g;});
wait_caught_up($node);

# CREATE OR REPLACE keeps the function's OID: it is not the library's now
$node->safe_psql('postgres', q{
CREATE TABLE noted (n int);
CREATE OR REPLACE FUNCTION streamext.note_restored_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'subscription_queue' THEN
        INSERT INTO public.noted VALUES (1);
    END IF;
    RETURN NULL;
END $$;
INSERT INTO t SELECT g, 'noted ' || g FROM generate_series(11, 20) g;});
is($node->safe_psql('postgres', q{SELECT streamext.wait_caught_up('30s')}), 't',
	'caught up with the restore trigger function replaced');
is($node->safe_psql('postgres', q{SELECT count(*) > 0 FROM noted}), 't',
	'the replaced function fired for the queue');
$node->safe_psql('postgres', q{
CREATE OR REPLACE FUNCTION streamext.note_restored_rows() RETURNS trigger
    LANGUAGE c AS '$libdir/streamext', 'streamext_note_restored_rows';});

$node->safe_psql('postgres', q{
ALTER TABLE streamext.subscription_queue DROP COLUMN committed_at;
ALTER TABLE streamext.subscription_queue ADD COLUMN committed_at timestamptz NOT NULL DEFAULT now();
INSERT INTO t SELECT g, 'after ' || g FROM generate_series(21, 25) g;
INSERT INTO t SELECT g, 'one transaction ' || g FROM generate_series(26, 30) g;});
is($node->safe_psql('postgres', q{SELECT streamext.wait_caught_up('30s')}), 't',
	'the worker catches up after the queue table changed');

# read as plain SQL: streamext.poll() reads the queue by column number
is( $node->safe_psql(
		'postgres', q{
SELECT s.name, count(*), count(DISTINCT q.position), min(q.position), max(q.position),
       bool_and((q.event->>'id')::int = CASE s.name WHEN 'all_t' THEN q.position ELSE 2 * q.position END)
  FROM streamext.subscription_queue q JOIN streamext.subscription_def s ON s.id = q.subscription_id
 GROUP BY s.name ORDER BY s.name}),
	"all_t|30|30|1|30|t\neven_t|15|15|1|15|t",
	'every entry is queued once, in order, after the changes as before them');
is( $node->safe_psql(
		'postgres', q{SELECT worker_restarts FROM streamext.streams WHERE stream = 't'::regclass}),
	'0', 'the worker did not fail');
$node->stop;
done_testing();
