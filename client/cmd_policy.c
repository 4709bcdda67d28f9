/*
 * cmd_policy: `glasslog policy check FILE`, validates a trust policy
 * (specs/policy.md) and explains it in words: the one-line summary of
 * gl_policy_describe, then every log, witness, group, the quorum and the
 * submitters. Warnings (stderr) for witness keys converted from 0x01, a
 * quorum of none, and a policy without submitters (verify, lookup and
 * monitor then refuse every statement). Exit 0 valid, 2 invalid, 3 usage
 * or unreadable file.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"
#include "glasslog/error.h"
#include "glasslog/policy.h"
#include "trust.h"

static const char policy_usage[] =
    "usage: glasslog policy check FILE\n"
    "\n"
    "Validates a trust policy (C2SP tlog-policy with glasslog's 'submitter'\n"
    "lines) and explains it. Exit 0 if valid, 2 if not, 3 if unreadable.\n";

static void print_key(const char *label, const struct gl_verifier *k, const char *url)
{
    struct gl_buf b;

    gl_buf_init(&b, GL_KEY_TEXT_MAX + 1);
    if (gl_verifier_format(k, &b) == 0)
        printf("  %s%s%s%s\n", label, (const char *)b.data, url ? "  url " : "",
               url ? url : "");
    gl_buf_release(&b);
}

static void print_details(const struct gl_policy *p)
{
    size_t n;
    const struct gl_verifier *subs = gl_policy_submitters(p, &n);
    struct gl_policy_ref q = gl_policy_quorum(p);

    for (size_t i = 0; i < gl_policy_nlogs(p); i++) {
        const struct gl_policy_log *l = gl_policy_log_at(p, i);
        printf("log %s (origin), line %zu\n", l->key->name, l->line);
        print_key("key ", l->key, l->url);
    }
    for (size_t i = 0; i < gl_policy_nwitnesses(p); i++) {
        const struct gl_policy_witness *w = gl_policy_witness_at(p, i);
        printf("%s %s, line %zu%s\n", w->mirror ? "mirror" : "witness", w->name, w->line,
               w->converted ? " (0x01 key converted to 0x04)" : "");
        print_key("cosignature key ", w->key, w->url);
    }
    for (size_t i = 0; i < gl_policy_ngroups(p); i++) {
        const struct gl_policy_group *g = gl_policy_group_at(p, i);
        printf("group %s, line %zu: %zu of %zu members\n", g->name, g->line, g->k,
               g->nmembers);
    }
    if (q.kind == GL_POLICY_REF_NONE)
        printf("quorum: none (checkpoints need no witness cosignature)\n");
    else
        printf("quorum: %s %s\n", q.kind == GL_POLICY_REF_GROUP ? "group" : "witness",
               q.kind == GL_POLICY_REF_GROUP ? gl_policy_group_at(p, q.index)->name
                                             : gl_policy_witness_at(p, q.index)->name);
    for (size_t i = 0; i < n; i++)
        print_key("submitter ", &subs[i], NULL);
}

static void warn(const char *path, const struct gl_policy *p)
{
    size_t nsub;

    gl_policy_submitters(p, &nsub);
    if (gl_policy_quorum(p).kind == GL_POLICY_REF_NONE)
        cli_error(
            "warning: %s: quorum none: checkpoints are accepted without any witness "
            "cosignature, so a log could show you a split view undetected",
            path);
    if (nsub == 0)
        cli_error("warning: %s: no submitter lines: every statement will be refused",
                  path);
    if (gl_policy_nlogs(p) == 0)
        cli_error("warning: %s: no log lines: every checkpoint will be refused", path);
}

int cmd_policy_main(int argc, char **argv)
{
    struct gl_policy *p = NULL;
    struct gl_buf d;
    int rc;

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(policy_usage, stdout);
        return CLI_OK;
    }
    if (argc != 3 || strcmp(argv[1], "check") != 0) {
        cli_error("policy takes 'check FILE'");
        fputs(policy_usage, stderr);
        return CLI_USAGE;
    }
    rc = trust_load_policy(argv[2], 1, &p);
    if (rc == GL_EIO || rc == GL_ENOMEM)
        return CLI_USAGE;
    if (rc != 0)
        return CLI_VERIFY;
    gl_buf_init(&d, 1 << 20);
    if (gl_policy_describe(p, &d) == 0)
        printf("valid policy: %s\n", (const char *)d.data);
    print_details(p);
    warn(argv[2], p);
    gl_buf_release(&d);
    gl_policy_free(p);
    return CLI_OK;
}
