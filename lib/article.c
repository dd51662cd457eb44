/*
 * article.c — the normalized article record: init, free, deep copy,
 * identity and content hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "tributary/article.h"
#include "tributary/hash.h"
#include "tributary/error.h"

void
tr_article_init(struct tr_article *a)
{
	memset(a, 0, sizeof(*a));
	a->guid_is_permalink = 1;
	a->published = TR_DATE_NONE;
	a->updated = TR_DATE_NONE;
}

static void
person_free(struct tr_person *p)
{
	free(p->name);
	free(p->email);
	free(p->uri);
}

void
tr_article_free(struct tr_article *a)
{
	size_t i;

	if (a == NULL)
		return;
	free(a->id);
	free(a->guid);
	free(a->link);
	free(a->title);
	free(a->author);
	for (i = 0; i < a->n_authors; i++)
		person_free(&a->authors[i]);
	free(a->authors);
	free(a->summary);
	free(a->content);
	free(a->text);
	for (i = 0; i < a->n_categories; i++)
		free(a->categories[i]);
	free(a->categories);
	for (i = 0; i < a->n_enclosures; i++) {
		free(a->enclosures[i].url);
		free(a->enclosures[i].type);
	}
	free(a->enclosures);
	free(a->image);
	free(a->summary_base);
	free(a->content_base);
	free(a->source_title);
	free(a->source_url);
	free(a->source_id);
	tr_article_init(a);
}

/* Copies s into *dst (NULL stays NULL). Returns 0 or TR_ENOMEM. */
static int
dup_str(char **dst, const char *s)
{
	*dst = NULL;
	if (s == NULL)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : TR_ENOMEM;
}

static int
copy_authors(struct tr_article *dst, const struct tr_article *src)
{
	size_t i;

	if (src->n_authors == 0 || src->authors == NULL)
		return 0;
	dst->authors = calloc(src->n_authors, sizeof(*dst->authors));
	if (dst->authors == NULL)
		return TR_ENOMEM;
	dst->n_authors = src->n_authors;
	for (i = 0; i < src->n_authors; i++) {
		const struct tr_person *s = &src->authors[i];
		struct tr_person *d = &dst->authors[i];

		if (dup_str(&d->name, s->name) ||
		    dup_str(&d->email, s->email) || dup_str(&d->uri, s->uri))
			return TR_ENOMEM;
	}
	return 0;
}

static int
copy_categories(struct tr_article *dst, const struct tr_article *src)
{
	size_t i;

	if (src->n_categories == 0 || src->categories == NULL)
		return 0;
	dst->categories = calloc(src->n_categories, sizeof(char *));
	if (dst->categories == NULL)
		return TR_ENOMEM;
	dst->n_categories = src->n_categories;
	for (i = 0; i < src->n_categories; i++)
		if (dup_str(&dst->categories[i], src->categories[i]))
			return TR_ENOMEM;
	return 0;
}

static int
copy_enclosures(struct tr_article *dst, const struct tr_article *src)
{
	size_t i;

	if (src->n_enclosures == 0 || src->enclosures == NULL)
		return 0;
	dst->enclosures = calloc(src->n_enclosures, sizeof(*dst->enclosures));
	if (dst->enclosures == NULL)
		return TR_ENOMEM;
	dst->n_enclosures = src->n_enclosures;
	for (i = 0; i < src->n_enclosures; i++) {
		const struct tr_enclosure *s = &src->enclosures[i];
		struct tr_enclosure *d = &dst->enclosures[i];

		d->length = s->length;
		if (dup_str(&d->url, s->url) || dup_str(&d->type, s->type))
			return TR_ENOMEM;
	}
	return 0;
}

/*
 * Deep-copies src into *dst, which is overwritten (not freed). On failure
 * *dst is freed again and left initialized; returns TR_ENOMEM.
 */
int
tr_article_copy(struct tr_article *dst, const struct tr_article *src)
{
	int rc = TR_ENOMEM;

	tr_article_init(dst);
	dst->guid_is_permalink = src->guid_is_permalink;
	dst->id_hash = src->id_hash;
	dst->raw_hash = src->raw_hash;
	dst->bodies_as_stored = src->bodies_as_stored;
	dst->stored_hash = src->stored_hash;
	dst->bodies_raw = src->bodies_raw;
	dst->published = src->published;
	dst->updated = src->updated;
	if (dup_str(&dst->id, src->id) || dup_str(&dst->guid, src->guid) ||
	    dup_str(&dst->link, src->link) ||
	    dup_str(&dst->title, src->title) ||
	    dup_str(&dst->author, src->author) ||
	    dup_str(&dst->summary, src->summary) ||
	    dup_str(&dst->content, src->content) ||
	    dup_str(&dst->text, src->text) ||
	    dup_str(&dst->image, src->image) ||
	    dup_str(&dst->summary_base, src->summary_base) ||
	    dup_str(&dst->content_base, src->content_base) ||
	    dup_str(&dst->source_title, src->source_title) ||
	    dup_str(&dst->source_url, src->source_url) ||
	    dup_str(&dst->source_id, src->source_id))
		goto out;
	if (copy_authors(dst, src) || copy_categories(dst, src) ||
	    copy_enclosures(dst, src))
		goto out;
	rc = 0;
out:
	if (rc != 0)
		tr_article_free(dst);
	return rc;
}

void
tr_feed_meta_init(struct tr_feed_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->updated = TR_DATE_NONE;
}

void
tr_feed_meta_free(struct tr_feed_meta *m)
{
	if (m == NULL)
		return;
	free(m->title);
	free(m->link);
	free(m->self);
	free(m->id);
	free(m->author);
	free(m->subtitle);
	free(m->language);
	tr_feed_meta_init(m);
}

/*
 * Mixes one field into h: a tag byte, then a presence byte, then for a
 * present string its length as 8 little-endian bytes and its bytes. The
 * length prefix keeps fields from running together ("ab"+"c" differs from
 * "a"+"bc") and the presence byte tells NULL from "".
 */
static uint64_t
fnv_field(uint64_t h, unsigned char tag, const char *s)
{
	unsigned char hdr[10];
	uint64_t n = s ? (uint64_t)strlen(s) : 0;
	int i;

	hdr[0] = tag;
	hdr[1] = s ? 1 : 0;
	for (i = 0; i < 8; i++)
		hdr[2 + i] = (unsigned char)(n >> (8 * i));
	h = tr_hash(h, hdr, sizeof(hdr));
	if (s)
		h = tr_hash(h, s, (size_t)n);
	return h;
}

static uint64_t
fnv_int(uint64_t h, unsigned char tag, int64_t v)
{
	unsigned char b[9];
	uint64_t u = (uint64_t)v;
	int i;

	b[0] = tag;
	for (i = 0; i < 8; i++)
		b[1 + i] = (unsigned char)(u >> (8 * i));
	return tr_hash(h, b, sizeof(b));
}

/* Field tags for the hashes; never renumber (stored hashes depend on them). */
enum {
	F_TITLE = 1,
	F_LINK,
	F_SUMMARY,
	F_CONTENT,
	F_PUBLISHED,
	F_UPDATED,
	F_AUTHOR,
	F_PERSON_NAME,
	F_PERSON_EMAIL,
	F_PERSON_URI,
	F_CATEGORY,
	F_ENC_URL,
	F_ENC_TYPE,
	F_ENC_LENGTH,
	F_N_AUTHORS,
	F_N_CATEGORIES,
	F_N_ENCLOSURES,
	F_SOURCE_TITLE,
	F_SOURCE_URL,
	F_SOURCE_ID,
	F_IMAGE,
};

uint64_t
tr_article_content_hash(const struct tr_article *a)
{
	uint64_t h = TR_HASH_INIT;
	size_t i;

	h = fnv_field(h, F_TITLE, a->title);
	h = fnv_field(h, F_LINK, a->link);
	h = fnv_field(h, F_SUMMARY, a->summary);
	h = fnv_field(h, F_CONTENT, a->content);
	h = fnv_int(h, F_PUBLISHED, a->published);
	h = fnv_int(h, F_UPDATED, a->updated);
	h = fnv_field(h, F_AUTHOR, a->author);
	h = fnv_int(h, F_N_AUTHORS, (int64_t)a->n_authors);
	for (i = 0; i < a->n_authors && a->authors; i++) {
		h = fnv_field(h, F_PERSON_NAME, a->authors[i].name);
		h = fnv_field(h, F_PERSON_EMAIL, a->authors[i].email);
		h = fnv_field(h, F_PERSON_URI, a->authors[i].uri);
	}
	h = fnv_int(h, F_N_CATEGORIES, (int64_t)a->n_categories);
	for (i = 0; i < a->n_categories && a->categories; i++)
		h = fnv_field(h, F_CATEGORY, a->categories[i]);
	h = fnv_int(h, F_N_ENCLOSURES, (int64_t)a->n_enclosures);
	for (i = 0; i < a->n_enclosures && a->enclosures; i++) {
		h = fnv_field(h, F_ENC_URL, a->enclosures[i].url);
		h = fnv_field(h, F_ENC_TYPE, a->enclosures[i].type);
		h = fnv_int(h, F_ENC_LENGTH, a->enclosures[i].length);
	}
	h = fnv_field(h, F_SOURCE_TITLE, a->source_title);
	h = fnv_field(h, F_SOURCE_URL, a->source_url);
	h = fnv_field(h, F_SOURCE_ID, a->source_id);
	/* Only when present: articles without a picture keep the hashes
	 * stored before it was a field. */
	if (a->image)
		h = fnv_field(h, F_IMAGE, a->image);
	return h;
}

/* FNV-1a 64 over title, published and summary: what names an item that
 * names itself in no other way. */
static uint64_t
item_hash(const struct tr_article *a)
{
	uint64_t h = TR_HASH_INIT;

	h = fnv_field(h, F_TITLE, a->title);
	h = fnv_int(h, F_PUBLISHED, a->published);
	h = fnv_field(h, F_SUMMARY, a->summary);
	return h;
}

void
tr_article_legacy_id(char out[TR_ARTICLE_LEGACY_ID], const struct tr_article *a)
{
	snprintf(out, TR_ARTICLE_LEGACY_ID, "hash:%016llx",
	         (unsigned long long)(a->id_hash ? a->id_hash : item_hash(a)));
}

/*
 * A name-based UUID, version 5 (RFC 9562 §5.5: SHA-1 over the namespace
 * and the name), in the URL namespace (RFC 9562 Appendix A.2), written as
 * a urn:uuid: URI (RFC 4122 §3) into out. SHA-1 comes from libcrypto.
 * Returns 0 or TR_ENOMEM.
 */
static int
uuid_v5(char out[TR_ARTICLE_UUID_ID], const char *name)
{
	static const unsigned char ns_url[16] = {
	    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (ctx == NULL)
		return TR_ENOMEM;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) &&
	     EVP_DigestUpdate(ctx, ns_url, sizeof(ns_url)) &&
	     EVP_DigestUpdate(ctx, name, strlen(name)) &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen >= 16;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return TR_ENOMEM;
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50); /* version 5 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80); /* RFC variant */
	snprintf(out, TR_ARTICLE_UUID_ID,
	         "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	         "%02x%02x%02x%02x%02x%02x",
	         md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8],
	         md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
	return 0;
}

int
tr_article_uuid_id(char out[TR_ARTICLE_UUID_ID], const struct tr_article *a,
                   const char *feed_url)
{
	char hex[20], *name;
	size_t n;
	int rc;

	snprintf(hex, sizeof(hex), "%016llx",
	         (unsigned long long)item_hash(a));
	if (feed_url == NULL)
		feed_url = "";
	n = strlen(feed_url) + 1 + strlen(hex) + 1;
	if ((name = malloc(n)) == NULL)
		return TR_ENOMEM;
	snprintf(name, n, "%s#%s", feed_url, hex);
	rc = uuid_v5(out, name);
	free(name);
	return rc;
}

/*
 * Sets a->id (replacing any previous one): the guid when it is present
 * and not empty, else the link, else the name-based UUID of the feed's
 * URL and the item's hash (tr_article_uuid_id).
 */
int
tr_article_identity(struct tr_article *a, const char *feed_url)
{
	char buf[TR_ARTICLE_UUID_ID];
	const char *src;
	char *id;
	int rc;

	if (a->guid && a->guid[0])
		src = a->guid;
	else if (a->link && a->link[0])
		src = a->link;
	else {
		if ((rc = tr_article_uuid_id(buf, a, feed_url)) != 0)
			return rc;
		a->id_hash = item_hash(a);
		src = buf;
	}
	id = strdup(src);
	if (id == NULL)
		return TR_ENOMEM;
	free(a->id);
	a->id = id;
	return 0;
}
