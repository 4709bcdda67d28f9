/*
 * test_srctree: the tree digest (include/glasslog/srctree.h). A small tree
 * with a subdirectory, an empty directory, an executable and a symbolic
 * link gives exactly the manifest the spec describes (built here by hand
 * from the file contents) and its SHA-256; the same tree created in
 * another order gives the same digest; content, execute bit and link
 * target each change it; paths with spaces and FIFOs are refused.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"
#include "glasslog/sha256.h"
#include "glasslog/srctree.h"

static void put(const char *dir, const char *rel, const char *content, int mode)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_non_null(f = fopen(path, "wb"));
    assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, (mode_t)mode), 0);
}

static void sub(const char *dir, const char *rel)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void link_to(const char *dir, const char *rel, const char *target)
{
    char path[1024];

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_int_equal(symlink(target, path), 0);
}

/* "<type> <sha256(s) hex> <path>\n" onto b. */
static void line(struct gl_buf *b, const char *type, const char *s, const char *path)
{
    uint8_t d[32];
    char hex[65];

    assert_int_equal(gl_sha256(s, strlen(s), d), 0);
    gl_hex_encode(d, 32, hex, sizeof(hex));
    assert_int_equal(gl_buf_printf(b, "%s %s %s\n", type, hex, path), 0);
}

static void make_tree(const char *dir, int reverse)
{
    if (!reverse) {
        put(dir, "README", "hello\n", 0644);
        sub(dir, "src");
        put(dir, "src/main.c", "int main(void) { return 0; }\n", 0644);
        put(dir, "build.sh", "#!/bin/sh\nmake\n", 0755);
        link_to(dir, "src/link", "../README");
        sub(dir, "empty");
        put(dir, "src-b", "b", 0600);
    } else {
        put(dir, "src-b", "b", 0600);
        sub(dir, "empty");
        sub(dir, "src");
        link_to(dir, "src/link", "../README");
        put(dir, "build.sh", "#!/bin/sh\nmake\n", 0700);
        put(dir, "src/main.c", "int main(void) { return 0; }\n", 0444);
        put(dir, "README", "hello\n", 0600);
    }
}

static void test_manifest_and_order(void **state)
{
    char a[256], b[256];
    uint8_t da[32], db[32], want[32];
    struct gl_buf m, exp;

    (void)state;
    tu_tempdir("srctree-a", a, sizeof(a));
    tu_tempdir("srctree-b", b, sizeof(b));
    make_tree(a, 0);
    make_tree(b, 1);
    gl_buf_init(&m, 1 << 20);
    gl_buf_init(&exp, 1 << 20);
    assert_int_equal(gl_srctree_digest(a, da, &m, NULL), 0);
    /* bytewise order: "README" < "build.sh" < "src-b" < "src/link" < "src/main.c" */
    assert_int_equal(gl_buf_append_str(&exp, "glasslog.dev/srctree/v1\n"), 0);
    line(&exp, "file", "hello\n", "README");
    line(&exp, "exec", "#!/bin/sh\nmake\n", "build.sh");
    line(&exp, "file", "b", "src-b");
    line(&exp, "link", "../README", "src/link");
    line(&exp, "file", "int main(void) { return 0; }\n", "src/main.c");
    assert_int_equal(m.len, exp.len);
    assert_memory_equal(m.data, exp.data, m.len);
    assert_int_equal(gl_sha256(exp.data, exp.len, want), 0);
    assert_memory_equal(da, want, 32);
    assert_int_equal(gl_srctree_digest(b, db, NULL, NULL), 0);
    assert_memory_equal(da, db, 32);
    /* content, execute bit, link target each change the digest */
    put(b, "src-b", "c", 0600);
    assert_int_equal(gl_srctree_digest(b, db, NULL, NULL), 0);
    assert_memory_not_equal(da, db, 32);
    put(b, "src-b", "b", 0700);
    assert_int_equal(gl_srctree_digest(b, db, NULL, NULL), 0);
    assert_memory_not_equal(da, db, 32);
    put(b, "src-b", "b", 0644);
    assert_int_equal(gl_srctree_digest(b, db, NULL, NULL), 0);
    assert_memory_equal(da, db, 32);
    {
        char p[600];
        snprintf(p, sizeof(p), "%s/src/link", b);
        assert_int_equal(unlink(p), 0);
        link_to(b, "src/link", "README");
        assert_int_equal(gl_srctree_digest(b, db, NULL, NULL), 0);
        assert_memory_not_equal(da, db, 32);
    }
    gl_buf_release(&m);
    gl_buf_release(&exp);
    tu_rmtree(a);
    tu_rmtree(b);
}

static void test_refusals(void **state)
{
    char a[256], p[600];
    uint8_t d[32], keep[32];
    struct gl_err why = {0, ""};

    (void)state;
    tu_tempdir("srctree-bad", a, sizeof(a));
    put(a, "ok", "x", 0644);
    memset(d, 0x5a, 32);
    memcpy(keep, d, 32);
    put(a, "has space", "x", 0644);
    assert_int_equal(gl_srctree_digest(a, d, NULL, &why), GL_EPARSE);
    assert_non_null(strstr(why.reason, "printable ASCII"));
    assert_memory_equal(d, keep, 32); /* unchanged on failure */
    snprintf(p, sizeof(p), "%s/has space", a);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof(p), "%s/fifo", a);
    assert_int_equal(mkfifo(p, 0644), 0);
    assert_int_equal(gl_srctree_digest(a, d, NULL, &why), GL_EPARSE);
    assert_non_null(strstr(why.reason, "not a regular file"));
    assert_int_equal(unlink(p), 0);
    assert_int_equal(gl_srctree_digest(a, d, NULL, &why), 0);
    snprintf(p, sizeof(p), "%s/nosuch", a);
    assert_int_equal(gl_srctree_digest(p, d, NULL, &why), GL_EIO);
    assert_non_null(strstr(why.reason, "cannot read directory"));
    assert_int_equal(gl_srctree_digest(NULL, d, NULL, &why), GL_EINVAL);
    tu_rmtree(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_and_order),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
