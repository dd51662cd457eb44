/*
 * metrics.c — counters, gauges and histograms in the Prometheus text
 * exposition format.
 *
 * The format (Prometheus "Exposition formats", text version 0.0.4):
 *
 *	# HELP name help text, with \\ and \n escaped
 *	# TYPE name counter|gauge|histogram
 *	name{label="value",...} 42
 *
 * Label values escape backslash, double quote and newline. A histogram
 * is rendered as cumulative name_bucket{le="bound"} lines ending with
 * le="+Inf", then name_sum and name_count.
 *
 * A registry is a list of families, each a list of series; lookups are
 * linear, which is fine for the few dozen series a tributary process has
 * (label values come from small fixed sets). One mutex guards the lot.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/error.h"
#include "tributary/metrics.h"

enum metric_type { M_COUNTER, M_GAUGE, M_HISTOGRAM };

static const char *const type_names[] = {"counter", "gauge", "histogram"};

struct series {
	char *values[TR_METRIC_MAX_LABELS];
	double value;	   /* counter or gauge */
	double sum;	   /* histogram: sum of observations */
	uint64_t count;	   /* histogram: number of observations */
	uint64_t *buckets; /* histogram: per bucket (not cumulative),
			      n_bounds + 1 with the +Inf one last */
	struct series *next;
};

struct tr_metric {
	struct tr_metrics *reg;
	enum metric_type type;
	char *name;
	char *help;
	char *labels[TR_METRIC_MAX_LABELS];
	size_t n_labels;
	double *bounds;
	size_t n_bounds;
	struct series *head, *tail;
	struct tr_metric *next;
};

struct tr_metrics {
	pthread_mutex_t mu;
	struct tr_metric *head, *tail;
};

int
tr_metrics_new(struct tr_metrics **out)
{
	struct tr_metrics *m;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return TR_ENOMEM;
	if (pthread_mutex_init(&m->mu, NULL) != 0) {
		free(m);
		return TR_ENOMEM;
	}
	*out = m;
	return 0;
}

static void
series_free(struct series *s, size_t n_labels)
{
	size_t i;

	for (i = 0; i < n_labels; i++)
		free(s->values[i]);
	free(s->buckets);
	free(s);
}

static void
family_free(struct tr_metric *f)
{
	struct series *s, *next;
	size_t i;

	for (s = f->head; s; s = next) {
		next = s->next;
		series_free(s, f->n_labels);
	}
	for (i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->name);
	free(f->help);
	free(f->bounds);
	free(f);
}

void
tr_metrics_free(struct tr_metrics *m)
{
	struct tr_metric *f, *next;

	if (m == NULL)
		return;
	for (f = m->head; f; f = next) {
		next = f->next;
		family_free(f);
	}
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon allowed), or
 * [a-zA-Z_][a-zA-Z0-9_]* for label names. */
static int
valid_name(const char *s, int colon)
{
	if (s == NULL || *s == '\0' || isdigit((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!(isascii((unsigned char)*s) && isalnum((unsigned char)*s)) &&
		    *s != '_' && !(colon && *s == ':'))
			return 0;
	return 1;
}

static int
valid_labels(const char *const *labels, enum metric_type type, size_t *n)
{
	size_t i, j;

	for (i = 0; labels && labels[i]; i++) {
		if (i >= TR_METRIC_MAX_LABELS || !valid_name(labels[i], 0) ||
		    strncmp(labels[i], "__", 2) == 0 ||
		    (type == M_HISTOGRAM && strcmp(labels[i], "le") == 0))
			return 0;
		for (j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return 0;
	}
	*n = i;
	return 1;
}

static int
valid_bounds(const double *bounds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return 0;
	return 1;
}

/* Registers a family of any type; the typed wrappers below call it. */
static int
add_family(struct tr_metric **out, struct tr_metrics *m, enum metric_type type,
    const char *name, const char *help, const char *const *labels,
    const double *bounds, size_t n_bounds)
{
	struct tr_metric *f = NULL, *g;
	size_t i, n_labels = 0;
	int rc = TR_EINVAL;

	*out = NULL;
	if (!valid_name(name, 1) || !valid_labels(labels, type, &n_labels) ||
	    !valid_bounds(bounds, n_bounds))
		return TR_EINVAL;
	pthread_mutex_lock(&m->mu);
	for (g = m->head; g; g = g->next)
		if (strcmp(g->name, name) == 0)
			goto out;
	rc = TR_ENOMEM;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto out;
	f->reg = m;
	f->type = type;
	f->n_labels = n_labels;
	f->n_bounds = n_bounds;
	if ((f->name = strdup(name)) == NULL ||
	    (f->help = strdup(help ? help : "")) == NULL)
		goto out;
	for (i = 0; i < n_labels; i++)
		if ((f->labels[i] = strdup(labels[i])) == NULL)
			goto out;
	if (n_bounds > 0) {
		if ((f->bounds = malloc(n_bounds * sizeof(double))) == NULL)
			goto out;
		memcpy(f->bounds, bounds, n_bounds * sizeof(double));
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	*out = f;
	f = NULL;
	rc = 0;
out:
	pthread_mutex_unlock(&m->mu);
	if (f)
		family_free(f);
	return rc;
}

int
tr_metrics_counter(struct tr_metric **out, struct tr_metrics *m,
    const char *name, const char *help, const char *const *labels)
{
	return add_family(out, m, M_COUNTER, name, help, labels, NULL, 0);
}

int
tr_metrics_gauge(struct tr_metric **out, struct tr_metrics *m,
    const char *name, const char *help, const char *const *labels)
{
	return add_family(out, m, M_GAUGE, name, help, labels, NULL, 0);
}

int
tr_metrics_histogram(struct tr_metric **out, struct tr_metrics *m,
    const char *name, const char *help, const char *const *labels,
    const double *bounds, size_t n_bounds)
{
	return add_family(out, m, M_HISTOGRAM, name, help, labels, bounds,
	    n_bounds);
}

/* The series with these label values, or NULL. Caller holds the lock. */
static struct series *
find_series(struct tr_metric *f, const char *const *values)
{
	struct series *s;
	size_t i;

	for (s = f->head; s; s = s->next) {
		for (i = 0; i < f->n_labels; i++)
			if (strcmp(s->values[i], values[i]) != 0)
				break;
		if (i == f->n_labels)
			return s;
	}
	return NULL;
}

/* Finds or creates the series. Caller holds the lock. */
static int
get_series(struct series **out, struct tr_metric *f,
    const char *const *values)
{
	struct series *s;
	size_t i;

	for (i = 0; i < f->n_labels; i++)
		if (values == NULL || values[i] == NULL)
			return TR_EINVAL;
	if ((*out = find_series(f, values)) != NULL)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TR_ENOMEM;
	for (i = 0; i < f->n_labels; i++) {
		if ((s->values[i] = strdup(values[i])) == NULL) {
			series_free(s, f->n_labels);
			return TR_ENOMEM;
		}
	}
	if (f->type == M_HISTOGRAM &&
	    (s->buckets = calloc(f->n_bounds + 1, sizeof(uint64_t))) == NULL) {
		series_free(s, f->n_labels);
		return TR_ENOMEM;
	}
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	*out = s;
	return 0;
}

/* The one update path: op 'a' add, 's' set, 'o' observe. */
static int
update(struct tr_metric *f, const char *const *values, double v, char op)
{
	struct series *s = NULL;
	size_t i;
	int rc;

	if ((op == 'o') != (f->type == M_HISTOGRAM) ||
	    (op == 's' && f->type != M_GAUGE) ||
	    (op == 'a' && f->type == M_COUNTER && !(v >= 0)))
		return TR_EINVAL;
	pthread_mutex_lock(&f->reg->mu);
	if ((rc = get_series(&s, f, values)) == 0) {
		if (op == 'a')
			s->value += v;
		else if (op == 's')
			s->value = v;
		else {
			for (i = 0; i < f->n_bounds && v > f->bounds[i]; i++)
				;
			s->buckets[i]++;
			s->count++;
			s->sum += v;
		}
	}
	pthread_mutex_unlock(&f->reg->mu);
	return rc;
}

int
tr_metric_add(struct tr_metric *f, const char *const *values, double v)
{
	return update(f, values, v, 'a');
}

int
tr_metric_set(struct tr_metric *f, const char *const *values, double v)
{
	return update(f, values, v, 's');
}

int
tr_metric_observe(struct tr_metric *f, const char *const *values, double v)
{
	return update(f, values, v, 'o');
}

double
tr_metric_value(struct tr_metric *f, const char *const *values)
{
	struct series *s;
	double v = 0;
	size_t i;

	for (i = 0; i < f->n_labels; i++)
		if (values == NULL || values[i] == NULL)
			return 0;
	pthread_mutex_lock(&f->reg->mu);
	if ((s = find_series(f, values)) != NULL)
		v = f->type == M_HISTOGRAM ? (double)s->count : s->value;
	pthread_mutex_unlock(&f->reg->mu);
	return v;
}

/* --- rendering --- */

/*
 * Formats v as Prometheus reads a float: integers without a fraction,
 * others in the shortest form that reads back as the same double, and
 * "+Inf", "-Inf", "NaN".
 */
static void
format_value(char *out, size_t size, double v)
{
	int prec;

	if (isnan(v)) {
		snprintf(out, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(out, size, "%.0f", v == 0 ? 0.0 : v);
		return;
	}
	for (prec = 15; prec < 17; prec++) {
		snprintf(out, size, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
	snprintf(out, size, "%.17g", v);
}

/* Appends s with backslash, newline and (when quote) '"' escaped. */
static int
add_escaped(struct tr_buf *out, const char *s, int quote)
{
	int rc = 0;

	for (; rc == 0 && *s; s++) {
		if (*s == '\\')
			rc = tr_buf_adds(out, "\\\\");
		else if (*s == '\n')
			rc = tr_buf_adds(out, "\\n");
		else if (quote && *s == '"')
			rc = tr_buf_adds(out, "\\\"");
		else
			rc = tr_buf_addc(out, *s);
	}
	return rc;
}

/*
 * Appends "name{l1="v1",...,le="x"} value\n"; suffix is appended to the
 * name ("_bucket", "_sum", ...), le is NULL except for buckets.
 */
static int
add_line(struct tr_buf *out, const struct tr_metric *f,
    const struct series *s, const char *suffix, const char *le, double v)
{
	char num[64];
	size_t i;
	int rc;

	rc = tr_buf_printf(out, "%s%s", f->name, suffix);
	if (rc == 0 && (f->n_labels > 0 || le != NULL)) {
		rc = tr_buf_addc(out, '{');
		for (i = 0; rc == 0 && i < f->n_labels; i++) {
			rc = tr_buf_printf(out, "%s%s=\"", i ? "," : "",
			    f->labels[i]);
			if (rc == 0)
				rc = add_escaped(out, s->values[i], 1);
			if (rc == 0)
				rc = tr_buf_addc(out, '"');
		}
		if (rc == 0 && le != NULL)
			rc = tr_buf_printf(out, "%sle=\"%s\"",
			    f->n_labels ? "," : "", le);
		if (rc == 0)
			rc = tr_buf_addc(out, '}');
	}
	format_value(num, sizeof(num), v);
	if (rc == 0)
		rc = tr_buf_printf(out, " %s\n", num);
	return rc;
}

static int
render_histogram(struct tr_buf *out, const struct tr_metric *f,
    const struct series *s)
{
	char le[64];
	uint64_t cum = 0;
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i <= f->n_bounds; i++) {
		cum += s->buckets[i];
		if (i < f->n_bounds)
			format_value(le, sizeof(le), f->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		rc = add_line(out, f, s, "_bucket", le, (double)cum);
	}
	if (rc == 0)
		rc = add_line(out, f, s, "_sum", NULL, s->sum);
	if (rc == 0)
		rc = add_line(out, f, s, "_count", NULL, (double)s->count);
	return rc;
}

static int
render_family(struct tr_buf *out, const struct tr_metric *f)
{
	const struct series *s;
	int rc;

	rc = tr_buf_printf(out, "# HELP %s ", f->name);
	if (rc == 0)
		rc = add_escaped(out, f->help, 0);
	if (rc == 0)
		rc = tr_buf_printf(out, "\n# TYPE %s %s\n", f->name,
		    type_names[f->type]);
	for (s = f->head; rc == 0 && s; s = s->next) {
		if (f->type == M_HISTOGRAM)
			rc = render_histogram(out, f, s);
		else
			rc = add_line(out, f, s, "", NULL, s->value);
	}
	return rc;
}

int
tr_metrics_render(struct tr_buf *out, struct tr_metrics *m)
{
	const struct tr_metric *f;
	int rc = 0;

	pthread_mutex_lock(&m->mu);
	for (f = m->head; rc == 0 && f; f = f->next)
		rc = render_family(out, f);
	pthread_mutex_unlock(&m->mu);
	return rc;
}
