/*
 * service.h — `tributary serve`: the poller and the HTTP endpoint in one
 * long-running process.
 *
 * The poller runs on the calling thread: it sleeps until the next feed is
 * due (tr_store_next_due), runs one round of every due feed, and sleeps
 * again; signals wake it through a pipe. The endpoint answers on
 * libmicrohttpd's threads meanwhile, with its own read-only store
 * handles.
 *
 *	SIGTERM, SIGINT	stop accepting, abort the transfers in flight, commit
 *			what was complete, close the store, return 0
 *	SIGHUP		reload the config file: added feeds are polled,
 *			removed ones stop, changed settings apply; a file with
 *			errors is rejected (its file:line errors are logged)
 *			and the running config stays
 *
 * Under systemd it speaks sd_notify (notify.h): READY=1, STATUS=,
 * RELOADING=1/READY=1 around a reload, STOPPING=1, and WATCHDOG=1 while
 * the loop makes progress. /metrics and /healthz are served through the
 * endpoint's hooks (http.h).
 */
#ifndef TRIBUTARY_SERVICE_H
#define TRIBUTARY_SERVICE_H

#include "tributary/config.h"

struct tr_service_opts {
	/* Overrides cfg->listen, also across reloads; NULL: the config's. */
	const char *listen;
	/*
	 * Called once, on the calling thread, when the store is open and
	 * the listener bound, with the base URL of the endpoint (no
	 * trailing slash) and the URL of the merged feed. May be NULL.
	 */
	void (*ready)(const char *base_url, const char *feed_url, void *arg);
	void *arg;
};

/*
 * Runs the service until SIGTERM or SIGINT. Takes cfg over: it is freed
 * when the service ends (on failure too) or replaced on a reload; the
 * file cfg->path is reread on SIGHUP. opts may be NULL. Installs handlers
 * for SIGTERM, SIGINT and SIGHUP and ignores SIGPIPE while it runs, and
 * restores the previous dispositions before returning.
 *
 * Returns 0 after a clean stop; TR_ESTORE (or TR_ENEWER) when the store
 * cannot be opened, TR_EIO when the listen address cannot be bound,
 * TR_ENOMEM. The reason is logged.
 */
int tr_service_run(struct tr_config *cfg, const struct tr_service_opts *opts);

#endif
