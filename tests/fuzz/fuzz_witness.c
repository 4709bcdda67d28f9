/*
 * fuzz_witness: the witness's network- and file-facing parsers: the
 * tlog-witness add-checkpoint body (parse, open against the example log,
 * decide against a few stored states), the logs/v0 list and the peers
 * file. Nothing may crash, a parsed body's views must lie inside it, and
 * every refusal must say why (fuzz_check_why). Set-up (the example log's
 * list) is done once, not per run.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../witness/addck.h"
#include "../../witness/logs.h"
#include "../../witness/peers.h"

static const char fuzz_logs[] =
    "logs/v0\n"
    "vkey example.com/log+9f5d4526+AWRyXegyaJ7XX9x3Co+oEFL7/PwhWatdHBLtnyNh+Dk0\n";

/* The record of an opened note must hold whole lines of the note and open
 * again, with our cosignature line added, as the same checkpoint: the
 * witness must be able to load whatever it stores. */
static void check_record(const struct addck_req *r, const struct addck_kept *kept,
                         const struct gl_checkpoint *c)
{
    static const char ours[] = "\xe2\x80\x94 witness.example/w "
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                               "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n";
    struct gl_checkpoint again;
    struct gl_note *n = NULL;
    struct gl_buf rec;

    if (kept->n == 0 || kept->n > LOGS_MAX_KEYS || kept->text_len > r->note_len)
        abort();
    for (size_t i = 0; i < kept->n; i++)
        if (kept->line[i].off + kept->line[i].len > r->note_len ||
            r->note[kept->line[i].off + kept->line[i].len - 1] != '\n')
            abort();
    gl_buf_init(&rec, ADDCK_BODY_MAX + 1024);
    if (addck_record(r->note, kept, ours, sizeof(ours) - 1, &rec) != 0 ||
        addck_record_open((const char *)rec.data, rec.len, &again, &n, NULL) != 0 ||
        n->nsigs != kept->n + 1 || again.size != c->size ||
        memcmp(again.root, c->root, 32) != 0)
        abort();
    gl_note_free(n);
    gl_buf_release(&rec);
}

static void fuzz_body(const uint8_t *data, size_t size, const struct logs_entry *log)
{
    struct addck_req *r = malloc(sizeof(*r));
    struct addck_state st = {0};
    struct gl_checkpoint c;
    struct addck_kept kept;
    struct gl_err why;
    const char *decided;
    int rc;

    if (r == NULL)
        return;
    memset(&why, 0, sizeof(why));
    if ((rc = addck_parse(data, size, r, &why)) != 0) {
        fuzz_check_why(rc, &why, data, size);
        goto out;
    }
    if (r->note < (const char *)data || r->note + r->note_len > (const char *)data + size)
        abort();
    if (r->malformed) {
        fuzz_check_why(GL_EPARSE, &r->syntax, data, size);
        goto out;
    }
    if ((rc = addck_open(r, log, &c, &kept, &why)) != 0) {
        fuzz_check_why(rc, &why, data, size);
        goto out;
    }
    check_record(r, &kept, &c);
    for (int i = 0; i < 3; i++) {
        st.has = i > 0;
        st.size = i == 2 ? c.size : 0;
        memcpy(st.root, c.root, 32);
        (void)addck_status(addck_decide(&st, r->old, (const uint8_t(*)[32])r->proof,
                                        r->nproof, &c, &decided));
    }
out:
    free(r);
}

/* The example log's list, parsed once for all runs (kept to the end of
 * the process, still reachable). */
static const struct logs_list *fuzz_log_list(void)
{
    static struct logs_list logs;
    static int ready;

    if (!ready) {
        if (logs_parse(fuzz_logs, sizeof(fuzz_logs) - 1, &logs, NULL) != 0 || logs.n != 1)
            abort();
        ready = 1;
    }
    return &logs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct logs_list l2;
    struct peers_list peers;
    struct gl_err why;

    fuzz_body(data, size, &fuzz_log_list()->v[0]);
    memset(&l2, 0, sizeof(l2));
    memset(&why, 0, sizeof(why));
    fuzz_check_why(logs_parse((const char *)data, size, &l2, &why), &why, data, size);
    logs_release(&l2);
    memset(&peers, 0, sizeof(peers));
    memset(&why, 0, sizeof(why));
    fuzz_check_why(peers_parse((const char *)data, size, &peers, &why), &why, data, size);
    peers_release(&peers);
    return 0;
}
