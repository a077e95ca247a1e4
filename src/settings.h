/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  The streamext.* settings (GUCs), defined in settings.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef STREAMEXT_SETTINGS_H
#define STREAMEXT_SETTINGS_H



extern int	streamext_max_databases;
extern int	streamext_checkpoint_interval_ms;
extern int	streamext_max_memory_mb;
extern int	streamext_max_lag_warning_kb;
extern int	streamext_max_future_s;
extern int	streamext_usercode_timeout_ms;
extern int	streamext_maintenance_interval_ms;
extern int	streamext_stream_work_mem_kb;

extern void streamext_define_settings(void);

#endif							/* STREAMEXT_SETTINGS_H */
