/*
 * text (internal): line cutting shared by the line-based parsers
 * (checkpoint, tlog-proof). Never reads past n.
 */
#ifndef GL_TEXT_H
#define GL_TEXT_H

#include <stddef.h>

/* Cuts the next "\n"-terminated line of s[0..n) at *pos: *line, *len
 * (without the "\n") and advances *pos past it. GL_EPARSE if there is no
 * complete line left. */
int gl_text_next_line(const char *s, size_t n, size_t *pos, const char **line, size_t *len);

#endif
