/*
 * glasslogd: the log server. Start-up is where the safety rules live:
 *  - a new log is made only with --create, in a missing or empty data
 *    directory (a lost disk must never silently restart a log at size 0
 *    under the same key: that would be a second history);
 *  - an existing store must belong to this log key, and its stored tiles
 *    must reproduce the root its stored checkpoint signs;
 *  - a front-end of a shared store (PostgreSQL) starts from the state the
 *    sequencer marked durable, not the stored one (whose last commit may
 *    be on the primary alone): without a mark it serves no tree (503)
 *    until it follows a marked one or, having taken the lease, made the
 *    stored one durable and marked it (follow_durable, seq_syncing);
 * then the sequencer and the HTTP server run on one libuv loop until
 * SIGINT/SIGTERM, which finishes every accepted append and exits 0.
 * SIGHUP and SIGUSR1 (whose default action is to terminate) are held from
 * the start of main, before any thread exists, so a reload or backup asked
 * for during a slow start (a restore, the tree check, the witness probe)
 * runs once the loop handles them instead of killing the process; from
 * the shutdown on they are ignored (opsignal.h).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <uv.h>

#include "api.h"
#include "backup.h"
#include "config.h"
#include "entryindex.h"
#include "file.h"
#include "fsck.h"
#include "glasslog/checkpoint.h"
#include "glasslog/error.h"
#include "glasslog/log.h"
#include "glasslog/merkle.h"
#include "glasslog/policy.h"
#include "glasslog/sha256.h"
#include "glasslog/statement.h"
#include "http_server.h"
#include "readapi.h"
#include "kv.h"
#include "mirrorpush.h"
#include "opsignal.h"
#include "publish.h"
#include "reload.h"
#include "restore.h"
#include "sdnotify.h"
#include "seq.h"
#include "store.h"
#include "submitters.h"
#include "text.h"
#include "tree.h"
#include "web.h"

#define MAX_SUBMITTERS 4096
/* Descriptors kept from HTTP connections: RocksDB's, one outgoing
 * connection per witness at most, and 64 for libuv, stdio and files. */
#define FD_RESERVE (KV_FD_RESERVE + GL_POLICY_MAX_WITNESSES + 64)

struct daemon {
    struct config cfg;
    int argc; /* the command line, read again by a reload */
    char **argv;
    uv_loop_t loop;
    struct gl_signer key;
    struct gl_verifier vkey;
    struct submitters subs;
    struct store *store;
    struct tree *tree;
    struct gl_buf ckpt;
    struct tilecache *cache;
    struct seq *seq;
    struct gl_http_server *http;
    struct publish *pub;
    struct api api;
    struct web *web;          /* the explorer files and /policy */
    struct mirrorpush *mpush; /* --mirrors, or NULL */
    uv_signal_t sigint, sigterm, sighup, sigusr1;
    struct backup backup; /* SIGUSR1 */
    uv_timer_t grace;
    int stopping, pending_parts, seq_done, finished;
    int ready;             /* READY=1 sent to the service manager */
    uint64_t signed_size;  /* the newest checkpoint handed to the witnesses */
    int signed_any;        /* one was (signed_size is set) */
    uint64_t told_size;    /* the size the last "waiting" STATUS= named, + 1 (0: none) */
    int copy;              /* the store is a copy still to be shown current */
    struct gl_policy *pol; /* --witnesses, until setup_witnesses hands it over */
    char holder[512];      /* this process's name for a shared store's lease */
    int await_mark;        /* a shared store without a durable mark at start: the tree
                              and checkpoint are not served until there is one */
    uint64_t stored;       /* the stored tree size at start (check_store) */
    uint8_t follow_refused[GL_HASH_LEN]; /* the last served note refused (follow_check) */
};

/* What a reload (and --check-config) reads with the settings cfg;
 * allow_empty: see reload.h. */
static struct reload_config reload_cfg(const struct config *cfg, int allow_empty)
{
    struct reload_config c = {cfg->submitters,
                              MAX_SUBMITTERS,
                              {cfg->submit_rate_u, cfg->submit_burst},
                              cfg->witnesses,
                              allow_empty};
    return c;
}

/* Loads the submitter keys with their rate limits (submitters.h). A file
 * without a key is accepted at start (a log brought up before its first
 * pipeline key, a --read-only one), with a warning; a reload refuses it
 * unless --read-only. */
static int load_submitters(struct daemon *d)
{
    struct reload_config c = reload_cfg(&d->cfg, 1);
    size_t limited = 0;
    int rc = reload_read_submitters(&c, uv_now(&d->loop), &d->subs);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < d->subs.n; i++)
        limited += !ratelimit_unlimited(&d->subs.limits[i]);
    if (d->subs.n == 0)
        gl_log(GL_LOG_WARN, "no submitter keys in %s: every append will be refused",
               d->cfg.submitters);
    else
        gl_log(GL_LOG_INFO, "%zu submitter key(s), %zu with a rate limit", d->subs.n,
               limited);
    return 0;
}

static int load_keys(struct daemon *d)
{
    struct gl_err why;
    int rc;

    if ((rc = gl_file_load_signer(d->cfg.key, &d->key, &why)) != 0) {
        gl_log_err(GL_LOG_ERROR, d->cfg.key, &why);
        return rc;
    }
    if (d->key.type != GL_KEY_NOTE) {
        gl_log(GL_LOG_ERROR, "%s is a witness cosigning key; a log needs a note key",
               d->cfg.key);
        return GL_EKEYTYPE;
    }
    gl_signer_verifier(&d->key, &d->vkey);
    return load_submitters(d);
}

/* --witnesses: the policy, read once into d->pol (reload.h). */
static int load_policy(struct daemon *d)
{
    return d->cfg.witnesses[0] ? reload_load_policy(d->cfg.witnesses, &d->pol) : 0;
}

/* Writes the first state of a new log: its key and a signed size-0
 * checkpoint (root = SHA-256 of nothing), if the stored state is still
 * the empty one of epoch 0 (GL_ESTATE otherwise). */
static int create_log(struct daemon *d)
{
    struct store_batch *b = NULL;
    struct gl_buf ck, vk;
    uint8_t root[32];
    int rc;

    gl_buf_init(&ck, 4096);
    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    gl_merkle_empty_root(root);
    if ((rc = gl_verifier_format(&d->vkey, &vk)) != 0 ||
        (rc = gl_checkpoint_sign(d->key.name, 0, root, &d->key, &ck)) != 0 ||
        (rc = store_batch_new(d->store, &b)) != 0)
        goto out;
    store_batch_put_vkey(b, (const char *)vk.data);
    store_batch_put_state(b, 0, ck.data, ck.len);
    /* only over the empty state no sequencer has held: on a shared
     * store, another glasslogd started with --create at the same time
     * may have created the log and sequenced already */
    rc = store_batch_commit(b, &(struct store_expect){0, 0});
    if (rc == 0)
        gl_log(GL_LOG_INFO, "created a new log %s", d->key.name);
    else if (rc == GL_ESTATE)
        gl_log(GL_LOG_ERROR, "the store's log was created and written meanwhile (another "
                             "glasslogd with --create?): not created again");
out:
    store_batch_free(b);
    gl_buf_release(&ck);
    gl_buf_release(&vk);
    return rc;
}

/* Checks that ck is signed by this log's key for a tree of `size` whose
 * stored tiles reproduce the root it signs, and loads that tree. `what`
 * names the checkpoint in the log lines ("stored", "marked durable"). */
static int check_tree(struct daemon *d, const struct gl_buf *ck, uint64_t size,
                      const char *what)
{
    struct gl_checkpoint c;
    struct gl_err ck_why;
    char why[256], msg[GL_ERR_REASON_MAX + 32];
    int rc;

    if ((rc = gl_checkpoint_open((const char *)ck->data, ck->len, &d->vkey, &c, NULL,
                                 &ck_why)) != 0) {
        gl_log(GL_LOG_ERROR,
               "the %s checkpoint is not validly signed by this log key: %s", what,
               gl_err_format(&ck_why, NULL, msg, sizeof(msg)));
        return rc;
    }
    snprintf(msg, sizeof(msg), "STATUS=checking the stored tree of size %llu",
             (unsigned long long)size);
    (void)gl_sdnotify(msg); /* a large tree takes a while (~2 s per million) */
    if (c.size != size ||
        (rc = tree_check(d->tree, d->store, size, c.root, why, sizeof(why))) != 0) {
        gl_log(GL_LOG_ERROR,
               "the stored tiles do not match the %s checkpoint (size %llu): %s: "
               "refusing to start",
               what, (unsigned long long)c.size,
               c.size != size ? "it is not the size stored beside it" : why);
        return rc != 0 ? rc : GL_EVERIFY;
    }
    return 0;
}

/* Checks that the store belongs to this key and that its tiles reproduce
 * the root its checkpoint signs; loads the tree. */
static int check_store(struct daemon *d)
{
    struct gl_buf vk, mine;
    uint64_t size;
    int rc;

    gl_buf_init(&vk, GL_KEY_TEXT_MAX);
    gl_buf_init(&mine, GL_KEY_TEXT_MAX);
    if ((rc = store_get_vkey(d->store, &vk)) != 0 ||
        (rc = gl_verifier_format(&d->vkey, &mine)) != 0)
        goto fail_msg;
    if (vk.len != mine.len || memcmp(vk.data, mine.data, vk.len) != 0) {
        gl_log(GL_LOG_ERROR,
               "the data in %s belongs to log key %s, not %s: refusing to start",
               d->cfg.data, (char *)vk.data, (char *)mine.data);
        rc = GL_EINVAL;
        goto out;
    }
    if ((rc = store_get_state(d->store, &size, &d->ckpt)) != 0)
        goto fail_msg;
    if ((rc = check_tree(d, &d->ckpt, size, "stored")) != 0)
        goto out;
    d->stored = size;
    gl_log(GL_LOG_INFO, "log %s: %llu entries, tiles match the signed checkpoint",
           d->key.name, (unsigned long long)size);
    goto out;
fail_msg:
    gl_log(GL_LOG_ERROR, "cannot read the store's state: %s", gl_strerror(rc));
out:
    gl_buf_release(&vk);
    gl_buf_release(&mine);
    return rc;
}

/* --restore-from: rebuilds the data directory from a copy (restore.h),
 * verified against the log key and, with --witnesses, the quorum. */
static int restore_maybe(struct daemon *d)
{
    struct restore_config rc = {
        d->cfg.restore_from, d->cfg.data, &d->key, &d->vkey, d->pol, d->cfg.cache_mb};

    if (d->cfg.restore_from[0] == 0)
        return 0;
    if (d->cfg.data[0] == 0 || d->cfg.create) {
        gl_log(GL_LOG_ERROR, "--restore-from needs --data (and no --create)");
        return GL_EINVAL;
    }
    return restore_run(&rc);
}

/* Why the witnesses cannot show a copy current, or NULL when they can.
 * They show only what they cosigned, so not without witnesses (no
 * --witnesses, or a policy naming none: "every witness answered" would
 * be true of nobody), nor when the log may have served and acknowledged
 * checkpoints no witness cosigned: in fail-open mode, or with a quorum
 * that zero witnesses meet (quorum none). */
static const char *copy_unshown(const struct daemon *d)
{
    size_t n = d->pol != NULL ? gl_policy_nwitnesses(d->pol) : 0;
    uint8_t *none;
    int met;

    if (d->pol == NULL)
        return "no witnesses are configured to show it current";
    if (n == 0)
        return "the --witnesses policy names no witness to show it current";
    if (strcmp(d->cfg.witness_mode, "block") != 0)
        return "the witnesses cannot show it current: in --witness-mode fail-open the "
               "log serves checkpoints no witness cosigned";
    if ((none = calloc(n, 1)) == NULL)
        return "out of memory checking the --witnesses quorum";
    met = gl_policy_quorum_check(d->pol, none, n) == 0;
    free(none);
    if (met)
        return "the witnesses cannot show it current: the --witnesses quorum is met "
               "without any witness (quorum none), so the log serves checkpoints no "
               "witness cosigned";
    return NULL;
}

/* A store that is a copy (a backup or a restore, also a PostgreSQL
 * database the operator marked after restoring it: store_get_copy) may be
 * older than what the log released, and signing on it would fork the
 * log. It signs nothing until shown current: by every witness of the
 * policy (setup_witnesses asks each; one that does not answer stops the
 * start) and every --mirrors target (start_mirrors: mirrorpush_probe),
 * or, when the witnesses cannot show it (copy_unshown), by the
 * operator's --accept-copy. Then uncopy removes the mark, and later
 * starts are as any other. A read-only log signs nothing new: the mark
 * stays. */
static int check_copy(struct daemon *d)
{
    const char *why;
    int rc;

    if ((rc = store_get_copy(d->store, &d->copy)) != 0) {
        gl_log(GL_LOG_ERROR, "cannot read the store's copy mark: %s", gl_strerror(rc));
        return rc;
    }
    if (!d->copy)
        return 0;
    if (d->cfg.read_only) {
        gl_log(GL_LOG_INFO, "this store is a copy (backup or restore); read-only, "
                            "so it stays marked as one");
        d->copy = 0;
        return 0;
    }
    if ((why = copy_unshown(d)) != NULL && !d->cfg.accept_copy) {
        gl_log(GL_LOG_ERROR,
               "this store is a copy (backup or restore), which may be older than "
               "what the log released, and %s: refusing to start (%s, or pass "
               "--accept-copy if the copy is known to hold all the log released)",
               why,
               d->pol == NULL || gl_policy_nwitnesses(d->pol) == 0
                   ? "configure --witnesses naming witnesses"
                   : "witnesses show a copy current only in block mode with a quorum "
                     "that needs them");
        return GL_ESTATE;
    }
    return 0;
}

/* The copy was shown current (check_copy): the mark goes, durably,
 * before anything is signed. */
static int uncopy(struct daemon *d)
{
    int rc;

    if (!d->copy)
        return 0;
    if ((rc = store_set_copy(d->store, 0)) != 0) {
        gl_log(GL_LOG_ERROR, "cannot remove the store's copy mark: %s", gl_strerror(rc));
        return rc;
    }
    d->copy = 0;
    gl_log(GL_LOG_INFO, "this store was a copy (backup or restore); %s: serving it",
           d->cfg.accept_copy ? "--accept-copy says it is current"
                              : "every witness answered without conflict");
    return 0;
}

/* A front-end of a shared store serves only what the sequencer marked
 * durable (specs/log.md, "The durable mark"): the stored state's last
 * commit may be on the primary alone, to be lost by a fail-over. So the
 * tree starts at the marked size, with the marked checkpoint (checked as
 * the stored one was). Without a mark (none yet under the current epoch)
 * it starts empty, and the tree, its checkpoint, proofs and look-ups
 * answer 503 (d->await_mark, handle) until the sequencer follows a marked
 * tree or, holding the lease, has made the stored one durable and marked
 * it (seq_syncing). Appends are taken meanwhile: a follower
 * answers them only once its tree, marked, holds them. Runs before the
 * witnesses' start-up probe (setup_witnesses), which then shows them the
 * marked checkpoint (or the placeholder of size 0), never the stored
 * one, which may be on the primary alone: a witness that has cosigned
 * nothing yet would cosign it. */
static int follow_durable(struct daemon *d)
{
    struct gl_buf ck;
    uint64_t size = d->tree->range.size, marked = 0;
    uint8_t root[GL_HASH_LEN];
    int rc;

    if (!store_shared(d->store) || size == 0)
        return 0;
    gl_buf_init(&ck, 4096);
    rc = store_get_durable(d->store, &marked, &ck);
    if (rc == 0 && marked >= size)
        goto out;
    if (rc == 0) {
        if ((rc = check_tree(d, &ck, marked, "marked durable")) != 0)
            goto out;
        gl_log(GL_LOG_INFO,
               "the stored size %llu is not marked durable yet: starting from the "
               "marked size %llu",
               (unsigned long long)size, (unsigned long long)marked);
    } else if (rc == GL_ENOTFOUND) {
        gl_buf_reset(&ck);
        gl_merkle_empty_root(root);
        if ((rc = tree_load(d->tree, d->store, 0)) != 0 ||
            (rc = gl_checkpoint_sign(d->key.name, 0, root, &d->key, &ck)) != 0)
            goto out;
        d->await_mark = 1;
        gl_log(GL_LOG_WARN,
               "no durable mark under the sequencer's epoch (stored size %llu): serving "
               "no tree (503) until the sequencer marks one durable",
               (unsigned long long)size);
    } else {
        gl_log(GL_LOG_ERROR, "cannot read the durable mark: %s", gl_strerror(rc));
        goto out;
    }
    gl_buf_reset(&d->ckpt);
    rc = gl_buf_append(&d->ckpt, ck.data, ck.len);
out:
    gl_buf_release(&ck);
    return rc;
}

static int open_store(struct daemon *d)
{
    struct store_options o = {.url = d->cfg.store[0] ? d->cfg.store : NULL,
                              .dir = d->cfg.data[0] ? d->cfg.data : NULL,
                              .create = d->cfg.create,
                              .cache_mb = d->cfg.cache_mb};
    const char *why = "";
    int rc;

    if ((rc = store_open(&o, &d->store, &why)) != 0) {
        gl_log(GL_LOG_ERROR, "%s: %s", o.url != NULL ? "the store" : d->cfg.data, why);
        return rc;
    }
    if (d->cfg.create && (rc = create_log(d)) != 0) {
        gl_log(GL_LOG_ERROR, "cannot create the log: %s", gl_strerror(rc));
        return rc;
    }
    if ((rc = check_store(d)) != 0 || (rc = check_copy(d)) != 0)
        return rc;
    return entryindex_update(d->store, d->tree->range.size);
}

/* The HTTP handler: the API's (api_handle), except that while
 * d->await_mark holds (follow_durable) the tree's reads and /healthz
 * answer 503 (a load balancer sends reads elsewhere). It
 * ends once the sequencer serves a durable tree: one it follows (its size
 * is then marked durable: the store had entries, so a follower's tree
 * grows only from a mark), or, leading, the stored one it made durable
 * and marked (not while seq_syncing: the placeholder of size 0 is
 * still published then). */
static int handle(void *ctx, struct gl_http_req *req)
{
    static const char body[] =
        "{\"error\":\"this front-end has not yet seen a state the sequencer marked "
        "durable; retry\"}";
    const struct gl_http_header h[] = {{"Retry-After", "1"},
                                       {"Cache-Control", "no-store"}};
    struct daemon *d = ctx;
    const char *p = req->path;

    if (d->await_mark && ((seq_leads(d->seq) && !seq_syncing(d->seq)) ||
                          seq_tree(d->seq)->range.size > 0)) {
        d->await_mark = 0;
        gl_log(GL_LOG_INFO, "serving the tree of size %llu",
               (unsigned long long)seq_tree(d->seq)->range.size);
    }
    if (d->await_mark && (strcmp(p, "/checkpoint") == 0 || strcmp(p, "/healthz") == 0 ||
                          gl_str_prefix(p, "/tile/") || readapi_wants(p)))
        return gl_http_reply(req, 503, "application/json", h, 2, body, sizeof(body) - 1);
    return api_handle(&d->api, req);
}

static int prove_consistency(void *ctx, uint64_t m, uint64_t n,
                             uint8_t (*proof)[GL_HASH_LEN], size_t *len)
{
    struct daemon *d = ctx;
    struct tree_reader r = {seq_tree(d->seq), d->store, d->cache};
    struct gl_hash_source src;

    tree_source(&r, &src);
    return gl_merkle_prove_consistency(&src, m, n, proof, len);
}

static void shutdown_maybe_finish(struct daemon *d);

/* Not ready yet, nothing served, listening: STATUS= says which signed
 * checkpoint waits for its witness quorum (once per size), so that
 * `systemctl status` shows why the start has not ended. */
static void status_waiting(struct daemon *d)
{
    char msg[96];

    if (!d->signed_any || d->told_size == d->signed_size + 1)
        return;
    d->told_size = d->signed_size + 1;
    snprintf(msg, sizeof(msg),
             "STATUS=waiting for a witness quorum for the checkpoint of size %llu",
             (unsigned long long)d->signed_size);
    (void)gl_sdnotify(msg);
}

/* Tells the service manager (Type=notify) that the log is ready, once: when
 * the listener is bound and a checkpoint is served (at once without
 * witnesses; in block mode after the first quorum). A checkpoint served
 * before the listener exists (fail-open with the witnesses failing the
 * start-up probe: seq_new releases the stored one) waits for start().
 * Until then, STATUS= says what it waits for (status_waiting). */
static void ready_maybe(struct daemon *d)
{
    const struct gl_buf *note = NULL;
    uint64_t size = 0;
    char msg[GL_KEY_NAME_MAX + 96];

    if (d->ready || d->stopping || d->http == NULL)
        return;
    if (d->pub != NULL && (publish_served(d->pub, &note, &size), note == NULL)) {
        status_waiting(d);
        return;
    }
    d->ready = 1;
    snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving log %s\nMAINPID=%ld", d->key.name,
             (long)getpid());
    if (gl_sdnotify(msg) != 0)
        gl_log(GL_LOG_WARN, "cannot notify the service manager at $NOTIFY_SOCKET");
}

/* The sequencer of a shared store stores what it serves, so every
 * front-end serves the same cosigned checkpoint (on_follow). */
static void share_served(struct daemon *d)
{
    const struct gl_buf *note;
    uint64_t size;
    int rc;

    if (d->seq == NULL || !store_shared(d->store) || !seq_leads(d->seq))
        return;
    publish_served(d->pub, &note, &size);
    if (note != NULL &&
        (rc = store_put_served(d->store, size, note->data, note->len)) != 0)
        gl_log(GL_LOG_WARN, "cannot store the served checkpoint of size %llu: %s",
               (unsigned long long)size, gl_strerror(rc));
}

/* The served checkpoint (with the witness cosignatures) is what the
 * mirrors get (mirrorpush.h). */
static void served_to_mirrors(struct daemon *d)
{
    const struct gl_buf *note = NULL;
    uint64_t size = 0;

    if (d->pub == NULL || d->mpush == NULL)
        return;
    publish_served(d->pub, &note, &size);
    if (note != NULL)
        mirrorpush_served(d->mpush, note->data, note->len);
}

static void on_served(void *ctx)
{
    struct daemon *d = ctx;

    share_served(d);
    served_to_mirrors(d);
    api_served(&d->api);
    ready_maybe(d);
    shutdown_maybe_finish(d);
}

static void on_checkpoint(void *ctx, const uint8_t *note, size_t len, uint64_t size)
{
    struct daemon *d = ctx;

    /* every released tree, a follower's too: the mirrors get no other */
    mirrorpush_released(d->mpush, size);
    /* a follower of a shared store leaves the witnesses to the sequencer
     * (d->seq is NULL while seq_new releases the loaded checkpoint; on a
     * shared store nobody sequences yet then) */
    if (d->pub != NULL &&
        (d->seq == NULL ? !store_shared(d->store) : seq_leads(d->seq))) {
        publish_checkpoint(d->pub, note, len, size);
        d->signed_size = size;
        d->signed_any = 1;
        ready_maybe(d); /* before readiness: say what it waits for */
    }
}

/* Whether the follower may serve `note` as the served checkpoint of
 * `size`: one it serves already, or one signed by this log's key for that
 * size with the root its own tree has there (the store holds what the
 * sequencer wrote, but a front-end serves nothing its tree does not
 * prove). A refused note is logged once and not checked again while it
 * stays stored. */
static int follow_check(struct daemon *d, const struct gl_buf *note, uint64_t size)
{
    const struct gl_buf *cur;
    struct gl_checkpoint c;
    struct gl_err ck_why;
    uint8_t h[GL_HASH_LEN], root[GL_HASH_LEN];
    char msg[GL_ERR_REASON_MAX + 32];
    const char *why = msg;
    uint64_t cur_size;
    int rc;

    publish_served(d->pub, &cur, &cur_size);
    if (cur != NULL &&
        (size < cur_size || (size == cur_size && cur->len == note->len &&
                             memcmp(cur->data, note->data, note->len) == 0)))
        return 0; /* publish_adopt keeps what it serves */
    if ((rc = gl_sha256(note->data, note->len, h)) != 0)
        return rc;
    if (memcmp(h, d->follow_refused, GL_HASH_LEN) == 0)
        return GL_EVERIFY; /* refused already: checked (and logged) once */
    if ((rc = gl_checkpoint_open((const char *)note->data, note->len, &d->vkey, &c, NULL,
                                 &ck_why)) != 0) {
        gl_err_format(&ck_why, NULL, msg, sizeof(msg));
    } else if (c.size != size) {
        rc = GL_EPARSE;
        why = "its size is not the one stored beside it";
    } else if ((rc = tree_root_at(seq_tree(d->seq), d->store, size, root)) != 0) {
        return rc; /* the store's failure (logged there): tried again at the next poll */
    } else if (CRYPTO_memcmp(root, c.root, GL_HASH_LEN) != 0) {
        rc = GL_EVERIFY;
        why = "its root is not this front-end's tree's root at that size";
    }
    if (rc == 0)
        return 0;
    gl_log(GL_LOG_ERROR,
           "store: the sequencer's served checkpoint of size %llu is not served: %s",
           (unsigned long long)size, why);
    memcpy(d->follow_refused, h, GL_HASH_LEN);
    return rc;
}

/* A follower serves the sequencer's served checkpoint once its own tree
 * holds that size (so the proofs against it can be made) and it passes
 * follow_check. */
static void on_follow(void *ctx)
{
    struct daemon *d = ctx;
    struct gl_buf note;
    uint64_t size = 0;

    if (d->pub == NULL || d->seq == NULL || seq_leads(d->seq))
        return;
    gl_buf_init(&note, 1 << 20);
    if (store_get_served(d->store, &size, &note) == 0 &&
        size <= seq_tree(d->seq)->range.size && follow_check(d, &note, size) == 0)
        publish_adopt(d->pub, note.data, note.len, size);
    gl_buf_release(&note);
}

/* Loads the witness policy and asks every witness, before anything is
 * signed, whether our data is the history it cosigned: with the checkpoint
 * served at start (on a shared store the one marked durable:
 * follow_durable runs first), a witness that cosigned more than the store
 * holds proving the data lost (publish_probe). */
static int setup_witnesses(struct daemon *d)
{
    struct publish_config pc = {strcmp(d->cfg.witness_mode, "block") == 0,
                                d->cfg.witness_timeout_ms, prove_consistency, on_served,
                                d};
    struct gl_policy *pol = d->pol;
    int rc;

    if (pol == NULL)
        return 0;
    d->pol = NULL; /* publish_new owns it, also when it fails */
    if ((rc = publish_new(&d->loop, pol, &pc, &d->pub)) != 0)
        return rc;
    d->api.pub = d->pub;
    rc = publish_probe(d->pub, d->ckpt.data, d->ckpt.len, d->tree->range.size, d->stored,
                       d->copy && !d->cfg.accept_copy);
    if (rc == 0)
        gl_log(GL_LOG_INFO, "%zu witness(es), %s mode", gl_policy_nwitnesses(pol),
               d->cfg.witness_mode);
    return rc;
}

/* --- shutdown ----------------------------------------------------------------
 * SIGINT/SIGTERM: stop accepting (the listener closes, keep-alive ends, new
 * appends get 503), settle every append already taken (the sequencer cuts
 * what is in its pool at once and commits it), then give the witnesses up
 * to SHUTDOWN_GRACE_MS to cosign what was committed. Appends covered by
 * then get their 200; in fail-open mode the newest checkpoint is served
 * and covers the rest; in block mode the rest get 503 with Retry-After
 * (their entries are durable: a retry gets the original index). Then the
 * witness client closes, and the loop ends when the last connection has.
 */
#define SHUTDOWN_GRACE_MS 3000

static void on_part_closed(void *arg)
{
    struct daemon *d = arg;

    if (--d->pending_parts == 0) {
        uv_close((uv_handle_t *)&d->sigint, NULL);
        uv_close((uv_handle_t *)&d->sigterm, NULL);
        uv_close((uv_handle_t *)&d->sighup, NULL);
        uv_close((uv_handle_t *)&d->sigusr1, NULL);
        gl_opsignal_ignore(); /* while the store closes (opsignal.h) */
        gl_log(GL_LOG_INFO, "stopped");
    }
}

static void on_grace_closed(uv_handle_t *h)
{
    on_part_closed(h->data);
}

/* Answers every parked append and lets the witness client go. */
static void shutdown_finish(struct daemon *d)
{
    if (d->finished)
        return;
    d->finished = 1;
    uv_timer_stop(&d->grace);
    uv_close((uv_handle_t *)&d->grace, on_grace_closed);
    if (d->pub != NULL && strcmp(d->cfg.witness_mode, "fail-open") == 0)
        publish_serve_newest(d->pub);
    if (d->api.nwaiting > 0)
        gl_log(GL_LOG_WARN, "%zu logged appends not cosigned in time: answered 503",
               d->api.nwaiting);
    api_shutdown(&d->api);
    publish_close(d->pub);
}

static void shutdown_maybe_finish(struct daemon *d)
{
    if (d->stopping && d->seq_done && d->api.nwaiting == 0)
        shutdown_finish(d);
}

static void on_grace(uv_timer_t *t)
{
    shutdown_finish(t->data);
}

static void on_seq_closed(void *arg)
{
    struct daemon *d = arg;

    d->seq_done = 1;
    shutdown_maybe_finish(d);
    on_part_closed(d);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (d->stopping)
        return;
    d->stopping = 1;
    d->pending_parts = 3; /* the HTTP server, the sequencer, the grace timer */
    gl_log(GL_LOG_INFO, "signal %d: finishing accepted appends, then stopping", signum);
    (void)gl_sdnotify("STOPPING=1");
    uv_timer_start(&d->grace, on_grace, SHUTDOWN_GRACE_MS, 0);
    gl_http_server_close(d->http, on_part_closed, d);
    seq_shutdown(d->seq, on_seq_closed, d);
}

/* Reads and parses the --mirrors file into *l; logs why on failure. */
static int load_mirrors(const struct daemon *d, struct mirrorpush_list *l)
{
    struct gl_buf text;
    struct gl_err why;
    int rc;

    gl_buf_init(&text, 1 << 20);
    if ((rc = gl_file_read(d->cfg.mirrors, &text)) != 0)
        gl_log(GL_LOG_ERROR, "cannot read %s: %s", d->cfg.mirrors,
               gl_file_read_error(rc));
    else if ((rc = mirrorpush_parse((const char *)text.data, text.len, l, &why)) != 0)
        gl_log_err(GL_LOG_ERROR, d->cfg.mirrors, &why);
    gl_buf_release(&text);
    return rc;
}

/* --mirrors: a thread pushing the stored tree to each mirror. A copy
 * asks them first whether one holds more (mirrorpush_probe). */
static int start_mirrors(struct daemon *d)
{
    struct mirrorpush_list *l;
    int rc;

    if (d->cfg.mirrors[0] == 0)
        return 0;
    if ((l = malloc(sizeof *l)) == NULL)
        return GL_ENOMEM;
    if ((rc = load_mirrors(d, l)) == 0 && d->copy)
        rc = mirrorpush_probe(l, d->ckpt.data, d->ckpt.len, d->tree->range.size,
                              d->cfg.accept_copy);
    if (rc == 0 && (rc = mirrorpush_start(d->store, l, 500, &d->mpush)) == 0) {
        /* the loaded tree is durable, unless on a shared store, where the
         * stored tree may be on the primary alone (follow_durable): there
         * the sequencer's first release (seq_new) gives the size */
        if (!store_shared(d->store))
            mirrorpush_released(d->mpush, d->tree->range.size);
        gl_log(GL_LOG_INFO, "pushing to %zu mirrors", l->n);
        served_to_mirrors(d);
    }
    free(l);
    return rc;
}

/* --check-config: the key and every file the options name (submitters,
 * witness policy, mirrors, explorer and public policy), read and parsed
 * as a start reads them, and the submitters and witness policy as a
 * reload does (so a submitters file without a key is refused unless
 * --read-only: the unit's ExecReload runs this first); no store is
 * opened and no port bound. 0 if all are usable; otherwise the log says
 * why, and *start_ok is 1 if a start would take them all the same (a
 * submitters file without a key: a start serves and refuses appends,
 * a reload keeps the keys in use). */
static int check_config(struct daemon *d, int *start_ok)
{
    struct mirrorpush_list *l = NULL;
    struct reload_config c = reload_cfg(&d->cfg, 1);
    struct submitters subs = {0};
    char webdir[CONFIG_PATH_MAX];
    int rc;

    *start_ok = 0;
    if ((rc = load_keys(d)) != 0 ||
        (rc = reload_read_submitters(&c, uv_now(&d->loop), &subs)) != 0 ||
        (rc = load_policy(d)) != 0)
        goto out;
    if (d->cfg.mirrors[0] &&
        ((l = malloc(sizeof *l)) == NULL || (rc = load_mirrors(d, l)) != 0)) {
        rc = rc != 0 ? rc : GL_ENOMEM;
        goto out;
    }
    if ((rc = web_resolve_dir(d->cfg.web, webdir, sizeof(webdir))) == 0)
        rc = web_new(webdir, d->cfg.public_policy, &d->web);
    if (rc == 0 && subs.n == 0 && !d->cfg.read_only) {
        gl_log(GL_LOG_ERROR,
               "%s lists no submitter key: a start would serve and refuse every append; "
               "a reload is refused (it keeps the keys in use; to stop appends, restart "
               "with --read-only)",
               c.submitters);
        *start_ok = 1;
        rc = GL_EINVAL;
    }
out:
    free(l);
    submitters_release(&subs);
    return rc;
}

/* The settings a reload reads into *next: the command line with its
 * config file as they are now, parsed as at start (config_parse). 0 with
 * *lvl the log level; else an error with why (NUL-terminated) naming the
 * setting refused (config_reload_check: one that needs a restart). */
static int reload_settings(const struct daemon *d, struct config *next,
                           enum gl_log_level *lvl, char *why, size_t why_len)
{
    if (config_parse(d->argc, d->argv, next) != 0) {
        snprintf(why, why_len, "the settings do not parse (the line above says why)");
        return GL_EPARSE;
    }
    if (gl_log_parse_level(next->log_level, lvl) != 0) {
        snprintf(why, why_len, "log-level: unknown level \"%s\"", next->log_level);
        return GL_EPARSE;
    }
    return config_reload_check(&d->cfg, next, why, why_len);
}

/* Puts in use the settings of an applied reload (config_reload_check
 * lists them). */
static void take_settings(struct config *cur, const struct config *next,
                          enum gl_log_level lvl)
{
    memcpy(cur->submitters, next->submitters, sizeof(cur->submitters));
    memcpy(cur->witnesses, next->witnesses, sizeof(cur->witnesses));
    memcpy(cur->submit_rate, next->submit_rate, sizeof(cur->submit_rate));
    cur->submit_rate_u = next->submit_rate_u;
    cur->submit_burst = next->submit_burst;
    memcpy(cur->log_level, next->log_level, sizeof(cur->log_level));
    gl_log_set_level(lvl);
}

/* A reload: the settings read again (reload_settings), then the
 * submitters and the witness policy they name (reload_run); all of it
 * applied, or none. The outcome goes into status (reload.h). */
static void reload_all(struct daemon *d, char *status, size_t status_len)
{
    static struct config next; /* loop thread only; too large for the stack */
    struct reload_config c;
    enum gl_log_level lvl;
    char why[RELOAD_STATUS_MAX / 2];

    if (reload_settings(d, &next, &lvl, why, sizeof(why)) != 0) {
        gl_log(GL_LOG_ERROR, "reload: refused: %s; everything in use stays", why);
        snprintf(status, status_len, "reload refused: %s", why);
        return;
    }
    c = reload_cfg(&next, next.read_only);
    if (reload_run(&c, &d->subs, &d->api, d->pub, status, status_len) == 0)
        take_settings(&d->cfg, &next, lvl);
}

/* SIGHUP: read the settings again and re-read the submitters and the
 * witness policy, all or nothing (reload_all). The service manager hears
 * RELOADING=1 then READY=1 with STATUS= the outcome ("reload applied:
 * ..." or "reload refused: ...": the log serves on either way) only once
 * the log is ready: before, READY=1 would claim a service that does not
 * serve yet. */
static void on_hup(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;
    char status[RELOAD_STATUS_MAX], msg[RELOAD_STATUS_MAX + 32];

    (void)signum;
    if (d->stopping)
        return;
    gl_log(GL_LOG_INFO, "SIGHUP: reloading the settings, the submitters and the "
                        "witness policy");
    if (d->ready)
        (void)gl_sdnotify("RELOADING=1");
    reload_all(d, status, sizeof(status));
    snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
    if (d->ready)
        (void)gl_sdnotify(msg);
}

/* SIGUSR1: an online backup (backup.h). */
static void on_usr1(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    (void)signum;
    if (!d->stopping)
        (void)backup_start(&d->backup);
}

static int start(struct daemon *d)
{
    struct gl_http_server_config hc;
    struct seq_config sc = {on_checkpoint,   d,
                            d->cfg.batch_ms, d->cfg.batch_max,
                            d->cfg.pool_max, d->cfg.checkpoint_interval,
                            on_follow,       0};
    unsigned max_conns;
    char webdir[CONFIG_PATH_MAX];
    int rc;

    if ((rc = web_resolve_dir(d->cfg.web, webdir, sizeof(webdir))) != 0 ||
        (rc = web_new(webdir, d->cfg.public_policy, &d->web)) != 0)
        return rc;
    d->api.web = d->web;
    /* a shared store's witnesses are probed with the marked state; a
     * copy (also a restored PostgreSQL database) loses its mark only
     * once they answered */
    if ((rc = tilecache_new(d->cfg.tile_cache, &d->cache)) != 0 ||
        (!store_shared(d->store) && (rc = setup_witnesses(d)) != 0) ||
        (rc = follow_durable(d)) != 0 ||
        (store_shared(d->store) && (rc = setup_witnesses(d)) != 0) ||
        (rc = uncopy(d)) != 0 ||
        (rc = seq_new(&d->loop, d->store, &d->key, d->tree, d->ckpt.data, d->ckpt.len,
                      &sc, &d->seq)) != 0)
        return rc;
    if (store_shared(d->store) &&
        (rc = seq_share(d->seq, d->cfg.lease_ms, d->holder)) != 0)
        return rc;
    /* From here on the loop's own store calls (the lease, the poll, the
     * served note, an append's proof tiles and rate limit) wait at most a
     * third of --lease-ms each: a renewal sent --lease-ms/6 after the
     * last one has failed by half of --lease-ms, while the lease that
     * one gave (2/3) still runs, and the next renewal may still keep it
     * (the quiet time after another call's timeout spares the lease's
     * calls). The rest of the loop goes on meanwhile. */
    if ((rc = store_bound_thread(d->store, d->cfg.lease_ms / 3)) != 0)
        return rc;
    d->api.loop = &d->loop;
    d->api.seq = d->seq;
    d->api.store = d->store;
    d->api.mpush = d->mpush;
    gl_buf_init(&d->api.ck_mirrored, 1 << 20);
    d->api.cache = d->cache;
    d->api.submitters = d->subs.keys;
    d->api.nsubmitters = d->subs.n;
    d->api.limits = d->subs.limits;
    d->api.checkpoint_interval_s = d->cfg.checkpoint_interval;
    d->api.waiting_max = d->cfg.pool_max;
    d->api.read_only = d->cfg.read_only;
    if (d->cfg.read_only)
        gl_log(GL_LOG_INFO, "read-only: appends are refused with 410");
    if ((rc = gl_http_fd_budget(FD_RESERVE, &max_conns)) != 0)
        return rc;
    memset(&hc, 0, sizeof(hc));
    hc.listen = d->cfg.listen;
    hc.max_body = GL_STATEMENT_MAX_SIZE; /* POST /api/v1/add: one statement */
    hc.max_connections = max_conns;
    hc.max_conns_per_addr = d->cfg.conns_per_client;
    hc.idle_timeout_ms = d->cfg.request_timeout_ms;
    if ((rc = gl_http_server_new(&d->loop, &hc, handle, d, &d->http)) != 0)
        return rc;
    d->api.http = d->http;
    uv_timer_init(&d->loop, &d->grace);
    d->grace.data = d;
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    d->sigint.data = d->sigterm.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_init(&d->loop, &d->sighup);
    d->sighup.data = d;
    uv_signal_start(&d->sighup, on_hup, SIGHUP);
    d->backup =
        (struct backup){.loop = &d->loop, .store = d->store, .dir = d->cfg.backup_dir};
    uv_signal_init(&d->loop, &d->sigusr1);
    d->sigusr1.data = d;
    uv_signal_start(&d->sigusr1, on_usr1, SIGUSR1);
    /* the handlers are in place: what arrived meanwhile is delivered now
     * (to this thread: every other one keeps them blocked) */
    gl_opsignal_release();
    gl_log(GL_LOG_INFO, "serving log %s on %s (port %u)", d->key.name, d->cfg.listen,
           (unsigned)gl_http_server_port(d->http));
    ready_maybe(d);
    return 0;
}

/* A name for the sequencer lease unique among the front-ends of a shared
 * store: host, process and the listen address. */
static void holder_name(struct daemon *d)
{
    char host[256] = "";

    gethostname(host, sizeof(host) - 1);
    snprintf(d->holder, sizeof(d->holder), "%s/%ld/%s", host, (long)getpid(),
             d->cfg.listen);
}

/* The threadpool checks submitter signatures: one thread per core. */
static void size_threadpool(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    char v[16];

    if (getenv("UV_THREADPOOL_SIZE") != NULL)
        return;
    snprintf(v, sizeof(v), "%ld", n < 2 ? 2 : n > 64 ? 64 : n);
    setenv("UV_THREADPOOL_SIZE", v, 1);
}

int main(int argc, char **argv)
{
    static struct daemon d;
    enum gl_log_level lvl;
    int rc, status = 1;

    if (argc > 1 && strcmp(argv[1], "--fsck") == 0) /* a tool, not the daemon */
        return fsck_main(argc, argv);
    gl_opsignal_hold();
    rc = config_parse(argc, argv, &d.cfg);
    d.argc = argc;
    d.argv = argv;

    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (gl_log_parse_level(d.cfg.log_level, &lvl) != 0) {
        fprintf(stderr, "glasslogd: unknown log level %s\n", d.cfg.log_level);
        return 2;
    }
    gl_log_set_level(lvl);
    size_threadpool();
    gl_buf_init(&d.ckpt, 4096);
    if (uv_loop_init(&d.loop) != 0 || (d.tree = malloc(sizeof(*d.tree))) == NULL)
        return 1;
    holder_name(&d);
    if (d.cfg.check_config) {
        int start_ok;
        status = check_config(&d, &start_ok) == 0 ? 0 : 1;
        printf("glasslogd: %s\n",
               status == 0 ? "the configuration is usable"
               : start_ok  ? "the configuration is not usable for a reload (a start "
                             "takes it, with no submitter)"
                           : "the configuration is not usable");
        goto out;
    }
    if (load_keys(&d) != 0 || load_policy(&d) != 0 || restore_maybe(&d) != 0 ||
        open_store(&d) != 0 || start_mirrors(&d) != 0 || start(&d) != 0)
        goto out;
    uv_run(&d.loop, UV_RUN_DEFAULT);
    status = 0;
out:
    if (d.http != NULL && !gl_http_server_is_closed(d.http)) {
        gl_http_server_close(d.http, NULL, NULL);
        uv_run(&d.loop, UV_RUN_DEFAULT);
    }
    gl_http_server_free(d.http);
    d.http = NULL; /* nothing listens: ready_maybe stays silent */
    if (status != 0) {
        /* A failed start: the witness client closes with the sequencer
         * (its periodic timer would keep the loop running forever). */
        publish_close(d.pub);
        if (d.seq != NULL)
            seq_shutdown(d.seq, NULL, NULL);
        uv_run(&d.loop, UV_RUN_DEFAULT);
    }
    publish_free(d.pub);
    gl_policy_free(d.pol);
    mirrorpush_free(d.mpush);
    seq_free(d.seq);
    tilecache_free(d.cache);
    web_free(d.web);
    store_close(d.store);
    if (uv_loop_close(&d.loop) != 0)
        gl_log(GL_LOG_WARN, "event loop closed with handles still open");
    gl_signer_wipe(&d.key);
    submitters_release(&d.subs);
    free(d.tree);
    gl_buf_release(&d.ckpt);
    gl_buf_release(&d.api.ck_mirrored);
    return status;
}
