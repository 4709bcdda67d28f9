/*
 * glasslog error codes. Every glasslog function returns 0 on success or one
 * of these negative codes; results travel through out-pointers.
 */
#ifndef GLASSLOG_ERROR_H
#define GLASSLOG_ERROR_H

enum gl_error {
    GL_OK = 0,
    GL_EINVAL = -1,     /* invalid argument (caller bug or bad option) */
    GL_ENOMEM = -2,     /* allocation failed */
    GL_ETOOBIG = -3,    /* input exceeds a size cap */
    GL_EPARSE = -4,     /* malformed input */
    GL_EVERIFY = -5,    /* a signature or proof does not verify */
    GL_ENOKEY = -6,     /* no signature by a known key */
    GL_ECRYPTO = -7,    /* the crypto library failed */
    GL_ERANGE = -8,     /* index or size out of range */
    GL_ENOTFOUND = -9,  /* no such item */
    GL_EIO = -10,       /* I/O error */
    GL_EQUORUM = -11,   /* signatures do not satisfy the policy quorum */
    GL_EKEYTYPE = -12,  /* key of the wrong type for this use */
    GL_EOVERFLOW = -13, /* arithmetic overflow */
    GL_EEXIST = -14,    /* already exists */
    GL_ESTATE = -15,    /* operation not valid in this state */
};

/* Returns a static, one-line description of err (never NULL). */
const char *gl_strerror(int err);

#endif
