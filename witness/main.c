/*
 * glasslog-witness: the witness. This release ships the verified core library
 * and the client; the witness (tlog-witness server, gossip, split-view
 * evidence) is a later milestone (issue #5). Until then the binary
 * answers --help and --version and refuses to run, saying so.
 */
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: glasslog-witness --data DIR --key FILE --logs FILE [--listen ADDR:PORT]\n"
    "                        [--peers FILE] ...\n"
    "\n"
    "The glasslog witness. Not yet available in this build:\n"
    "only --help and --version work.\n";

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("glasslog-witness %s\n", GL_VERSION);
            return 0;
        }
    }
    fputs("glasslog-witness: the witness is not implemented in this build yet\n", stderr);
    return 3;
}
