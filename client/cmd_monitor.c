/*
 * cmd_monitor: `glasslog monitor`, follows a log for the vendor's security
 * team or an auditor (the engine is monitor.c). With --once it runs one
 * cycle (catch up to the log's current checkpoint) and exits 0 (all good),
 * 2 (an alarm, or a checkpoint that does not verify) or 3 (usage, I/O,
 * network). Without it, it polls every --interval seconds forever,
 * reporting alarms and errors as they come (the --on-alarm command runs
 * for each new alarm) and retrying after network errors; usage errors
 * and an unusable or locked state directory still exit 3.
 *
 * Watching: --watch-submitter VKEY (repeatable) names the submitter keys
 * whose statements must all be listed in --expect FILE; --expect without
 * --watch-submitter watches every submitter of the policy. The expected
 * releases are re-read every cycle, so a release can be added while the
 * monitor runs (before it is appended to the log).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "monitor.h"
#include "util.h"

static const char monitor_usage[] =
    "usage: glasslog monitor --log URL --policy FILE --state DIR [--once]\n"
    "         [--watch-submitter VKEY ...] [--expect FILE] [--on-alarm CMD]\n"
    "         [--on-alarm-timeout SECONDS] [--max-age DURATION]\n"
    "         [--interval SECONDS] [--threads N] [--timeout SECONDS] [--no-progress]\n"
    "\n"
    "Follows the log: verifies each new checkpoint (log signature, witness\n"
    "quorum) and its consistency with the last one (from the log's tiles),\n"
    "downloads and checks every new entry (leaf hash against the tiles,\n"
    "statement syntax, submitter signature), and raises an alarm for any\n"
    "inconsistency and any statement by a watched submitter that is not in\n"
    "the expected-releases file (lines '<kind> <subject> <version> <sha256>').\n"
    "Evidence goes to DIR/<log id>/alarms/; --on-alarm CMD runs (sh -c) with\n"
    "GLASSLOG_ALARM_KIND, GLASSLOG_ALARM_DIR and GLASSLOG_ALARM_DETAIL set.\n"
    "  --log URL        repeatable (or URL,URL): the log, then its mirrors\n"
    "                   (<witness URL>/mirror/<sha256 of the origin>), tried in\n"
    "                   order when one does not answer; all checked alike\n"
    "  --once           one pass, then exit: 0 ok, 2 alarm, 3 error\n"
    "  --interval S     seconds between polls without --once (60)\n"
    "  --threads N      signature-checking threads (default: one per core)\n"
    "  --timeout S      give up on a request after S seconds of retries (60)\n"
    "  --max-age D      fail a cycle whose checkpoint's freshest quorum of\n"
    "                   witness cosignatures is older than D (e.g. 1h): a log\n"
    "                   (or mirror) that serves an old view is not a live one\n"
    "  --audit-within D alarm when a vendor build's source has no auditor's\n"
    "                   report D (e.g. 7d) after the build's time\n"
    "  --on-alarm-timeout S\n"
    "                   stop the --on-alarm command and all it started (its\n"
    "                   process group) after S seconds (60; 0: never)\n"
    "Chain alarms (v2 statements): a rebuild whose digest differs from the\n"
    "vendor's build of the same source, a build naming a source never logged.\n";

/* What one parse fills: the options, --once and --interval. */
struct monitor_args {
    struct monitor_opts *o;
    int *once;
    uint64_t *interval;
};

/* Takes one option of monitor (a cli_take_fn; ctx: the monitor_args). */
static int monitor_take(void *ctx, int c, const char *arg)
{
    const struct monitor_args *a = ctx;
    struct monitor_opts *o = a->o;
    uint64_t v;

    switch (c) {
    case 'p':
        o->policy = arg;
        break;
    case 's':
        o->state = arg;
        break;
    case '1':
        *a->once = 1;
        break;
    case 'e':
        o->expect = arg;
        break;
    case 'a':
        o->on_alarm = arg;
        break;
    case 'n':
        o->progress = 0;
        break;
    case 'O':
        if (util_opt_u64("--on-alarm-timeout", arg, 0, 86400, &v) != 0)
            return -1;
        o->on_alarm_timeout_s = (unsigned)v;
        break;
    case 'A':
        if (util_parse_duration(arg, &o->audit_within) != 0) {
            cli_error("--audit-within takes a duration such as 10m, 24h or 7d, not '%s'",
                      arg);
            return -1;
        }
        break;
    case 'M':
        if (util_parse_duration(arg, &o->max_age) != 0 || o->max_age == 0) {
            cli_error("--max-age takes a duration such as 30s, 10m, 24h or 7d, not '%s'",
                      arg);
            return -1;
        }
        break;
    case 'w':
        if (o->nwatch == MONITOR_MAX_WATCH) {
            cli_error("at most %d --watch-submitter options", MONITOR_MAX_WATCH);
            return -1;
        }
        o->watch[o->nwatch++] = arg;
        break;
    case 'i':
        if (util_opt_u64("--interval", arg, 1, 86400, a->interval) != 0)
            return -1;
        break;
    case 'T':
        if (util_opt_u64("--threads", arg, 1, 64, &v) != 0)
            return -1;
        o->threads = (size_t)v;
        break;
    default:
        return fetch_opts_take(&o->net, c, arg);
    }
    return 0;
}

static int monitor_parse(int argc, char **argv, struct monitor_opts *o, int *once,
                         uint64_t *interval)
{
    static const struct option opts[] = {
        {"log", required_argument, NULL, 'l'},
        {"policy", required_argument, NULL, 'p'},
        {"state", required_argument, NULL, 's'},
        {"once", no_argument, NULL, '1'},
        {"watch-submitter", required_argument, NULL, 'w'},
        {"expect", required_argument, NULL, 'e'},
        {"on-alarm", required_argument, NULL, 'a'},
        {"on-alarm-timeout", required_argument, NULL, 'O'},
        {"interval", required_argument, NULL, 'i'},
        {"threads", required_argument, NULL, 'T'},
        {"timeout", required_argument, NULL, 't'},
        {"no-progress", no_argument, NULL, 'n'},
        {"audit-within", required_argument, NULL, 'A'},
        {"max-age", required_argument, NULL, 'M'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct monitor_args a;
    int rc;

    memset(o, 0, sizeof(*o));
    *once = 0;
    *interval = 60;
    o->progress = isatty(2);
    o->on_alarm_timeout_s = 60;
    a = (struct monitor_args){o, once, interval};
    if ((rc = cli_parse_opts(argc, argv, opts, monitor_usage, monitor_take, &a)) != 0)
        return rc;
    if (fetch_opts_log(&o->net) == NULL || o->policy == NULL || o->state == NULL ||
        optind != argc) {
        cli_error("monitor needs --log, --policy and --state");
        fputs(monitor_usage, stderr);
        return -1;
    }
    if (o->nwatch > 0 && o->expect == NULL) {
        cli_error(
            "--watch-submitter needs --expect FILE (the releases you expect; an empty "
            "file expects none)");
        return -1;
    }
    return 0;
}

int cmd_monitor_main(int argc, char **argv)
{
    struct monitor_opts o;
    struct monitor *m = NULL;
    uint64_t interval;
    int once, rc = monitor_parse(argc, argv, &o, &once, &interval);

    if (rc != 0)
        return rc > 0 ? CLI_OK : CLI_USAGE;
    if (monitor_new(&o, &m) != 0)
        return CLI_USAGE;
    for (;;) {
        rc = monitor_cycle(m);
        if (once || monitor_fatal(m))
            break;
        sleep((unsigned)interval);
        monitor_reload_expect(m);
    }
    monitor_free(m);
    return rc;
}
