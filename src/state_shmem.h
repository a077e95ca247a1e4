/*-------------------------------------------------------------------------
 *
 * state_shmem.h
 *	  The open windows' states in shared memory: the worker publishes its
 *	  groups there, readers copy them out.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_STATE_SHMEM_H
#define STREAMEXT_STATE_SHMEM_H

#include "lib/ilist.h"

#include "shmem.h"
#include "view_state.h"
#include "window.h"

typedef struct ViewStats
{
	int64		groups;
	int64		windows;
	int64		bytes;
	int64		events;
	int64		late_events;
	int64		dead_letters;
	int64		future_events;
	int64		keys;			/* distinct key hashes: about the distinct keys */
} ViewStats;

/* what a publish says of a view besides its groups */
/* what a view's failed publishing said, for its readers */
#define PUBLISH_FAILURE_LEN 256

typedef struct ViewMarks
{
	TimestampTz watermark;		/* as of the groups published */
	TimestampTz slide_front_end;	/* a sliding view's stacks: see */
	TimestampTz slide_back_end; /* sliding_stacks.c (DT_NOBEGIN: none) */
} ViewMarks;

/*
 * a read of a sliding view, which copies only the panes its stacks need
 * when its cutoff allows (see sliding_stacks.c)
 */
typedef struct SlidingRead
{
	const WindowSpec *spec;
	TimestampTz clock_floor;	/* the watermark is at least this */
} SlidingRead;

/*
 * ReadPin is the publish that the reads of one statement see: taken by its
 * first read of a view, so that the next ones (a lookup after a full read,
 * each probe of a nested loop) see the same groups; released with the
 * statement.  The worker keeps the groups' earlier bytes while a pin may
 * see them.
 */
typedef struct ReadPin
{
	dlist_node	node;			/* in this backend's pins taken */
	bool		taken;
	bool		in_area;		/* taken in an area, not before there was one */
	uint64		generation;		/* of that area */
	uint64		seq;			/* the publish it sees */
} ReadPin;

/* a group as a read returns it: its bytes lent in shared memory, or a copy */
typedef struct SharedGroupCopy
{
	char	   *blob;
	Size		len;
} SharedGroupCopy;

extern void state_shmem_reset(StreamextDbSlot *slot, TransactionId valid_from,
							  bool hold_readers);
extern bool state_shmem_holding(void);
extern void state_shmem_go_live(StreamextDbSlot *slot);
extern void state_shmem_release(StreamextDbSlot *slot);
extern void state_shmem_set_limit(void);
extern void state_shmem_publish_views(StreamextDbSlot *slot, List *plans,
									  bool all_groups);
extern void state_shmem_retire_window(StreamextDbSlot *slot, ViewPlan *plan,
									  WindowGroups *wg, TransactionId xid);
extern void state_shmem_retire_gid(StreamextDbSlot *slot, ViewPlan *plan, int64 gid,
								   TransactionId xid);
extern bool state_shmem_gc(StreamextDbSlot *slot, List *plans);
extern void state_shmem_drop_view(StreamextDbSlot *slot, int32 view_id);
extern bool state_shmem_get_stats(StreamextDbSlot *slot, int32 view_id, ViewStats *stats);
extern SharedGroupCopy *state_shmem_read_view(StreamextDbSlot *slot, int32 view_id,
											  XLogRecPtr start_lsn, const uint32 *keyhashes,
											  int nkeyhashes, int64 *ngroups, bool *found,
											  bool *incomplete, char *failure,
											  ViewMarks *marks, const SlidingRead *sliding,
											  ReadPin *pin);
extern void state_shmem_pin(StreamextDbSlot *slot, ReadPin *pin);
extern void state_shmem_unpin(ReadPin *pin);

#endif							/* STREAMEXT_STATE_SHMEM_H */
