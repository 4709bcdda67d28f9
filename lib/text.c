/*
 * text: see text.h.
 */
#include "text.h"

#include <string.h>

#include "glasslog/error.h"

int gl_text_next_line(const char *s, size_t n, size_t *pos, const char **line, size_t *len)
{
    const char *nl;

    if (*pos >= n)
        return GL_EPARSE;
    nl = memchr(s + *pos, '\n', n - *pos);
    if (nl == NULL)
        return GL_EPARSE;
    *line = s + *pos;
    *len = (size_t)(nl - *line);
    *pos += *len + 1;
    return 0;
}
