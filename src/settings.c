/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  The streamext.* settings (GUCs): their variables, defaults and bounds.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "utils/guc.h"

#include "settings.h"

int			streamext_max_databases = 16;
int			streamext_checkpoint_interval_ms = 1000;
int			streamext_max_memory_mb = 256;
int			streamext_max_lag_warning_kb = 1024 * 1024;
int			streamext_max_future_s = 3600;
int			streamext_usercode_timeout_ms = 5000;
int			streamext_maintenance_interval_ms = 10000;
int			streamext_stream_work_mem_kb = 4096;

/*
 * streamext_define_settings defines the settings, from _PG_init when the
 * library is preloaded.
 */
void
streamext_define_settings(void)
{
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
	DefineCustomIntVariable("streamext.stream_work_mem",
							"Memory a worker's decoding holds for one transaction before it aggregates the transaction while it is written.",
							"The worker's logical_decoding_work_mem when lower than the server's; PostgreSQL streams a larger transaction to the worker before its commit.",
							&streamext_stream_work_mem_kb,
							4096, 64, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("streamext.max_memory",
							"Shared memory the open windows of one database may use.",
							NULL,
							&streamext_max_memory_mb,
							256, 1, 1024 * 1024,
							PGC_SIGHUP, GUC_UNIT_MB,
							NULL, NULL, NULL);
}
