/*
 * config.h — feeds.conf: the global settings and the list of feeds.
 *
 * feeds.conf is an INI file read with inih:
 *
 *	[tributary]
 *	database = var/tributary.db
 *	listen = 127.0.0.1:8080
 *	interval = 30m
 *
 *	[feed "world-news"]
 *	url = https://example.org/world.xml
 *	tags = world, security
 *
 * Durations take a unit (90s, 30m, 1h, 2d; a bare number is seconds),
 * sizes take k/M/G (512k, 16M; a bare number is bytes), booleans are
 * yes/no/true/false/on/off/1/0, lists are comma-separated. Relative paths
 * are relative to the config file's folder. dist/man/feeds.conf.5 lists
 * every setting with its default and range; the table in config.c is the
 * source of truth.
 */
#ifndef TRIBUTARY_CONFIG_H
#define TRIBUTARY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* "Not set here": a per-feed value that falls back to the global one. */
#define TR_UNSET (-1)

/* One [feed "NAME"] section. */
struct tr_feed_conf {
	char *name;	  /* the section's NAME: [A-Za-z0-9._-], unique */
	char *url;	  /* http, https or file URL as written (or read
			     from url_file); may carry a secret: never
			     show it, show tr_config_public_url() */
	char *public_url; /* what outputs show instead of url, or NULL
			     (then url without its secrets) */
	int is_private;	  /* "private = yes": not in OPML, no source URL */
	char *title;	  /* display title, or NULL (use the document's) */
	char **tags;	  /* tags, trimmed, non-empty */
	size_t n_tags;
	int enabled;	  /* 0 when "enabled = no" */
	int line;	  /* line of the section header in the file */
	/* Settings that override the global ones; TR_UNSET when not given. */
	int64_t interval;     /* seconds between polls */
	char *user_agent;     /* NULL: the global one */
	int64_t keep_days;    /* retention by age, 0 = keep forever */
	int64_t keep_items;   /* retention by count, 0 = no limit */
	int64_t max_per_feed; /* cap in merged pages, 0 = no cap */
	int sanitize;	      /* enum tr_html_mode of item bodies */
};

/* The whole file. Every field has its default when not given. */
struct tr_config {
	char *path;	    /* the file read, as given */
	char *database;	    /* SQLite file, resolved against the file's
			       folder, or a PostgreSQL address */
	char *database_shown; /* database as messages show it: no password */
	char *listen;	    /* "127.0.0.1:8080", "[::]:8080", ... */
	char *title;	    /* title of the merged feed */
	char *base_url;	    /* public URL of the endpoint, for self links;
			       NULL: http://LISTEN */
	char *user_agent;   /* User-Agent of every request */
	int64_t interval;   /* default seconds between polls (30m) */
	int64_t min_interval; /* lower bound of the schedule (5m) */
	int64_t max_interval; /* upper bound of the schedule (24h) */
	int64_t concurrency;  /* transfers at once (16) */
	int64_t per_host;     /* connections per host (2) */
	int64_t connect_timeout; /* seconds (10) */
	int64_t timeout;	 /* seconds for a whole transfer (30) */
	int64_t low_speed_limit; /* bytes/s below which ... (10) */
	int64_t low_speed_time;	 /* ... for this many seconds aborts (20) */
	int64_t max_body;	 /* bytes of one response body (16M) */
	int64_t max_redirects;	 /* (5) */
	int64_t retry_after_max; /* cap on a server's Retry-After (24h) */
	int64_t keep_days;	 /* retention by age, 0 = forever (0) */
	int64_t keep_items;	 /* retention per feed by count, 0 = all (0) */
	int64_t max_per_feed;	 /* per-feed cap in merged pages, 0 = none */
	int64_t removed_keep;	 /* seconds a removed feed's articles stay
				    (30d); a feed added back in that time
				    gets them back */
	int64_t clients_per_address; /* HTTP connections one client address
					may hold, 0 = no limit (64) */
	int allow_private_redirects; /* a redirect may lead to a loopback,
					private or link-local address (0) */
	int sanitize;	      /* enum tr_html_mode of item bodies (default) */
	char **embed_hosts;   /* hosts whose iframes bodies keep (none) */
	size_t n_embed_hosts;
	char *warnings; /* "file:line: warning: ..." lines (a value cut
			   by an inline comment, feeds sharing a URL), or
			   NULL; tributary check prints them */
	struct tr_feed_conf *feeds;
	size_t n_feeds;
	size_t *by_name; /* private: feed indices sorted by name, for
			    tr_config_feed() */
};

/*
 * Reads and validates the file at path. On success *out is a new config
 * (free with tr_config_free) and 0 is returned. On failure *out is NULL,
 * TR_ECONFIG (or TR_EIO, TR_ENOMEM) is returned and *errors, when errors
 * is not NULL, is a malloc'ed text with one "file:line: message" line per
 * problem found; every problem is reported, not only the first.
 */
int tr_config_load(struct tr_config **out, char **errors, const char *path);

/* Frees a config; accepts NULL. */
void tr_config_free(struct tr_config *cfg);

/* The feed named name, or NULL. */
const struct tr_feed_conf *tr_config_feed(const struct tr_config *cfg,
    const char *name);

/* Non-zero when some feed carries tag. */
int tr_config_has_tag(const struct tr_config *cfg, const char *tag);

/*
 * The effective per-feed values: the feed's own setting, else the global
 * one.
 */
int64_t tr_config_feed_interval(const struct tr_config *cfg,
    const struct tr_feed_conf *f);
const char *tr_config_feed_user_agent(const struct tr_config *cfg,
    const struct tr_feed_conf *f);
int64_t tr_config_feed_keep_days(const struct tr_config *cfg,
    const struct tr_feed_conf *f);
int64_t tr_config_feed_keep_items(const struct tr_config *cfg,
    const struct tr_feed_conf *f);
int64_t tr_config_feed_max_per_feed(const struct tr_config *cfg,
    const struct tr_feed_conf *f);

/*
 * The sanitizer policy of feed f's bodies (f may be NULL: the global
 * one): its sanitize mode, else the global one, and the global embed
 * hosts (borrowed from cfg).
 */
struct tr_html_policy;
void tr_config_feed_html_policy(struct tr_html_policy *out,
    const struct tr_config *cfg, const struct tr_feed_conf *f);

/*
 * The address the published outputs show for feed f (OPML, each
 * entry's source in every format): NULL when f is private; else
 * f->public_url when set; else tr_url_public() of url, the address the
 * feed is fetched from now (its configured URL, or where it moved
 * permanently; f->url when url is NULL), but NULL for a file: URL (a
 * path on this machine). f may be NULL for a feed no longer in the
 * config: then the same of url. malloc'ed; NULL also when nothing of
 * url may be shown or out of memory.
 */
char *tr_config_public_url(const struct tr_feed_conf *f, const char *url);

/*
 * Value parsers, shared with the command line. Each returns 0 and sets
 * *out, or TR_EINVAL for text that is not a valid value.
 */
int tr_parse_duration(int64_t *out, const char *s); /* 90s 30m 1h 2d 1w */
int tr_parse_size(int64_t *out, const char *s);	    /* 512k 16M 1G */
int tr_parse_bool(int *out, const char *s);

/* Formats seconds as the shortest exact duration ("90s", "30m", "2d"). */
void tr_format_duration(char *out, size_t size, int64_t seconds);

/* The default User-Agent: "tributary/VERSION (+URL)". */
const char *tr_config_default_user_agent(void);

#endif
