/*
 * glasslogd: the log server. This release ships the verified core library
 * and the client; the server (durable batched appends on RocksDB, C2SP
 * tiles, proof API) is the next milestone (issue #3). Until then the binary
 * answers --help and --version and refuses to run, saying so.
 */
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: glasslogd --data DIR --key FILE --submitters FILE [--listen ADDR:PORT]\n"
    "                 [--create] ...\n"
    "\n"
    "The glasslog transparency log server. Not yet available in this build:\n"
    "only --help and --version work.\n";

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("glasslogd %s\n", GL_VERSION);
            return 0;
        }
    }
    fputs("glasslogd: the log server is not implemented in this build yet\n", stderr);
    return 3;
}
