/*
 * cli: helpers shared by the glasslog subcommands: exit codes, error
 * reporting, option parsing, bounded file reading, and loading keys from
 * the command line (a private key from a file; a verifier key given inline
 * or as @FILE).
 */
#ifndef GL_CLI_H
#define GL_CLI_H

#include <getopt.h>
#include <stddef.h>

#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

/* Exit codes shared by every command. */
enum {
    CLI_OK = 0,
    CLI_NOTFOUND = 1, /* lookup found nothing */
    CLI_VERIFY = 2,   /* verification failure or alarm */
    CLI_USAGE = 3,    /* usage, I/O or network error */
};

/* Prints "glasslog: <msg>\n" to stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints why a parser refused where (a file name or an argument), the one
 * way the client reports it: "glasslog: WHERE:LINE: reason", or
 * "glasslog: WHERE: reason" when the line is 0. */
void cli_err(const char *where, const struct gl_err *e);

/* Takes one option of a command: c is the val of its struct option, arg
 * its value (NULL for an option without one). 0, or a negative code after
 * reporting a bad value on stderr. */
typedef int (*cli_take_fn)(void *ctx, int c, const char *arg);

/* Parses the options of a command, the one way every command does:
 * getopt_long over argv (argv[0] the command's name, from the first
 * option on; operands may come between options) with the table opts (a
 * zero entry last; the caller owns it and ctx). --help (val 'h') prints
 * usage on stdout and returns 1 at once; an unknown option or a missing
 * value (getopt names it) prints usage on stderr and returns -1; every
 * other option goes to take_opt(ctx, val, value), whose failure returns -1.
 * 0 when all were taken: the operands are argv[optind..argc). */
int cli_parse_opts(int argc, char **argv, const struct option *opts, const char *usage,
                   cli_take_fn take_opt, void *ctx);

/* Reads path ("-" = stdin) into out, failing with GL_ETOOBIG past out->max.
 * Reports the reason on stderr. */
int cli_read_file(const char *path, struct gl_buf *out);
/* Creates path with data and mode, whole or not at all, durably, never
 * replacing an existing path (gl_file_publish_new: GL_EEXIST if it
 * exists). Reports on stderr. */
int cli_write_new_file(const char *path, const void *data, size_t n, int mode);

/* Loads a signer key file. Reports on stderr. */
int cli_load_signer(const char *path, struct gl_signer *out);
/* Parses a verifier key argument: the key itself, or @FILE. Reports on
 * stderr. */
int cli_load_verifier(const char *arg, struct gl_verifier *out);

#endif
