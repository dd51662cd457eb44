/* test_metrics.c — the registry and its Prometheus text exposition. */
#include <math.h>
#include <pthread.h>

#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/metrics.h"

static char *
render(struct tr_metrics *m)
{
	struct tr_buf b;

	tr_buf_init(&b, 1 << 20);
	if (tr_metrics_render(&b, m) != 0) {
		tr_buf_free(&b);
		return NULL;
	}
	return tr_buf_detach(&b);
}

static void
test_exposition_exact(void)
{
	static const double bounds[] = {0.1, 0.5, 2.5};
	struct tr_metrics *m = NULL;
	struct tr_metric *fetches = NULL, *feeds = NULL, *dur = NULL,
			 *up = NULL;
	char *text;

	CHECK_INT(tr_metrics_new(&m), 0);
	CHECK_INT(tr_metrics_counter(&fetches, m, "tr_fetches_total",
		      "Fetches by outcome.", (const char *[]){"outcome", NULL}),
	    0);
	CHECK_INT(tr_metrics_gauge(&feeds, m, "tr_feeds",
		      "Feeds by state.", (const char *[]){"state", NULL}),
	    0);
	CHECK_INT(tr_metrics_histogram(&dur, m, "tr_fetch_seconds",
		      "Fetch duration.", NULL, bounds, 3),
	    0);
	CHECK_INT(tr_metrics_gauge(&up, m, "tr_last_round",
		      "Help with a \\ and a\nnewline.", NULL),
	    0);

	CHECK_INT(tr_metric_add(fetches, (const char *[]){"200"}, 1), 0);
	CHECK_INT(tr_metric_add(fetches, (const char *[]){"304"}, 2), 0);
	CHECK_INT(tr_metric_add(fetches, (const char *[]){"200"}, 1), 0);
	CHECK_INT(tr_metric_set(feeds, (const char *[]){"ok"}, 3), 0);
	CHECK_INT(tr_metric_set(feeds, (const char *[]){"a\"b\\c\nd"}, -1.5),
	    0);
	CHECK_INT(tr_metric_observe(dur, NULL, 0.05), 0);
	CHECK_INT(tr_metric_observe(dur, NULL, 0.5), 0); /* le is inclusive */
	CHECK_INT(tr_metric_observe(dur, NULL, 3), 0);
	CHECK_INT(tr_metric_set(up, NULL, 1790000000), 0);

	text = render(m);
	CHECK_STR(text,
	    "# HELP tr_fetches_total Fetches by outcome.\n"
	    "# TYPE tr_fetches_total counter\n"
	    "tr_fetches_total{outcome=\"200\"} 2\n"
	    "tr_fetches_total{outcome=\"304\"} 2\n"
	    "# HELP tr_feeds Feeds by state.\n"
	    "# TYPE tr_feeds gauge\n"
	    "tr_feeds{state=\"ok\"} 3\n"
	    "tr_feeds{state=\"a\\\"b\\\\c\\nd\"} -1.5\n"
	    "# HELP tr_fetch_seconds Fetch duration.\n"
	    "# TYPE tr_fetch_seconds histogram\n"
	    "tr_fetch_seconds_bucket{le=\"0.1\"} 1\n"
	    "tr_fetch_seconds_bucket{le=\"0.5\"} 2\n"
	    "tr_fetch_seconds_bucket{le=\"2.5\"} 2\n"
	    "tr_fetch_seconds_bucket{le=\"+Inf\"} 3\n"
	    "tr_fetch_seconds_sum 3.55\n"
	    "tr_fetch_seconds_count 3\n"
	    "# HELP tr_last_round Help with a \\\\ and a\\nnewline.\n"
	    "# TYPE tr_last_round gauge\n"
	    "tr_last_round 1790000000\n");
	free(text);
	CHECK(tr_metric_value(fetches, (const char *[]){"200"}) == 2);
	CHECK(tr_metric_value(fetches, (const char *[]){"500"}) == 0);
	CHECK(tr_metric_value(dur, NULL) == 3);
	tr_metrics_free(m);
}

static void
test_histogram_with_labels(void)
{
	static const double bounds[] = {1, 10};
	struct tr_metrics *m = NULL;
	struct tr_metric *h = NULL;
	char *text;

	CHECK_INT(tr_metrics_new(&m), 0);
	CHECK_INT(tr_metrics_histogram(&h, m, "x_seconds", "X.",
		      (const char *[]){"route", NULL}, bounds, 2),
	    0);
	CHECK_INT(tr_metric_observe(h, (const char *[]){"/a"}, 20), 0);
	text = render(m);
	CHECK_STR(text, "# HELP x_seconds X.\n"
			"# TYPE x_seconds histogram\n"
			"x_seconds_bucket{route=\"/a\",le=\"1\"} 0\n"
			"x_seconds_bucket{route=\"/a\",le=\"10\"} 0\n"
			"x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1\n"
			"x_seconds_sum{route=\"/a\"} 20\n"
			"x_seconds_count{route=\"/a\"} 1\n");
	free(text);
	tr_metrics_free(m);
}

static void
test_special_values(void)
{
	struct tr_metrics *m = NULL;
	struct tr_metric *g = NULL;
	char *text;

	CHECK_INT(tr_metrics_new(&m), 0);
	CHECK_INT(tr_metrics_gauge(&g, m, "g", "", (const char *[]){"k",
							NULL}),
	    0);
	CHECK_INT(tr_metric_set(g, (const char *[]){"inf"}, INFINITY), 0);
	CHECK_INT(tr_metric_set(g, (const char *[]){"ninf"}, -INFINITY), 0);
	CHECK_INT(tr_metric_set(g, (const char *[]){"nan"}, NAN), 0);
	CHECK_INT(tr_metric_set(g, (const char *[]){"third"}, 1.0 / 3), 0);
	CHECK_INT(tr_metric_set(g, (const char *[]){"big"}, 1e300), 0);
	text = render(m);
	CHECK_STR(text, "# HELP g \n"
			"# TYPE g gauge\n"
			"g{k=\"inf\"} +Inf\n"
			"g{k=\"ninf\"} -Inf\n"
			"g{k=\"nan\"} NaN\n"
			"g{k=\"third\"} 0.3333333333333333\n"
			"g{k=\"big\"} 1e+300\n");
	free(text);
	tr_metrics_free(m);
}

static void
test_rejects_misuse(void)
{
	static const double bad[] = {1, 1};
	struct tr_metrics *m = NULL;
	struct tr_metric *c = NULL, *x = NULL, *h = NULL;

	CHECK_INT(tr_metrics_new(&m), 0);
	CHECK_INT(tr_metrics_counter(&c, m, "c_total", "C.",
		      (const char *[]){"a", NULL}),
	    0);
	CHECK_INT(tr_metrics_counter(&x, m, "c_total", "again", NULL),
	    TR_EINVAL);
	CHECK_INT(tr_metrics_counter(&x, m, "9bad", "", NULL), TR_EINVAL);
	CHECK_INT(tr_metrics_counter(&x, m, "bad-name", "", NULL), TR_EINVAL);
	CHECK_INT(tr_metrics_gauge(&x, m, "g", "",
		      (const char *[]){"__reserved", NULL}),
	    TR_EINVAL);
	CHECK_INT(tr_metrics_gauge(&x, m, "g", "",
		      (const char *[]){"a", "a", NULL}),
	    TR_EINVAL);
	CHECK_INT(tr_metrics_histogram(&h, m, "h", "",
		      (const char *[]){"le", NULL}, NULL, 0),
	    TR_EINVAL);
	CHECK_INT(tr_metrics_histogram(&h, m, "h", "", NULL, bad, 2),
	    TR_EINVAL);
	CHECK_INT(tr_metric_add(c, (const char *[]){"x"}, -1), TR_EINVAL);
	CHECK_INT(tr_metric_set(c, (const char *[]){"x"}, 1), TR_EINVAL);
	CHECK_INT(tr_metric_observe(c, (const char *[]){"x"}, 1), TR_EINVAL);
	CHECK_INT(tr_metric_add(c, NULL, 1), TR_EINVAL);
	CHECK_INT(tr_metric_add(c, (const char *[]){NULL}, 1), TR_EINVAL);
	tr_metrics_free(m);
	tr_metrics_free(NULL);
}

static void
test_render_cap(void)
{
	struct tr_metrics *m = NULL;
	struct tr_metric *c = NULL;
	struct tr_buf b;

	CHECK_INT(tr_metrics_new(&m), 0);
	CHECK_INT(tr_metrics_counter(&c, m, "c_total", "A counter.", NULL), 0);
	CHECK_INT(tr_metric_add(c, NULL, 1), 0);
	tr_buf_init(&b, 20);
	CHECK_INT(tr_metrics_render(&b, m), TR_ETOOBIG);
	tr_buf_free(&b);
	tr_metrics_free(m);
}

/* Writers on several threads while a reader renders: totals add up. */
struct worker {
	struct tr_metric *c;
	int n;
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < w->n; i++)
		tr_metric_add(w->c, (const char *[]){i % 2 ? "odd" : "even"},
		    1);
	return NULL;
}

static void
test_threads(void)
{
	struct tr_metrics *m = NULL;
	struct worker w;
	pthread_t t[4];
	char *text;
	int i;

	CHECK_INT(tr_metrics_new(&m), 0);
	CHECK_INT(tr_metrics_counter(&w.c, m, "n_total", "N.",
		      (const char *[]){"parity", NULL}),
	    0);
	w.n = 10000;
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, work, &w);
	for (i = 0; i < 20; i++)
		free(render(m));
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(tr_metric_value(w.c, (const char *[]){"odd"}) == 20000);
	CHECK(tr_metric_value(w.c, (const char *[]){"even"}) == 20000);
	text = render(m);
	CHECK(text && strstr(text, "n_total{parity=\"even\"} 20000\n"));
	free(text);
	tr_metrics_free(m);
}

TR_TESTS(test_exposition_exact, test_histogram_with_labels,
    test_special_values, test_rejects_misuse, test_render_cap, test_threads)
