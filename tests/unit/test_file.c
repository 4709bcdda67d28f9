/*
 * test_file: lib/net/file.c: bounded reads (the cap is exact: max bytes
 * read, max + 1 refused), creating a new file (never over an existing
 * one, with the mode asked for), atomic replacement (no temporary file
 * left; two processes replacing one file at once never share a temporary
 * nor see a mixed file; a symlink planted at a temporary name is never
 * written through), the empty-directory test a daemon's --create relies on,
 * the parent-directory sync (trailing slashes name the same directory), a
 * key file exposed to other users (any group or other permission), and
 * loading a signer key (the public vector, an oversized file, garbage with
 * a reason).
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "file.h"
#include "glasslog/buf.h"
#include "glasslog/error.h"
#include "glasslog/key.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    tu_tempdir("file", dir, sizeof(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tu_rmtree(dir);
    return 0;
}

static void path_of(const char *name, char *out, size_t max)
{
    snprintf(out, max, "%s/%s", dir, name);
}

static void test_read_cap(void **state)
{
    char p[300];
    struct gl_buf b;
    (void)state;

    path_of("ten", p, sizeof(p));
    assert_int_equal(gl_file_write_new(p, "0123456789", 10, 0644), 0);
    gl_buf_init(&b, 10);
    assert_int_equal(gl_file_read(p, &b), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "0123456789", 10);
    gl_buf_release(&b);
    gl_buf_init(&b, 9);
    assert_int_equal(gl_file_read(p, &b), GL_ETOOBIG);
    gl_buf_release(&b);
    path_of("missing", p, sizeof(p));
    gl_buf_init(&b, 10);
    assert_int_equal(gl_file_read(p, &b), GL_EIO);
    gl_buf_release(&b);
}

/* The file at p has mode and the text content. */
static void check_file(const char *p, mode_t mode, const char *content)
{
    struct stat st;
    char *got;

    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, mode);
    assert_int_equal(st.st_nlink, 1); /* no other name (a temporary) */
    assert_non_null(got = tu_read_file(p, NULL));
    assert_string_equal(got, content);
    free(got);
}

static void test_write_new_and_replace(void **state)
{
    char p[300];
    (void)state;

    path_of("new", p, sizeof(p));
    assert_int_equal(gl_file_write_new(p, "a", 1, 0600), 0);
    check_file(p, 0600, "a");
    assert_int_equal(gl_file_write_new(p, "b", 1, 0600), GL_EEXIST);
    check_file(p, 0600, "a"); /* unchanged */
    assert_int_equal(gl_file_replace(p, "replaced", 8, 0644), 0);
    check_file(p, 0644, "replaced");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(gl_file_dir_empty(dir), 1); /* no temporary file left */
    path_of("no-such-dir/x", p, sizeof(p));
    assert_int_equal(gl_file_write_new(p, "a", 1, 0600), GL_EIO);
    assert_int_equal(gl_file_replace(p, "a", 1, 0600), GL_EIO);
}

/* gl_file_publish_new: the file appears with its content and mode, an
 * existing path (a file, a dangling symlink) is never replaced or written
 * through, and no temporary file is left either way. */
static void test_publish_new(void **state)
{
    char p[300], link_path[300], target[300];
    struct stat st;
    (void)state;

    path_of("key", p, sizeof(p));
    assert_int_equal(gl_file_publish_new(p, "secret\n", 7, 0600), 0);
    check_file(p, 0600, "secret\n");
    assert_int_equal(gl_file_publish_new(p, "other\n", 6, 0600), GL_EEXIST);
    check_file(p, 0600, "secret\n");
    path_of("dangling", link_path, sizeof(link_path));
    path_of("target", target, sizeof(target));
    assert_int_equal(symlink(target, link_path), 0);
    assert_int_equal(gl_file_publish_new(link_path, "x", 1, 0600), GL_EEXIST);
    assert_int_equal(stat(target, &st), -1); /* not created through the link */
    assert_int_equal(unlink(link_path), 0);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(gl_file_dir_empty(dir), 1);
    path_of("no-such-dir/x", p, sizeof(p));
    assert_int_equal(gl_file_publish_new(p, "a", 1, 0600), GL_EIO);
}

/* Symlinks to a victim file planted at the temporary names of this
 * process's first calls (this test runs first, so serial 0 is the next
 * one; a few more in case): the victim is left alone, the symlinks too,
 * and the destination gets the new content. */
static void test_replace_planted_symlink(void **state)
{
    char p[300], victim[300], tmp[400];
    char *got;
    (void)state;

    path_of("victim", victim, sizeof(victim));
    assert_int_equal(gl_file_write_new(victim, "precious", 8, 0644), 0);
    path_of("dest", p, sizeof(p));
    for (unsigned s = 0; s < 8; s++) {
        snprintf(tmp, sizeof(tmp), "%s.tmp-%ld-%u", p, (long)getpid(), s);
        assert_int_equal(symlink(victim, tmp), 0);
    }
    assert_int_equal(gl_file_replace(p, "new", 3, 0644), 0);
    assert_non_null(got = tu_read_file(victim, NULL));
    assert_string_equal(got, "precious");
    free(got);
    assert_non_null(got = tu_read_file(p, NULL));
    assert_string_equal(got, "new");
    free(got);
    for (unsigned s = 0; s < 8; s++) {
        struct stat st;
        snprintf(tmp, sizeof(tmp), "%s.tmp-%ld-%u", p, (long)getpid(), s);
        assert_int_equal(lstat(tmp, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
    }
}

/* Replaces p `rounds` times with n bytes of c; after each, p must hold n
 * bytes of c or m bytes of d (the other writer's), nothing mixed. The
 * number of failures. */
static int replace_rounds(const char *p, int rounds, char c, size_t n, char d, size_t m)
{
    char mine[4096], *got;
    size_t len;
    int bad = 0;

    memset(mine, c, n);
    for (int i = 0; i < rounds; i++) {
        if (gl_file_replace(p, mine, n, 0644) != 0) {
            bad++;
            continue;
        }
        if ((got = tu_read_file(p, &len)) == NULL) {
            bad++;
            continue;
        }
        if (!(len == n && memchr(got, d, len) == NULL) &&
            !(len == m && memchr(got, c, len) == NULL))
            bad++;
        free(got);
    }
    return bad;
}

/* Two processes replacing one file at once: each call has a temporary of
 * its own, so every replacement succeeds and the file is always one
 * writer's whole version. */
static void test_replace_concurrent(void **state)
{
    char p[300];
    pid_t pid;
    int status, bad;
    (void)state;

    path_of("shared", p, sizeof(p));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(replace_rounds(p, 300, 'c', 4000, 'p', 100) == 0 ? 0 : 1);
    bad = replace_rounds(p, 300, 'p', 100, 'c', 4000);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(bad, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(gl_file_dir_empty(dir), 1);
}

static void test_dir_empty(void **state)
{
    char p[300], f[320];
    (void)state;

    path_of("d", p, sizeof(p));
    assert_int_equal(gl_file_dir_empty(p), 1); /* missing */
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(gl_file_dir_empty(p), 1);
    snprintf(f, sizeof(f), "%s/.hidden", p);
    assert_int_equal(gl_file_write_new(f, "", 0, 0644), 0);
    assert_int_equal(gl_file_dir_empty(p), 0);
}

/* gl_file_remove_tree removes a tree depth first, and a symbolic link in
 * it as a link: what it names (outside the tree) stays. */
static void test_remove_tree(void **state)
{
    char t[300], sub[320], f[340], keep[300], link[340];
    struct stat st;
    (void)state;

    path_of("t", t, sizeof(t));
    path_of("keep", keep, sizeof(keep));
    snprintf(sub, sizeof(sub), "%s/sub", t);
    snprintf(f, sizeof(f), "%s/f", sub);
    snprintf(link, sizeof(link), "%s/link", sub);
    assert_int_equal(gl_file_remove_tree(t), 0); /* missing */
    assert_int_equal(mkdir(t, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(mkdir(keep, 0700), 0);
    assert_int_equal(gl_file_write_new(f, "x", 1, 0600), 0);
    assert_int_equal(symlink(keep, link), 0);
    snprintf(f, sizeof(f), "%s/kept", keep);
    assert_int_equal(gl_file_write_new(f, "y", 1, 0600), 0);
    assert_int_equal(gl_file_remove_tree(t), 0);
    assert_int_equal(lstat(t, &st), -1);
    assert_int_equal(stat(f, &st), 0);           /* the link's target is untouched */
    assert_int_equal(gl_file_remove_tree(f), 0); /* a plain file */
    assert_int_equal(lstat(f, &st), -1);
}

static void test_load_signer(void **state)
{
    char p[300], big[GL_KEY_TEXT_MAX + 2];
    struct gl_signer k;
    struct gl_err why;
    (void)state;

    snprintf(p, sizeof(p), "%s/notes/log.key", tu_vectors());
    assert_int_equal(gl_file_load_signer(p, &k, &why), 0);
    assert_string_equal(k.name, "example.com/log");
    gl_signer_wipe(&k);
    memset(big, 'A', sizeof(big));
    path_of("big.key", p, sizeof(p));
    assert_int_equal(gl_file_write_new(p, big, sizeof(big), 0600), 0);
    tu_expect_why(gl_file_load_signer(p, &k, &why), &why, GL_ETOOBIG, 0,
                  "larger than a key");
    path_of("bad.key", p, sizeof(p));
    assert_int_equal(gl_file_write_new(p, "PRIVATE+KEY+x\n", 14, 0600), 0);
    assert_int_not_equal(gl_file_load_signer(p, &k, &why), 0);
    assert_true(why.reason[0] != 0);
    path_of("none.key", p, sizeof(p));
    tu_expect_why(gl_file_load_signer(p, &k, &why), &why, GL_EIO, 0,
                  "cannot read the file");
}

/* A key file is exposed when group or others have any permission. */
static void test_exposed(void **state)
{
    static const struct {
        mode_t mode;
        int exposed;
    } cases[] = {{0600, 0}, {0400, 0}, {0640, 1}, {0604, 1}, {0610, 1}, {0644, 1}};
    char p[300];
    (void)state;

    path_of("k", p, sizeof(p));
    assert_int_equal(gl_file_write_new(p, "x", 1, 0600), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(chmod(p, cases[i].mode), 0);
        assert_int_equal(gl_file_exposed(p), cases[i].exposed);
    }
    assert_int_equal(gl_file_exposed(dir), 0); /* not a regular file */
    assert_int_equal(gl_file_exposed("-"), 0);
    path_of("missing", p, sizeof(p));
    assert_int_equal(gl_file_exposed(p), 0);
}

static void test_trim_and_sync_parent(void **state)
{
    static const char *const cases[][2] = {
        {"a/b//", "a/b"}, {"/", "/"}, {"///", "/"}, {"a", "a"}, {"/x/", "/x"}, {"", ""},
    };
    char p[300], big[5000];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(p, sizeof(p), "%s", cases[i][0]);
        gl_file_trim_slashes(p);
        assert_string_equal(p, cases[i][1]);
    }
    /* The parent of "dir/sub/" is dir, which exists, even though sub does
     * not; a path whose parent is missing cannot be synced. */
    path_of("sub/", p, sizeof(p));
    assert_int_equal(gl_file_sync_parent(p), 0);
    path_of("missing/sub/", p, sizeof(p));
    assert_int_equal(gl_file_sync_parent(p), GL_EIO);
    assert_int_equal(gl_file_sync_parent("relative-name"), 0); /* "." */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    assert_int_equal(gl_file_sync_parent(big), GL_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* first: it knows the next temporary names */
        cmocka_unit_test_setup_teardown(test_replace_planted_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_new_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_new, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trim_and_sync_parent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exposed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_signer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
