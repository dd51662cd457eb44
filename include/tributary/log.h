/*
 * log.h — the one logging path of tributary.
 *
 * lib/ never prints: it calls tr_log(), which formats the line only when
 * the level is enabled and hands it to the sink that cmd/ installed. With
 * no sink installed, messages are dropped.
 *
 * Lines name their subject: "feed world-news: HTTP 503, next try in 20m".
 */
#ifndef TRIBUTARY_LOG_H
#define TRIBUTARY_LOG_H

#include <stddef.h>

enum tr_log_level {
	TR_LOG_ERROR = 0,
	TR_LOG_WARN = 1,
	TR_LOG_INFO = 2,
	TR_LOG_DEBUG = 3,
};

/* Receives one formatted message (no trailing newline). */
typedef void (*tr_log_sink)(enum tr_log_level level, const char *msg,
    void *arg);

/* Sets the most verbose level that is still logged (default INFO). */
void tr_log_set_level(enum tr_log_level level);
enum tr_log_level tr_log_get_level(void);

/* Installs the sink (NULL drops every message). Not thread-safe. */
void tr_log_set_sink(tr_log_sink sink, void *arg);

/* Non-zero when a message at level would be logged. */
int tr_log_enabled(enum tr_log_level level);

/* Logs a printf-formatted message at level. Thread-safe. */
void tr_log(enum tr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Formats one log line for a stream into out (at most size bytes, always
 * NUL-terminated, ending in a newline). With journal non-zero the line
 * starts with the syslog priority "<N>" that journald reads (sd-daemon(3));
 * otherwise with the level name. Returns the length written.
 */
size_t tr_log_format_line(char *out, size_t size, enum tr_log_level level,
    const char *msg, int journal);

/* The level's name: "error", "warn", "info", "debug". */
const char *tr_log_level_name(enum tr_log_level level);

#endif
