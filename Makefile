# streamext: PGXS build of the extension, its regression and TAP tests.
MODULE_big = streamext
OBJS = \
	src/streamext.o \
	src/settings.o \
	src/shmem.o \
	src/launcher.o \
	src/worker.o \
	src/decoder.o \
	src/memory_reserve.o \
	src/catalog.o \
	src/sqlfunc.o \
	src/commands.o \
	src/declare_deterministic.o \
	src/view_replace.o \
	src/renames.o \
	src/view_query.o \
	src/view_scan.o \
	src/view_plan.o \
	src/lookup_join.o \
	src/lookup_cache.o \
	src/view_state.o \
	src/view_apply.o \
	src/view_source.o \
	src/view_partial.o \
	src/view_partial_session.o \
	src/determinism.o \
	src/window.o \
	src/window_close.o \
	src/window_panes.o \
	src/sliding_stacks.o \
	src/window_session.o \
	src/agg_state.o \
	src/agg_distinct.o \
	src/state_format.o \
	src/state_shmem.o \
	src/checkpoint.o \
	src/held_rows.o \
	src/row_insert.o \
	src/view_read.o \
	src/shard_view.o \
	src/distributed_view.o \
	src/distributed_combine.o \
	src/subscription_def.o \
	src/subscription.o \
	src/subscription_spill.o \
	src/subscription_read.o \
	src/usercode.o \
	src/stream_ddl.o \
	src/replay.o \
	src/retention.o \
	src/distributed_delivery.o \
	src/hooks.o

EXTENSION = streamext
DATA = sql/streamext--0.1.sql sql/streamext--0.1--0.2.sql
PGFILEDESC = "streamext - event streams and continuous views"

# make installcheck, against a started server that preloads streamext
# (test/regress.conf has its settings): pg_regress, the isolation specs
# (specs/), then the TAP tests, which start their own clusters from the
# installed binaries
REGRESS = streams views windows calendar_windows errors subscriptions privileges retention nulls stream_kinds determinism views_on_views replace_view view_lookup sliding_reads sketches distinct lookup_joins
# streams.sql creates the extension itself
REGRESS_OPTS =
ISOLATION = create_view_vs_producer drop_view_vs_reader replace_view_vs_reader ack_from_two_sessions drop_stream_vs_producer cursor_vs_producer
ISOLATION_OPTS = --load-extension=streamext
TAP_TESTS = 1
PROVE_TESTS = test/t/*.pl

# only what the server looks up by name leaves the library
SHLIB_LINK += -Wl,--version-script=$(srcdir)/src/exports.map

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# the TAP tests' module (PGXS's Makefile.global empties PROVE_FLAGS)
override PROVE_FLAGS := -I $(srcdir)/test $(PROVE_FLAGS)

# each object depends on the headers it includes (gcc writes them down);
# clang's bitcode would write the same file, naming the .bc instead
override CPPFLAGS += -MMD -MP
%.bc: override CPPFLAGS := $(filter-out -MMD -MP,$(CPPFLAGS))
-include $(OBJS:.o=.d)
EXTRA_CLEAN = $(OBJS:.o=.d)
streamext.so: src/exports.map
