/* test_json.c — the streaming JSON writer. */
#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/json.h"

static void
test_object_and_array(void)
{
	struct tr_buf b;
	struct tr_json j;

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, 0);
	CHECK_INT(tr_json_begin_object(&j), 0);
	CHECK_INT(tr_json_member_str(&j, "title", "Caf\xc3\xa9"), 0);
	CHECK_INT(tr_json_member_str(&j, "absent", NULL), 0);
	CHECK_INT(tr_json_member_int(&j, "n", -42), 0);
	CHECK_INT(tr_json_member_bool(&j, "ok", 1), 0);
	CHECK_INT(tr_json_key(&j, "list"), 0);
	CHECK_INT(tr_json_begin_array(&j), 0);
	CHECK_INT(tr_json_string(&j, "a"), 0);
	CHECK_INT(tr_json_int(&j, 9007199254740993LL), 0);
	CHECK_INT(tr_json_null(&j), 0);
	CHECK_INT(tr_json_bool(&j, 0), 0);
	CHECK_INT(tr_json_begin_object(&j), 0);
	CHECK_INT(tr_json_end_object(&j), 0);
	CHECK_INT(tr_json_begin_array(&j), 0);
	CHECK_INT(tr_json_end_array(&j), 0);
	CHECK_INT(tr_json_end_array(&j), 0);
	CHECK_INT(tr_json_end_object(&j), 0);
	CHECK(tr_json_done(&j));
	CHECK_STR(tr_buf_str(&b),
	          "{\"title\":\"Caf\xc3\xa9\",\"n\":-42,"
	          "\"ok\":true,\"list\":[\"a\",9007199254740993,"
	          "null,false,{},[]]}");
	tr_buf_free(&b);
}

static void
test_escaping(void)
{
	static const struct {
		const char *in;
		size_t n;
		const char *want;
	} t[] = {
	    {"plain", 5, "plain"},
	    {"q\"b\\s/", 6, "q\\\"b\\\\s/"},
	    {"\n\r\t\b\f", 5, "\\n\\r\\t\\b\\f"},
	    {"\x01\x1f", 2, "\\u0001\\u001f"},
	    {"nul\0x", 5, "nul\\u0000x"},
	    {"\x7f", 1, "\x7f"},
	    {"\xe2\x80\xa8|\xe2\x80\xa9", 7, "\\u2028|\\u2029"},
	    {"\xf0\x9f\x94\xb9 ok", 7, "\xf0\x9f\x94\xb9 ok"},
	    /* Invalid UTF-8 becomes U+FFFD, one per bad byte. */
	    {"a\xff"
	     "b",
	     3,
	     "a\xef\xbf\xbd"
	     "b"},
	    {"\xc3", 1, "\xef\xbf\xbd"},
	    {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong */
	    {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xf4\x90\x80\x80", 4,
	     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xe2\x82", 2, "\xef\xbf\xbd\xef\xbf\xbd"}, /* cut short */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tr_buf b;

		tr_buf_init(&b, 1024);
		CHECK_INT(tr_json_escape(&b, t[i].in, t[i].n), 0);
		CHECK_STR_CASE(t[i].want, tr_buf_str(&b), t[i].want);
		tr_buf_free(&b);
	}
}

static void
test_misuse_is_sticky(void)
{
	struct tr_buf b;
	struct tr_json j;

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, 0);
	tr_json_begin_object(&j);
	/* A value without a key inside an object. */
	CHECK_INT(tr_json_string(&j, "x"), TR_EINVAL);
	CHECK_INT(tr_json_key(&j, "k"), TR_EINVAL);
	CHECK(!tr_json_done(&j));
	tr_buf_free(&b);

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, 0);
	tr_json_begin_array(&j);
	CHECK_INT(tr_json_key(&j, "k"), TR_EINVAL);
	tr_buf_free(&b);

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, 0);
	tr_json_begin_array(&j);
	CHECK_INT(tr_json_end_object(&j), TR_EINVAL);
	tr_buf_free(&b);
}

static void
test_depth_and_cap(void)
{
	struct tr_buf b;
	struct tr_json j;
	int i, rc = 0;

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, 0);
	for (i = 0; i <= TR_JSON_MAX_DEPTH && rc == 0; i++)
		rc = tr_json_begin_array(&j);
	CHECK_INT(rc, TR_ETOOBIG);
	CHECK_INT(i, TR_JSON_MAX_DEPTH + 1);
	tr_buf_free(&b);

	tr_buf_init(&b, 8);
	tr_json_init(&j, &b, 0);
	CHECK_INT(tr_json_string(&j, "longer than eight"), TR_ETOOBIG);
	CHECK_INT(tr_json_null(&j), TR_ETOOBIG);
	tr_buf_free(&b);
}

static void
test_flush_between_items(void)
{
	struct tr_buf b;
	struct tr_json j;
	char all[256] = "";

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, 0);
	tr_json_begin_array(&j);
	tr_json_int(&j, 1);
	strcat(all, tr_buf_str(&b));
	tr_buf_reset(&b);
	tr_json_int(&j, 2);
	strcat(all, tr_buf_str(&b));
	tr_buf_reset(&b);
	tr_json_end_array(&j);
	strcat(all, tr_buf_str(&b));
	CHECK_STR(all, "[1,2]");
	tr_buf_free(&b);
}

static void
test_pretty(void)
{
	struct tr_buf b;
	struct tr_json j;

	tr_buf_init(&b, 4096);
	tr_json_init(&j, &b, TR_JSON_PRETTY);
	tr_json_begin_object(&j);
	tr_json_member_int(&j, "a", 1);
	tr_json_key(&j, "b");
	tr_json_begin_array(&j);
	tr_json_string(&j, "x");
	tr_json_end_array(&j);
	tr_json_key(&j, "c");
	tr_json_begin_object(&j);
	tr_json_end_object(&j);
	tr_json_end_object(&j);
	CHECK_STR(tr_buf_str(&b), "{\n  \"a\": 1,\n  \"b\": [\n    \"x\"\n  ],"
	                          "\n  \"c\": {}\n}");
	tr_buf_free(&b);
}

/*
 * The escaper scans 8 bytes at a time: every character that needs care,
 * at every offset of a longer plain string, must come out as the
 * byte-by-byte rule says.
 */
static void
test_escape_every_offset(void)
{
	static const struct {
		const char *in, *out;
	} specials[] = {
	    {"\"", "\\\""},
	    {"\\", "\\\\"},
	    {"\n", "\\n"},
	    {"\x01", "\\u0001"},
	    {"\x1f", "\\u001f"},
	    {"\x7f", "\x7f"},
	    {"\xc3\xa9", "\xc3\xa9"},                 /* é */
	    {"\xe2\x80\x9c", "\xe2\x80\x9c"},         /* “ */
	    {"\xf0\x9f\x93\xb0", "\xf0\x9f\x93\xb0"}, /* 📰 */
	    {"\xe2\x80\xa8", "\\u2028"},
	    {"\xe2\x80\xa9", "\\u2029"},
	    {"\xe2\x80\xaa", "\xe2\x80\xaa"},
	    {"\xed\x9f\xbf", "\xed\x9f\xbf"}, /* U+D7FF */
	    {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xe0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xe0\xa0\x80", "\xe0\xa0\x80"}, /* U+0800 */
	    {"\xef\xbf\xbd", "\xef\xbf\xbd"},
	    {"\xe2\x80", "\xef\xbf\xbd\xef\xbf\xbd"}, /* cut short */
	    {"\xc3", "\xef\xbf\xbd"},         /* a cut sequence */
	    {"\xff", "\xef\xbf\xbd"},
	    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"}, /* overlong */
	};
	const char plain[] = "abcdefghijklmnopqrstuvwxyz0123";
	size_t i, k;

	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		for (k = 0; k <= 24; k++) {
			char in[80], want[120];
			struct tr_buf b;

			snprintf(in, sizeof(in), "%.*s%s%.*s", (int)k, plain,
			         specials[i].in, (int)(24 - k), plain);
			snprintf(want, sizeof(want), "%.*s%s%.*s", (int)k,
			         plain, specials[i].out, (int)(24 - k), plain);
			tr_buf_init(&b, 1 << 10);
			CHECK_INT(tr_json_escape(&b, in, strlen(in)), 0);
			CHECK_STR_CASE(specials[i].out, tr_buf_str(&b), want);
			tr_buf_free(&b);
		}
}

TR_TESTS(test_escape_every_offset, test_object_and_array, test_escaping, test_misuse_is_sticky,
         test_depth_and_cap, test_flush_between_items, test_pretty)
