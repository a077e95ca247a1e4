/*-------------------------------------------------------------------------
 *
 * state_shmem.c
 *	  The open windows of a database in shared memory: a DSA area holding a
 *	  hash table of views, each with a hash table of its groups, whose
 *	  entries point to the serialised window, group key and transition
 *	  states.  The worker is the only writer; readers find the groups they
 *	  see under a shared lock, so they see the states of whole committed
 *	  batches, and read their bytes where they lie for as long as their
 *	  statement's pin (below) keeps them (copies, without one).
 *
 *	  A view's groups also lie one after another in an array (its group
 *	  directory), which a read of every group walks in order: walking the
 *	  hash table instead followed a pointer to each entry, a cache miss
 *	  each, and took a quarter of a read of a million groups.
 *
 *	  Each view also indexes its groups by the hash of their group key
 *	  (view_plan_key_hash): a table of key hashes, each the head of a doubly
 *	  linked chain of the groups (one per window or session) with that hash,
 *	  linked by gid for the worker and by directory slot for readers.  A
 *	  lookup by key (view_scan.c) walks one chain instead of every group.
 *
 *	  When a checkpoint closes a window, its groups stay here marked with
 *	  the checkpoint's transaction until every snapshot sees the closed rows
 *	  that transaction wrote, so a reader never sees a group twice or not
 *	  at all.  A session a checkpoint makes from closed ones is born with
 *	  that transaction: readers see it once they see the rows gone.
 *
 *	  Each publish is numbered (publish_seq), and the reads of one statement
 *	  see the groups as of the publish pinned as it started (its ReadPin):
 *	  while a pin may see a group's bytes, the worker writes the group's new
 *	  bytes elsewhere and keeps the old ones in a chain of versions behind
 *	  it, and a group dropped stays, marked with the publish that dropped
 *	  it.  Without pins (a backend's oldest is in the area's pins array) it
 *	  writes over them as before.  A lookup reads the versions of the groups
 *	  it finds, and no others.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "common/hashfn.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "utils/rel.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "settings.h"
#include "shmem.h"
#include "lookup_cache.h"
#include "sliding_stacks.h"
#include "state_format.h"
#include "state_shmem.h"
#include "usercode.h"
#include "view_plan.h"
#include "view_state.h"
#include "window.h"

/*
 * A view's entry in the area, keyed by its id.  The worker writes entries
 * holding publish_lock exclusively; readers copy them holding it shared
 * (and the entry's partition lock, as dshash does).
 */
typedef struct SharedView
{
	int32		id;
	dshash_table_handle groups;
	dshash_table_handle keys;	/* SharedKey by key hash */
	bool		incomplete;		/* streamext.max_memory was reached, or: */
	char		failure[PUBLISH_FAILURE_LEN];	/* publishing failed, why */
	XLogRecPtr	start_lsn;		/* of the definition published: see rebuild_view */
	dsa_pointer dir;			/* GroupDirectory of its groups */
	uint64		since;			/* the publish that first published it so */
	ViewMarks	marks;
	uint64		marks_seq;		/* the publish that set marks */
	uint64		recovered_seq;	/* the first publish whole again after the
								 * last one cut short (NO_SEQ: none yet; 0:
								 * never cut): a pin before it may see a
								 * state cut short */
	dsa_pointer older_marks;	/* MarksVersion: marks before, for pins */
	pg_atomic_uint64 lent_upto;	/* the newest pin its groups were lent to */
	ViewStats	stats;
} SharedView;

/*
 * A group's bytes, built before link_view links them under the lock: a new
 * group's straight into the area (nothing else can see them before they
 * are linked), a published group's in local memory, copied over its old
 * bytes under the lock (allocating them in the area first would hold every
 * changed group twice at once).
 */
typedef struct PublishedBlob
{
	ViewGroup  *group;
	TimestampTz start;
	Size		len;
	dsa_pointer dp;				/* a new group's bytes, not linked yet */
	char	   *bytes;			/* a published group's new bytes */
} PublishedBlob;

/*
 * What build_view made of one view for link_view: its changed groups' new
 * bytes, made without the lock (user code runs there), in cxt.
 */
typedef struct PublishBuild
{
	ViewPlan   *plan;
	MemoryContext cxt;
	bool		all_groups;
	List	   *windows;		/* WindowGroups whose groups were built */
	PublishedBlob *blobs;
	int64		nblobs;
	int64		nnew;			/* groups new to the area */
	int64		ngroups;		/* the view's, as counted for its stats */
	int64		nwindows;
	bool		cut_short;		/* by the memory limit, as linked */
	bool		failed;			/* linking it failed */
} PublishBuild;

/*
 * A group as readers see it: its slot in the directory of its view, which
 * the worker writes holding publish_lock exclusively.
 */
typedef struct GroupSlot
{
	dsa_pointer blob;
	int64		gid;
	TimestampTz start;			/* of its window or pane */
	uint32		len;
	uint32		keyhash;		/* view_plan_key_hash of its key */
	TransactionId retired_by;
	TransactionId born_by;
	bool		keys_collide;	/* its chain holds groups of other keys */
	int32		next_slot;		/* the next group of its key hash's chain */
	uint64		seq;			/* the publish that gave it these bytes */
	uint64		until;			/* the publish that dropped it, or NO_SEQ */
	dsa_pointer older;			/* GroupVersion: its bytes before, for pins */
} GroupSlot;

/*
 * A group's bytes as publishes seq to until (excluded) left them, kept while
 * a reader's pin may see them.
 */
typedef struct GroupVersion
{
	dsa_pointer blob;
	uint32		len;
	TimestampTz start;
	TransactionId retired_by;
	TransactionId born_by;
	uint64		seq;
	uint64		until;
	dsa_pointer older;
} GroupVersion;

/* a view's marks as publishes seq to until left them */
typedef struct MarksVersion
{
	ViewMarks	marks;
	uint64		seq;
	uint64		until;
	dsa_pointer older;
} MarksVersion;

#define NO_SEQ PG_UINT64_MAX

typedef struct GroupDirectory
{
	int64		n;				/* slots in use: the first n */
	int64		size;
	GroupSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} GroupDirectory;

#define DIRECTORY_BYTES(size) (offsetof(GroupDirectory, slots) + sizeof(GroupSlot) * (size))
#define DIRECTORY_MIN_SIZE 64

/*
 * A group's entry in its view's table by gid, locked as SharedView is: where
 * its slot is, and its neighbours in the chain of its key hash.
 */
typedef struct SharedGroup
{
	int64		gid;
	int64		slot;			/* in the view's GroupDirectory */
	int64		prev_gid;
	int64		next_gid;
} SharedGroup;

/*
 * The chain of the groups whose keys hash to keyhash: by gid for the
 * worker, which finds each group's entry anyway, and by slot for readers,
 * whose lookups then touch only the key's entry and the groups' slots
 * (each page of shared memory a backend touches first is a page fault).
 */
typedef struct SharedKey
{
	uint32		keyhash;
	int32		head_slot;
	int64		head_gid;
} SharedKey;

#define NO_GID (-1)
#define NO_SLOT (-1)

static dshash_parameters views_params = {
	sizeof(int32), sizeof(SharedView), dshash_memcmp, dshash_memhash, 0
};
static int	gid_compare(const void *a, const void *b, size_t size, void *arg);
static dshash_hash gid_hash(const void *key, size_t size, void *arg);

/* groups by gid: an integer, hashed as one rather than as bytes */
static dshash_parameters groups_params = {
	sizeof(int64), sizeof(SharedGroup), gid_compare, gid_hash, 0
};

/* key hashes are hashes already */
static dshash_hash keyhash_hash(const void *key, size_t size, void *arg);
static dshash_parameters keys_params = {
	sizeof(uint32), sizeof(SharedKey), dshash_memcmp, keyhash_hash, 0
};

/*
 * The worker stops adding groups at this share of streamext.max_memory,
 * counting each group's blob and entry plus this much for the hash table's
 * buckets and the allocator's rounding, so that the area itself rarely has
 * to refuse.
 */
#define SOFT_LIMIT_PERCENT 80
#define GROUP_OVERHEAD 48
#define KEY_OVERHEAD 32

/* the bytes at which the worker stops adding groups */
static inline int64
soft_limit_bytes(void)
{
	return (int64) streamext_max_memory_mb * 1024 * 1024 / 100 * SOFT_LIMIT_PERCENT;
}

/*
 * A hash table never shrinks: once a view's groups are fewer than this
 * fraction of the most it had (windows closed), they move to new tables,
 * so that reading every group does not walk the buckets of those gone.
 */
#define COMPACT_MIN_GROUPS 4096
#define COMPACT_FRACTION 8

/* a blob allocated but not yet linked from its group, freed on error */
static dsa_pointer unlinked_blob = InvalidDsaPointer;

/* the blobs of the view built or linked: those not linked, freed on error */
static PublishedBlob *built_blobs = NULL;
static int64 nbuilt_blobs = 0;

/* new groups' bytes the builds of this publish took, not linked yet */
static int64 built_new_bytes = 0;

/* the tables compact_groups is filling, destroyed on error */
static dshash_table *compacting_groups = NULL;
static dshash_table *compacting_keys = NULL;

/*
 * The groups of a view dropped while readers it lent them to may be left,
 * freed once no pin of a publish before seq is (free_dropped_groups).
 */
typedef struct DroppedGroups
{
	dsa_pointer dir;
	uint64		seq;
} DroppedGroups;

static List *dropped_groups = NIL;

/* shared memory used by the worker's groups, all views together */
static int64 total_bytes = 0;

/* this backend's attachment */
static dsa_area *my_area = NULL;
static dshash_table *my_views = NULL;
static uint64 my_generation = 0;

/*
 * The worker's: the area readers keep while it decodes again from its
 * checkpoint (see state_shmem_reset), and what readers take from the slot
 * with its own area: its pins, the number of its last publish, whether a
 * view had no room in it, and the transaction whose commit it shows.
 */
static dsa_area *held_area = NULL;
static dsa_pointer own_pins = InvalidDsaPointer;
static uint64 own_publish_seq = 0;
static bool own_views_unpublished = false;
static TransactionId own_valid_from = InvalidTransactionId;

/* the pins this backend's statements took (ReadPin) */
static dlist_head my_pins = DLIST_STATIC_INIT(my_pins);

/* areas left while statements had groups lent from them, until they end */
static List *lent_areas = NIL;
static bool pins_callbacks_registered = false;
static pg_atomic_uint64 *my_pin_array = NULL;	/* the area's pins */

/*
 * The publish the worker is making, and each pinning backend's oldest and
 * newest pins then.  Per backend, not one range over all: a cursor held
 * open at an old publish beside another backend's statements at the last
 * one must not keep every version in between.
 */
typedef struct PinRange
{
	uint64		seq;
	int			n;				/* backends with pins */
	uint64	   *min;
	uint64	   *max;
} PinRange;

static void detach_lent_areas(void);
static void show_own_area(StreamextDbSlot *slot);
static void set_publish_seq(StreamextDbSlot *slot, uint64 seq);
static void set_views_unpublished(StreamextDbSlot *slot, bool unpublished);
static void free_directory(dsa_pointer dir_pointer);
static void free_dropped_groups(StreamextDbSlot *slot);
static List *window_all_groups(WindowGroups *wg);
static void retire_gid(ViewPlan *plan, int64 gid, TransactionId xid);
static void forget_gid(ViewPlan *plan, int64 gid, const PinRange *pins);
static void pin_range(StreamextDbSlot *slot, PinRange *pins);
static bool keep_version(ViewPlan *plan, GroupSlot *gslot, const PinRange *pins);
static void free_versions(ViewPlan *plan, dsa_pointer *older, const PinRange *pins);
static void trim_versions(ViewPlan *plan, const PinRange *pins);
static bool keep_marks(SharedView *sv, const PinRange *pins);
static void note_versioned(ViewPlan *plan, int64 gid);
static void trim_marks(SharedView *sv, const PinRange *pins);
static inline bool seen_by(const PinRange *pins, uint64 seq, uint64 until);
static void free_group(ViewPlan *plan, SharedGroup *sg);
static void link_after(ViewPlan *plan, int64 old_head, int64 gid, const char *blob,
					   Size len);
static bool compaction_due(ViewPlan *plan);
static void compact_groups(ViewPlan *plan, SharedView *sv);
static void copy_entries(dshash_table *from, dshash_table *to, Size entry_size);
static PublishBuild *build_view_guarded(StreamextDbSlot *slot, ViewPlan *plan,
										bool all_groups, bool *unpublished);
static PublishBuild *build_view(StreamextDbSlot *slot, ViewPlan *plan, bool all_groups,
								MemoryContext cxt);
static void link_views(StreamextDbSlot *slot, List *builds, bool *unpublished);
static bool link_view(StreamextDbSlot *slot, PublishBuild *b, const PinRange *pinsp);
static ErrorData *abort_publishing(MemoryContext cxt, ResourceOwner owner);
static void publish_failed(StreamextDbSlot *slot, ViewPlan *plan, ErrorData *edata,
						   bool *unpublished);
static void warn_memory_full(ViewPlan *plan, const char *detail);
static void warn_publish_failed(ViewPlan *plan, const char *message);
static void free_built_blobs(void);
static bool mark_incomplete(StreamextDbSlot *slot, ViewPlan *plan, const char *failure);

static int
gid_compare(const void *a, const void *b, size_t size, void *arg)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return (x > y) - (x < y);
}

static dshash_hash
gid_hash(const void *key, size_t size, void *arg)
{
	uint64		gid = (uint64) *(const int64 *) key;

	return murmurhash32((uint32) gid ^ (uint32) (gid >> 32));
}

static dshash_hash
keyhash_hash(const void *key, size_t size, void *arg)
{
	return *(const uint32 *) key;
}

/*
 * set_tranches gives the hash tables the LWLock tranche of the area.
 */
static void
set_tranches(void)
{
	views_params.tranche_id = StreamextState->dsa_tranche;
	groups_params.tranche_id = StreamextState->dsa_tranche;
	keys_params.tranche_id = StreamextState->dsa_tranche;
}

/*
 * state_shmem_reset gives the worker a fresh, empty area; the previous
 * worker's area goes away when its last reader detaches.
 *
 * hold_readers (the worker decodes again from its checkpoint, in the same
 * process): readers keep the area it had published until the new one has
 * come back to where that one was (state_shmem_go_live), rather than read
 * the views' last checkpoint meanwhile, which would take every view back
 * in time for as long as the decoding again lasts.  The new area is then
 * the worker's alone: unpinned (it goes if the worker does), with its own
 * pins and publish numbers (own_pins, own_publish_seq), which readers get
 * with it.
 */
void
state_shmem_reset(StreamextDbSlot *slot, TransactionId valid_from, bool hold_readers)
{
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
	dsa_area   *area;
	int			i;

	set_tranches();
	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	if (my_area != NULL)
	{
		/* the worker starts over from its checkpoint: its own area goes */
		dshash_table *views = my_views;
		dsa_area   *own = my_area;

		my_views = NULL;
		my_area = NULL;
		dshash_detach(views);
		if (hold_readers && held_area == NULL && slot->area == dsa_get_handle(own))
			held_area = own;	/* readers' until state_shmem_go_live */
		else
		{
			if (slot->area == dsa_get_handle(own))
			{
				dsa_unpin(own);
				slot->area = DSA_HANDLE_INVALID;
			}
			dsa_detach(own);
		}
	}
	if (!hold_readers && held_area != NULL)
	{
		if (slot->area == dsa_get_handle(held_area))
		{
			dsa_unpin(held_area);
			slot->area = DSA_HANDLE_INVALID;
		}
		dsa_detach(held_area);
		held_area = NULL;
	}
	total_bytes = 0;
	/* they went with the worker's own area */
	list_free_deep(dropped_groups);
	dropped_groups = NIL;
	if (held_area == NULL && slot->area != DSA_HANDLE_INVALID)
	{
		dsa_area   *prev = dsa_attach(slot->area);

		dsa_unpin(prev);
		dsa_detach(prev);
	}
	area = dsa_create(StreamextState->dsa_tranche);
	dsa_pin_mapping(area);
	dsa_set_size_limit(area, (size_t) streamext_max_memory_mb * 1024 * 1024);
	my_views = dshash_create(area, &views_params, NULL);
	my_area = area;
	/* each backend's oldest and newest pin */
	own_pins = dsa_allocate(area, sizeof(pg_atomic_uint64) * 2 * (MaxBackends + 1));
	for (i = 0; i < 2 * (MaxBackends + 1); i++)
		pg_atomic_init_u64(&((pg_atomic_uint64 *) dsa_get_address(area, own_pins))[i], 0);
	own_publish_seq = 1;
	own_views_unpublished = false;
	own_valid_from = valid_from;
	if (held_area == NULL)
	{
		dsa_pin(area);
		show_own_area(slot);
		/* nothing is published yet: wait_caught_up() must wait for this worker */
		SpinLockAcquire(&slot->mutex);
		slot->published_upto = InvalidXLogRecPtr;
		SpinLockRelease(&slot->mutex);
	}
	my_generation = slot->area_generation;
	LWLockRelease(&slot->publish_lock);
	MemoryContextSwitchTo(old);
}

/*
 * show_own_area makes the worker's own area the one readers attach to,
 * under publish_lock held exclusively.
 */
static void
show_own_area(StreamextDbSlot *slot)
{
	slot->area = dsa_get_handle(my_area);
	slot->views = dshash_get_hash_table_handle(my_views);
	slot->pins = own_pins;
	slot->publish_seq = own_publish_seq;
	slot->views_unpublished = own_views_unpublished;
	slot->area_valid_from = own_valid_from;
	slot->area_generation++;
}

/*
 * state_shmem_holding says whether readers still read the area published
 * before the worker decoded again from its checkpoint.
 */
bool
state_shmem_holding(void)
{
	return held_area != NULL;
}

/*
 * state_shmem_go_live gives readers the worker's own area in place of the
 * one they kept while it decoded again (state_shmem_reset): the worker
 * calls it once it has published what that one showed.
 */
void
state_shmem_go_live(StreamextDbSlot *slot)
{
	if (held_area == NULL)
		return;
	dsa_pin(my_area);
	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	if (slot->area == dsa_get_handle(held_area))
		dsa_unpin(held_area);
	show_own_area(slot);
	my_generation = slot->area_generation;
	LWLockRelease(&slot->publish_lock);
	/* readers attached to it keep it until they leave it */
	dsa_detach(held_area);
	held_area = NULL;
}

/*
 * set_publish_seq numbers the worker's last publish; readers learn it at
 * once unless they still read the area held for them.
 */
static void
set_publish_seq(StreamextDbSlot *slot, uint64 seq)
{
	own_publish_seq = seq;
	if (held_area == NULL)
		slot->publish_seq = seq;
}

/*
 * set_views_unpublished notes whether a view had no room in the worker's
 * area at all, under publish_lock held exclusively.
 */
static void
set_views_unpublished(StreamextDbSlot *slot, bool unpublished)
{
	own_views_unpublished = unpublished;
	if (held_area == NULL)
		slot->views_unpublished = unpublished;
}

/*
 * state_shmem_set_limit applies a changed streamext.max_memory.
 */
void
state_shmem_set_limit(void)
{
	if (my_area != NULL)
		dsa_set_size_limit(my_area, (size_t) streamext_max_memory_mb * 1024 * 1024);
}

/*
 * state_shmem_release frees the worker's area when it leaves for good.
 */
void
state_shmem_release(StreamextDbSlot *slot)
{
	dsa_area   *shown = (held_area != NULL) ? held_area : my_area;

	if (shown == NULL || slot == NULL)
		return;
	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	if (slot->area == dsa_get_handle(shown))
	{
		dsa_unpin(shown);
		slot->area = DSA_HANDLE_INVALID;
		slot->area_generation++;
	}
	LWLockRelease(&slot->publish_lock);
}

/*
 * attach_for_read makes sure this backend is attached to the database's
 * current area; the caller holds publish_lock.
 */
static bool
attach_for_read(StreamextDbSlot *slot)
{
	MemoryContext old;

	if (slot->area == DSA_HANDLE_INVALID)
		return false;
	if (my_area != NULL && my_generation == slot->area_generation)
		return true;

	set_tranches();
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (my_area != NULL)
	{
		dshash_table *views = my_views;
		dsa_area   *area = my_area;

		/* forgotten first: an error below must not detach them twice */
		my_views = NULL;
		my_area = NULL;
		my_pin_array = NULL;
		dshash_detach(views);
		/* a statement still reading groups lent from it keeps it mapped */
		if (dlist_is_empty(&my_pins))
			dsa_detach(area);
		else
			lent_areas = lappend(lent_areas, area);
	}
	detach_lent_areas();
	my_area = dsa_attach(slot->area);
	dsa_pin_mapping(my_area);
	my_views = dshash_attach(my_area, &views_params, slot->views, NULL);
	my_generation = slot->area_generation;
	my_pin_array = dsa_get_address(my_area, slot->pins);
	MemoryContextSwitchTo(old);
	return true;
}

/*
 * detach_lent_areas detaches the areas this backend left while it had pins,
 * once it has none.
 */
static void
detach_lent_areas(void)
{
	if (!dlist_is_empty(&my_pins))
		return;
	while (lent_areas != NIL)
	{
		dsa_area   *area = linitial(lent_areas);

		/* forgotten first: an error below must not detach it twice */
		lent_areas = list_delete_first(lent_areas);
		dsa_detach(area);
	}
}

/* directory is the worker's view of a view's GroupDirectory */
static inline GroupDirectory *
directory(ViewPlan *plan)
{
	return dsa_get_address(my_area, plan->state->shm_dir);
}

/* group_slot is the slot of a group whose entry the caller holds */
static inline GroupSlot *
group_slot(ViewPlan *plan, SharedGroup *sg)
{
	return &directory(plan)->slots[sg->slot];
}

/*
 * resize_directory moves a view's directory to one of size slots (at least
 * as many as it uses), under the publish lock held exclusively with sv;
 * false, with nothing changed, when the memory limit refuses it.
 */
static bool
resize_directory(ViewPlan *plan, SharedView *sv, int64 size)
{
	ViewState  *st = plan->state;
	int64		n = DsaPointerIsValid(st->shm_dir) ? directory(plan)->n : 0;
	int64		old_size = DsaPointerIsValid(st->shm_dir) ? directory(plan)->size : 0;
	int64		grow = (int64) (DIRECTORY_BYTES(size) - DIRECTORY_BYTES(old_size));
	dsa_pointer dp;
	GroupDirectory *dir;

	Assert(size >= n);
	if (grow > 0 &&
		total_bytes + grow > soft_limit_bytes())
		return false;
	dp = dsa_allocate_extended(my_area, DIRECTORY_BYTES(size), DSA_ALLOC_NO_OOM | DSA_ALLOC_HUGE);
	if (!DsaPointerIsValid(dp))
		return false;
	dir = dsa_get_address(my_area, dp);
	dir->n = n;
	dir->size = size;
	if (n > 0)
		memcpy(dir->slots, directory(plan)->slots, sizeof(GroupSlot) * n);
	if (DsaPointerIsValid(st->shm_dir))
	{
		dsa_free(my_area, st->shm_dir);
		st->shm_bytes -= DIRECTORY_BYTES(old_size);
		total_bytes -= DIRECTORY_BYTES(old_size);
	}
	st->shm_bytes += DIRECTORY_BYTES(size);
	total_bytes += DIRECTORY_BYTES(size);
	st->shm_dir = sv->dir = dp;
	return true;
}

/*
 * reserve_slots makes room in a view's directory for more groups; false
 * when the memory limit refuses it.
 */
static bool
reserve_slots(ViewPlan *plan, SharedView *sv, int64 more)
{
	int64		n = DsaPointerIsValid(plan->state->shm_dir) ? directory(plan)->n : 0;
	int64		size = DsaPointerIsValid(plan->state->shm_dir) ? directory(plan)->size : 0;

	if (n + more <= size)
		return true;
	/* slots are numbered in 32 bits (GroupSlot.next_slot) */
	if (n + more > PG_INT32_MAX)
		return false;
	/* half as large again, or just enough near the memory limit */
	return resize_directory(plan, sv, Max(Max(size + size / 2, n + more), DIRECTORY_MIN_SIZE)) ||
		resize_directory(plan, sv, n + more);
}

/* fit_directory halves a view's directory when a quarter of it is used */
static void
fit_directory(ViewPlan *plan, SharedView *sv)
{
	GroupDirectory *dir;

	if (!DsaPointerIsValid(plan->state->shm_dir))
		return;
	dir = directory(plan);
	if (dir->size > DIRECTORY_MIN_SIZE && dir->n < dir->size / 4)
		(void) resize_directory(plan, sv, Max(dir->size / 2, DIRECTORY_MIN_SIZE));
}

/* take_slot gives a new group gid the next slot, reserved before */
static int64
take_slot(ViewPlan *plan, int64 gid)
{
	GroupDirectory *dir = directory(plan);
	GroupSlot  *gslot = &dir->slots[dir->n];

	Assert(dir->n < dir->size);
	memset(gslot, 0, sizeof(GroupSlot));
	gslot->blob = InvalidDsaPointer;
	gslot->gid = gid;
	gslot->next_slot = NO_SLOT;
	gslot->until = NO_SEQ;
	gslot->older = InvalidDsaPointer;
	return dir->n++;
}

/*
 * drop_slot frees the slot of a group whose entry is gone and is unlinked
 * from its chain: the last slot moves into it, and its group and what
 * points to it in its chain (the group before, or its key) learn where.
 */
static void
drop_slot(ViewPlan *plan, int64 slot)
{
	GroupDirectory *dir = directory(plan);
	int64		last = dir->n - 1;

	if (slot != last)
	{
		SharedGroup *moved;
		int64		prev;

		dir->slots[slot] = dir->slots[last];
		moved = dshash_find(plan->state->shm_groups, &dir->slots[slot].gid, true);
		Assert(moved != NULL);
		moved->slot = slot;
		prev = moved->prev_gid;
		dshash_release_lock(plan->state->shm_groups, moved);
		if (prev != NO_GID)
		{
			SharedGroup *before = dshash_find(plan->state->shm_groups, &prev, false);

			Assert(before != NULL);
			dir->slots[before->slot].next_slot = (int32) slot;
			dshash_release_lock(plan->state->shm_groups, before);
		}
		else
		{
			SharedKey  *key = dshash_find(plan->state->shm_keys, &dir->slots[slot].keyhash, true);

			Assert(key != NULL);
			key->head_slot = (int32) slot;
			dshash_release_lock(plan->state->shm_keys, key);
		}
	}
	dir->n--;
}

/*
 * worker_groups attaches the worker to a view's groups table, creating it
 * the first time.
 */
static dshash_table *
worker_groups(ViewPlan *plan, SharedView *sv, bool found)
{
	MemoryContext old;

	if (plan->state->shm_groups != NULL)
		return plan->state->shm_groups;
	old = MemoryContextSwitchTo(plan->cxt);
	if (found && sv->groups != InvalidDsaPointer)
	{
		plan->state->shm_groups = dshash_attach(my_area, &groups_params, sv->groups, NULL);
		plan->state->shm_keys = dshash_attach(my_area, &keys_params, sv->keys, NULL);
		plan->state->shm_dir = sv->dir;
	}
	else
	{
		/* the keys first: a failure leaves no groups without their index */
		plan->state->shm_keys = dshash_create(my_area, &keys_params, NULL);
		sv->keys = dshash_get_hash_table_handle(plan->state->shm_keys);
		plan->state->shm_groups = dshash_create(my_area, &groups_params, NULL);
		sv->groups = dshash_get_hash_table_handle(plan->state->shm_groups);
	}
	MemoryContextSwitchTo(old);
	return plan->state->shm_groups;
}

/*
 * state_shmem_publish_views makes the views' changed groups (or all of them)
 * visible to readers, at a transaction boundary of the decoded WAL, all at
 * once: each view's groups' bytes are made first (build_view_guarded,
 * without the lock), then linked under one hold of publish_lock as one
 * numbered publish (link_views), so that a statement reading several views
 * sees them all at the same point of the WAL; view by view when the views
 * use 40% of streamext.max_memory, or when linking one fails.  A view the
 * area had no room to hold at all keeps slot->views_unpublished set, so
 * that readers do not take its last checkpoint for the view.
 */
void
state_shmem_publish_views(StreamextDbSlot *slot, List *plans, bool all_groups)
{
	ListCell   *lc;
	bool		unpublished = false;
	bool		own_xact = !IsTransactionState();
	bool		own_snapshot;
	MemoryContext cxt = CurrentMemoryContext;
	List	   *builds = NIL;

	/*
	 * Publishing runs user code (a sliding view's combine functions, serial
	 * and key hash functions), which may be in any language: a PL/pgSQL
	 * function looks up catalogs and runs queries, which needs a transaction
	 * and a snapshot.  Between decoded commits the worker has neither: it
	 * takes them, and each view is built in a subtransaction, as in a
	 * checkpoint.
	 */
	if (own_xact)
	{
		StartTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
	own_snapshot = !ActiveSnapshotSet();
	if (own_snapshot)
		PushActiveSnapshot(GetTransactionSnapshot());
	built_new_bytes = 0;
	foreach(lc, plans)
	{
		PublishBuild *b = build_view_guarded(slot, lfirst(lc), all_groups, &unpublished);

		if (b != NULL)
			builds = lappend(builds, b);

		/*
		 * Near the memory limit each view is linked as soon as it is built,
		 * in a publish of its own, as views were before they were published
		 * together: the new groups' bytes built for one view, waiting to be
		 * linked, would otherwise take the room another needs to link (the
		 * versions of its groups that pins see).
		 */
		if (builds != NIL && total_bytes > soft_limit_bytes() / 2)
		{
			link_views(slot, builds, &unpublished);
			list_free(builds);
			builds = NIL;
			built_new_bytes = 0;
		}
	}
	link_views(slot, builds, &unpublished);
	built_new_bytes = 0;
	list_free(builds);
	if (own_snapshot)
		PopActiveSnapshot();
	if (own_xact)
	{
		CommitTransactionCommand();
		MemoryContextSwitchTo(cxt);
	}
	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	set_views_unpublished(slot, unpublished);
	LWLockRelease(&slot->publish_lock);
}

/*
 * mark_incomplete marks a view that cannot be published whole: readers get
 * an error, with failure as the reason (NULL: streamext.max_memory).
 * Returns false when the view has no entry in the area at all.
 */
static bool
mark_incomplete(StreamextDbSlot *slot, ViewPlan *plan, const char *failure)
{
	SharedView *sv;
	bool		has_entry = true;

	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	sv = dshash_find(my_views, &plan->id, true);
	if (sv == NULL && failure != NULL)
	{
		bool		found;

		/* failed before its first publishing: readers learn why */
		sv = dshash_find_or_insert(my_views, &plan->id, &found);
		if (!found)
		{
			memset(((char *) sv) + sizeof(int32), 0, sizeof(SharedView) - sizeof(int32));
			sv->groups = InvalidDsaPointer;
			pg_atomic_init_u64(&sv->lent_upto, 0);
			sv->start_lsn = plan->start_lsn;
		}
	}
	if (sv != NULL)
	{
		sv->incomplete = true;
		sv->recovered_seq = NO_SEQ;
		if (failure == NULL)
			sv->failure[0] = '\0';
		else
		{
			/* cut at a character's boundary */
			int			len = pg_mbcliplen(failure, strlen(failure),
										   sizeof(sv->failure) - 1);

			memcpy(sv->failure, failure, len);
			sv->failure[len] = '\0';
		}
		sv->stats.bytes = plan->state->shm_bytes + lookup_cache_memory(plan);
		dshash_release_lock(my_views, sv);
	}
	else
	{
		/* readers must not fall back to the last checkpoint */
		set_views_unpublished(slot, true);
		has_entry = false;
	}
	LWLockRelease(&slot->publish_lock);
	return has_entry;
}

/*
 * build_view_guarded builds one view (build_view) in a subtransaction of
 * its own: user code failing on its groups (a sliding view's combine
 * function, a serial or key hash function) or the area out of memory marks
 * the view incomplete, readers get an error saying why, and the worker,
 * which keeps every state and checkpoints them, goes on.  NULL then, or for
 * a view not to publish; *unpublished set if the view has no entry in the
 * area at all.
 */
static PublishBuild *
build_view_guarded(StreamextDbSlot *slot, ViewPlan *plan, bool all_groups,
				   bool *unpublished)
{
	ResourceOwner owner = CurrentResourceOwner;
	MemoryContext cxt = CurrentMemoryContext;
	MemoryContext build_cxt;
	PublishBuild *volatile build = NULL;

	/* a view that missed a change of a table it joins is not read */
	if (plan->state->lookup_failure != NULL)
	{
		if (!mark_incomplete(slot, plan, plan->state->lookup_failure))
			*unpublished = true;
		return NULL;
	}
	build_cxt = AllocSetContextCreate(cxt, "streamext publish", ALLOCSET_DEFAULT_SIZES);
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		build = build_view(slot, plan, all_groups, build_cxt);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		publish_failed(slot, plan, abort_publishing(cxt, owner), unpublished);
		build = NULL;
	}
	PG_END_TRY();
	if (build == NULL)
		MemoryContextDelete(build_cxt);
	return build;
}

/*
 * link_views links the builds of one publish under one hold of
 * publish_lock, numbered as one publish: readers see every view of it, or
 * none.  Each hold is a subtransaction, whose abort releases the lock (and
 * a hash table's partition lock) if the area runs out of memory on the
 * way: the view that failed is marked incomplete, and the views after it
 * are linked in a publish of their own.
 */
static void
link_views(StreamextDbSlot *slot, List *builds, bool *unpublished)
{
	ResourceOwner owner = CurrentResourceOwner;
	MemoryContext cxt = CurrentMemoryContext;
	int			n = list_length(builds);
	volatile int next = 0;		/* the first build not linked yet */

	while (next < n)
	{
		PublishBuild *volatile linking = NULL;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(cxt);
		PG_TRY();
		{
			PinRange	pins;

			LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
			pin_range(slot, &pins);
			/* readers come in only after the lock: they see all of it */
			set_publish_seq(slot, pins.seq);
			for (; next < n; next++)
			{
				linking = list_nth(builds, next);
				linking->cut_short = !link_view(slot, linking, &pins);
				linking = NULL;
			}
			LWLockRelease(&slot->publish_lock);
			ReleaseCurrentSubTransaction();
			MemoryContextSwitchTo(cxt);
			CurrentResourceOwner = owner;
		}
		PG_CATCH();
		{
			ErrorData  *edata = abort_publishing(cxt, owner);

			if (linking == NULL)
				ReThrowError(edata);
			publish_failed(slot, linking->plan, edata, unpublished);
			linking->failed = true;
			next++;
		}
		PG_END_TRY();
	}

	/* what the views' publishing did, said after the lock */
	for (int i = 0; i < n; i++)
	{
		PublishBuild *b = list_nth(builds, i);

		if (!b->failed)
		{
			if (b->cut_short)
				warn_memory_full(b->plan, NULL);
			else
				b->plan->state->shmem_full = false;
			b->plan->state->publish_failed = false;
		}
		MemoryContextDelete(b->cxt);
	}
}

/*
 * abort_publishing rolls back the subtransaction of a view's building or
 * linking that an error ended, which releases its locks, and returns the
 * error; the caller's memory context and resource owner are cxt and owner.
 */
static ErrorData *
abort_publishing(MemoryContext cxt, ResourceOwner owner)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(cxt);
	edata = CopyErrorData();
	FlushErrorState();
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	return edata;
}

/*
 * publish_failed cleans up after an error that building or linking a view
 * raised (its subtransaction rolled back, which released its locks): the
 * view is marked incomplete, readers learn why, and its owner is warned.
 */
static void
publish_failed(StreamextDbSlot *slot, ViewPlan *plan, ErrorData *edata, bool *unpublished)
{
	/* stacks made half-way: the next publish makes them whole */
	sliding_stacks_abandon(plan);
	if (DsaPointerIsValid(unlinked_blob))
		dsa_free(my_area, unlinked_blob);
	unlinked_blob = InvalidDsaPointer;
	free_built_blobs();
	if (compacting_groups != NULL || compacting_keys != NULL)
	{
		/* and not again until the view has grown */
		if (compacting_groups != NULL)
			dshash_destroy(compacting_groups);
		if (compacting_keys != NULL)
			dshash_destroy(compacting_keys);
		compacting_groups = compacting_keys = NULL;
		plan->state->shm_peak_groups = plan->state->shm_ngroups;
	}
	if (!mark_incomplete(slot, plan, edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY ? NULL :
						 edata->message))
		*unpublished = true;
	if (edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
		warn_memory_full(plan, edata->message);
	else
		warn_publish_failed(plan, edata->message);
	FreeErrorData(edata);
}

/* free_built_blobs frees the blobs of new groups not linked yet */
static void
free_built_blobs(void)
{
	int64		i;

	for (i = 0; i < nbuilt_blobs; i++)
		if (DsaPointerIsValid(built_blobs[i].dp))
			dsa_free(my_area, built_blobs[i].dp);
	built_blobs = NULL;
	nbuilt_blobs = 0;
}

/*
 * warn_publish_failed warns once each time a view's publishing fails: its
 * functions failed on its groups (a sliding view's combine, a serial or
 * key hash function).  The worker goes on with the others; the view is
 * published whole again each time it changes, until that works.
 */
static void
warn_publish_failed(ViewPlan *plan, const char *message)
{
	if (!plan->state->publish_failed)
		ereport(WARNING,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("continuous view \"%s\" cannot be published: %s", plan->name, message),
				 errdetail("Readers of the view get an error until it can; no event is lost: the worker keeps the view and writes it at every checkpoint."),
				 errhint("A function of the view failed on its groups: fix it, or change the view with streamext.replace_view().")));
	plan->state->publish_failed = true;
}

/* warn_memory_full warns once each time a view stops fitting */
static void
warn_memory_full(ViewPlan *plan, const char *detail)
{
	if (!plan->state->shmem_full)
		ereport(WARNING,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("streamext.max_memory reached: continuous view \"%s\" cannot be read until memory is raised",
						plan->name),
				 detail ? errdetail("%s", detail) : 0,
				 plan->aggs.has_distinct ?
				 errhint("Raise streamext.max_memory and reload; no event is lost, the view is kept on disk at every checkpoint.  "
						 "Its DISTINCT aggregates keep every distinct value: for large sets, estimate with hll (see the README).") :
				 errhint("Raise streamext.max_memory and reload; no event is lost, the view is kept on disk at every checkpoint.")));
	plan->state->shmem_full = true;
}

/*
 * build_view makes the new bytes of a view's changed groups (all of them
 * with all_groups, or when the memory limit cut the view short), for
 * link_view, in memory context cxt, which the build then owns.  A new
 * group's bytes go to shared memory at once, where they wait to be linked.
 */
static PublishBuild *
build_view(StreamextDbSlot *slot, ViewPlan *plan, bool all_groups, MemoryContext cxt)
{
	SharedView *sv;
	PublishBuild *b;
	HASH_SEQ_STATUS wstatus;
	WindowGroups *wg;
	StringInfoData buf;
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int64		ngroups = 0;
	int64		nwindows = 0;
	List	   *windows = NIL;
	PublishedBlob *blobs;
	int64		nblobs = 0;
	int64		maxblobs = 64;
	int64		new_bytes = 0;
	int64		soft_limit = soft_limit_bytes();
	int64		nnew = 0;
	ListCell   *lc;
	UserCodeGate gate;
	SlidingExtras *extras;

	/*
	 * The groups' bytes first, without the lock: serialising calls the
	 * aggregates' serial functions, user code, which must never run under
	 * an LWLock (it could not be interrupted, and an error would leave the
	 * lock to the error path).  Then only copying under the lock.
	 */
	LWLockAcquire(&slot->publish_lock, LW_SHARED);
	sv = dshash_find(my_views, &plan->id, false);
	if (sv != NULL)
	{
		/* a view cut short by the memory limit is published whole again */
		if (sv->incomplete)
			all_groups = true;
		dshash_release_lock(my_views, sv);
	}
	LWLockRelease(&slot->publish_lock);

	/* room for the groups to publish at once, not copied as it grows */
	hash_seq_init(&wstatus, plan->state->windows);
	while ((wg = hash_seq_search(&wstatus)) != NULL)
		maxblobs += all_groups ? wg->ngroups : list_length(wg->changed);
	initStringInfo(&buf);
	blobs = palloc_extended(sizeof(PublishedBlob) * maxblobs, MCXT_ALLOC_HUGE);
	built_blobs = blobs;
	nbuilt_blobs = 0;
	/* key types' hash functions may be user code too */
	usercode_enter(&gate, plan->owner, USERCODE_READ_ONLY);
	/* a sliding view's combinations for readers, with the panes to publish */
	extras = sliding_stacks_prepare(plan, all_groups);
	hash_seq_init(&wstatus, plan->state->windows);
	while ((wg = hash_seq_search(&wstatus)) != NULL)
		windows = lappend(windows, wg);
	foreach(lc, windows)
	{
		ListCell   *lc2;

		wg = lfirst(lc);
		/* a session view keeps its sessions in one window: count them */
		nwindows += (plan->window.kind == WINDOW_SESSION) ? wg->ngroups : 1;
		ngroups += wg->ngroups;
		if (!wg->any_dirty && !all_groups)
			continue;
		foreach(lc2, all_groups ? window_all_groups(wg) : wg->changed)
		{
			ViewGroup  *gs = lfirst(lc2);
			PublishedBlob *pb;
			TimestampTz start;
			TimestampTz end;
			const char *extra;
			uint32		extralen;

			if (!gs->dirty_shmem && !all_groups)
				continue;		/* published already, or left the window */
			group_bounds(plan, wg, gs, &start, &end);
			resetStringInfo(&buf);
			sliding_stacks_extra(extras, gs, &extra, &extralen);
			state_blob_build(plan, start, end, gs, extra, extralen, &buf);
			/* a group's key never changes: hashed once, when first published */
			if (!gs->hashed)
			{
				slot_getallattrs(plan->keyslot);
				gs->keyhash = view_plan_key_hash(plan, NULL, plan->keyslot->tts_values,
												 plan->keyslot->tts_isnull);
				gs->hashed = true;
			}
			if (nblobs == maxblobs)
			{
				maxblobs *= 2;
				blobs = repalloc_huge(blobs, sizeof(PublishedBlob) * maxblobs);
				built_blobs = blobs;
			}
			pb = &blobs[nblobs];
			pb->group = gs;
			pb->start = start;
			pb->len = buf.len;
			pb->dp = InvalidDsaPointer;
			pb->bytes = NULL;
			if (gs->in_shmem)
				pb->bytes = memcpy(palloc(buf.len), buf.data, buf.len);
			else if (total_bytes + built_new_bytes + new_bytes + buf.len + sizeof(SharedGroup) +
					 GROUP_OVERHEAD <= soft_limit)
			{
				pb->dp = dsa_allocate_extended(my_area, buf.len, DSA_ALLOC_NO_OOM);
				if (DsaPointerIsValid(pb->dp))
				{
					memcpy(dsa_get_address(my_area, pb->dp), buf.data, buf.len);
					new_bytes += buf.len + sizeof(SharedGroup) + GROUP_OVERHEAD;
				}
			}
			nbuilt_blobs = ++nblobs;
			nnew += !gs->in_shmem;
		}
	}
	usercode_leave(&gate);
	built_new_bytes += new_bytes;

	b = palloc(sizeof(PublishBuild));
	b->plan = plan;
	b->cxt = cxt;
	b->all_groups = all_groups;
	b->windows = windows;
	b->blobs = blobs;
	b->nblobs = nblobs;
	b->nnew = nnew;
	b->ngroups = ngroups;
	b->nwindows = nwindows;
	b->cut_short = false;
	b->failed = false;
	/* the build owns its blobs now: link_view links or frees them */
	built_blobs = NULL;
	nbuilt_blobs = 0;
	MemoryContextSwitchTo(old);
	return b;
}

/*
 * link_view links a build's groups into the area, as publish pins->seq,
 * under publish_lock held exclusively; false if the memory limit cut it
 * short.
 */
static bool
link_view(StreamextDbSlot *slot, PublishBuild *b, const PinRange *pinsp)
{
	ViewPlan   *plan = b->plan;
	bool		all_groups = b->all_groups;
	List	   *windows = b->windows;
	PublishedBlob *blobs = b->blobs;
	int64		nblobs = b->nblobs;
	int64		nnew = b->nnew;
	int64		ngroups = b->ngroups;
	int64		nwindows = b->nwindows;
	int64		soft_limit = soft_limit_bytes();
	PinRange	pins = *pinsp;
	SharedView *sv;
	bool		found;
	dshash_table *groups;
	WindowGroups *wg;
	ListCell   *lc;
	int64		i;
	bool		cut_short = false;
	ViewMarks	marks;
	MemoryContext old = MemoryContextSwitchTo(b->cxt);

	/* its blobs not linked yet are freed if linking fails */
	built_blobs = blobs;
	nbuilt_blobs = nblobs;
	sv = dshash_find_or_insert(my_views, &plan->id, &found);
	if (!found)
	{
		memset(((char *) sv) + sizeof(int32), 0, sizeof(SharedView) - sizeof(int32));
		sv->groups = InvalidDsaPointer;
		sv->older_marks = InvalidDsaPointer;
		pg_atomic_init_u64(&sv->lent_upto, 0);
	}
	/* a pin taken before sees no groups of this definition */
	if (!found || sv->start_lsn != plan->start_lsn)
		sv->since = pins.seq;

	/*
	 * A view cut short by the memory limit is published whole again (seen
	 * above: only this worker marks it).  It stays marked incomplete until
	 * every group is in: an error half-way releases the lock before
	 * publish_failed marks it, and a reader must never take the
	 * groups copied so far for the view.
	 */
	sv->incomplete = true;
	sv->start_lsn = plan->start_lsn;
	marks.watermark = view_plan_watermark(plan);
	sliding_stacks_bounds(plan, &marks.slide_front_end, &marks.slide_back_end);
	trim_marks(sv, &pins);
	if (!found || memcmp(&marks, &sv->marks, sizeof(ViewMarks)) != 0)
	{
		/* a pin sees the marks that go with the groups it sees */
		if (found && seen_by(&pins, sv->marks_seq, NO_SEQ) && !keep_marks(sv, &pins))
			cut_short = true;
		sv->marks = marks;
		sv->marks_seq = pins.seq;
	}
	groups = worker_groups(plan, sv, found);
	trim_versions(plan, &pins);

	/* sessions merged into others leave with the others' new states */
	foreach(lc, plan->state->dropped_gids)
		forget_gid(plan, *(int64 *) lfirst(lc), &pins);
	list_free_deep(plan->state->dropped_gids);
	plan->state->dropped_gids = NIL;
	/* room for the new groups' slots at once (each checks again) */
	(void) reserve_slots(plan, sv, nnew);

	/* the counters are right even if the memory limit cuts this short */
	sv->stats.groups = ngroups;
	sv->stats.windows = nwindows;
	sv->stats.events = plan->state->events;
	sv->stats.late_events = plan->state->late_events;
	sv->stats.dead_letters = plan->state->dead_letters;
	sv->stats.future_events = plan->state->future_events;

	for (i = 0; i < nblobs; i++)
	{
		PublishedBlob *pb = &blobs[i];
		ViewGroup  *gs = pb->group;
		SharedGroup *sg;
		SharedKey  *key;
		GroupSlot  *gslot;
		int64		old_head;
		dsa_pointer dp;
		bool		kept;

		/*
		 * A group published before is found and given its new bytes: over
		 * its old ones when they are as long (the common case: states of
		 * fixed size), else in a new blob.  A new one takes its key's chain
		 * head first (an allocation that may fail before anything changed),
		 * then its entry and its slot (reserved), in front of the chain; the
		 * old head learns its new neighbour after, finding an entry that
		 * exists.
		 */
		sg = gs->in_shmem ? dshash_find(groups, &gs->gid, true) : NULL;
		if (sg != NULL && pb->bytes != NULL &&
			DsaPointerIsValid((gslot = group_slot(plan, sg))->blob) && gslot->len == pb->len &&
			!seen_by(&pins, gslot->seq, NO_SEQ))
		{
			memcpy(dsa_get_address(my_area, gslot->blob), pb->bytes, pb->len);
			gslot->start = pb->start;
			gslot->retired_by = InvalidTransactionId;
			gslot->born_by = gs->born_xid;
			gslot->seq = pins.seq;
			dshash_release_lock(groups, sg);
			gs->dirty_shmem = false;
			continue;
		}
		dp = pb->dp;
		if (!DsaPointerIsValid(dp) && pb->bytes != NULL &&
			total_bytes + pb->len + sizeof(SharedGroup) + GROUP_OVERHEAD <= soft_limit)
		{
			dp = dsa_allocate_extended(my_area, pb->len, DSA_ALLOC_NO_OOM);
			if (DsaPointerIsValid(dp))
				memcpy(dsa_get_address(my_area, dp), pb->bytes, pb->len);
			unlinked_blob = dp;
		}
		if (!DsaPointerIsValid(dp))
		{
			if (sg != NULL)
				dshash_release_lock(groups, sg);
			cut_short = true;
			continue;
		}
		key = NULL;
		found = (sg != NULL);
		if (sg == NULL)
		{
			if (!reserve_slots(plan, sv, 1))
			{
				dsa_free(my_area, dp);
				pb->dp = unlinked_blob = InvalidDsaPointer;
				cut_short = true;
				continue;
			}
			key = dshash_find_or_insert(plan->state->shm_keys, &gs->keyhash, &found);
			if (!found)
			{
				key->head_gid = NO_GID;
				key->head_slot = NO_SLOT;
				plan->state->shm_nkeys++;
				plan->state->shm_bytes += sizeof(SharedKey) + KEY_OVERHEAD;
				total_bytes += sizeof(SharedKey) + KEY_OVERHEAD;
			}
			sg = dshash_find_or_insert(groups, &gs->gid, &found);
			if (!found)
				sg->slot = take_slot(plan, gs->gid);
		}
		gslot = group_slot(plan, sg);
		kept = false;
		if (found && DsaPointerIsValid(gslot->blob) && seen_by(&pins, gslot->seq, NO_SEQ))
		{
			/* a pin may see its bytes: they stay, as a version of it */
			if (!keep_version(plan, gslot, &pins))
			{
				dsa_free(my_area, dp);
				pb->dp = unlinked_blob = InvalidDsaPointer;
				dshash_release_lock(groups, sg);
				if (key != NULL)
					dshash_release_lock(plan->state->shm_keys, key);
				cut_short = true;
				continue;
			}
			kept = true;
		}
		pb->dp = unlinked_blob = InvalidDsaPointer;
		if (found && DsaPointerIsValid(gslot->blob))
		{
			if (!kept)
				dsa_free(my_area, gslot->blob);
			plan->state->shm_bytes -= gslot->len;
			total_bytes -= gslot->len;
		}
		else
		{
			plan->state->shm_bytes += sizeof(SharedGroup) + GROUP_OVERHEAD;
			total_bytes += sizeof(SharedGroup) + GROUP_OVERHEAD;
			plan->state->shm_ngroups++;
			plan->state->shm_peak_groups = Max(plan->state->shm_peak_groups,
											   plan->state->shm_ngroups);
		}
		plan->state->shm_bytes += pb->len;
		total_bytes += pb->len;
		gslot->blob = dp;
		gslot->len = pb->len;
		gslot->start = pb->start;
		gslot->retired_by = InvalidTransactionId;
		gslot->born_by = gs->born_xid;
		gslot->seq = pins.seq;
		old_head = NO_GID;
		if (!found)
		{
			gslot->keyhash = gs->keyhash;
			gslot->keys_collide = false;
			sg->prev_gid = NO_GID;
			sg->next_gid = old_head = key->head_gid;
			key->head_gid = gs->gid;
			gslot->next_slot = key->head_slot;
			key->head_slot = (int32) sg->slot;
		}
		dshash_release_lock(groups, sg);
		if (key != NULL)
			dshash_release_lock(plan->state->shm_keys, key);
		if (old_head != NO_GID)
			link_after(plan, old_head, gs->gid, dsa_get_address(my_area, dp), pb->len);
		gs->in_shmem = true;
		gs->dirty_shmem = false;
	}
	built_blobs = NULL;
	nbuilt_blobs = 0;

	/*
	 * Groups cut short by the memory limit stay dirty: the next publish
	 * walks the whole view.
	 */
	foreach(lc, windows)
	{
		wg = lfirst(lc);
		if (!wg->any_dirty && !all_groups)
			continue;
		list_free(wg->changed);
		wg->changed = NIL;
		wg->any_dirty = false;
	}
	compact_groups(plan, sv);
	fit_directory(plan, sv);
	sv->stats.bytes = plan->state->shm_bytes + lookup_cache_memory(plan);
	sv->stats.keys = plan->state->shm_nkeys;
	sv->incomplete = cut_short;
	if (cut_short)
		sv->recovered_seq = NO_SEQ;
	else if (sv->recovered_seq == NO_SEQ)
		sv->recovered_seq = pins.seq;
	sv->failure[0] = '\0';
	dshash_release_lock(my_views, sv);
	MemoryContextSwitchTo(old);
	return !cut_short;
}

/*
 * window_all_groups lists the groups of a window (a session view's: every
 * open session), in the current memory context.
 */
static List *
window_all_groups(WindowGroups *wg)
{
	TupleHashIterator it;
	TupleHashEntry entry;
	List	   *result = NIL;

	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
	{
		ViewGroup  *gs;

		for (gs = entry->additional; gs != NULL; gs = gs->next_session)
			result = lappend(result, gs);
	}
	return result;
}

/*
 * state_shmem_retire_window marks the published groups of a window that
 * transaction xid writes to the closed-window table.
 */
void
state_shmem_retire_window(StreamextDbSlot *slot, ViewPlan *plan,
						  WindowGroups *wg, TransactionId xid)
{
	TupleHashIterator it;
	TupleHashEntry entry;

	if (plan->state->shm_groups == NULL)
		return;
	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	InitTupleHashIterator(wg->groups, &it);
	while ((entry = ScanTupleHashTable(wg->groups, &it)) != NULL)
		retire_gid(plan, ((ViewGroup *) entry->additional)->gid, xid);
	LWLockRelease(&slot->publish_lock);
}

/*
 * state_shmem_retire_gid marks one published group (a session) that
 * transaction xid replaces.
 */
void
state_shmem_retire_gid(StreamextDbSlot *slot, ViewPlan *plan, int64 gid,
					   TransactionId xid)
{
	if (plan->state->shm_groups == NULL)
		return;
	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	retire_gid(plan, gid, xid);
	LWLockRelease(&slot->publish_lock);
}

/*
 * retire_gid does the work of both, under the publish lock.  The group is
 * listed for state_shmem_gc before it is marked: an allocation that fails
 * leaves nothing half done.
 */
static void
retire_gid(ViewPlan *plan, int64 gid, TransactionId xid)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	RetiredGroup *rg = palloc(sizeof(RetiredGroup));
	SharedGroup *sg;

	rg->gid = gid;
	rg->xid = xid;
	plan->state->retired = lappend(plan->state->retired, rg);
	MemoryContextSwitchTo(old);

	sg = dshash_find(plan->state->shm_groups, &gid, true);
	if (sg != NULL)
	{
		group_slot(plan, sg)->retired_by = xid;
		dshash_release_lock(plan->state->shm_groups, sg);
	}
	else
	{
		plan->state->retired = list_delete_last(plan->state->retired);
		pfree(rg);
	}
}

/*
 * forget_gid frees a published group, under the publish lock: at once, or,
 * when a pin may see it, once none does (trim_versions).
 */
static void
forget_gid(ViewPlan *plan, int64 gid, const PinRange *pins)
{
	SharedGroup *sg = dshash_find(plan->state->shm_groups, &gid, true);
	GroupSlot  *gslot;

	if (sg == NULL)
		return;
	gslot = group_slot(plan, sg);
	if (seen_by(pins, gslot->seq, NO_SEQ) || DsaPointerIsValid(gslot->older))
	{
		if (!DsaPointerIsValid(gslot->older))
			note_versioned(plan, gid);
		gslot->until = pins->seq;
		dshash_release_lock(plan->state->shm_groups, sg);
		return;
	}
	free_group(plan, sg);
}

/*
 * pin_range reads the readers' pins, for the publish the worker is about
 * to make under the publish lock held exclusively: a reader takes its pin
 * under the lock held shared, so none is taken meanwhile.
 */
static void
pin_range(StreamextDbSlot *slot, PinRange *pins)
{
	pg_atomic_uint64 *all = dsa_get_address(my_area, own_pins);
	static uint64 *mins = NULL;
	static uint64 *maxs = NULL;
	int			i;

	if (mins == NULL)
	{
		mins = MemoryContextAlloc(TopMemoryContext, sizeof(uint64) * (MaxBackends + 1));
		maxs = MemoryContextAlloc(TopMemoryContext, sizeof(uint64) * (MaxBackends + 1));
	}
	pins->seq = own_publish_seq + 1;
	pins->n = 0;
	pins->min = mins;
	pins->max = maxs;
	for (i = 0; i <= MaxBackends; i++)
	{
		uint64		min = pg_atomic_read_u64(&all[2 * i]);

		if (min == 0)
			continue;
		mins[pins->n] = min;
		maxs[pins->n++] = pg_atomic_read_u64(&all[2 * i + 1]);
	}
}

/*
 * seen_by says whether a pin may see what publishes seq to until (excluded)
 * left: a pin at or after seq and before until.  Each backend shows only
 * its oldest and newest pins, so anything between those may be seen.
 */
static inline bool
seen_by(const PinRange *pins, uint64 seq, uint64 until)
{
	int			i;

	for (i = 0; i < pins->n; i++)
		if (seq <= pins->max[i] && until > pins->min[i])
			return true;
	return false;
}

/* note_versioned lists a group whose versions trim_versions is to free */
static void
note_versioned(ViewPlan *plan, int64 gid)
{
	MemoryContext old = MemoryContextSwitchTo(plan->cxt);
	int64	   *p = palloc(sizeof(int64));

	*p = gid;
	plan->state->shm_versioned = lappend(plan->state->shm_versioned, p);
	MemoryContextSwitchTo(old);
}

/*
 * keep_version keeps a group's bytes, which the publish pins->seq is
 * about to replace, as its newest earlier version; the caller gives the
 * group a new blob and no longer owns the old one.  False, with nothing
 * changed, when the memory limit refuses it.
 */
static bool
keep_version(ViewPlan *plan, GroupSlot *gslot, const PinRange *pins)
{
	dsa_pointer dp;
	GroupVersion *v;

	if (total_bytes + sizeof(GroupVersion) + GROUP_OVERHEAD > soft_limit_bytes())
		return false;
	/* listed first: an allocation failing leaves a gid with nothing to free */
	if (!DsaPointerIsValid(gslot->older))
		note_versioned(plan, gslot->gid);
	dp = dsa_allocate_extended(my_area, sizeof(GroupVersion), DSA_ALLOC_NO_OOM);
	if (!DsaPointerIsValid(dp))
		return false;
	v = dsa_get_address(my_area, dp);
	v->blob = gslot->blob;
	v->len = gslot->len;
	v->start = gslot->start;
	v->retired_by = gslot->retired_by;
	v->born_by = gslot->born_by;
	v->seq = gslot->seq;
	v->until = pins->seq;
	v->older = gslot->older;
	gslot->older = dp;
	/* the old bytes count with the version now */
	plan->state->shm_bytes += v->len + sizeof(GroupVersion) + GROUP_OVERHEAD;
	total_bytes += v->len + sizeof(GroupVersion) + GROUP_OVERHEAD;
	return true;
}

/*
 * free_versions frees the versions of a chain that no pin may see (all
 * of them if pins is NULL), under the publish lock held exclusively; plan
 * NULL: of a view dropped.
 */
static void
free_versions(ViewPlan *plan, dsa_pointer *older, const PinRange *pins)
{
	while (DsaPointerIsValid(*older))
	{
		dsa_pointer dp = *older;
		GroupVersion *v = dsa_get_address(my_area, dp);

		if (pins != NULL && seen_by(pins, v->seq, v->until))
		{
			older = &v->older;
			continue;
		}
		if (plan != NULL)
			plan->state->shm_bytes -= v->len + sizeof(GroupVersion) + GROUP_OVERHEAD;
		total_bytes -= v->len + sizeof(GroupVersion) + GROUP_OVERHEAD;
		*older = v->older;
		dsa_free(my_area, v->blob);
		dsa_free(my_area, dp);
	}
}

/*
 * trim_versions frees a view's earlier versions of groups, and the groups
 * dropped, that no pin may see any longer; under the publish lock held
 * exclusively.
 */
static void
trim_versions(ViewPlan *plan, const PinRange *pins)
{
	ViewState  *st = plan->state;
	List	   *versioned = st->shm_versioned;
	ListCell   *lc;
	int			kept = 0;

	if (versioned == NIL || st->shm_groups == NULL)
		return;
	foreach(lc, versioned)
	{
		int64	   *gid = lfirst(lc);
		SharedGroup *sg = dshash_find(st->shm_groups, gid, true);
		GroupSlot  *gslot;

		if (sg == NULL)
		{
			pfree(gid);
			continue;
		}
		gslot = group_slot(plan, sg);
		free_versions(plan, &gslot->older, pins);
		if (gslot->until != NO_SEQ && !DsaPointerIsValid(gslot->older) &&
			!seen_by(pins, gslot->seq, gslot->until))
		{
			free_group(plan, sg);
			pfree(gid);
			continue;
		}
		if (gslot->until == NO_SEQ && !DsaPointerIsValid(gslot->older))
		{
			dshash_release_lock(st->shm_groups, sg);
			pfree(gid);
			continue;
		}
		dshash_release_lock(st->shm_groups, sg);
		/* in place, as state_shmem_gc keeps its retired groups */
		lfirst(list_nth_cell(versioned, kept++)) = gid;
	}
	if (kept == 0)
	{
		list_free(versioned);
		st->shm_versioned = NIL;
	}
	else
		st->shm_versioned = list_truncate(versioned, kept);
}

/* keep_marks keeps a view's marks, which the publish pins->seq replaces */
static bool
keep_marks(SharedView *sv, const PinRange *pins)
{
	dsa_pointer dp = dsa_allocate_extended(my_area, sizeof(MarksVersion), DSA_ALLOC_NO_OOM);
	MarksVersion *m;

	if (!DsaPointerIsValid(dp))
		return false;
	m = dsa_get_address(my_area, dp);
	m->marks = sv->marks;
	m->seq = sv->marks_seq;
	m->until = pins->seq;
	m->older = sv->older_marks;
	sv->older_marks = dp;
	return true;
}

/* trim_marks frees a view's earlier marks that no pin may see (pins NULL: all) */
static void
trim_marks(SharedView *sv, const PinRange *pins)
{
	dsa_pointer *older = &sv->older_marks;

	while (DsaPointerIsValid(*older))
	{
		MarksVersion *m = dsa_get_address(my_area, *older);
		dsa_pointer gone = *older;

		if (pins != NULL && seen_by(pins, m->seq, m->until))
		{
			older = &m->older;
			continue;
		}
		*older = m->older;
		dsa_free(my_area, gone);
	}
}

/*
 * compaction_due says whether a view's groups are few of what its tables
 * once held (see COMPACT_FRACTION).  Not near streamext.max_memory: the new
 * tables are made before the old ones go.
 */
static bool
compaction_due(ViewPlan *plan)
{
	ViewState  *st = plan->state;

	return st->shm_groups != NULL && st->shm_peak_groups >= COMPACT_MIN_GROUPS &&
		st->shm_ngroups <= st->shm_peak_groups / COMPACT_FRACTION &&
		total_bytes <= soft_limit_bytes() / 2;
}

/*
 * copy_entries copies every entry of one hash table into another of the
 * same kind (keys first in SharedGroup and SharedKey alike).
 */
static void
copy_entries(dshash_table *from, dshash_table *to, Size entry_size)
{
	dshash_seq_status status;
	void	   *entry;
	bool		found;

	dshash_seq_init(&status, from, false);
	while ((entry = dshash_seq_next(&status)) != NULL)
	{
		void	   *copy = dshash_find_or_insert(to, entry, &found);

		memcpy(copy, entry, entry_size);
		dshash_release_lock(to, copy);
	}
	dshash_seq_term(&status);
}

/*
 * compact_groups moves a view's groups and keys to tables sized for them
 * when compaction_due.  The caller (link_view, behind link_views, which
 * destroys half-made tables after an error) holds the publish lock
 * exclusively and sv, the view's entry.
 */
static void
compact_groups(ViewPlan *plan, SharedView *sv)
{
	ViewState  *st = plan->state;
	dshash_table *groups;
	dshash_table *keys;
	MemoryContext old;

	if (!compaction_due(plan))
		return;
	/* the worker's attachments live as long as the view's plan */
	old = MemoryContextSwitchTo(plan->cxt);
	compacting_groups = groups = dshash_create(my_area, &groups_params, NULL);
	compacting_keys = keys = dshash_create(my_area, &keys_params, NULL);
	MemoryContextSwitchTo(old);
	copy_entries(st->shm_groups, groups, sizeof(SharedGroup));
	copy_entries(st->shm_keys, keys, sizeof(SharedKey));
	compacting_groups = compacting_keys = NULL;
	/* the blobs stay where they are: the new entries point to them */
	dshash_destroy(st->shm_groups);
	dshash_destroy(st->shm_keys);
	st->shm_groups = groups;
	st->shm_keys = keys;
	sv->groups = dshash_get_hash_table_handle(groups);
	sv->keys = dshash_get_hash_table_handle(keys);
	elog(DEBUG1, "streamext: groups of continuous view \"%s\" moved to smaller tables (%lld of at most %lld)",
		 plan->name, (long long) st->shm_ngroups, (long long) st->shm_peak_groups);
	st->shm_peak_groups = st->shm_ngroups;
}

/*
 * link_after tells the group old_head, which the group gid now precedes in
 * its key's chain.  Under the publish lock held exclusively, so no reader
 * sees the chain half linked; the entry exists, so nothing here allocates
 * or fails.
 */
static void
link_after(ViewPlan *plan, int64 old_head, int64 gid, const char *blob, Size len)
{
	SharedGroup *next = dshash_find(plan->state->shm_groups, &old_head, true);
	GroupSlot  *next_slot;
	bool		collide;

	Assert(next != NULL);
	next->prev_gid = gid;
	next_slot = group_slot(plan, next);

	/*
	 * A chain holds the groups of one key, or is marked as holding groups
	 * of several keys whose hashes are alike: a read that takes some
	 * groups of a key by its hash (pick_sliding_panes) takes all of those.
	 */
	collide = next_slot->keys_collide;
	if (!collide)
	{
		BlobParts	mine;
		BlobParts	theirs;

		state_blob_parts(blob, len, &mine);
		state_blob_parts(dsa_get_address(my_area, next_slot->blob), next_slot->len, &theirs);
		collide = (mine.keylen != theirs.keylen ||
				   memcmp(mine.key, theirs.key, mine.keylen) != 0);
	}
	dshash_release_lock(plan->state->shm_groups, next);
	if (collide)
	{
		int64		g = gid;

		while (g != NO_GID)
		{
			SharedGroup *sg = dshash_find(plan->state->shm_groups, &g, true);
			GroupSlot  *gslot;

			Assert(sg != NULL);
			gslot = group_slot(plan, sg);
			if (gslot->keys_collide && g != gid)
			{
				dshash_release_lock(plan->state->shm_groups, sg);
				break;			/* the rest of the chain is marked already */
			}
			gslot->keys_collide = true;
			g = sg->next_gid;
			dshash_release_lock(plan->state->shm_groups, sg);
		}
	}
}

/*
 * free_group unlinks the group sg (found locked exclusively) from its key's
 * chain, frees it and releases it; the key goes with its last group.
 * Under the publish lock held exclusively.
 */
static void
free_group(ViewPlan *plan, SharedGroup *sg)
{
	dshash_table *groups = plan->state->shm_groups;
	int64		prev = sg->prev_gid;
	int64		next = sg->next_gid;
	int64		slot = sg->slot;
	GroupSlot  *gslot = group_slot(plan, sg);
	uint32		keyhash = gslot->keyhash;
	int32		next_slot = gslot->next_slot;
	SharedGroup *other;

	free_versions(plan, &gslot->older, NULL);
	plan->state->shm_bytes -= gslot->len + sizeof(SharedGroup) + GROUP_OVERHEAD;
	total_bytes -= gslot->len + sizeof(SharedGroup) + GROUP_OVERHEAD;
	plan->state->shm_ngroups--;
	if (DsaPointerIsValid(gslot->blob))
		dsa_free(my_area, gslot->blob);
	dshash_delete_entry(groups, sg);
	/* unlinked first, by gid and by slot; then its slot is reused */
	if (next != NO_GID)
	{
		other = dshash_find(groups, &next, true);
		Assert(other != NULL);
		other->prev_gid = prev;
		dshash_release_lock(groups, other);
	}
	if (prev != NO_GID)
	{
		other = dshash_find(groups, &prev, true);
		Assert(other != NULL);
		other->next_gid = next;
		directory(plan)->slots[other->slot].next_slot = next_slot;
		dshash_release_lock(groups, other);
	}
	else
	{
		SharedKey  *key = dshash_find(plan->state->shm_keys, &keyhash, true);

		Assert(key != NULL);
		if (next != NO_GID)
		{
			key->head_gid = next;
			key->head_slot = next_slot;
			dshash_release_lock(plan->state->shm_keys, key);
		}
		else
		{
			dshash_delete_entry(plan->state->shm_keys, key);
			plan->state->shm_nkeys--;
			plan->state->shm_bytes -= sizeof(SharedKey) + KEY_OVERHEAD;
			total_bytes -= sizeof(SharedKey) + KEY_OVERHEAD;
		}
	}
	drop_slot(plan, slot);
}

/*
 * database_horizon is the oldest transaction a snapshot of this database
 * may still see running: GetOldestNonRemovableTransactionId of an ordinary
 * table of it.  The shared horizon (of no relation) also waits for the
 * replication slots' catalog_xmin, which moves only with a running-
 * transactions record (15 s apart at best): closed groups stayed that long,
 * and every read walked them.  The worker may be outside a transaction,
 * where no table can be opened; the horizon depends only on what kind of
 * relation it is given, so it is given a description of one.
 */
static TransactionId
database_horizon(void)
{
	FormData_pg_class form;
	RelationData rel;

	memset(&form, 0, sizeof(form));
	memset(&rel, 0, sizeof(rel));
	form.relkind = RELKIND_RELATION;
	form.relpersistence = RELPERSISTENCE_PERMANENT;
	rel.rd_rel = &form;
	rel.rd_id = FirstNormalObjectId;
	rel.rd_backend = InvalidBackendId;
	return GetOldestNonRemovableTransactionId(&rel);
}

/*
 * state_shmem_gc frees retired groups once no snapshot can miss the closed
 * rows that replaced them.  True if a view then has few enough groups to
 * move to smaller tables: the caller publishes, which does it.
 */
bool
state_shmem_gc(StreamextDbSlot *slot, List *plans)
{
	bool		compact = false;
	TransactionId horizon = database_horizon();
	ListCell   *lc;
	PinRange	pins;

	if (dropped_groups != NIL)
	{
		LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
		free_dropped_groups(slot);
		LWLockRelease(&slot->publish_lock);
	}
	/* every snapshot sees the recompute now: its xid need not be looked up */
	if (TransactionIdIsValid(slot->area_valid_from) &&
		TransactionIdPrecedes(slot->area_valid_from, horizon))
	{
		LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
		slot->area_valid_from = InvalidTransactionId;
		LWLockRelease(&slot->publish_lock);
	}

	foreach(lc, plans)
	{
		ViewPlan   *plan = lfirst(lc);
		List	   *retired = plan->state->retired;
		ListCell   *lc2;
		int			kept = 0;
		SharedView *sv;

		if (retired == NIL && plan->state->shm_versioned == NIL)
			continue;
		LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
		/* versions pins no longer see, until a publish of the view does it */
		pin_range(slot, &pins);
		trim_versions(plan, &pins);

		/*
		 * The groups kept move to the front in place: deleting each freed
		 * one from the list would move the rest every time (a window of
		 * 300,000 groups closed took seconds, under the lock).
		 */
		foreach(lc2, retired)
		{
			RetiredGroup *rg = lfirst(lc2);
			SharedGroup *sg;

			if (!TransactionIdPrecedes(rg->xid, horizon))
			{
				lfirst(list_nth_cell(retired, kept++)) = rg;
				continue;
			}
			sg = dshash_find(plan->state->shm_groups, &rg->gid, true);
			if (sg != NULL)
			{
				if (group_slot(plan, sg)->retired_by == rg->xid)
					free_group(plan, sg);
				else
					dshash_release_lock(plan->state->shm_groups, sg);
			}
			pfree(rg);
		}
		if (kept == 0)
		{
			list_free(retired);
			plan->state->retired = NIL;
		}
		else
			plan->state->retired = list_truncate(retired, kept);
		sv = dshash_find(my_views, &plan->id, true);
		if (sv != NULL)
		{
			compact |= compaction_due(plan);
			sv->stats.bytes = plan->state->shm_bytes + lookup_cache_memory(plan);
			sv->stats.keys = plan->state->shm_nkeys;
			dshash_release_lock(my_views, sv);
		}
		LWLockRelease(&slot->publish_lock);
	}
	return compact;
}

/*
 * free_directory frees a dropped view's directory and its groups' bytes,
 * their versions with them.
 */
static void
free_directory(dsa_pointer dir_pointer)
{
	GroupDirectory *dir = dsa_get_address(my_area, dir_pointer);
	int64		i;

	for (i = 0; i < dir->n; i++)
	{
		total_bytes -= dir->slots[i].len + sizeof(SharedGroup) + GROUP_OVERHEAD;
		if (DsaPointerIsValid(dir->slots[i].blob))
			dsa_free(my_area, dir->slots[i].blob);
		free_versions(NULL, &dir->slots[i].older, NULL);
	}
	total_bytes -= DIRECTORY_BYTES(dir->size);
	dsa_free(my_area, dir_pointer);
}

/*
 * free_dropped_groups frees the groups of views dropped while readers had
 * pins, once none of those is left; under the publish lock held
 * exclusively.
 */
static void
free_dropped_groups(StreamextDbSlot *slot)
{
	PinRange	pins;
	ListCell   *lc;

	if (dropped_groups == NIL)
		return;
	pin_range(slot, &pins);
	foreach(lc, dropped_groups)
	{
		DroppedGroups *dropped = lfirst(lc);

		if (seen_by(&pins, 0, dropped->seq))
			continue;
		free_directory(dropped->dir);
		pfree(dropped);
		dropped_groups = foreach_delete_current(dropped_groups, lc);
	}
}

/* state_shmem_drop_view forgets a dropped view and frees its groups */
void
state_shmem_drop_view(StreamextDbSlot *slot, int32 view_id)
{
	SharedView *sv;

	LWLockAcquire(&slot->publish_lock, LW_EXCLUSIVE);
	sv = dshash_find(my_views, &view_id, true);
	if (sv != NULL)
	{
		if (DsaPointerIsValid(sv->dir))
		{
			PinRange	pins;

			/*
			 * Readers may have its groups lent (state_shmem_read_view): the
			 * blobs stay while a pin they were lent to may be left, one at
			 * or before the newest such (a pin of another view's reader,
			 * taken later, does not keep them; one of the same publish
			 * does, not told apart).  The publish is numbered so that pins
			 * taken after the drop do not keep them.
			 */
			uint64		lent_upto = pg_atomic_read_u64(&sv->lent_upto);

			pin_range(slot, &pins);
			if (lent_upto > 0 && seen_by(&pins, 0, lent_upto + 1))
			{
				MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
				DroppedGroups *dropped = palloc(sizeof(DroppedGroups));

				dropped->dir = sv->dir;
				dropped->seq = lent_upto + 1;
				dropped_groups = lappend(dropped_groups, dropped);
				MemoryContextSwitchTo(old);
				set_publish_seq(slot, pins.seq);
			}
			else
				free_directory(sv->dir);
		}
		if (sv->groups != InvalidDsaPointer)
			dshash_destroy(dshash_attach(my_area, &groups_params, sv->groups, NULL));
		if (sv->keys != InvalidDsaPointer)
		{
			dshash_table *keys = dshash_attach(my_area, &keys_params, sv->keys, NULL);
			dshash_seq_status status;

			dshash_seq_init(&status, keys, false);
			while (dshash_seq_next(&status) != NULL)
				total_bytes -= sizeof(SharedKey) + KEY_OVERHEAD;
			dshash_seq_term(&status);
			dshash_destroy(keys);
		}
		trim_marks(sv, NULL);
		dshash_delete_entry(my_views, sv);
	}
	LWLockRelease(&slot->publish_lock);
}

/*
 * A group a read found visible: where its blob is in shared memory.  What
 * the read returns, when it lends the groups rather than copying them.
 */
typedef SharedGroupCopy NotedGroup;

/* what pick_sliding_panes needs besides, kept only for it */
typedef struct NotedPane
{
	TimestampTz start;
	uint32		keyhash;
	bool		keys_collide;
} NotedPane;

/* the groups noted, in the order the hash table gave them */
typedef struct NotedGroups
{
	NotedGroup *items;
	NotedPane  *panes;			/* when picking */
	int64		n;
	int64		size;
	Size		total;
	MemoryContext cxt;			/* items are lent for its life */
	bool		lend;			/* items are the read's result */
	/* a sliding view's read from its stacks: the panes it may need */
	bool		picking;
	TimestampTz cutoff;
} NotedGroups;

/* a key hash's panes that a read from a sliding view's stacks needs */
typedef struct PickedKey
{
	uint32		keyhash;
	int64		first;			/* its first pane in the front, or -1 */
	int64		last;			/* its last pane in the back, or -1 */
} PickedKey;

/*
 * Buffers of reads.  A read of many groups notes and copies them into
 * arrays as large as they are.  Freed, those went back to the kernel
 * (glibc trims the top of its heap), and the next read faulted them in
 * again: on a virtual machine that cost several times the copy (a read of
 * the newest 10 windows of 1,000 keys took 0.9 ms instead of 0.2).  So a
 * buffer is lent for the life of the memory context that asked, and kept
 * for the next read: a few of them, not too large, per backend.
 *
 * Larger ones are mappings of their own, in huge pages where the kernel
 * has them: a large read's copies fill tens of megabytes at once, and in
 * pages of 4 kB each fault cost more than copying into it.  The last two
 * (a read's notes and its copies) are kept too, their pages marked free
 * for the kernel to take back when memory runs short: a fresh mapping is
 * zeroed page by page at the first write (an eighth of a read of 1M
 * groups).  Not past SPARE_MAPPING_MAX: a free page still counts against
 * the commit limit (vm.overcommit_memory = 2) until the kernel takes it.
 */
#define SPARE_BUFFERS 2
#define SPARE_BUFFER_MIN ((Size) 64 * 1024)
#define SPARE_BUFFER_MAX ((Size) 4 * 1024 * 1024)
#define SPARE_MAPPINGS 2
#define SPARE_MAPPING_MAX ((Size) 256 * 1024 * 1024)

typedef struct SpareBuffer
{
	void	   *p;
	Size		size;
} SpareBuffer;

typedef struct LentBuffer
{
	MemoryContextCallback cb;
	SpareBuffer buf;
	bool		mapped;			/* a mapping of its own, not palloc'd */
} LentBuffer;

static SpareBuffer spare_buffers[SPARE_BUFFERS];
static SpareBuffer spare_mappings[SPARE_MAPPINGS];

/*
 * take_spare takes the smallest of n spares of at least size bytes and at
 * most most; false if none is.
 */
static bool
take_spare(SpareBuffer *spares, int n, Size size, Size most, SpareBuffer *taken)
{
	int			best = -1;
	int			i;

	for (i = 0; i < n; i++)
		if (spares[i].p != NULL && spares[i].size >= size && spares[i].size <= most &&
			(best < 0 || spares[i].size < spares[best].size))
			best = i;
	if (best < 0)
		return false;
	*taken = spares[best];
	spares[best].p = NULL;
	spares[best].size = 0;
	return true;
}

/*
 * keep_spare keeps buf among n spares in place of the smallest, if that is
 * smaller, and returns the buffer to release: buf, the smallest, or none.
 */
static SpareBuffer
keep_spare(SpareBuffer *spares, int n, SpareBuffer buf)
{
	SpareBuffer released;
	int			smallest = 0;
	int			i;

	for (i = 1; i < n; i++)
		if (spares[i].size < spares[smallest].size)
			smallest = i;
	if (spares[smallest].size >= buf.size)
		return buf;
	released = spares[smallest];
	spares[smallest] = buf;
	return released;
}

/* return_buffer keeps a lent buffer for the next read, or releases it */
static void
return_buffer(void *arg)
{
	LentBuffer *lb = arg;
	SpareBuffer released = lb->buf;

	if (!lb->mapped)
	{
		if (lb->buf.size <= SPARE_BUFFER_MAX)
			released = keep_spare(spare_buffers, SPARE_BUFFERS, lb->buf);
		if (released.p != NULL)
			pfree(released.p);
		return;
	}
	if (lb->buf.size <= SPARE_MAPPING_MAX)
		released = keep_spare(spare_mappings, SPARE_MAPPINGS, lb->buf);
	if (released.p != lb->buf.p)
	{
#ifdef MADV_FREE
		(void) madvise(lb->buf.p, lb->buf.size, MADV_FREE);
#else
		(void) madvise(lb->buf.p, lb->buf.size, MADV_DONTNEED);
#endif
	}
	if (released.p != NULL)
		munmap(released.p, released.size);
}

/*
 * big_buffer is at least size bytes, good until the current memory context
 * is reset or deleted: a spare one, or new.
 */
static void *
big_buffer(Size size)
{
	LentBuffer *lb = palloc(sizeof(LentBuffer));

	lb->mapped = size > SPARE_BUFFER_MAX;
	if (!lb->mapped)
	{
		if (!take_spare(spare_buffers, SPARE_BUFFERS, size, SIZE_MAX, &lb->buf))
		{
			lb->buf.size = Max(size, SPARE_BUFFER_MIN);
			lb->buf.p = MemoryContextAllocHuge(TopMemoryContext, lb->buf.size);
		}
	}
	else if (!take_spare(spare_mappings, SPARE_MAPPINGS, size, 2 * size, &lb->buf))
	{
		lb->buf.size = size;
		lb->buf.p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (lb->buf.p == MAP_FAILED)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory"),
					 errdetail("Failed to map %zu bytes for a read of a continuous view: %m.", size)));
#ifdef MADV_HUGEPAGE
		(void) madvise(lb->buf.p, size, MADV_HUGEPAGE);
#endif
	}
	lb->cb.func = return_buffer;
	lb->cb.arg = lb;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &lb->cb);
	return lb->buf.p;
}

/* how far ahead of the group it copies copy_noted_groups asks for one */
#define PREFETCH_AHEAD 8

/*
 * group_visible says whether the caller's snapshot should see a group (a
 * version of it) retired and born by those transactions.
 */
static inline bool
group_visible(TransactionId retired_by, TransactionId born_by, Snapshot snapshot)
{
	/* closed by a checkpoint this snapshot sees: the table has it */
	if (TransactionIdIsValid(retired_by) &&
		!XidInMVCCSnapshot(retired_by, snapshot) &&
		TransactionIdDidCommit(retired_by))
		return false;
	/* made by a checkpoint this snapshot does not see */
	if (TransactionIdIsValid(born_by) &&
		(XidInMVCCSnapshot(born_by, snapshot) ||
		 !TransactionIdDidCommit(born_by)))
		return false;
	return true;
}

/*
 * group_version finds the bytes of a group as publish seq left them: its
 * own, or an earlier version kept for a pin; false if it had none then
 * (made after, or dropped before).
 */
static inline bool
group_version(GroupSlot *sg, uint64 seq, GroupVersion *found)
{
	dsa_pointer dp;

	if (sg->seq <= seq && seq < sg->until)
	{
		found->blob = sg->blob;
		found->len = sg->len;
		found->start = sg->start;
		found->retired_by = sg->retired_by;
		found->born_by = sg->born_by;
		return true;
	}
	for (dp = sg->older; DsaPointerIsValid(dp);)
	{
		GroupVersion *v = dsa_get_address(my_area, dp);

		if (v->seq <= seq && seq < v->until)
		{
			*found = *v;
			return true;
		}
		dp = v->older;
	}
	return false;
}

/* marks_at is a view's marks as publish seq left them */
static ViewMarks
marks_at(SharedView *sv, uint64 seq)
{
	dsa_pointer dp;

	if (sv->marks_seq <= seq)
		return sv->marks;
	for (dp = sv->older_marks; DsaPointerIsValid(dp);)
	{
		MarksVersion *m = dsa_get_address(my_area, dp);

		if (m->seq <= seq && seq < m->until)
			return m->marks;
		dp = m->older;
	}
	/* none kept: the oldest the worker had then */
	return sv->marks;
}

/*
 * grown is array (of n elements of elem bytes) with room for size: in a
 * spare buffer while small, then allocated and grown in place, since a
 * large read's arrays are not kept (SPARE_BUFFER_MAX).
 */
static void *
grown(void *array, Size elem, int64 n, int64 size)
{
	Size		bytes = elem * size;
	void	   *result;

	if (elem * n > SPARE_BUFFER_MAX)
		return repalloc_huge(array, bytes);
	result = bytes > SPARE_BUFFER_MAX ? MemoryContextAllocHuge(CurrentMemoryContext, bytes) :
		big_buffer(bytes);
	if (n > 0)
		memcpy(result, array, elem * n);
	return result;
}

/*
 * note_visible_group notes where a group is, as publish seq left it, if
 * the snapshot sees it
 */
static void
note_visible_group(GroupSlot *sg, Snapshot snapshot, uint64 seq, NotedGroups *seen)
{
	NotedGroup *g;
	GroupVersion v;

	if (!group_version(sg, seq, &v) || !group_visible(v.retired_by, v.born_by, snapshot))
		return;
	/* a pane no sliding window as of the cutoff holds */
	if (seen->picking && v.start < seen->cutoff)
		return;
	if (seen->n == seen->size)
	{
		MemoryContext old = MemoryContextSwitchTo(seen->cxt);
		int64		size = Max(seen->size * 2, 1024);

		seen->items = grown(seen->items, sizeof(NotedGroup), seen->n, size);
		if (seen->picking)
			seen->panes = grown(seen->panes, sizeof(NotedPane), seen->n, size);
		seen->size = size;
		MemoryContextSwitchTo(old);
	}
	if (seen->picking)
	{
		seen->panes[seen->n].start = v.start;
		seen->panes[seen->n].keyhash = sg->keyhash;
		seen->panes[seen->n].keys_collide = sg->keys_collide;
	}
	g = &seen->items[seen->n++];
	g->blob = dsa_get_address(my_area, v.blob);
	g->len = v.len;
	seen->total += v.len;
}

/*
 * pick_sliding_panes keeps, of the panes noted (all at or after the
 * cutoff), those a read from a sliding view's stacks combines
 * (window_panes.c): per key, its first pane in the front (which carries
 * the suffix), its last pane in the back (which carries the back's
 * combination) and its live panes from back_end on.  Copying the others
 * would cost as much as the combines the stacks save.  Keys are told apart
 * by hash: the panes of a chain marked as holding several keys are all
 * kept (link_after).
 */
static void
pick_sliding_panes(NotedGroups *seen, TimestampTz front_end, TimestampTz back_end)
{
	HASHCTL		ctl;
	HTAB	   *keys;
	int64		i;
	int64		kept = 0;

	ctl.keysize = sizeof(uint32);
	ctl.entrysize = sizeof(PickedKey);
	ctl.hcxt = CurrentMemoryContext;
	keys = hash_create("streamext picked keys", 1024, &ctl,
					   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (i = 0; i < seen->n; i++)
	{
		PickedKey  *k;
		bool		found;
		NotedPane  *p = &seen->panes[i];

		if (p->start >= back_end || p->keys_collide)
			continue;
		k = hash_search(keys, &p->keyhash, HASH_ENTER, &found);
		if (!found)
			k->first = k->last = -1;
		if (p->start < front_end)
		{
			if (k->first < 0 || p->start < seen->panes[k->first].start)
				k->first = i;
		}
		else if (k->last < 0 || p->start > seen->panes[k->last].start)
			k->last = i;
	}
	for (i = 0; i < seen->n; i++)
	{
		NotedGroup *g = &seen->items[i];
		NotedPane  *p = &seen->panes[i];

		if (p->start < back_end && !p->keys_collide)
		{
			PickedKey  *k = hash_search(keys, &p->keyhash, HASH_FIND, NULL);

			if (k->first != i && k->last != i)
				continue;
		}
		/* only the panes of others are read from here on */
		seen->items[kept++] = *g;
	}
	seen->total = 0;
	for (i = 0; i < kept; i++)
		seen->total += seen->items[i].len;
	seen->n = kept;
	hash_destroy(keys);
}

/*
 * copy_noted_groups copies the groups noted into one allocation, asking
 * the CPU for each a few groups ahead: the blobs lie scattered in shared
 * memory, and copying them one by one waited on each cache miss.  A read
 * that lends them (see state_shmem_read_view) returns the notes instead.
 */
static SharedGroupCopy *
copy_noted_groups(NotedGroups *seen)
{
	char	   *to;
	SharedGroupCopy *copies;
	Size		size;
	int64		i;

	if (seen->n == 0)
		return NULL;
	if (seen->lend)
		return seen->items;
	size = sizeof(SharedGroupCopy) * seen->n + seen->total;
	copies = big_buffer(size);
	to = (char *) (copies + seen->n);
	for (i = 0; i < seen->n; i++)
	{
		if (i + PREFETCH_AHEAD < seen->n)
			__builtin_prefetch(seen->items[i + PREFETCH_AHEAD].blob);
		memcpy(to, seen->items[i].blob, seen->items[i].len);
		copies[i].blob = to;
		copies[i].len = seen->items[i].len;
		to += seen->items[i].len;
	}
	return copies;
}

/*
 * publish_my_pins shows this backend's oldest and newest pins in the
 * current area to the worker.  Taking one, the caller holds the publish
 * lock shared; releasing one, it may not: the worker then keeps versions a
 * little longer, never too short.
 */
static void
publish_my_pins(void)
{
	uint64		min = 0;
	uint64		max = 0;
	dlist_iter	iter;

	if (my_pin_array == NULL)
		return;
	dlist_foreach(iter, &my_pins)
	{
		ReadPin    *pin = dlist_container(ReadPin, node, iter.cur);

		if (pin->generation != my_generation)
			continue;
		min = (min == 0) ? pin->seq : Min(min, pin->seq);
		max = Max(max, pin->seq);
	}
	pg_atomic_write_u64(&my_pin_array[2 * MyBackendId], min);
	pg_atomic_write_u64(&my_pin_array[2 * MyBackendId + 1], max);
}

/*
 * release_all_pins releases this backend's pins at the end of a
 * transaction (their statements' memory goes too, which releases each:
 * this is for whatever did not) and when it exits.
 */
static void
release_all_pins(void)
{
	dlist_mutable_iter iter;

	dlist_foreach_modify(iter, &my_pins)
	{
		ReadPin    *pin = dlist_container(ReadPin, node, iter.cur);

		pin->taken = false;
		dlist_delete(&pin->node);
	}
	publish_my_pins();
}

static void
pins_at_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		release_all_pins();
		detach_lent_areas();
	}
}

static void
pins_at_exit(int code, Datum arg)
{
	release_all_pins();
}

/*
 * take_pin pins the publish a statement's reads are to see: the last one,
 * under the publish lock held shared (so the worker, which reads the pins
 * holding it exclusively, sees every pin of a publish it replaces).
 */
static void
take_pin(StreamextDbSlot *slot, ReadPin *pin, bool in_area)
{
	if (!pins_callbacks_registered)
	{
		RegisterXactCallback(pins_at_xact_end, NULL);
		before_shmem_exit(pins_at_exit, (Datum) 0);
		pins_callbacks_registered = true;
	}
	pin->taken = true;
	pin->in_area = in_area;
	pin->generation = slot->area_generation;
	pin->seq = slot->publish_seq;
	if (!in_area)
		return;
	dlist_push_tail(&my_pins, &pin->node);
	publish_my_pins();
}

/*
 * state_shmem_pin takes a statement's pin before its first read: the last
 * publish, as state_shmem_read_view would at that read.
 */
void
state_shmem_pin(StreamextDbSlot *slot, ReadPin *pin)
{
	LWLockAcquire(&slot->publish_lock, LW_SHARED);
	if (!pin->taken)
		take_pin(slot, pin, attach_for_read(slot));
	LWLockRelease(&slot->publish_lock);
}

/*
 * state_shmem_unpin releases a statement's pin: the worker may free what
 * only it kept.
 */
void
state_shmem_unpin(ReadPin *pin)
{
	if (!pin->taken)
		return;
	pin->taken = false;
	if (!pin->in_area)
		return;
	dlist_delete(&pin->node);
	publish_my_pins();
}

/*
 * state_shmem_read_view gives the published groups of a view that the
 * caller's snapshot should see, *ngroups of them: all, or (nkeyhashes >= 0)
 * those whose key hashes to one of keyhashes, sorted and without
 * duplicates.
 * found is false when the worker has not published the view (yet);
 * incomplete when max_memory cut it short, or when the area had no room
 * for a view at all: the caller must not read the groups, nor the last
 * checkpoint instead.
 *
 * pin, if not NULL, is the statement's: taken as it started
 * (state_shmem_pin) or by its first read, and every
 * read with it sees the groups (and marks) as that publish left them, or
 * the last checkpoint if the view was not published then.  A lookup
 * follows its keys' chains to the versions it needs, and reads no other
 * group.
 *
 * With a pin, the groups are lent, not copied: the result points to their
 * bytes in shared memory, which stay as they are until the pin goes.  The
 * worker writes no bytes a pin may see and frees none (link_view,
 * forget_gid, trim_versions, state_shmem_drop_view); it frees a closed
 * group only once no snapshot can see it (state_shmem_gc), and the read's
 * snapshot saw it; and this backend keeps the area mapped while it has
 * pins (attach_for_read).  Readers only read the bytes: restoring a value
 * or state copies it (datumRestore).  A full read of 10M groups spent
 * three fifths of its time copying and faulting in the copies' memory.
 */
SharedGroupCopy *
state_shmem_read_view(StreamextDbSlot *slot, int32 view_id, XLogRecPtr start_lsn,
					  const uint32 *keyhashes, int nkeyhashes, int64 *ngroups,
					  bool *found, bool *incomplete, char *failure, ViewMarks *marks,
					  const SlidingRead *sliding, ReadPin *pin)
{
	SharedGroupCopy *result = NULL;
	SharedView *sv;
	Snapshot	snapshot = GetActiveSnapshot();
	NotedGroups seen = {0};
	uint64		seq;

	seen.cxt = AllocSetContextCreate(CurrentMemoryContext, "streamext noted groups",
									 ALLOCSET_SMALL_SIZES);

	*ngroups = 0;
	*found = false;
	*incomplete = false;
	failure[0] = '\0';
	LWLockAcquire(&slot->publish_lock, LW_SHARED);
	if (pin != NULL && pin->taken &&
		(!pin->in_area || pin->generation != slot->area_generation))
	{
		LWLockRelease(&slot->publish_lock);
		/* the statement read the checkpoint first: it goes on doing so */
		if (!pin->in_area)
			return NULL;
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("could not read continuous view %d as this statement's first read saw it",
						view_id),
				 errdetail("The streamext worker started over while the statement read the views."),
				 errhint("Retry the statement.")));
	}
	if (!attach_for_read(slot))
	{
		if (pin != NULL && !pin->taken)
			take_pin(slot, pin, false);
		LWLockRelease(&slot->publish_lock);
		return NULL;
	}
	if (pin != NULL && !pin->taken)
		take_pin(slot, pin, true);
	seq = (pin != NULL) ? pin->seq : slot->publish_seq;
	seen.lend = (pin != NULL);
	/*
	 * The area was published after views were recomputed (a new slot): a
	 * snapshot that does not see the recompute reads the checkpoint before
	 * it, which the recompute replaced (closed windows included) at once.
	 */
	if (TransactionIdIsValid(slot->area_valid_from) &&
		(XidInMVCCSnapshot(slot->area_valid_from, snapshot) ||
		 !TransactionIdDidCommit(slot->area_valid_from)))
	{
		LWLockRelease(&slot->publish_lock);
		return NULL;
	}
	sv = dshash_find(my_views, &view_id, false);
	if (sv != NULL && (sv->start_lsn != start_lsn || sv->since > seq))
	{
		/*
		 * Published for the view as it was before rebuild_view, or after; or
		 * not yet as of the publish the statement sees.
		 */
		dshash_release_lock(my_views, sv);
		sv = NULL;
	}

	/*
	 * Not published: the worker has not come to the view yet, and the
	 * caller reads its last checkpoint; unless the area had no room for it.
	 */
	if (sv == NULL)
		*incomplete = slot->views_unpublished;
	if (sv != NULL)
	{
		dshash_table_handle kh = sv->keys;
		dsa_pointer dir_pointer = sv->dir;

		*found = true;
		/* a pin before the view was whole again may see it cut short */
		*incomplete = (pin != NULL) ?
			(sv->recovered_seq != 0 && seq < sv->recovered_seq) : sv->incomplete;
		strlcpy(failure, sv->failure, PUBLISH_FAILURE_LEN);
		*marks = marks_at(sv, seq);
		if (seen.lend)
		{
			/* state_shmem_drop_view keeps the groups for this pin */
			uint64		lent = pg_atomic_read_u64(&sv->lent_upto);

			while (lent < seq &&
				   !pg_atomic_compare_exchange_u64(&sv->lent_upto, &lent, seq))
				;
		}
		dshash_release_lock(my_views, sv);
		if (sliding != NULL)
		{
			/* the reader's cutoff, as view_reader_read works it out */
			TimestampTz watermark = Max(marks->watermark, sliding->clock_floor);

			seen.cutoff = window_sliding_cutoff(sliding->spec, watermark);
			seen.picking = (marks->slide_front_end != DT_NOBEGIN &&
							seen.cutoff <= marks->slide_front_end &&
							marks->slide_front_end <= marks->slide_back_end);
		}
		if (DsaPointerIsValid(dir_pointer) && nkeyhashes < 0)
		{
			GroupDirectory *dir = dsa_get_address(my_area, dir_pointer);
			int64		i;

			MemoryContext old = MemoryContextSwitchTo(seen.cxt);

			/* room for every group at once */
			seen.size = Max(dir->n, 1);
			seen.items = big_buffer(sizeof(NotedGroup) * seen.size);
			if (seen.picking)
				seen.panes = big_buffer(sizeof(NotedPane) * seen.size);
			MemoryContextSwitchTo(old);
			for (i = 0; i < dir->n; i++)
				note_visible_group(&dir->slots[i], snapshot, seq, &seen);
		}
		else if (DsaPointerIsValid(dir_pointer))
		{
			GroupDirectory *dir = dsa_get_address(my_area, dir_pointer);
			dshash_table *keys = dshash_attach(my_area, &keys_params, kh, NULL);
			int			i;

			for (i = 0; i < nkeyhashes; i++)
			{
				SharedKey  *key = dshash_find(keys, &keyhashes[i], false);
				int64		slot;
				int64		steps = 0;

				if (key == NULL)
					continue;
				slot = key->head_slot;
				dshash_release_lock(keys, key);
				while (slot != NO_SLOT)
				{
					if (slot < 0 || slot >= dir->n || ++steps > dir->n)
						elog(ERROR, "the groups of a key of continuous view %d are misplaced in shared memory",
							 view_id);
					note_visible_group(&dir->slots[slot], snapshot, seq, &seen);
					slot = dir->slots[slot].next_slot;
				}
			}
			dshash_detach(keys);
		}
		if (seen.picking)
			pick_sliding_panes(&seen, marks->slide_front_end, marks->slide_back_end);
		result = copy_noted_groups(&seen);
		*ngroups = seen.n;
	}
	LWLockRelease(&slot->publish_lock);
	/* lent notes live as long as the caller's memory */
	if (!seen.lend)
		MemoryContextDelete(seen.cxt);
	return result;
}

/*
 * state_shmem_get_stats copies a view's counters as last published.
 */
bool
state_shmem_get_stats(StreamextDbSlot *slot, int32 view_id, ViewStats *stats)
{
	SharedView *sv;
	bool		found = false;

	LWLockAcquire(&slot->publish_lock, LW_SHARED);
	if (attach_for_read(slot))
	{
		sv = dshash_find(my_views, &view_id, false);
		if (sv != NULL)
		{
			*stats = sv->stats;
			found = true;
			dshash_release_lock(my_views, sv);
		}
	}
	LWLockRelease(&slot->publish_lock);
	return found;
}
