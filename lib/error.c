/*
 * error: the text of each glasslog error code. Static strings only, so
 * callers never free and messages are safe in any context.
 */
#include "glasslog/error.h"

const char *gl_strerror(int err)
{
    switch (err) {
    case GL_OK: return "success";
    case GL_EINVAL: return "invalid argument";
    case GL_ENOMEM: return "out of memory";
    case GL_ETOOBIG: return "input too large";
    case GL_EPARSE: return "malformed input";
    case GL_EVERIFY: return "verification failed";
    case GL_ENOKEY: return "no signature by a known key";
    case GL_ECRYPTO: return "cryptographic library error";
    case GL_ERANGE: return "out of range";
    case GL_ENOTFOUND: return "not found";
    case GL_EIO: return "I/O error";
    case GL_EQUORUM: return "quorum not satisfied";
    case GL_EKEYTYPE: return "wrong key type";
    case GL_EOVERFLOW: return "arithmetic overflow";
    case GL_EEXIST: return "already exists";
    case GL_ESTATE: return "invalid state";
    default: return "unknown error";
    }
}
