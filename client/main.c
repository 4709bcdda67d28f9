/*
 * glasslog: the command-line client. Dispatches to subcommands; each lives
 * in its own cmd_*.c. Exit codes are shared by all commands (cli.h).
 */
#include <errno.h>
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
    "  policy check FILE\n"
    "        validate a trust policy and explain it\n"
    "  verify --policy FILE (--bundle FILE | --proof FILE --statement FILE)\n"
    "         [--artifact PATH] [--max-age DURATION] [--json]\n"
    "        check a statement and its proof offline under a policy\n"
    "  lookup --log URL --policy FILE (PATH | --sha256 HEX) [--state DIR] [--out DIR]\n"
    "        find and verify the log's statements about an artifact\n"
    "  monitor --log URL --policy FILE --state DIR [--once] [--watch-submitter VKEY...]\n"
    "          [--expect FILE] [--on-alarm CMD] [--interval S]\n"
    "        follow a log, check every entry, raise alarms\n"
    "  get checkpoint|entry N|proof inclusion|proof consistency|tile PATH --log URL\n"
    "        print what a log serves\n"
    "  mirror-dir --log URL --log-vkey VKEY --dir DIR\n"
    "        write a verified copy of the log's tiles into DIR for a static server\n"
    "\n"
    "Options taking a verifier key accept the key itself or @FILE.\n"
    "Exit codes: 0 success, 1 not found (note verify: not verified),\n"
    "2 verification failure or alarm, 3 usage, I/O or network error.\n"
    "Run 'glasslog <command> --help' for a command's help.\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"keygen", cmd_keygen_main},     {"note", cmd_note_main},
    {"evidence", cmd_evidence_main}, {"append", cmd_append_main},
    {"policy", cmd_policy_main},     {"verify", cmd_verify_main},
    {"lookup", cmd_lookup_main},     {"monitor", cmd_monitor_main},
    {"get", cmd_get_main},           {"mirror-dir", cmd_mirrordir_main},
};

/* A command's exit code, CLI_USAGE instead of CLI_OK if what it wrote to
 * stdout (an index, a checkpoint, a key) could not all be written: a
 * script reading it must not take an empty or cut output for a result. */
static int output_flushed(int rc)
{
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    cli_error("cannot write standard output: %s (the command ran; its output is lost)",
              strerror(errno));
    return rc == CLI_OK ? CLI_USAGE : rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return output_flushed(CLI_OK);
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("glasslog %s\n", GL_VERSION);
        return output_flushed(CLI_OK);
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return output_flushed(commands[i].run(argc - 1, argv + 1));
    cli_error("unknown command '%s' (try 'glasslog --help')", argv[1]);
    return CLI_USAGE;
}
