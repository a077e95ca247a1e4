/*-------------------------------------------------------------------------
 *
 * streamext.c
 *	  Module entry point: GUCs, shared memory requests, transaction and
 *	  utility hooks, and registration of the launcher background worker.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "utils/guc.h"

#include "streamext.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

int			streamext_max_databases = 16;
int			streamext_checkpoint_interval_ms = 1000;
int			streamext_max_memory_mb = 256;
int			streamext_max_lag_warning_kb = 1024 * 1024;
int			streamext_max_future_s = 3600;
int			streamext_usercode_timeout_ms = 5000;
int			streamext_maintenance_interval_ms = 10000;

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

	DefineCustomIntVariable("streamext.max_databases",
							"Number of databases that can run a streamext worker.",
							NULL,
							&streamext_max_databases,
							16, 1, 1024,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("streamext.checkpoint_interval",
							"How often a worker persists its open windows and confirms its slot.",
							NULL,
							&streamext_checkpoint_interval_ms,
							1000, 10, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("streamext.max_lag_warning",
							"WAL a worker may have left to decode before the launcher warns.",
							"0 disables the warning.",
							&streamext_max_lag_warning_kb,
							1024 * 1024, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("streamext.usercode_timeout",
							"How long one call of a view's or filter's functions may run in the worker.",
							"A call that runs longer is canceled and its event set aside as a dead letter; 0 never cancels.",
							&streamext_usercode_timeout_ms,
							5000, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("streamext.max_future",
							"How far past its commit time an event time may move the watermark.",
							"Events further ahead are counted in their window, which stays open.",
							&streamext_max_future_s,
							3600, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("streamext.maintenance_interval",
							"How often a worker creates and drops the partitions of streams with a retention.",
							NULL,
							&streamext_maintenance_interval_ms,
							10000, 100, 3600 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("streamext.max_memory",
							"Shared memory the open windows of one database may use.",
							NULL,
							&streamext_max_memory_mb,
							256, 1, 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);

	MarkGUCPrefixReserved("streamext");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = streamext_shmem_request_hook;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = streamext_shmem_startup_hook;

	streamext_install_hooks();

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
