/*
 * json: see json.h.
 */
#include "json.h"

#include <string.h>

#include "glasslog/codec.h"
#include "glasslog/error.h"

int gl_json_hashes(const cJSON *obj, int strict, uint8_t (*out)[GL_HASH_LEN], size_t max,
                   size_t *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "hashes"), *h;

    *n = 0;
    if (!cJSON_IsArray(arr))
        return GL_EPARSE;
    cJSON_ArrayForEach(h, arr)
    {
        if (*n == max || !cJSON_IsString(h) ||
            gl_hex_decode_exact(h->valuestring, strlen(h->valuestring), out[*n],
                                GL_HASH_LEN, strict) != 0)
            return GL_EPARSE;
        (*n)++;
    }
    return 0;
}
