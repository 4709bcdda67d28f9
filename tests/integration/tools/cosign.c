/*
 * cosign: test helper that adds a tlog-cosignature/v1 line to a signed
 * checkpoint, playing a witness before glasslog-witness exists, so the
 * client's quorum and --max-age paths can be tested end to end.
 *
 *   cosign KEYFILE TIME < checkpoint.note > cosigned.note
 *
 * KEYFILE holds a cosigning key (glasslog keygen --cosigner); TIME is the
 * cosignature's Unix time (decimal), so tests can make stale ones. A note
 * key (0x01) is used as the cosigning key with the same seed (its 0x04
 * form), to play a witness that published its key as 0x01. It uses
 * only the core library (gl_cosig_sign, gl_cosig_append) and checks
 * nothing about the checkpoint beyond its syntax. Exit 0, or 1 with a
 * message. Test-only: not part of the product.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glasslog/buf.h"
#include "glasslog/codec.h"
#include "glasslog/cosig.h"
#include "glasslog/error.h"
#include "glasslog/key.h"
#include "glasslog/note.h"

static int read_all(FILE *f, struct gl_buf *b)
{
    char chunk[4096];
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (gl_buf_append(b, chunk, n) != 0)
            return -1;
    return ferror(f) ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct gl_buf key, note, line, out;
    struct gl_signer k;
    struct gl_note *parsed = NULL;
    uint64_t t;
    FILE *kf;
    int rc = 1;

    gl_buf_init(&key, GL_KEY_TEXT_MAX + 1);
    gl_buf_init(&note, GL_NOTE_MAX_SIZE);
    gl_buf_init(&line, 1024);
    gl_buf_init(&out, GL_NOTE_MAX_SIZE * 2);
    if (argc != 3 || gl_parse_u64(argv[2], strlen(argv[2]), &t) != 0) {
        fprintf(stderr, "usage: cosign KEYFILE TIME < checkpoint.note > cosigned.note\n");
        goto out;
    }
    if ((kf = fopen(argv[1], "r")) == NULL || read_all(kf, &key) != 0 ||
        gl_signer_parse((const char *)key.data, key.len, &k, NULL) != 0) {
        fprintf(stderr, "cosign: cannot load the cosigning key %s\n", argv[1]);
        if (kf != NULL)
            fclose(kf);
        goto out;
    }
    fclose(kf);
    if (k.type == GL_KEY_NOTE) {
        k.type = GL_KEY_COSIG;
        k.id = gl_key_id(k.name, GL_KEY_COSIG, k.pub);
    }
    if (read_all(stdin, &note) != 0 ||
        gl_note_parse((const char *)note.data, note.len, &parsed, NULL) != 0) {
        fprintf(stderr, "cosign: stdin is not a signed note\n");
        goto wipe;
    }
    if ((rc = gl_cosig_sign(&k, parsed->text, parsed->text_len, t, &line)) != 0 ||
        (rc = gl_cosig_append((const char *)note.data, note.len, (const char *)line.data,
                              line.len, &out, NULL)) != 0) {
        fprintf(stderr, "cosign: %s\n", gl_strerror(rc));
        rc = 1;
        goto wipe;
    }
    fwrite(out.data, 1, out.len, stdout);
    rc = 0;
wipe:
    gl_signer_wipe(&k);
out:
    gl_note_free(parsed);
    gl_buf_release(&key);
    gl_buf_release(&note);
    gl_buf_release(&line);
    gl_buf_release(&out);
    return rc;
}
