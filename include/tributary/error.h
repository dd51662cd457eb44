/*
 * error.h — the error codes every tributary function returns.
 *
 * A function that can fail returns 0 or a negative enum tr_err value.
 * Details, where there are any, live on the handle that failed (for
 * example tr_store_errmsg()).
 */
#ifndef TRIBUTARY_ERROR_H
#define TRIBUTARY_ERROR_H

enum tr_err {
	TR_OK = 0,
	TR_ENOMEM = -1,	   /* out of memory */
	TR_EINVAL = -2,	   /* invalid argument or input */
	TR_EIO = -3,	   /* reading or writing a file failed */
	TR_EPARSE = -4,	   /* a document could not be parsed */
	TR_ECONFIG = -5,   /* the configuration has errors */
	TR_ESTORE = -6,	   /* the database failed */
	TR_ETOOBIG = -7,   /* a size cap was reached */
	TR_ENOTFOUND = -8, /* no such feed, article or file */
	TR_EHTTP = -9,	   /* an HTTP transfer failed */
	TR_ENEWER = -10,   /* the database is from a newer tributary */
	TR_EABORT = -11,   /* a callback asked to stop */
};

/* Returns a static, human-readable text for a tr_err value. */
const char *tr_strerror(int err);

#endif
