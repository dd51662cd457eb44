/*
 * metrics.h — a small registry of counters, gauges and histograms,
 * rendered in the Prometheus text exposition format (version 0.0.4).
 *
 *	tr_metrics_new(&m);
 *	tr_metrics_counter(&fetches, m, "tributary_fetches_total",
 *	    "Fetches by outcome.", (const char *[]){"outcome", NULL});
 *	tr_metric_add(fetches, (const char *[]){"304"}, 1);
 *	tr_metrics_render(&buf, m);
 *
 * A family has a name, a help text, a type and a fixed list of label
 * names; each distinct list of label values is one series, created on
 * first use. Families are rendered in registration order, series in
 * creation order.
 *
 * Thread-safety: every call may come from any thread (the HTTP threads
 * render while the poller updates); one mutex per registry serializes
 * them. Families are registered before the registry is shared.
 *
 * Cardinality is the caller's duty: label values come from small fixed
 * sets (outcomes, routes, status codes), never from feed names or URLs.
 */
#ifndef TRIBUTARY_METRICS_H
#define TRIBUTARY_METRICS_H

#include <stddef.h>

#include "tributary/buf.h"

struct tr_metrics; /* the registry */
struct tr_metric;  /* one family, owned by its registry */

/* The most labels of one family. */
#define TR_METRIC_MAX_LABELS 4

/* Creates an empty registry. 0 or TR_ENOMEM. */
int tr_metrics_new(struct tr_metrics **out);

/* Frees the registry and every family in it; accepts NULL. */
void tr_metrics_free(struct tr_metrics *m);

/*
 * Registers a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*, labels
 * is a NULL-terminated list of label names ([a-zA-Z_][a-zA-Z0-9_]*, not
 * starting with "__", not "le" for histograms) or NULL for none. The
 * strings are copied. *out is borrowed from the registry. TR_EINVAL for
 * an invalid or duplicate name, TR_ENOMEM.
 *
 * Histogram bounds are the buckets' upper bounds, strictly increasing
 * and finite; the +Inf bucket is implicit.
 */
int tr_metrics_counter(struct tr_metric **out, struct tr_metrics *m,
    const char *name, const char *help, const char *const *labels);
int tr_metrics_gauge(struct tr_metric **out, struct tr_metrics *m,
    const char *name, const char *help, const char *const *labels);
int tr_metrics_histogram(struct tr_metric **out, struct tr_metrics *m,
    const char *name, const char *help, const char *const *labels,
    const double *bounds, size_t n_bounds);

/*
 * Updates the series of f with the given label values (one per label
 * name, in order; NULL for a family without labels), creating it at 0
 * when new. tr_metric_add adds v >= 0 to a counter or any v to a gauge;
 * tr_metric_set sets a gauge; tr_metric_observe records one observation
 * in a histogram. 0, TR_EINVAL (wrong family type, negative counter
 * increment, missing label value) or TR_ENOMEM.
 */
int tr_metric_add(struct tr_metric *f, const char *const *values, double v);
int tr_metric_set(struct tr_metric *f, const char *const *values, double v);
int tr_metric_observe(struct tr_metric *f, const char *const *values,
    double v);

/*
 * The current value of a counter or gauge series (0 when the series does
 * not exist yet), or a histogram's observation count. For tests and
 * status lines.
 */
double tr_metric_value(struct tr_metric *f, const char *const *values);

/*
 * Appends the exposition text of every family to out: "# HELP" and
 * "# TYPE" lines, then one line per series (histograms: _bucket lines
 * with cumulative counts and an le label, _sum and _count). A family with
 * no series yet shows only its HELP and TYPE lines. 0, TR_ENOMEM or
 * TR_ETOOBIG (out's cap).
 */
int tr_metrics_render(struct tr_buf *out, struct tr_metrics *m);

/* The Content-Type of the rendered text. */
#define TR_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
