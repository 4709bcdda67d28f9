/*
 * fsck: `glasslogd --fsck DIR [--vkey VKEY|@FILE]` checks a stopped or
 * backed-up data directory fully and says what it found:
 *  1. the store opens and has a verifier key and a state (size, checkpoint);
 *  2. the checkpoint is validly signed by the log key (--vkey, else the key
 *     stored in DIR, which the report says is unchecked) for the stored size;
 *  3. the tiles: tree_check (the start-up check: every stored tile of the
 *     tree, level by level, must hash up to the signed root);
 *  4. the entries: each of the size entries exists, its leaf hash is the
 *     one in its level-0 tile, the leaf index maps that hash back to it, and
 *     it is a statement whose secondary-index keys (entryindex.h: artifact,
 *     subject, subject and version, every source) list it; the source keys
 *     only in a store whose index version is ENTRYINDEX_VERSION (an older
 *     one gets them at glasslogd's next start).
 * A missing or unreadable entry or tile is one problem and the pass goes
 * on after it (a run of missing entries is one problem). The store is
 * opened read-only: nothing in DIR is written. A progress line goes to
 * stderr; the report to stdout ends with "fsck: OK", "fsck: DAMAGED (N
 * problems)", each problem named (the first FSCK_REPORT_MAX of them), or
 * "fsck: CANNOT CHECK (...)" naming what of step 1 cannot be read, or
 * "fsck: NOT THIS LOG (...)" when --vkey is not the store's log key
 * (nothing more is checked: the report does not claim the key checked). A
 * running glasslogd holds the store's lock: fsck then refuses (check a
 * backup instead).
 * Exit status: 0 healthy, 1 damaged or (with --vkey) another log's store,
 * 2 usage (--vkey unreadable or not a key), 3 cannot open the store or
 * read its log key or state.
 */
#ifndef GL_LOG_FSCK_H
#define GL_LOG_FSCK_H

#define FSCK_REPORT_MAX 20

/* Runs fsck with argv[1] == "--fsck"; returns the exit status. */
int fsck_main(int argc, char **argv);

#endif
