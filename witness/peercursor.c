/*
 * peercursor: see peercursor.h. Pure decisions on a struct peercursor
 * (and one log line); the feeder's thread owns each cursor.
 */
#include "peercursor.h"

#include <string.h>

#include "glasslog/log.h"

void peercursor_gossip(struct peercursor *c, size_t li, size_t n, int made, int refused,
                       size_t parts, int *hold)
{
    if (*hold)
        return;
    if (refused && c->held < parts) {
        c->gossip = li;
        c->held++;
        *hold = 1;
    } else if (made) {
        c->gossip = (li + 1) % n;
        c->held = 0;
    }
}

int peercursor_import_retry(struct peercursor *c, const char *peer, size_t i,
                            const char *id)
{
    if (c->fail_at != i + 1) {
        c->fail_at = i + 1;
        c->fails = 0;
    }
    if (++c->fails < PEERCURSOR_TRIES)
        return 1;
    c->fail_at = 0;
    gl_log(GL_LOG_WARN,
           "peer %s: evidence %s (entry %zu of its list) could not be fetched in %d "
           "rounds in a row: read on past it, it is tried again when the list is read "
           "round to it",
           peer, id, i, PEERCURSOR_TRIES);
    return 0;
}

int peercursor_refused(const struct peercursor *c, const uint8_t id[PEERCURSOR_ID_LEN])
{
    size_t n = c->nrefused < PEERCURSOR_REFUSED ? c->nrefused : PEERCURSOR_REFUSED;

    for (size_t i = 0; i < n; i++)
        if (memcmp(c->refused[i], id, PEERCURSOR_ID_LEN) == 0)
            return 1;
    return 0;
}

void peercursor_refuse(struct peercursor *c, const uint8_t id[PEERCURSOR_ID_LEN])
{
    if (peercursor_refused(c, id))
        return;
    memcpy(c->refused[c->nrefused % PEERCURSOR_REFUSED], id, PEERCURSOR_ID_LEN);
    c->nrefused++;
}
