/*
 * http_header: the one header type of the HTTP server (http_server.h,
 * reply headers) and client (http_client.h, request headers), declared
 * once here for both.
 */
#ifndef GL_NET_HTTP_HEADER_H
#define GL_NET_HTTP_HEADER_H

/* One header, name and value as C strings (borrowed: the header's user
 * owns them and keeps them while it is in use). */
struct gl_http_header {
    const char *name;
    const char *value;
};

#endif
