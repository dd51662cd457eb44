/* error.c — texts for enum tr_err. */
#include "tributary/error.h"

static const char *const texts[] = {
    [0] = "success",
    [-TR_ENOMEM] = "out of memory",
    [-TR_EINVAL] = "invalid argument",
    [-TR_EIO] = "input/output error",
    [-TR_EPARSE] = "parse error",
    [-TR_ECONFIG] = "configuration error",
    [-TR_ESTORE] = "database error",
    [-TR_ETOOBIG] = "size limit reached",
    [-TR_ENOTFOUND] = "not found",
    [-TR_EHTTP] = "HTTP transfer failed",
    [-TR_ENEWER] = "database is from a newer tributary",
    [-TR_EABORT] = "aborted",
};

const char *
tr_strerror(int err)
{
	if (err > 0 || -err >= (int)(sizeof(texts) / sizeof(texts[0])) ||
	    texts[-err] == 0)
		return "unknown error";
	return texts[-err];
}
