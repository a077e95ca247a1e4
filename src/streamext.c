/*-------------------------------------------------------------------------
 *
 * streamext.c
 *	  Module entry point: settings, shared memory requests, transaction and
 *	  utility hooks, and registration of the launcher background worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "storage/ipc.h"
#include "utils/guc.h"
#include "miscadmin.h"

#include "hooks.h"
#include "renames.h"
#include "launcher.h"
#include "settings.h"
#include "view_scan.h"
#include "shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void streamext_shmem_request_hook(void);
static void streamext_shmem_startup_hook(void);

/*
 * _PG_init sets up everything the extension needs in every process.  The
 * shared parts only exist when loaded through shared_preload_libraries; the
 * SQL functions check that and say which setting to change.
 */
void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;

	streamext_define_settings();

	MarkGUCPrefixReserved("streamext");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = streamext_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = streamext_shmem_startup_hook;

	/* renames.c: a layer above the hooks, which call it back */
	streamext_install_hooks(renames_follow);
	view_scan_install();

	streamext_register_launcher();
}

/*
 * streamext_shmem_request_hook chains to the previous hook and asks for
 * streamext's shared memory.
 */
static void
streamext_shmem_request_hook(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	streamext_shmem_request();
}

/*
 * streamext_shmem_startup_hook chains to the previous hook and creates or
 * attaches streamext's shared memory.
 */
static void
streamext_shmem_startup_hook(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	streamext_shmem_startup();
}
