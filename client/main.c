/*
 * glasslog: the command-line client. Dispatches to subcommands; each lives
 * in its own cmd_*.c. Exit codes are shared by all commands (cli.h).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

static const char usage[] =
    "usage: glasslog <command> [options]\n"
    "\n"
    "commands:\n"
    "  keygen --name NAME --out FILE [--cosigner]\n"
    "        make a key pair: FILE (private, mode 0600) and FILE.pub\n"
    "  note sign --key FILE [IN]\n"
    "        sign a note text (IN or stdin); the signed note goes to stdout\n"
    "  note verify --vkey VKEY [--vkey VKEY...] [IN]\n"
    "        verify a signed note; prints its text, exits 0 if verified\n"
    "  append --log URL --key FILE --kind KIND --subject NAME --version V\n"
    "         (--file PATH | --sha256 HEX) [--meta K=V...] [--out FILE]\n"
    "         [--log-vkey VKEY] [--timeout S]\n"
    "        sign a statement about an artifact and append it to a log\n"
    "\n"
    "Options taking a verifier key accept the key itself or @FILE.\n"
    "Exit codes: 0 success, 1 not found (note verify: not verified),\n"
    "2 verification failure, 3 usage or I/O error.\n"
    "Run 'glasslog <command> --help' for a command's help.\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"keygen", cmd_keygen_main},
    {"note", cmd_note_main},
    {"append", cmd_append_main},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("glasslog %s\n", GL_VERSION);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cli_error("unknown command '%s' (try 'glasslog --help')", argv[1]);
    return CLI_USAGE;
}
