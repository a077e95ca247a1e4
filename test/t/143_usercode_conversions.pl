# An ordinary role must never get its code run with a superuser's rights.
# streamext turns events into JSON (row_to_json) and JSON back into rows
# (jsonb_populate_record), in the worker and in create_view's backfill.
# Both run code the role defines: a cast of its own type to json
# (json_categorize_type uses it), and the CHECK of its own domain; both
# must run behind the gate, as the role.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;
use StreamextTest;

my $node = streamext_node('usercode_superuser');
my $pwned = $node->basedir . '/pwned_by_subscription';
$node->safe_psql('postgres', q{
CREATE EXTENSION streamext;
CREATE ROLE mallory LOGIN;
GRANT CREATE ON SCHEMA public TO mallory;
});
my @mallory = (extra_params => ['-U', 'mallory']);
my $is_super = q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'};

# 1. create_view: an event that fails in the view is set aside; its JSON is
# made as the owner of streamext's catalog, which calls mallory's cast
$node->safe_psql('postgres', q{
CREATE TYPE mood AS ENUM ('ok');
CREATE FUNCTION mood_json(mood) RETURNS json LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
  END IF;
  RETURN to_json($1::text);
END $f$;
CREATE CAST (mood AS json) WITH FUNCTION mood_json(mood);
CREATE TABLE moods (m mood, v int);
SELECT streamext.create_stream('moods');
INSERT INTO moods VALUES ('ok', 0);
}, @mallory);
$node->psql('postgres',
	q{SELECT streamext.create_view('mood_view', 'SELECT count(*) AS n FROM moods WHERE 1 / v > 0')},
	@mallory);
is($node->safe_psql('postgres', $is_super), 'f',
	'create_view: setting aside an event does not run the role\'s cast as a superuser');
$node->safe_psql('postgres', 'ALTER ROLE mallory NOSUPERUSER');

# 2. a subscription: the worker makes every event's JSON, as a superuser
$node->safe_psql('postgres', qq{
CREATE TYPE mood2 AS ENUM ('ok');
CREATE FUNCTION mood2_json(mood2) RETURNS json LANGUAGE plpgsql AS \$f\$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    COPY (SELECT current_user) TO '$pwned';
  END IF;
  RETURN to_json(\$1::text);
END \$f\$;
CREATE CAST (mood2 AS json) WITH FUNCTION mood2_json(mood2);
CREATE TABLE moods2 (m mood2);
SELECT streamext.create_stream('moods2');
SELECT streamext.create_subscription('mood_sub', source => 'moods2');
INSERT INTO moods2 VALUES ('ok');
}, @mallory);
wait_caught_up($node);
ok(!-e $pwned, 'a subscription\'s JSON does not run the role\'s cast as a superuser')
  or diag('written by the worker as: ' . slurp_file($pwned));

# 3. replay_dead_letters: the worker rebuilds the events with
# jsonb_populate_record, as a superuser, which checks the role's domain
$node->safe_psql('postgres', q{
CREATE FUNCTION dcheck(int) RETURNS bool LANGUAGE plpgsql AS $f$
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE 'ALTER ROLE mallory SUPERUSER';
  END IF;
  RETURN true;
END $f$;
CREATE DOMAIN dint AS int CHECK (dcheck(VALUE));
CREATE TABLE readings (v dint);
SELECT streamext.create_stream('readings');
SELECT streamext.create_view('inverse', 'SELECT count(*) AS n FROM readings WHERE 1 / v > 0');
INSERT INTO readings VALUES (0);
}, @mallory);
wait_caught_up($node);
is($node->safe_psql('postgres', $is_super), 'f', 'not a superuser before the replay');
$node->psql('postgres', q{SELECT * FROM streamext.replay_dead_letters('inverse')}, @mallory);
is($node->safe_psql('postgres', $is_super), 'f',
	'replay_dead_letters does not check the role\'s domain as a superuser');

$node->stop;
done_testing();
