/*
 * test_url.c — tr_url_resolve against RFC 3986 §5.4, tr_url_canonical and
 * tr_url_scheme, as tables.
 */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "tributary/url.h"

struct resolve_case {
	const char *base, *ref, *want; /* want NULL: no valid result */
};

#define RFC_BASE "http://a/b/c/d;p?q"

static const struct resolve_case resolve_table[] = {
    /* RFC 3986 §5.4.1 normal examples. */
    {RFC_BASE, "g:h", "g:h"},
    {RFC_BASE, "g", "http://a/b/c/g"},
    {RFC_BASE, "./g", "http://a/b/c/g"},
    {RFC_BASE, "g/", "http://a/b/c/g/"},
    {RFC_BASE, "/g", "http://a/g"},
    {RFC_BASE, "//g", "http://g/"},
    {RFC_BASE, "?y", "http://a/b/c/d;p?y"},
    {RFC_BASE, "g?y", "http://a/b/c/g?y"},
    {RFC_BASE, "#s", "http://a/b/c/d;p?q#s"},
    {RFC_BASE, "g#s", "http://a/b/c/g#s"},
    {RFC_BASE, "g?y#s", "http://a/b/c/g?y#s"},
    {RFC_BASE, ";x", "http://a/b/c/;x"},
    {RFC_BASE, "g;x", "http://a/b/c/g;x"},
    {RFC_BASE, "g;x?y#s", "http://a/b/c/g;x?y#s"},
    {RFC_BASE, "", "http://a/b/c/d;p?q"},
    {RFC_BASE, ".", "http://a/b/c/"},
    {RFC_BASE, "./", "http://a/b/c/"},
    {RFC_BASE, "..", "http://a/b/"},
    {RFC_BASE, "../", "http://a/b/"},
    {RFC_BASE, "../g", "http://a/b/g"},
    {RFC_BASE, "../..", "http://a/"},
    {RFC_BASE, "../../", "http://a/"},
    {RFC_BASE, "../../g", "http://a/g"},
    /* §5.4.2 abnormal examples. */
    {RFC_BASE, "../../../g", "http://a/g"},
    {RFC_BASE, "../../../../g", "http://a/g"},
    {RFC_BASE, "/./g", "http://a/g"},
    {RFC_BASE, "/../g", "http://a/g"},
    {RFC_BASE, "g.", "http://a/b/c/g."},
    {RFC_BASE, ".g", "http://a/b/c/.g"},
    {RFC_BASE, "g..", "http://a/b/c/g.."},
    {RFC_BASE, "..g", "http://a/b/c/..g"},
    {RFC_BASE, "./../g", "http://a/b/g"},
    {RFC_BASE, "./g/.", "http://a/b/c/g/"},
    {RFC_BASE, "g/./h", "http://a/b/c/g/h"},
    {RFC_BASE, "g/../h", "http://a/b/c/h"},
    {RFC_BASE, "g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {RFC_BASE, "g;x=1/../y", "http://a/b/c/y"},
    {RFC_BASE, "g?y/./x", "http://a/b/c/g?y/./x"},
    {RFC_BASE, "g?y/../x", "http://a/b/c/g?y/../x"},
    {RFC_BASE, "g#s/./x", "http://a/b/c/g#s/./x"},
    {RFC_BASE, "g#s/../x", "http://a/b/c/g#s/../x"},
    /* "http:g": strict parsers give "http:g", which is no http URL. */
    {RFC_BASE, "http:g", NULL},
    /* Feeds. */
    {"https://example.org/blog/feed.xml", "../a", "https://example.org/a"},
    {"https://example.org/blog/feed.xml", "post/1.html",
     "https://example.org/blog/post/1.html"},
    {"https://example.org/blog/", "//cdn.example.net/x.mp3",
     "https://cdn.example.net/x.mp3"},
    {"https://example.org/blog/feed.xml#top", "p",
     "https://example.org/blog/p"},
    {"https://example.org/blog/feed.xml", "  \t /a b\n",
     "https://example.org/a%20b"},
    {" https://example.org/x/ ", "y", "https://example.org/x/y"},
    {"https://example.org/", "http://other.example/p?q=1#f",
     "http://other.example/p?q=1#f"},
    {NULL, "https://example.org/p", "https://example.org/p"},
    {NULL, "HTTPS://Example.org/a/../p", "https://Example.org/p"},
    {"not a url", "https://example.org/p", "https://example.org/p"},
    {"http://example.org/", "http://example.org:99999/", NULL},
    {"ftp://example.org/pub/", "file.txt", "ftp://example.org/pub/file.txt"},
    {"http://[::1]:8080/a/", "b", "http://[::1]:8080/a/b"},
    {"http://example.org/", "caf\xc3\xa9", "http://example.org/caf%c3%a9"},
    /* Relative refs without a usable base. */
    {NULL, "a", NULL},
    {NULL, "/a", NULL},
    {NULL, "//host/x", NULL},
    {NULL, "", NULL},
    {"relative/base", "a", NULL},
    {"", "a", NULL},
    {"mailto:a@example.org", "b", NULL},
    /* Opaque absolute URIs pass through; script schemes never do. */
    {NULL, "mailto:a@example.org", "mailto:a@example.org"},
    {"http://a/", " tag:example.org,2024:post-1 ",
     "tag:example.org,2024:post-1"},
    {NULL, "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6",
     "urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6"},
    {NULL, "mailto:a b@example.org", NULL},
    {NULL, "mailto:", NULL},
    {"http://a/", "javascript:alert(1)", NULL},
    {"http://a/", "JavaScript://x/%0aalert(1)", NULL},
    {"http://a/", "vbscript:msgbox", NULL},
    {"http://a/", "data:text/html,<script>", NULL},
    {"javascript:alert(1)", "x", NULL},
    {NULL, NULL, NULL},
    {"http://a/", "http://a/b\nc", NULL},
};

static void
test_url_resolve(void)
{
	size_t i, n = sizeof(resolve_table) / sizeof(resolve_table[0]);

	for (i = 0; i < n; i++) {
		const struct resolve_case *c = &resolve_table[i];
		char *got = tr_url_resolve(c->base, c->ref);
		char name[512];

		snprintf(name, sizeof(name), "%s + %s",
		         c->base ? c->base : "(null)",
		         c->ref ? c->ref : "(null)");
		CHECK_STR_CASE(name, got, c->want);
		free(got);
	}
}

/*
 * tr_url_resolve skips curl_url for absolute http(s) links already in
 * curl's form. Whatever the path taken, the result must be curl's own:
 * each of these URLs (most of them inside the fast path, some just
 * outside) is compared with a curl_url round trip done here.
 */
static char *
curl_round_trip(const char *url)
{
	CURLU *h = curl_url();
	char *u = NULL, *r = NULL;

	if (h && curl_url_set(h, CURLUPART_URL, url,
	                      CURLU_NON_SUPPORT_SCHEME | CURLU_URLENCODE) ==
	             CURLUE_OK &&
	    curl_url_get(h, CURLUPART_URL, &u, 0) == CURLUE_OK)
		r = strdup(u);
	curl_free(u);
	curl_url_cleanup(h);
	return r;
}

static void
test_url_resolve_as_curl(void)
{
	static const char *const schemes[] = {"http://", "https://", "HTTP://",
	                                      "Https://"};
	static const char *const hosts[] = {
	    "example.com", "a-b.example.org", "x1.y2.z",   "localhost",
	    "www.example.co.uk", "Example.COM", "127.0.0.1", "1.2.3.4a",
	    "0x7f.1",   "host:80",        "host:8080",     "u@host",
	    "[::1]",    "a..b",           "a.b.",          "-a.b"};
	static const char *const paths[] = {
	    "",           "/",          "/a/b",         "/a//b",
	    "/a/b?x=1&y=2", "/a?q#f",   "/a#f",         "/~u/p;q=1",
	    "/a%20b",     "/a%C3%A9",   "/p/!$&'()*+,;=:@", "/a?b=c/d",
	    "/a.b/c.",    "/a-b_c~d",   "/a?x#y?z",     "/a?x=%2F",
	    "/a/./b",     "/a/../b",    "/a/.",         "/a/..",
	    "/a%2e%2E/b", "/a?",        "/a#",          "/a?#",
	    "/a#b#c",     "/a b",       "/a\\b",       "/a|b",
	    "/a{b}",      "/a^b",       "/a`b",         "/a\"b",
	    "/a<b>",      "/a[1]",      "/caf\xc3\xa9", "?q",
	    "#f",         "/a\x7f"};
	size_t s, h, p;
	char url[256], name[300];

	for (s = 0; s < sizeof(schemes) / sizeof(schemes[0]); s++)
		for (h = 0; h < sizeof(hosts) / sizeof(hosts[0]); h++)
			for (p = 0; p < sizeof(paths) / sizeof(paths[0]);
			     p++) {
				char *got, *want;

				snprintf(url, sizeof(url), "%s%s%s",
				         schemes[s], hosts[h], paths[p]);
				got = tr_url_resolve("http://base.example/d/",
				                     url);
				want = curl_round_trip(url);
				snprintf(name, sizeof(name), "resolve %s",
				         url);
				CHECK_STR_CASE(name, got, want);
				free(got);
				free(want);
			}
}

struct canon_case {
	const char *in, *want;
};

static const struct canon_case canon_table[] = {
    {"http://example.org/a", "http://example.org/a"},
    /* A percent-encoded numeric host reaches the same fixed point as
     * the plain one (a fuzzer find). */
    {"http://%3333/x", "http://0.0.1.77/x"},
    {"http://333/x", "http://0.0.1.77/x"},
    {"HTTP://EXAMPLE.ORG/Path/To", "http://example.org/Path/To"},
    {"https://Example.Org:443/a", "https://example.org/a"},
    {"http://example.org:80/a", "http://example.org/a"},
    {"http://example.org:443/a", "http://example.org:443/a"},
    {"https://example.org:80/a", "https://example.org:80/a"},
    {"http://example.org:8080/a", "http://example.org:8080/a"},
    {"http://example.org/a#section-2", "http://example.org/a"},
    {"http://example.org/a?x=1#f", "http://example.org/a?x=1"},
    {"http://example.org/a?utm_source=rss", "http://example.org/a"},
    {"http://example.org/a?utm_source=rss&utm_medium=feed&utm_campaign=c"
     "&utm_content=x&utm_term=y&utm_id=9",
     "http://example.org/a"},
    {"http://example.org/a?id=7&utm_source=rss", "http://example.org/a?id=7"},
    {"http://example.org/a?utm_source=rss&id=7", "http://example.org/a?id=7"},
    {"http://example.org/a?b=2&fbclid=IwAR0&a=1&gclid=x",
     "http://example.org/a?b=2&a=1"},
    {"http://example.org/a?dclid=1&msclkid=2&mc_cid=3&mc_eid=4&_ga=5"
     "&yclid=6&igshid=7&ref_src=twsrc",
     "http://example.org/a"},
    {"http://example.org/a?UTM_Source=x&k=v", "http://example.org/a?k=v"},
    {"http://example.org/a?utm=1&xutm_source=2",
     "http://example.org/a?utm=1&xutm_source=2"},
    {"http://example.org/a?fbclid", "http://example.org/a"},
    {"http://example.org/a?q=a&&b", "http://example.org/a?q=a&b"},
    {"http://example.org/a?", "http://example.org/a"},
    /* Percent-encodings (RFC 3986 §6.2.2.1-2): an unreserved character
     * is itself, the rest have one case; the same link in any spelling
     * has one key. */
    {"http://example.org/a?q=%41%20b", "http://example.org/a?q=A%20b"},
    {"http://example.org/%7Euser/", "http://example.org/~user/"},
    {"http://example.org/%7euser/", "http://example.org/~user/"},
    {"http://example.org/~user/", "http://example.org/~user/"},
    {"http://example.org/%41%5a%61%7a%30%39%2D%2E%5F", "http://example.org/"
     "AZaz09-._"},
    {"http://example.org/caf%C3%A9", "http://example.org/caf%c3%a9"},
    {"http://example.org/caf%c3%a9", "http://example.org/caf%c3%a9"},
    {"http://example.org/caf\xc3\xa9", "http://example.org/caf%c3%a9"},
    {"http://example.org/a?x=%26y&z=%3D", "http://example.org/a?x=%26y&z=%3d"},
    {"http://example.org/a%2Fb", "http://example.org/a%2fb"},
    {"http://example.org/%2541", "http://example.org/%2541"},
    /* A '%' that starts no encoding is "%25": no decoding makes one. */
    {"http://example.org/%zz%4", "http://example.org/%25zz%254"},
    {"http://example.org/a%", "http://example.org/a%25"},
    {"http://example.org/%%33", "http://example.org/%253"},
    {"http://example.org/?a=%3%33", "http://example.org/?a=%2533"},
    {"http://example.org/%25zz", "http://example.org/%25zz"},
    {"http://example.org/a/%2E%2E/b", "http://example.org/b"},
    {"http://example.org/a?utm%5Fsource=rss&k=v", "http://example.org/a?k=v"},
    {"http://example.org/a/./b/../c", "http://example.org/a/c"},
    {"http://example.org", "http://example.org/"},
    {"http://example.org/A%2fB", "http://example.org/A%2fB"},
    {"  https://example.org/x  ", "https://example.org/x"},
    {"http://user@Example.org/x", "http://user@example.org/x"},
    {"http://[::1]:80/x", "http://[::1]/x"},
    {"ftp://example.org/a", NULL},
    {"mailto:a@example.org", NULL},
    {"javascript:alert(1)", NULL},
    {"/relative/path", NULL},
    {"example.org/a", NULL},
    {"", NULL},
    {"http://", NULL},
    {"http://example.org:99999/", NULL},
    {NULL, NULL},
};

static void
test_url_canonical(void)
{
	size_t i, n = sizeof(canon_table) / sizeof(canon_table[0]);

	for (i = 0; i < n; i++) {
		char *got = tr_url_canonical(canon_table[i].in), *again;

		CHECK_STR_CASE(canon_table[i].in ? canon_table[i].in : "(null)",
		               got, canon_table[i].want);
		/* A canonical link is its own canonical form (taken in one
		 * parse when it comes out as it went in). */
		again = got ? tr_url_canonical(got) : NULL;
		CHECK_STR_CASE(canon_table[i].in ? canon_table[i].in : "(null)",
		               again, got);
		free(again);
		free(got);
	}
}

/* Links that differ only in what canonicalization removes compare equal. */
static void
test_url_canonical_dedup(void)
{
	char *a = tr_url_canonical("https://News.example.com:443/story/42?"
	                           "utm_source=twitter#comments");
	char *b = tr_url_canonical("https://news.example.com/story/42");
	char *c = tr_url_canonical("https://news.example.com/story/43");

	CHECK(a && b && c);
	CHECK_STR(a, b);
	CHECK(a && c && strcmp(a, c) != 0);
	free(a);
	free(b);
	free(c);
}

struct scheme_case {
	const char *in, *want;
};

static const struct scheme_case scheme_table[] = {
    {"http://example.org/", "http"},
    {"HTTPS://example.org/", "https"},
    {"  file:///etc/hosts", "file"},
    {"mailto:a@b", "mailto"},
    {"svn+ssh://host/x", "svn+ssh"},
    {"x-my.scheme-1:foo", "x-my.scheme-1"},
    {"/path/only", ""},
    {"relative:colon/x", "relative"},
    {"1http://x", ""},
    {"://x", ""},
    {"no-colon", ""},
    {"", ""},
    {NULL, ""},
};

static void
test_url_scheme(void)
{
	size_t i, n = sizeof(scheme_table) / sizeof(scheme_table[0]);
	char out[16];

	for (i = 0; i < n; i++) {
		memset(out, 'x', sizeof(out));
		tr_url_scheme(out, sizeof(out), scheme_table[i].in);
		CHECK_STR_CASE(scheme_table[i].in ? scheme_table[i].in
		                                  : "(null)",
		               out, scheme_table[i].want);
	}
	/* A scheme that does not fit is not truncated into another one. */
	tr_url_scheme(out, 5, "https://x/");
	CHECK_STR(out, "");
	tr_url_scheme(out, 6, "https://x/");
	CHECK_STR(out, "https");
	out[0] = 'x';
	tr_url_scheme(out, 0, "https://x/");
	CHECK_INT(out[0], 'x');
}

/* URL shapes that carry a credential, and what may be shown of them. */
static const struct resolve_case public_table[] = {
    /* in (base unused), want */
    {NULL, "https://user:s3cret@example.org/feed.xml",
     "https://example.org/feed.xml"},
    {NULL, "https://s3cret@example.org/feed.xml", "https://example.org/feed.xml"},
    {NULL, "https://:s3cret@example.org/f", "https://example.org/f"},
    {NULL, "http://us%40er:s3cret@example.org:8080/f?a=1",
     "http://example.org:8080/f?a=1"},
    {NULL, "https://example.org/f?token=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?TOKEN=s3cret&page=2",
     "https://example.org/f?page=2"},
    {NULL, "https://example.org/f?page=2&access_token=s3cret&lang=en",
     "https://example.org/f?page=2&lang=en"},
    {NULL, "https://example.org/f?api_key=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?apiKey=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?key=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?auth=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?sig=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?password=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?passwd=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?secret=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?client_secret=s3cret",
     "https://example.org/f"},
    {NULL, "https://example.org/f?session_id=s3cret", "https://example.org/f"},
    {NULL, "https://example.org/f?X-Amz-Credential=AK%2F1&X-Amz-Signature="
           "s3cret&X-Amz-Security-Token=s3cret&X-Amz-Expires=60",
     "https://example.org/f?X-Amz-Expires=60"},
    {NULL, "https://example.org/f?oauth_token=s3cret", "https://example.org/f"},
    {NULL, "https://u:s3cret@example.org/f?token=s3cret#top",
     "https://example.org/f#top"},
    /* Nothing secret: unchanged (as libcurl writes it). */
    {NULL, "https://example.org/feed.xml", "https://example.org/feed.xml"},
    {NULL, "https://example.org/f?page=2&author=jane",
     "https://example.org/f?page=2&author=jane"},
    {NULL, "https://example.org", "https://example.org/"},
    {NULL, "file:///srv/feeds/a.xml", "file:///srv/feeds/a.xml"},
    {NULL, "file:///srv/a@b.xml", "file:///srv/a@b.xml"},
    {NULL, "https://example.org/@jane/feed", "https://example.org/@jane/feed"},
    /* libcurl writes these as "file://c@": read again, a user name. */
    {NULL, "file:c@??2'", NULL},
    {NULL, "file:c@", NULL},
    {NULL, "file:c@?token=s3cret", NULL},
    /* Not a URL: nothing may be shown. */
    {NULL, "not a url", NULL},
    {NULL, "", NULL},
    {NULL, NULL, NULL},
};

static void
test_url_public(void)
{
	size_t i, n = sizeof(public_table) / sizeof(public_table[0]);

	for (i = 0; i < n; i++) {
		const char *in = public_table[i].ref;
		char *got = tr_url_public(in);

		CHECK_STR_CASE(in ? in : "(null)", got, public_table[i].want);
		/* The credential is never in what may be shown. */
		CHECK(got == NULL || strstr(got, "s3cret") == NULL);
		CHECK_INT(tr_url_has_secret(in),
		    in != NULL && strstr(in, "s3cret") != NULL);
		free(got);
	}
}

/* Paths the endpoint received, as they go into self links and ids. */
static void
test_url_path_encode(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"/tags/Tech News.atom", "/tags/Tech%20News.atom"},
	    {"/tags/50%.rss", "/tags/50%25.rss"},
	    {"/tags/a?b#c.json", "/tags/a%3Fb%23c.json"},
	    {"/tags/\xc3\x9cml.atom", "/tags/%C3%9Cml.atom"},
	    {"/tags/C++.atom", "/tags/C++.atom"},
	    {"/feeds/a.b-c_d~e.atom", "/feeds/a.b-c_d~e.atom"},
	    {"/tags/<x>\"'.atom", "/tags/%3Cx%3E%22'.atom"},
	    {"/tags/a\\b.atom", "/tags/a%5Cb.atom"},
	    {"/", "/"},
	    {"", ""},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_buf b;

		tr_buf_init(&b, 1024);
		CHECK_INT(tr_url_path_encode(&b, cases[i].in), 0);
		CHECK_STR_CASE(cases[i].in, tr_buf_str(&b), cases[i].want);
		tr_buf_free(&b);
	}
}

TR_TESTS(test_url_path_encode, test_url_public, test_url_resolve, test_url_resolve_as_curl, test_url_canonical,
         test_url_canonical_dedup, test_url_scheme)
