/*-------------------------------------------------------------------------
 *
 * view_state.h
 *	  The worker's state of a continuous view (ViewState): its open windows
 *	  and their groups, the late events waiting for closed windows, its
 *	  watermark, counters and dead letters.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_VIEW_STATE_H
#define STREAMEXT_VIEW_STATE_H

#include "access/transam.h"
#include "executor/executor.h"
#include "lib/dshash.h"
#include "utils/hsearch.h"
#include "view_plan.h"

/* one group of one window, as the worker keeps it */
typedef struct ViewGroup
{
	int64		gid;			/* unique within its view, keys shared memory */
	bool		dirty_shmem;	/* changed since last published */
	bool		in_shmem;		/* published once: has its entry there */
	bool		hashed;			/* keyhash is set */
	uint32		keyhash;		/* view_plan_key_hash of its key */
	bool		dirty_disk;		/* changed since last checkpoint */
	uint8		extra_publish;	/* sliding: the publish whose extra ... */
	uint32		extra_index;	/* ... is this one (sliding_stacks.c) */
	XLogRecPtr	changed_lsn;	/* end of the last commit that changed it */
	TransactionId born_xid;		/* readers see it once this commits (sessions) */
	TimestampTz session_start;	/* session windows: first event time ... */
	TimestampTz session_last;	/* ... and last one */
	struct ViewGroup *next_session; /* the group's other open sessions */
	MinimalTuple key;			/* its key, as its window's table keeps it */
	AggValue	values[FLEXIBLE_ARRAY_MEMBER];
} ViewGroup;

/* the open groups of one window */
typedef struct WindowGroups
{
	TimestampTz start;			/* hash key */
	MemoryContext cxt;			/* transition states of this window */
	TupleHashTable groups;
	int64		ngroups;
	bool		any_dirty;
	List	   *changed;		/* groups changed since published, in cxt */
	bool		correction;		/* late events for windows already closed */
	XLogRecPtr	changed_lsn;	/* greatest changed_lsn of its groups */
} WindowGroups;

/*
 * a row of streamext.open_state to delete: a session moved or merged, or
 * (key NULL) every group of a pane
 */
typedef struct StaleOpenRow
{
	TimestampTz start;
	bytea	   *key;
} StaleOpenRow;

/* a published group of a closed window, gone once its xid commits */
typedef struct RetiredGroup
{
	int64		gid;
	TransactionId xid;
} RetiredGroup;

typedef struct ViewState
{
	XLogRecPtr	txn_end;		/* end of the commit whose events are applied */
	List	   *subscriptions;	/* SubscriptionPlan reading this view */
	HTAB	   *windows;		/* pane start -> WindowGroups (sessions: one) */
	HTAB	   *corrections;	/* pane start (sessions: event time) -> late
								 * events for windows already closed */
	WindowGroups *last_window;	/* the window the last event went to */
	List	   *dropped_gids;	/* sessions merged away, to leave shared memory */
	List	   *stale_open_rows;	/* StaleOpenRow: sessions moved or merged */
	int64		sessions_freed; /* closed since the session memory was compacted */
	int64		next_gid;
	TimestampTz closed_upto;	/* windows ending at or before this are closed */
	TimestampTz states_closed_upto; /* closed_upto of the checkpointed states */

	/*
	 * Windows close in transactions of their own between checkpoints
	 * (checkpoint_close_windows).  Decoding again from the checkpoint, the
	 * windows up to closed_ahead_upto are in the closed table already: they
	 * close silently, the latest at closed_ahead_lsn (invalid: none).
	 */
	XLogRecPtr	closed_ahead_lsn;
	TimestampTz closed_ahead_upto;
	List	   *deferred_open_rows; /* StaleOpenRow: of windows closed since
									 * the checkpoint, deleted by the next */
	bool		progress_written;	/* view_progress has the view's row */
	bool		computed_apart; /* its state was last written by a backend
								 * (create_view, rebuild_view, ...), not by
								 * a checkpoint of the worker */
	TimestampTz max_event_time; /* greatest event time, capped by max_future */
	TimestampTz saved_max_event_time;	/* max_event_time of the
										 * checkpointed states */
	TimestampTz clock_watermark;	/* where the clock alone puts the watermark */
	TimestampTz last_commit;	/* commit time of the last event, 0: none */
	TimestampTz next_end;		/* no open window ends before this */
	/* where the rounds closing a backlog stop, ascending (plan->cxt) */
	TimestampTz *close_cuts;
	int			nclose_cuts;
	bool		close_whole;	/* just loaded: its history closes at once */
	uint64		future_events;	/* beyond streamext.max_future */
	bool		future_warned;
	uint64		events;
	uint64		late_events;
	uint64		dead_letters;	/* events set aside since the worker started */
	List	   *new_dead_letters;	/* DeadLetter, written at the next checkpoint */
	List	   *replayed;		/* ids of dead letters replay applied (int64 *) */
	bool		corrections_pending;	/* late events wait for a checkpoint */
	bool		mutating;		/* an event is changing states: see
								 * view_plan_apply_isolated */
	bool		shmem_full;
	bool		publish_failed; /* warned: its publishing failed */
	char	   *lookup_failure; /* why it missed a change of a joined table */
	dshash_table *shm_groups;	/* the worker's attachment to its groups */
	dshash_table *shm_keys;		/* and to their index by key hash */
	dsa_pointer shm_dir;		/* and its GroupDirectory (state_shmem.c) */
	int64		shm_nkeys;		/* key hashes in it */
	int64		shm_ngroups;	/* groups in shared memory */
	int64		shm_peak_groups;	/* the most since its tables were made */
	int64		shm_bytes;		/* shared memory its groups use */
	List	   *retired;		/* RetiredGroup: published groups of closed windows */
	List	   *shm_versioned;	/* gids whose earlier bytes (or whose bytes,
								 * dropped) readers' pins keep */
	/* a sliding view's stacks for readers (sliding_stacks.c) */
	struct WindowGroups *slide_back;	/* per key, its panes in [front, back) */
	TimestampTz slide_front_end;
	TimestampTz slide_back_end;
	uint8		slide_publish;	/* publishes so far, modulo 255, plus 1 */
	struct WindowGroups *recompute_into;	/* events go to these groups
											 * alone (view_source.c) */
	bool		quiet_failures; /* and those that fail are not set aside */
	bool		read_by_views;	/* views on views read this one */
	List	   *corrected_starts;	/* TimestampTz *: window_start of the rows
									 * this checkpoint corrected, for the
									 * views that read this one */
} ViewState;

extern void view_state_create(ViewPlan *plan);
extern WindowGroups *view_plan_window(ViewPlan *plan, TimestampTz wstart, bool create);
extern bool view_plan_adopt_window(ViewPlan *plan, TimestampTz wstart, WindowGroups *wg,
								   XLogRecPtr end_lsn);
extern WindowGroups *view_plan_correction(ViewPlan *plan, TimestampTz start);
extern void window_groups_init(ViewPlan *plan, WindowGroups *wg, bool correction);
extern void view_plan_drop_window(ViewPlan *plan, WindowGroups *wg);
extern ViewGroup *view_plan_group(ViewPlan *plan, WindowGroups *wg,
								   TupleTableSlot *keyslot, bool *isnew);
extern ViewGroup *view_group_new(ViewPlan *plan, WindowGroups *wg, TupleHashEntry entry);
extern ViewGroup *advance_group(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs);
extern void view_group_changed(WindowGroups *wg, ViewGroup *gs);
extern void group_bounds(ViewPlan *plan, WindowGroups *wg, ViewGroup *gs,
						 TimestampTz *start, TimestampTz *end);
extern TimestampTz view_plan_watermark(ViewPlan *plan);
extern void view_state_note_clock(ViewPlan *plan, TimestampTz now);
extern bool view_state_close_due(ViewPlan *plan);
extern TimestampTz view_state_close_horizon(ViewPlan *plan, TimestampTz watermark,
										   int64 budget);
extern TimestampTz view_state_wake_at(ViewPlan *plan);
extern void view_state_note_end(ViewPlan *plan, TimestampTz end);
extern void view_state_find_next_end(ViewPlan *plan);
extern TimestampTz view_plan_retained_from(ViewPlan *plan);

#endif							/* STREAMEXT_VIEW_STATE_H */
