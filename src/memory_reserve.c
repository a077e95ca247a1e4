/*-------------------------------------------------------------------------
 *
 * memory_reserve.c
 *	  Memory the worker faults in ahead of a burst of allocations.
 *
 *	  A page of fresh memory costs a page fault when it is first written
 *	  (the kernel zeroes it), and under a hypervisor a fault is dear: at
 *	  the commit of a large streamed transaction, placing its partial states
 *	  (view_partial.c) allocates the view's new groups, and half of that
 *	  time went to page faults (perf, 1M events over 349,000 groups).  The
 *	  worker folds such a transaction while it is being written, off the
 *	  producer's path, so it can fault that memory in then: it keeps a
 *	  reserve of malloc'd, populated chunks beside the partial states, and
 *	  frees them into malloc's free lists just before placing, where the
 *	  new groups' blocks then find pages already mapped.
 *
 *	  For that, malloc must serve a memory context's blocks (up to 8 MB)
 *	  from its heap rather than from mmap (memory unmapped at free is lost
 *	  to the reserve), and must not give a freed reserve back to the kernel
 *	  before it is used (it trims the top of its heap when a free leaves
 *	  more than its trim threshold there): memory_reserve_setup sets the
 *	  first once, in the worker only, and memory_reserve_release and
 *	  memory_reserve_settle raise and restore the second around the
 *	  placing, after which malloc_trim gives back what the placing left
 *	  free.  The reserve is memory outside any memory context, at most what
 *	  the caller asks (decoder.c: streamext.max_memory) and RESERVE_MAX,
 *	  and only while a transaction is being streamed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <errno.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include "memory_reserve.h"

/* a chunk stays under the mmap threshold, so malloc takes it from its heap */
#define RESERVE_CHUNK ((Size) 8 * 1024 * 1024)
#define RESERVE_MAX ((Size) 1024 * 1024 * 1024)
#define MMAP_THRESHOLD (32 * 1024 * 1024)
#define TRIM_THRESHOLD (64 * 1024 * 1024)

static void *chunks[RESERVE_MAX / RESERVE_CHUNK];
static int	nchunks = 0;
static Size page_size = 4096;
static bool released = false;

static bool populate(char *start, Size len);

/*
 * memory_reserve_setup makes malloc serve blocks below 32 MB from its heap
 * and keep up to 64 MB free at its top (glibc's own ceilings for its
 * adaptive thresholds, which a worker soon reaches anyway).
 */
void
memory_reserve_setup(void)
{
	long		os_page = sysconf(_SC_PAGESIZE);

	if (os_page > 0)
		page_size = os_page;
	(void) mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	(void) mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
}

/*
 * memory_reserve_ensure grows the reserve to bytes (at most RESERVE_MAX),
 * faulting its pages in.  Out of memory, it just stops growing: the
 * reserve only saves time.
 */
void
memory_reserve_ensure(Size bytes)
{
	memory_reserve_settle();
	bytes = Min(bytes, RESERVE_MAX);
	while ((Size) nchunks * RESERVE_CHUNK < bytes)
	{
		void	   *chunk = malloc(RESERVE_CHUNK);

		if (chunk == NULL)
			return;
		if (!populate(chunk, RESERVE_CHUNK))
		{
			free(chunk);
			return;
		}
		chunks[nchunks++] = chunk;
	}
}

/*
 * populate maps the pages of [start, start + len) writable now: at once
 * where the kernel can (Linux 5.14), else by writing to each page.  False
 * when the kernel refuses them (out of memory).
 */
static bool
populate(char *start, Size len)
{
	char	   *first = (char *) TYPEALIGN(page_size, start);
	char	   *end = start + len;
	char	   *p;

#ifdef MADV_POPULATE_WRITE
	if (end - first >= page_size)
	{
		if (madvise(first, TYPEALIGN_DOWN(page_size, end - first), MADV_POPULATE_WRITE) == 0)
			return true;
		/* the kernel could not give the pages: nor could writing to them */
		if (errno != EINVAL)
			return false;
	}
#endif
	for (p = first; p < end; p += page_size)
		*(volatile char *) p = 0;
	return true;
}

/*
 * memory_reserve_release frees the reserve into malloc's free lists, for
 * the allocations that follow, until memory_reserve_settle: malloc keeps
 * what is free at the top of its heap until then.
 */
void
memory_reserve_release(void)
{
	if (nchunks == 0)
		return;
	(void) mallopt(M_TRIM_THRESHOLD, RESERVE_MAX + TRIM_THRESHOLD);
	released = true;
	while (nchunks > 0)
		free(chunks[--nchunks]);
}

/*
 * memory_reserve_settle lets malloc give free memory back to the kernel
 * again, as it does when no reserve was released.
 */
void
memory_reserve_settle(void)
{
	if (!released)
		return;
	(void) mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
	released = false;
	/* what the placing left free, in the middle of the heap too */
	(void) malloc_trim(0);
}
