# The user-code boundary, retention: the worker creates, fills, empties and
# drops the partitions of a stream with a retention as the stream's owner.
# The owner's code on those tables (an ENABLE ALWAYS trigger on the default
# partition, a deferred constraint trigger, a CHECK constraint and an index
# expression calling the owner's function) runs as the owner and cannot make
# the owner a superuser; a superuser's event trigger sees the owner run the
# DDL; every partition belongs to the owner from the moment it exists.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('retention_owner', qq{
streamext.maintenance_interval = '200ms'
});
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE ROLE mallory LOGIN;
GRANT CREATE ON SCHEMA public TO mallory;
-- a superuser's event trigger, logging who runs DDL
CREATE TABLE public.ddl_log (who text, tag text, at timestamptz DEFAULT clock_timestamp());
GRANT INSERT ON public.ddl_log TO PUBLIC;
CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO public.ddl_log (who, tag) VALUES (current_user, tg_tag); END $$;
CREATE EVENT TRIGGER log_ddl ON ddl_command_end EXECUTE FUNCTION public.log_ddl();
});

$node->safe_psql('postgres', q{
SET ROLE mallory;
CREATE TABLE public.spy_log (who text, what text, super bool);
-- tries to make mallory a superuser, then notes who ran it and whether it worked
CREATE FUNCTION public.spy(what text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
  EXCEPTION WHEN others THEN NULL;
  END;
  INSERT INTO public.spy_log VALUES (current_user, what,
    (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = 'mallory'));
  RETURN true;
END $$;
CREATE FUNCTION public.spy_immutable(what text) RETURNS bool LANGUAGE plpgsql IMMUTABLE AS
  'BEGIN RETURN public.spy(what); END';
CREATE FUNCTION public.spy_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM public.spy(tg_name);
  RETURN CASE WHEN tg_op = 'DELETE' THEN OLD ELSE NEW END;
END $$;
CREATE TABLE public.ev (k text NOT NULL, v int, ts timestamptz NOT NULL DEFAULT clock_timestamp(),
                        CHECK (public.spy('check'))) PARTITION BY RANGE (ts);
CREATE INDEX ON public.ev ((public.spy_immutable('index' || k)));
SELECT streamext.create_stream('public.ev', 'ts', retention => '8 seconds');
SELECT streamext.create_view('ev_total', $$ SELECT k, count(*) AS n, sum(v) AS s FROM public.ev GROUP BY k $$);
});
my $default = $node->safe_psql('postgres', q{
SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'public.ev'::regclass AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'});
ok($default ne '', 'set_stream_retention made a default partition');
$node->safe_psql('postgres', qq{
SET ROLE mallory;
CREATE TRIGGER spy_delete BEFORE DELETE ON public.$default FOR EACH ROW EXECUTE FUNCTION public.spy_trigger();
ALTER TABLE public.$default ENABLE ALWAYS TRIGGER spy_delete;
CREATE CONSTRAINT TRIGGER spy_deferred AFTER DELETE ON public.$default DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION public.spy_trigger();
ALTER TABLE public.$default ENABLE ALWAYS TRIGGER spy_deferred;
TRUNCATE public.spy_log;
});
wait_caught_up($node);

# an event far in the past goes to the default partition and expires there;
# one beyond the partitions made ahead is moved once its partition exists.
# mallory produces them: her CHECK and index functions run in her session
# as her (a superuser inserting would run them as a superuser, as any table
# does); what runs afterwards is the worker's doing
$node->safe_psql('postgres', q{
SET ROLE mallory;
INSERT INTO public.ev (k, v, ts) VALUES ('old', 1, clock_timestamp() - interval '1 day');
INSERT INTO public.ev (k, v, ts) VALUES ('future', 2, clock_timestamp() + interval '63 seconds');
INSERT INTO public.ev (k, v) SELECT 'now', i FROM generate_series(1, 20) i;
});
ok($node->poll_query_until('postgres', q{SELECT count(*) >= 2 FROM public.spy_log WHERE what IN ('spy_delete', 'spy_deferred')}),
	"the owner's triggers on the default partition fired when the worker emptied it");
ok($node->poll_query_until('postgres', qq{SELECT count(*) = 0 FROM public.$default WHERE k = 'future'}, 't'),
	'the future event left the default partition for its own');
wait_caught_up($node);

is($node->safe_psql('postgres', "SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'"), 'f',
	'mallory is not superuser');
is($node->safe_psql('postgres', q{SELECT string_agg(DISTINCT who, ',') FROM public.spy_log}), 'mallory',
	'her triggers, CHECK constraint and index expression ran as mallory');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.spy_log WHERE super}), '0',
	'none of them ever saw her a superuser');
is($node->safe_psql('postgres', q{
SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'public.ev'::regclass AND c.relowner <> 'mallory'::regrole}), '0',
	'every partition belongs to mallory');
is($node->safe_psql('postgres', q{SELECT count(*) FROM public.ddl_log WHERE tag LIKE 'CREATE TABLE%' AND who <> 'mallory'}), '0',
	"the superuser's event trigger saw mallory, not a superuser, create the partitions");
ok($node->safe_psql('postgres', q{SELECT count(*) FROM public.ddl_log WHERE tag LIKE 'CREATE TABLE%'}) > 0,
	'the worker created partitions');
check_view($node, 'postgres', q{(SELECT * FROM ev_total WHERE k <> 'old') AS kept},
	q{SELECT k, count(*), sum(v) FROM public.ev GROUP BY k}, 'retention moved and removed events');
is($node->safe_psql('postgres', q{SELECT n FROM ev_total WHERE k = 'old'}), '1',
	'the expired event still counts in the view');
is($node->safe_psql('postgres', 'SELECT restarts FROM streamext.worker_status()'), '0',
	'the worker did not restart');
ok(!$node->log_contains('terminated by signal'), 'no process crashed');
done_testing();
