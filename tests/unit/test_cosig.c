/*
 * test_cosig: tlog-cosignature v1 (Ed25519, 0x04) against the vector
 * checkpoint-cosigned.note (witness example.org/witness, time 1700000000):
 * re-signing reproduces the exact line, a 0x01 form of the witness key
 * verifies once converted, note keys are refused, tampering is caught, the
 * per-witness counting rule holds, and appending lines builds the vector.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/checkpoint.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"

#define VTIME 1700000000ULL

/* The cosigned vector, parsed. *msg must be freed after *note. */
static struct gl_note *load_cosigned(char **msg, size_t *n)
{
    struct gl_note *note = NULL;
    *msg = tu_read_vector("notes/checkpoint-cosigned.note", n);
    assert_int_equal(gl_note_parse(*msg, *n, &note, NULL), 0);
    assert_int_equal(note->nsigs, 2);
    return note;
}

static void test_verify_vector(void **state)
{
    struct gl_verifier w;
    struct gl_cosig_status st;
    struct gl_note *note;
    uint64_t t = 0;
    size_t n, nvalid = 9;
    char *msg;
    (void)state;
    note = load_cosigned(&msg, &n);
    tu_load_verifier("notes/witness.cosig-vkey", &w);
    assert_int_equal(w.type, GL_KEY_COSIG);
    assert_int_equal(gl_cosig_verify(&w, note->text, note->text_len, &note->sigs[1], &t),
                     0);
    assert_true(t == VTIME);
    assert_int_equal(gl_cosig_verify(&w, note->text, note->text_len, &note->sigs[0], &t),
                     GL_ENOKEY);
    assert_int_equal(gl_cosig_verify_note(note, &w, 1, &st, &nvalid), 0);
    assert_int_equal(nvalid, 1);
    assert_int_equal(st.status, 0);
    assert_true(st.timestamp == VTIME);
    assert_int_equal(st.sig, 1);
    gl_note_free(note);
    free(msg);
}

static void test_sign_kat(void **state)
{
    struct gl_signer s;
    struct gl_note *note;
    struct gl_buf b;
    size_t n;
    char *msg;
    (void)state;
    note = load_cosigned(&msg, &n);
    tu_load_signer("notes/witness.cosig-key", &s);
    assert_int_equal(s.type, GL_KEY_COSIG);
    gl_buf_init(&b, 1024);
    assert_int_equal(gl_cosig_sign(&s, note->text, note->text_len, VTIME, &b), 0);
    assert_int_equal(b.len, note->sigs[1].line_len);
    assert_memory_equal(b.data, note->sigs[1].line, b.len);
    gl_buf_release(&b);
    gl_signer_wipe(&s);
    gl_note_free(note);
    free(msg);
}

static void test_converted_note_key(void **state)
{
    struct gl_verifier w, w01, back, conv;
    struct gl_note *note;
    struct gl_buf b;
    uint64_t t = 0;
    int converted = 0;
    size_t n;
    char *msg;
    (void)state;
    note = load_cosigned(&msg, &n);
    tu_load_verifier("notes/witness.cosig-vkey", &w);
    /* the same public key published as a 0x01 vkey string */
    w01 = w;
    w01.type = GL_KEY_NOTE;
    w01.id = gl_key_id(w01.name, GL_KEY_NOTE, w01.pub);
    gl_buf_init(&b, GL_KEY_TEXT_MAX);
    assert_int_equal(gl_verifier_format(&w01, &b), 0);
    assert_int_equal(gl_verifier_parse((char *)b.data, b.len, &back, NULL), 0);
    assert_int_equal(back.type, GL_KEY_NOTE);
    assert_int_equal(
        gl_cosig_verify(&back, note->text, note->text_len, &note->sigs[1], &t),
        GL_EKEYTYPE);
    assert_int_equal(gl_verifier_to_cosig(&back, &conv, &converted), 0);
    assert_int_equal(converted, 1);
    assert_int_equal(conv.id, w.id);
    assert_int_equal(
        gl_cosig_verify(&conv, note->text, note->text_len, &note->sigs[1], &t), 0);
    assert_true(t == VTIME);
    gl_buf_release(&b);
    gl_note_free(note);
    free(msg);
}

static void test_note_keys_refused(void **state)
{
    struct gl_signer logk;
    struct gl_verifier logv, ws[2];
    struct gl_cosig_status st[2];
    struct gl_note *note;
    struct gl_buf b;
    size_t n;
    char *msg;
    (void)state;
    note = load_cosigned(&msg, &n);
    tu_load_signer("notes/log.key", &logk);
    tu_load_verifier("notes/log.vkey", &logv);
    tu_load_verifier("notes/witness.cosig-vkey", &ws[0]);
    ws[1] = logv;
    gl_buf_init(&b, 1024);
    assert_int_equal(gl_cosig_sign(&logk, note->text, note->text_len, VTIME, &b),
                     GL_EKEYTYPE);
    assert_int_equal(b.len, 0);
    assert_int_equal(
        gl_cosig_verify(&logv, note->text, note->text_len, &note->sigs[0], NULL),
        GL_EKEYTYPE);
    assert_int_equal(gl_cosig_verify_note(note, ws, 2, st, NULL), GL_EKEYTYPE);
    gl_buf_release(&b);
    gl_signer_wipe(&logk);
    gl_note_free(note);
    free(msg);
}

/* Re-encodes the vector's cosignature line with a different timestamp and
 * the original signature; returns gl_cosig_verify's verdict. */
static int verify_with_time(uint64_t ts)
{
    struct gl_verifier w;
    struct gl_note *note, *forged = NULL;
    uint8_t payload[GL_COSIG_SIG_LEN];
    struct gl_buf b;
    size_t n;
    char *msg;
    int err;

    note = load_cosigned(&msg, &n);
    tu_load_verifier("notes/witness.cosig-vkey", &w);
    for (int i = 0; i < 8; i++)
        payload[i] = (uint8_t)(ts >> (56 - 8 * i));
    memcpy(payload + 8, note->sigs[1].sig + 8, 64);
    gl_buf_init(&b, 4096);
    assert_int_equal(gl_buf_append(&b, note->text, note->text_len + 1), 0);
    assert_int_equal(gl_note_format_sig(w.name, w.id, payload, sizeof(payload), &b), 0);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &forged, NULL), 0);
    err = gl_cosig_verify(&w, forged->text, forged->text_len, &forged->sigs[0], NULL);
    gl_note_free(forged);
    gl_buf_release(&b);
    gl_note_free(note);
    free(msg);
    return err;
}

/* Verifies the vector cosignature over the text with from replaced by to. */
static int verify_text_tampered(const char *from, const char *to)
{
    struct gl_verifier w;
    struct gl_note *note;
    size_t n;
    char *msg, *text, *at;
    int err;

    note = load_cosigned(&msg, &n);
    tu_load_verifier("notes/witness.cosig-vkey", &w);
    text = malloc(note->text_len + 1);
    assert_non_null(text);
    memcpy(text, note->text, note->text_len);
    text[note->text_len] = 0;
    at = strstr(text, from);
    assert_non_null(at);
    assert_int_equal(strlen(from), strlen(to));
    memcpy(at, to, strlen(to));
    err = gl_cosig_verify(&w, text, note->text_len, &note->sigs[1], NULL);
    free(text);
    gl_note_free(note);
    free(msg);
    return err;
}

static void test_tampered(void **state)
{
    (void)state;
    assert_int_equal(verify_with_time(VTIME), 0);
    assert_int_equal(verify_with_time(VTIME + 1), GL_EVERIFY);
    assert_int_equal(verify_with_time(VTIME - 1), GL_EVERIFY);
    assert_int_equal(verify_with_time(VTIME | 1ULL << 63), GL_EVERIFY);
    assert_int_equal(verify_with_time(UINT64_MAX), GL_EVERIFY);
    assert_int_equal(verify_text_tampered("\n1000\n", "\n1001\n"), GL_EVERIFY);
    assert_int_equal(verify_text_tampered("Y4r6", "Z4r6"), GL_EVERIFY);
    assert_int_equal(verify_text_tampered("example.com/log", "example.com/loh"),
                     GL_EVERIFY);
}

/* A payload that is not 72 bytes is no cosignature; gl_cosig_time reads
 * the time of one that is, refusing what gl_cosig_verify refuses. */
static void test_payload_length(void **state)
{
    struct gl_verifier w;
    struct gl_note *note;
    struct gl_note_sig sig;
    size_t n;
    char *msg;
    (void)state;
    note = load_cosigned(&msg, &n);
    tu_load_verifier("notes/witness.cosig-vkey", &w);
    sig = note->sigs[1];
    sig.sig_len = 64; /* a note-style signature by the witness name and ID */
    assert_int_equal(gl_cosig_verify(&w, note->text, note->text_len, &sig, NULL),
                     GL_EVERIFY);
    sig.sig_len = 73;
    assert_int_equal(gl_cosig_verify(&w, note->text, note->text_len, &sig, NULL),
                     GL_EVERIFY);
    /* the time alone: the vector's, and refused as gl_cosig_verify refuses */
    uint64_t t = 0;
    assert_int_equal(gl_cosig_time(&note->sigs[1], &t), 0);
    assert_true(t == VTIME);
    assert_int_equal(gl_cosig_time(&sig, &t), GL_EVERIFY); /* 73 bytes */
    sig = note->sigs[1];
    sig.sig[0] = 0x80; /* a time past 2^63 - 1 */
    assert_int_equal(gl_cosig_time(&sig, &t), GL_EVERIFY);
    sig = note->sigs[1];
    sig.name_len--; /* other name */
    assert_int_equal(gl_cosig_verify(&w, note->text, note->text_len, &sig, NULL),
                     GL_ENOKEY);
    sig = note->sigs[1];
    sig.id ^= 1;
    assert_int_equal(gl_cosig_verify(&w, note->text, note->text_len, &sig, NULL),
                     GL_ENOKEY);
    gl_note_free(note);
    free(msg);
}

static void test_sign_rules(void **state)
{
    const char *text = "example.com/log\n5\n"
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    const char *ext = "example.com/log\n5\n"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nextra\n";
    struct gl_signer s;
    struct gl_verifier v;
    struct gl_note *note = NULL;
    struct gl_buf b;
    uint64_t t;
    static const uint64_t times[] = {0, 1, VTIME, GL_COSIG_TIME_MAX};
    (void)state;
    assert_int_equal(gl_signer_generate("w.example/1", GL_KEY_COSIG, &s), 0);
    gl_signer_verifier(&s, &v);
    gl_buf_init(&b, 8192);
    assert_int_equal(gl_cosig_sign(&s, text, strlen(text), GL_COSIG_TIME_MAX + 1, &b),
                     GL_ERANGE);
    assert_int_equal(gl_cosig_sign(&s, "hello\n", 6, 1, &b), GL_EPARSE);
    assert_int_equal(gl_cosig_sign(&s, text, strlen(text) - 1, 1, &b), GL_EPARSE);
    assert_int_equal(b.len, 0);
    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        gl_buf_reset(&b);
        assert_int_equal(gl_buf_append_str(&b, ext), 0);
        assert_int_equal(gl_buf_putc(&b, '\n'), 0);
        assert_int_equal(gl_cosig_sign(&s, ext, strlen(ext), times[i], &b), 0);
        assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
        assert_int_equal(
            gl_cosig_verify(&v, note->text, note->text_len, &note->sigs[0], &t), 0);
        assert_true(t == times[i]);
        /* the extension lines are signed */
        assert_int_equal(gl_cosig_verify(&v, text, strlen(text), &note->sigs[0], &t),
                         GL_EVERIFY);
        gl_note_free(note);
    }
    gl_buf_release(&b);
    gl_signer_wipe(&s);
}

/* Builds "<vector text>\n" + the given signature lines and counts. */
static void count_note(const void *lines, size_t ln, const struct gl_verifier *ws,
                       size_t nw, struct gl_cosig_status *st, size_t *nvalid)
{
    struct gl_note *note = NULL;
    struct gl_buf b;
    size_t tn;
    char *text = tu_read_vector("notes/checkpoint.text", &tn);

    gl_buf_init(&b, 65536);
    assert_int_equal(gl_buf_append(&b, text, tn), 0);
    assert_int_equal(gl_buf_putc(&b, '\n'), 0);
    assert_int_equal(gl_buf_append(&b, lines, ln), 0);
    assert_int_equal(gl_note_parse((char *)b.data, b.len, &note, NULL), 0);
    assert_int_equal(gl_cosig_verify_note(note, ws, nw, st, nvalid), 0);
    gl_note_free(note);
    gl_buf_release(&b);
    free(text);
}

/* lines = a, b, then c if not NULL. */
static void join_lines(struct gl_buf *lines, const struct gl_buf *a,
                       const struct gl_buf *b, const struct gl_buf *c)
{
    gl_buf_reset(lines);
    assert_int_equal(gl_buf_append(lines, a->data, a->len), 0);
    assert_int_equal(gl_buf_append(lines, b->data, b->len), 0);
    if (c != NULL)
        assert_int_equal(gl_buf_append(lines, c->data, c->len), 0);
}

static void test_counting_rule(void **state)
{
    struct gl_verifier ws[3];
    struct gl_signer other;
    struct gl_cosig_status st[3];
    struct gl_buf good, bad, oth, lines;
    struct gl_note *note;
    size_t n, nvalid;
    char *msg;
    (void)state;
    note = load_cosigned(&msg, &n);
    tu_load_verifier("notes/witness.cosig-vkey", &ws[0]);
    assert_int_equal(gl_signer_generate("w.example/2", GL_KEY_COSIG, &other), 0);
    gl_signer_verifier(&other, &ws[1]);
    ws[2] = ws[0];
    gl_buf_init(&good, 1024);
    gl_buf_init(&bad, 1024);
    gl_buf_init(&oth, 1024);
    gl_buf_init(&lines, 8192);
    assert_int_equal(gl_buf_append(&good, note->sigs[1].line, note->sigs[1].line_len), 0);
    /* a bad line by the known witness: same name, ID and time, wrong signature */
    assert_int_equal(gl_cosig_sign(&other, note->text, note->text_len, VTIME, &oth), 0);
    {
        uint8_t payload[GL_COSIG_SIG_LEN];
        memcpy(payload, note->sigs[1].sig, sizeof(payload));
        payload[20] ^= 0x40;
        assert_int_equal(gl_note_format_sig(ws[0].name, ws[0].id, payload, 72, &bad), 0);
    }
    /* no lines by any witness: only the log's */
    count_note(note->sigs[0].line, note->sigs[0].line_len, ws, 2, st, &nvalid);
    assert_int_equal(nvalid, 0);
    assert_int_equal(st[0].status, GL_ENOKEY);
    assert_int_equal(st[1].status, GL_ENOKEY);
    /* bad line alone: the witness does not count, the note is not rejected */
    join_lines(&lines, &bad, &oth, NULL);
    count_note(lines.data, lines.len, ws, 2, st, &nvalid);
    assert_int_equal(nvalid, 1);
    assert_int_equal(st[0].status, GL_EVERIFY);
    assert_int_equal(st[1].status, 0);
    assert_int_equal(st[1].sig, 1);
    /* bad then good: the first line decides (Go's note verifier drops a
     * key's repeated lines), so the witness does not count */
    assert_int_equal(gl_buf_append(&lines, good.data, good.len), 0);
    count_note(lines.data, lines.len, ws, 3, st, &nvalid);
    assert_int_equal(nvalid, 1);
    assert_int_equal(st[0].status, GL_EVERIFY);
    assert_int_equal(st[2].status, GL_EVERIFY);
    /* good then bad, as a line appended after the witness's own: it
     * counts with its first line */
    join_lines(&lines, &good, &oth, &bad);
    count_note(lines.data, lines.len, ws, 3, st, &nvalid);
    assert_int_equal(nvalid, 3);
    assert_int_equal(st[0].status, 0);
    assert_int_equal(st[0].sig, 0);
    assert_true(st[0].timestamp == VTIME);
    assert_int_equal(st[1].sig, 1);
    assert_int_equal(st[2].status, 0);
    /* no witnesses: nothing to count */
    count_note(good.data, good.len, NULL, 0, NULL, &nvalid);
    assert_int_equal(nvalid, 0);
    gl_buf_release(&good);
    gl_buf_release(&bad);
    gl_buf_release(&oth);
    gl_buf_release(&lines);
    gl_signer_wipe(&other);
    gl_note_free(note);
    free(msg);
}

static void test_append(void **state)
{
    struct gl_note *cos;
    struct gl_buf out, two;
    struct gl_err why;
    size_t ln, cn;
    char *logn = tu_read_vector("notes/checkpoint.note", &ln);
    char *cosn;
    const char *line;
    size_t line_len;
    (void)state;
    cos = load_cosigned(&cosn, &cn);
    line = cos->sigs[1].line;
    line_len = cos->sigs[1].line_len;
    gl_buf_init(&out, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_cosig_append(logn, ln, line, line_len, &out, NULL), 0);
    assert_int_equal(out.len, cn);
    assert_memory_equal(out.data, cosn, cn);
    gl_buf_reset(&out);
    assert_int_equal(gl_buf_append_str(&out, "keep"), 0);
    /* already cosigned by that witness; the log's own line too */
    assert_int_equal(gl_cosig_append(cosn, cn, line, line_len, &out, NULL), GL_EEXIST);
    assert_int_equal(
        gl_cosig_append(logn, ln, cos->sigs[0].line, cos->sigs[0].line_len, &out, NULL),
        GL_EEXIST);
    gl_buf_init(&two, 1024);
    assert_int_equal(gl_buf_append(&two, line, line_len), 0);
    assert_int_equal(gl_buf_append(&two, line, line_len), 0);
    tu_expect_why(gl_cosig_append(logn, ln, (char *)two.data, two.len, &out, &why), &why,
                  GL_EEXIST, 0,
                  "added signature 2 repeats the key example.org/witness+84e6a7f4");
    /* malformed lines: the reason names the line of the note they make */
    tu_expect_why(gl_cosig_append(logn, ln, line, line_len - 1, &out, &why), &why,
                  GL_EPARSE, 0, "the added lines do not end with a newline");
    assert_int_equal(gl_cosig_append(logn, ln, "", 0, &out, NULL), GL_EPARSE);
    assert_int_equal(gl_cosig_append(logn, ln, "\n", 1, &out, NULL), GL_EPARSE);
    tu_expect_why(gl_cosig_append(logn, ln, "garbage\n", 8, &out, &why), &why, GL_EPARSE,
                  6,
                  "the note with the added lines: a signature line does not start with");
    gl_buf_reset(&two);
    assert_int_equal(gl_buf_putc(&two, '\n'), 0);
    assert_int_equal(gl_buf_append(&two, line, line_len), 0);
    assert_int_equal(gl_cosig_append(logn, ln, (char *)two.data, two.len, &out, NULL),
                     GL_EPARSE);
    /* malformed base note */
    assert_int_equal(gl_cosig_append(logn, ln - 1, line, line_len, &out, NULL),
                     GL_EPARSE);
    tu_expect_why(gl_cosig_append("x\n", 2, line, line_len, &out, &why), &why, GL_EPARSE,
                  0, "no blank line between the text and the signatures");
    assert_int_equal(out.len, 4);
    gl_buf_release(&two);
    gl_buf_release(&out);
    gl_note_free(cos);
    free(cosn);
    free(logn);
}

static void test_append_caps(void **state)
{
    struct gl_signer k;
    struct gl_buf note, lines, out;
    struct gl_note *parsed = NULL;
    size_t ln;
    char *logn = tu_read_vector("notes/checkpoint.note", &ln);
    char name[32];
    (void)state;
    assert_int_equal(gl_note_parse(logn, ln, &parsed, NULL), 0);
    gl_buf_init(&note, GL_NOTE_MAX_SIZE);
    gl_buf_init(&lines, GL_NOTE_MAX_SIZE);
    gl_buf_init(&out, GL_NOTE_MAX_SIZE);
    assert_int_equal(gl_buf_append(&note, logn, ln), 0);
    /* 99 cosignatures fit with the log's (100 lines), the 100th does not */
    for (int i = 0; i < GL_NOTE_MAX_SIGS; i++) {
        snprintf(name, sizeof(name), "w.example/%d", i);
        assert_int_equal(gl_signer_generate(name, GL_KEY_COSIG, &k), 0);
        assert_int_equal(gl_cosig_sign(&k, parsed->text, parsed->text_len, VTIME, &lines),
                         0);
        gl_signer_wipe(&k);
        if (i == GL_NOTE_MAX_SIGS - 2) {
            assert_int_equal(gl_cosig_append((char *)note.data, note.len,
                                             (char *)lines.data, lines.len, &out, NULL),
                             0);
        }
    }
    gl_buf_reset(&out);
    assert_int_equal(gl_cosig_append((char *)note.data, note.len, (char *)lines.data,
                                     lines.len, &out, NULL),
                     GL_ETOOBIG);
    assert_int_equal(out.len, 0);
    gl_note_free(parsed);
    gl_buf_release(&note);
    gl_buf_release(&lines);
    gl_buf_release(&out);
    free(logn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verify_vector),
        cmocka_unit_test(test_sign_kat),
        cmocka_unit_test(test_converted_note_key),
        cmocka_unit_test(test_note_keys_refused),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_payload_length),
        cmocka_unit_test(test_sign_rules),
        cmocka_unit_test(test_counting_rule),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_append_caps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
