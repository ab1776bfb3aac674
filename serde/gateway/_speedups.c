/* serde.gateway._speedups: byte-level transcoders for the gateway's hot routes.
 *
 * The Python path of a route decodes a record into Python objects (dicts, datetime,
 * Decimal, UUID) and encodes them again; on a 12-field record that costs 15-30 us, most
 * of it building objects that are thrown away. These functions go from the source bytes
 * straight to the target bytes for the shapes they know, following a *program* built in
 * Python from the schema (serde/_transcode.py) as nested tuples.
 *
 * The rule that keeps them safe: each function either returns exactly the bytes the
 * Python path writes for that record, or None, and then the caller takes the Python
 * path, which also explains errors. Anything unusual (invalid UTF-8, a float that would
 * be written in exponent form, a decimal wider than 64 bits, a timestamp outside
 * datetime's range, trailing bytes, a CSV cell in a non-canonical form...) returns None.
 * tests/test_transcode.py compares both paths byte for byte.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <math.h>
#include <float.h>

#include "civil.h"

/* -- an output buffer ------------------------------------------------------------------ */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
    char inline_buf[2048];
} Buf;

static void buf_init(Buf *b) { b->data = b->inline_buf; b->len = 0; b->cap = sizeof(b->inline_buf); }
static void buf_free(Buf *b) { if (b->data != b->inline_buf) PyMem_Free(b->data); }

static int buf_grow(Buf *b, Py_ssize_t need) {
    Py_ssize_t cap = b->cap;
    while (cap < b->len + need) cap *= 2;
    char *data;
    if (b->data == b->inline_buf) {
        data = PyMem_Malloc(cap);
        if (data) memcpy(data, b->data, b->len);
    } else {
        data = PyMem_Realloc(b->data, cap);
    }
    if (!data) { PyErr_NoMemory(); return -1; }
    b->data = data;
    b->cap = cap;
    return 0;
}

#define RESERVE(b, n) do { if ((b)->len + (n) > (b)->cap && buf_grow((b), (n)) < 0) return ERR; } while (0)

static inline void put(Buf *b, const char *s, Py_ssize_t n) { memcpy(b->data + b->len, s, n); b->len += n; }
static inline void putc_(Buf *b, char c) { b->data[b->len++] = c; }

/* results of the walkers: OK, FALLBACK (not for us: the caller takes the Python path) or
 * ERR (a Python exception is set, e.g. MemoryError) */
enum { OK = 0, FALLBACK = 1, ERR = -1 };

/* -- reading Avro ----------------------------------------------------------------------- */
typedef struct { const uint8_t *p, *end; } Reader;

static inline int read_long(Reader *r, int64_t *out) {
    uint64_t acc = 0;
    int shift = 0;
    while (r->p < r->end) {
        uint8_t byte = *r->p++;
        if (shift == 63 && (byte & 0x7e)) return FALLBACK;  /* more than 64 bits */
        acc |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = (int64_t)(acc >> 1) ^ -(int64_t)(acc & 1);
            return OK;
        }
        shift += 7;
        if (shift > 63) return FALLBACK;
    }
    return FALLBACK;
}

static inline int read_int(Reader *r, int64_t *out) {
    if (read_long(r, out) != OK) return FALLBACK;
    return (*out < INT32_MIN || *out > INT32_MAX) ? FALLBACK : OK;
}

/* -- writing JSON pieces ----------------------------------------------------------------- */
static Py_ssize_t format_int64(char *out, int64_t v) {
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    Py_ssize_t len = 0;
    if (v < 0) out[len++] = '-';
    while (n) out[len++] = tmp[--n];
    return len;
}

/* Strictly valid UTF-8 (what bytes.decode("utf-8") accepts): the length of the sequence
 * starting at s, or 0. */
static inline int utf8_seq(const uint8_t *s, const uint8_t *end) {
    uint8_t c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xc2) return 0;
    if (c < 0xe0) {
        if (end - s < 2 || (s[1] & 0xc0) != 0x80) return 0;
        return 2;
    }
    if (c < 0xf0) {
        if (end - s < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80) return 0;
        if (c == 0xe0 && s[1] < 0xa0) return 0;   /* overlong */
        if (c == 0xed && s[1] >= 0xa0) return 0;  /* surrogates */
        return 3;
    }
    if (c < 0xf5) {
        if (end - s < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80) return 0;
        if (c == 0xf0 && s[1] < 0x90) return 0;   /* overlong */
        if (c == 0xf4 && s[1] >= 0x90) return 0;  /* above U+10FFFF */
        return 4;
    }
    return 0;
}

static const char HEX[] = "0123456789abcdef";

/* A JSON string as orjson writes it: quote, backslash and control characters escaped
 * (\b \t \n \f \r short, the rest \u00xx), everything else as UTF-8. */
static int put_json_string(Buf *b, const uint8_t *s, Py_ssize_t n) {
    RESERVE(b, n * 6 + 2);
    char *o = b->data + b->len;
    const uint8_t *end = s + n;
    *o++ = '"';
    while (s < end) {
        uint8_t c = *s;
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) { *o++ = (char)c; s++; continue; }
        if (c >= 0x80) {
            int k = utf8_seq(s, end);
            if (!k) return FALLBACK;
            memcpy(o, s, k); o += k; s += k;
            continue;
        }
        *o++ = '\\';
        switch (c) {
            case '"': *o++ = '"'; break;
            case '\\': *o++ = '\\'; break;
            case '\b': *o++ = 'b'; break;
            case '\t': *o++ = 't'; break;
            case '\n': *o++ = 'n'; break;
            case '\f': *o++ = 'f'; break;
            case '\r': *o++ = 'r'; break;
            default: *o++ = 'u'; *o++ = '0'; *o++ = '0'; *o++ = HEX[c >> 4]; *o++ = HEX[c & 15];
        }
        s++;
    }
    *o++ = '"';
    b->len = o - b->data;
    return OK;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_base64(Buf *b, const uint8_t *s, Py_ssize_t n) {
    RESERVE(b, (n + 2) / 3 * 4 + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    Py_ssize_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = B64[v >> 18]; *o++ = B64[(v >> 12) & 63]; *o++ = B64[(v >> 6) & 63]; *o++ = B64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = B64[v >> 18]; *o++ = B64[(v >> 12) & 63]; *o++ = '='; *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = B64[v >> 18]; *o++ = B64[(v >> 12) & 63]; *o++ = B64[(v >> 6) & 63]; *o++ = '=';
    }
    *o++ = '"';
    b->len = o - b->data;
    return OK;
}

/* Python's repr of a double, which orjson matches while it is in fixed notation; the
 * exponent forms differ (1e-05 vs 0.00001), and NaN/Infinity are refused downstream. */
static int put_double(Buf *b, double d) {
    char *text = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!text) return ERR;
    size_t n = strlen(text);
    int plain = 1;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!(c == '-' || c == '.' || (c >= '0' && c <= '9'))) { plain = 0; break; }
    }
    if (plain) {
        if (b->len + (Py_ssize_t)n > b->cap && buf_grow(b, n) < 0) { PyMem_Free(text); return ERR; }
        put(b, text, n);
    }
    PyMem_Free(text);
    return plain ? OK : FALLBACK;
}


static inline char *digits(char *o, int64_t v, int width) {
    for (int i = width - 1; i >= 0; i--) { o[i] = (char)('0' + v % 10); v /= 10; }
    return o + width;
}

static char *put_date_text(char *o, int64_t days) {
    int64_t y; int m, d;
    civil_from_days(days, &y, &m, &d);
    o = digits(o, y, 4); *o++ = '-';
    o = digits(o, m, 2); *o++ = '-';
    return digits(o, d, 2);
}


/* a UTC datetime as orjson writes it with OPT_UTC_Z: microseconds only when not zero */
static int put_timestamp(Buf *b, int64_t v, int64_t per_second) {
    /* far outside datetime's years 1..9999 in either unit; keeps the arithmetic below in range */
    if (v < -((int64_t)1 << 62) || v > ((int64_t)1 << 62)) return FALLBACK;
    int64_t secs = floor_div(v, per_second);
    int64_t micros = (v - secs * per_second) * (1000000 / per_second);
    int64_t days = floor_div(secs, 86400);
    int64_t sod = secs - days * 86400;
    if (days < MIN_DAY || days > MAX_DAY) return FALLBACK;
    RESERVE(b, 40);
    char *o = b->data + b->len;
    *o++ = '"';
    o = put_date_text(o, days);
    *o++ = 'T';
    o = digits(o, sod / 3600, 2); *o++ = ':';
    o = digits(o, sod / 60 % 60, 2); *o++ = ':';
    o = digits(o, sod % 60, 2);
    if (micros) { *o++ = '.'; o = digits(o, micros, 6); }
    *o++ = 'Z'; *o++ = '"';
    b->len = o - b->data;
    return OK;
}

static int is_hex(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

/* canonical UUID text (36 characters, hyphens at 8/13/18/23), lowercased as str(UUID) */
static int uuid_ok(const uint8_t *s, Py_ssize_t n) {
    if (n != 36) return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) { if (s[i] != '-') return 0; }
        else if (!is_hex(s[i])) return 0;
    }
    return 1;
}

static int count_digits(uint64_t u) { int n = 1; while (u >= 10) { u /= 10; n++; } return n; }

/* an unscaled decimal as format(Decimal, "f") writes it: sign, digits, scale decimals */
static int put_decimal_text(Buf *b, int64_t unscaled, int precision, int scale, int quoted) {
    uint64_t u = unscaled < 0 ? (uint64_t)0 - (uint64_t)unscaled : (uint64_t)unscaled;
    if (count_digits(u) > precision) return FALLBACK;  /* the Python path would round */
    if (scale > 64) return FALLBACK;  /* tmp holds 20 digits and up to 65 zeros of padding */
    char tmp[88];
    int n = 0;
    do { tmp[n++] = (char)('0' + u % 10); u /= 10; } while (u);
    while (n <= scale) tmp[n++] = '0';  /* at least one digit before the point */
    RESERVE(b, n + 5);
    if (quoted) putc_(b, '"');
    if (unscaled < 0) putc_(b, '-');
    for (int i = n - 1; i >= 0; i--) {
        putc_(b, tmp[i]);
        if (i == scale && scale > 0) putc_(b, '.');
    }
    if (quoted) putc_(b, '"');
    return OK;
}

/* -- Avro -> JSON ----------------------------------------------------------------------- */
enum {
    A_NULL, A_BOOLEAN, A_INT, A_LONG, A_FLOAT, A_DOUBLE, A_BYTES, A_STRING, A_FIXED, A_ENUM,
    A_RECORD, A_ARRAY, A_MAP, A_UNION, A_UUID, A_DATE, A_TIMESTAMP_MILLIS, A_TIMESTAMP_MICROS,
    A_DECIMAL,
};

#define MAX_MAP_KEYS 64  /* bigger maps go the Python way (checking repeats stays cheap) */

static inline long op_arg(PyObject *node, Py_ssize_t i) { return PyLong_AsLong(PyTuple_GET_ITEM(node, i)); }

static int avro_json(PyObject *node, Reader *r, Buf *b, int depth);

static int read_blob(Reader *r, const uint8_t **s, Py_ssize_t *n) {
    int64_t len;
    if (read_long(r, &len) != OK || len < 0 || len > r->end - r->p) return FALLBACK;
    *s = r->p;
    *n = (Py_ssize_t)len;
    r->p += len;
    return OK;
}

/* one block count of an array or map. A negative count (followed by the block's size in
 * bytes) is valid Avro, but the Python path's codec (cavro) refuses it, so it is left there:
 * a record must convert the same whichever path it takes. */
static int block_count(Reader *r, int64_t *count) {
    if (read_long(r, count) != OK || *count < 0) return FALLBACK;
    return OK;
}

static int avro_json(PyObject *node, Reader *r, Buf *b, int depth) {
    if (depth > 64) return FALLBACK;
    int64_t v;
    const uint8_t *s;
    Py_ssize_t n;
    int rc;
    switch (op_arg(node, 0)) {
    case A_NULL:
        RESERVE(b, 4); put(b, "null", 4); return OK;
    case A_BOOLEAN:
        if (r->p >= r->end || *r->p > 1) return FALLBACK;
        RESERVE(b, 5);
        if (*r->p++) put(b, "true", 4); else put(b, "false", 5);
        return OK;
    case A_INT:
        if (read_int(r, &v) != OK) return FALLBACK;
        RESERVE(b, 24); b->len += format_int64(b->data + b->len, v); return OK;
    case A_LONG:
        if (read_long(r, &v) != OK) return FALLBACK;
        RESERVE(b, 24); b->len += format_int64(b->data + b->len, v); return OK;
    case A_FLOAT: {
        float f;
        if (r->end - r->p < 4) return FALLBACK;
        memcpy(&f, r->p, 4); r->p += 4;  /* little-endian on the machines this builds on */
        return put_double(b, (double)f);
    }
    case A_DOUBLE: {
        double d;
        if (r->end - r->p < 8) return FALLBACK;
        memcpy(&d, r->p, 8); r->p += 8;
        return put_double(b, d);
    }
    case A_BYTES:
        if (read_blob(r, &s, &n) != OK) return FALLBACK;
        return put_base64(b, s, n);
    case A_STRING:
        if (read_blob(r, &s, &n) != OK) return FALLBACK;
        return put_json_string(b, s, n);
    case A_FIXED:
        n = op_arg(node, 1);
        if (n < 0 || r->end - r->p < n) return FALLBACK;
        s = r->p; r->p += n;
        return put_base64(b, s, n);
    case A_ENUM: {
        PyObject *symbols = PyTuple_GET_ITEM(node, 1);
        if (read_int(r, &v) != OK || v < 0 || v >= PyTuple_GET_SIZE(symbols)) return FALLBACK;
        PyObject *text = PyTuple_GET_ITEM(symbols, v);
        RESERVE(b, PyBytes_GET_SIZE(text));
        put(b, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text));
        return OK;
    }
    case A_RECORD: {
        PyObject *fields = PyTuple_GET_ITEM(node, 1);
        Py_ssize_t count = PyTuple_GET_SIZE(fields);
        RESERVE(b, 2);
        putc_(b, '{');
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *field = PyTuple_GET_ITEM(fields, i);
            PyObject *key = PyTuple_GET_ITEM(field, 0);  /* ',"name":' (no comma for the first) */
            RESERVE(b, PyBytes_GET_SIZE(key));
            put(b, PyBytes_AS_STRING(key), PyBytes_GET_SIZE(key));
            if ((rc = avro_json(PyTuple_GET_ITEM(field, 1), r, b, depth + 1)) != OK) return rc;
        }
        RESERVE(b, 1);
        putc_(b, '}');
        return OK;
    }
    case A_ARRAY:
    case A_MAP: {
        int is_map = op_arg(node, 0) == A_MAP;
        PyObject *item = PyTuple_GET_ITEM(node, 1);
        int first = 1;
        /* a map's keys so far: the Python path reads a map into a dict, where a repeated
         * key keeps its first place and its last value, so a repeat goes back there */
        struct { const uint8_t *s; Py_ssize_t n; } keys[MAX_MAP_KEYS];
        int nkeys = 0;
        RESERVE(b, 1);
        putc_(b, is_map ? '{' : '[');
        for (;;) {
            int64_t count;
            if (block_count(r, &count) != OK) return FALLBACK;
            if (count == 0) break;
            if (count > r->end - r->p) return FALLBACK;  /* zero-size items: the Python path */
            for (int64_t i = 0; i < count; i++) {
                if (!first) { RESERVE(b, 1); putc_(b, ','); }
                first = 0;
                if (is_map) {
                    if (read_blob(r, &s, &n) != OK || nkeys == MAX_MAP_KEYS) return FALLBACK;
                    for (int k = 0; k < nkeys; k++)
                        if (keys[k].n == n && memcmp(keys[k].s, s, n) == 0) return FALLBACK;
                    keys[nkeys].s = s;
                    keys[nkeys].n = n;
                    nkeys++;
                    if ((rc = put_json_string(b, s, n)) != OK) return rc;
                    RESERVE(b, 1); putc_(b, ':');
                }
                if ((rc = avro_json(item, r, b, depth + 1)) != OK) return rc;
            }
        }
        RESERVE(b, 1);
        putc_(b, is_map ? '}' : ']');
        return OK;
    }
    case A_UNION: {
        PyObject *branches = PyTuple_GET_ITEM(node, 1);
        if (read_long(r, &v) != OK || v < 0 || v >= PyTuple_GET_SIZE(branches)) return FALLBACK;
        return avro_json(PyTuple_GET_ITEM(branches, v), r, b, depth + 1);
    }
    case A_UUID:
        if (read_blob(r, &s, &n) != OK || !uuid_ok(s, n)) return FALLBACK;
        RESERVE(b, 38);
        putc_(b, '"');
        for (Py_ssize_t i = 0; i < 36; i++) putc_(b, (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]));
        putc_(b, '"');
        return OK;
    case A_DATE:
        if (read_int(r, &v) != OK || v < MIN_DAY || v > MAX_DAY) return FALLBACK;
        RESERVE(b, 16);
        putc_(b, '"');
        b->len = put_date_text(b->data + b->len, v) - b->data;
        putc_(b, '"');
        return OK;
    case A_TIMESTAMP_MILLIS:
        if (read_long(r, &v) != OK) return FALLBACK;
        return put_timestamp(b, v, 1000);
    case A_TIMESTAMP_MICROS:
        if (read_long(r, &v) != OK) return FALLBACK;
        return put_timestamp(b, v, 1000000);
    case A_DECIMAL: {
        if (read_blob(r, &s, &n) != OK || n > 8) return FALLBACK;
        int64_t unscaled = 0;
        if (n) {
            uint64_t u = (s[0] & 0x80) ? ~(uint64_t)0 : 0;
            for (Py_ssize_t i = 0; i < n; i++) u = (u << 8) | s[i];
            unscaled = (int64_t)u;
        }
        return put_decimal_text(b, unscaled, (int)op_arg(node, 1), (int)op_arg(node, 2), 1);
    }
    }
    return FALLBACK;
}

PyDoc_STRVAR(avro_to_json_doc,
"avro_to_json(program, data, start, prefix) -> bytes | None\n\n"
"prefix + the JSON text of the Avro datum data[start:], or None when the Python path\n"
"must take the record.");

static PyObject *avro_to_json(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyTuple_Check(args[0]) || !PyBytes_Check(args[1]) || !PyBytes_Check(args[3])) {
        PyErr_SetString(PyExc_TypeError, "avro_to_json(program: tuple, data: bytes, start: int, prefix: bytes)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[2]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t size = PyBytes_GET_SIZE(args[1]);
    if (start < 0 || start > size) Py_RETURN_NONE;
    Reader r = {(const uint8_t *)PyBytes_AS_STRING(args[1]) + start, (const uint8_t *)PyBytes_AS_STRING(args[1]) + size};
    Buf b;
    buf_init(&b);
    Py_ssize_t plen = PyBytes_GET_SIZE(args[3]);
    if (b.len + plen > b.cap && buf_grow(&b, plen) < 0) return NULL;
    put(&b, PyBytes_AS_STRING(args[3]), plen);
    int rc = avro_json(args[0], &r, &b, 0);
    if (rc == OK && r.p != r.end) rc = FALLBACK;  /* trailing bytes: the Python path judges them */
    PyObject *out = NULL;
    if (rc == OK) out = PyBytes_FromStringAndSize(b.data, b.len);
    buf_free(&b);
    if (rc == ERR) return NULL;
    if (rc == FALLBACK) Py_RETURN_NONE;
    return out;
}


/* -- CSV -> Avro ---------------------------------------------------------------------- */
enum {
    C_STRING, C_LONG, C_INT, C_DOUBLE, C_FLOAT, C_BOOLEAN, C_ENUM, C_UUID, C_DATE,
    C_TIMESTAMP_MILLIS, C_DECIMAL,
};

static inline void put_varint(Buf *b, int64_t v) {  /* needs 10 bytes reserved */
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (u > 0x7f) { b->data[b->len++] = (char)((u & 0x7f) | 0x80); u >>= 7; }
    b->data[b->len++] = (char)u;
}

static inline int all_digits(const uint8_t *s, Py_ssize_t n) {
    if (n <= 0) return 0;
    for (Py_ssize_t i = 0; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static inline int64_t number_at(const uint8_t *s, Py_ssize_t n) {
    int64_t v = 0;
    for (Py_ssize_t i = 0; i < n; i++) v = v * 10 + (s[i] - '0');
    return v;
}

/* -?[0-9]{1,18}: what int(text) reads the same way (no sign, spaces or "_" forms) */
static int parse_int_text(const uint8_t *s, Py_ssize_t n, int64_t *out) {
    int negative = n > 0 && s[0] == '-';
    if (negative) { s++; n--; }
    if (n > 18 || !all_digits(s, n)) return FALLBACK;
    *out = negative ? -number_at(s, n) : number_at(s, n);
    return OK;
}

/* -?digits(.digits)?([eE][+-]?digits)?: float(text) and strtod agree (both correctly rounded) */
static int parse_float_text(const uint8_t *s, Py_ssize_t n, double *out) {
    char tmp[64];
    Py_ssize_t i = 0;
    if (n <= 0 || n >= (Py_ssize_t)sizeof(tmp)) return FALLBACK;
    if (s[i] == '-') i++;
    Py_ssize_t start = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    if (i == start) return FALLBACK;
    if (i < n && s[i] == '.') {
        Py_ssize_t frac = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == frac) return FALLBACK;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        Py_ssize_t exp = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        if (i == exp) return FALLBACK;
    }
    if (i != n) return FALLBACK;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    *out = PyOS_string_to_double(tmp, NULL, NULL);
    if (*out == -1.0 && PyErr_Occurred()) { PyErr_Clear(); return FALLBACK; }
    return OK;
}

static int days_in_month(int64_t y, int m) {
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return 29;
    return days[m - 1];
}

/* YYYY-MM-DD, a real day of years 1..9999: days since 1970-01-01 */
static int parse_date_text(const uint8_t *s, Py_ssize_t n, int64_t *days) {
    if (n != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) || !all_digits(s + 5, 2) || !all_digits(s + 8, 2))
        return FALLBACK;
    int64_t y = number_at(s, 4);
    int m = (int)number_at(s + 5, 2), d = (int)number_at(s + 8, 2);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return FALLBACK;
    *days = days_from_civil(y, m, d);
    return OK;
}

/* YYYY-MM-DDTHH:MM:SS[.f{1,6}][Z|+00:00]: UTC (a naive time is UTC, as the Python path
 * reads it), as epoch milliseconds floored like (datetime - epoch) // 1 ms */
static int parse_timestamp_millis_text(const uint8_t *s, Py_ssize_t n, int64_t *out) {
    int64_t days;
    if (n < 19 || s[10] != 'T' || parse_date_text(s, 10, &days) != OK) return FALLBACK;
    if (s[13] != ':' || s[16] != ':' || !all_digits(s + 11, 2) || !all_digits(s + 14, 2) || !all_digits(s + 17, 2))
        return FALLBACK;
    int64_t hh = number_at(s + 11, 2), mm = number_at(s + 14, 2), ss = number_at(s + 17, 2);
    if (hh > 23 || mm > 59 || ss > 59) return FALLBACK;
    Py_ssize_t i = 19;
    int64_t micros = 0;
    if (i < n && s[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        Py_ssize_t count = i - start;
        if (count < 1 || count > 6) return FALLBACK;
        micros = number_at(s + start, count);
        for (Py_ssize_t k = count; k < 6; k++) micros *= 10;
    }
    if (i < n) {
        if (n - i == 1 && s[i] == 'Z') i++;
        else if (n - i == 6 && memcmp(s + i, "+00:00", 6) == 0) i += 6;
        else return FALLBACK;
    }
    int64_t total = ((days * 86400 + hh * 3600 + mm * 60 + ss) * 1000000) + micros;
    *out = floor_div(total, 1000);
    return OK;
}

static int put_avro_blob(Buf *b, const uint8_t *s, Py_ssize_t n) {
    RESERVE(b, n + 10);
    put_varint(b, n);
    put(b, (const char *)s, n);
    return OK;
}

/* one CSV cell as the Avro value of its column; quoted tells "" (text) from nothing (null) */
static int csv_cell(PyObject *column, const uint8_t *s, Py_ssize_t n, int quoted, Buf *b) {
    long op = op_arg(column, 0);
    long null_index = op_arg(column, 1), value_index = op_arg(column, 2);
    int64_t v;
    RESERVE(b, 24);
    if (n == 0 && !quoted) {
        if (null_index >= 0) { put_varint(b, null_index); return OK; }
        if (op != C_STRING) return FALLBACK;  /* the Python path explains the missing value */
    } else if (n == 0 && op != C_STRING) {
        return FALLBACK;
    }
    if (null_index >= 0) put_varint(b, value_index);
    switch (op) {
    case C_STRING:
        return put_avro_blob(b, s, n);
    case C_LONG:
    case C_INT:
        if (parse_int_text(s, n, &v) != OK) return FALLBACK;
        if (op == C_INT && (v < INT32_MIN || v > INT32_MAX)) return FALLBACK;
        put_varint(b, v);
        return OK;
    case C_DOUBLE:
    case C_FLOAT: {
        double d;
        if (parse_float_text(s, n, &d) != OK) return FALLBACK;
        if (op == C_DOUBLE) { memcpy(b->data + b->len, &d, 8); b->len += 8; return OK; }
        /* beyond FLT_MAX (even if it would round to it) or not finite: the Python path's
         * codec judges those (it refuses the first) */
        if (!isfinite(d) || fabs(d) > FLT_MAX) return FALLBACK;
        float f = (float)d;
        memcpy(b->data + b->len, &f, 4); b->len += 4;
        return OK;
    }
    case C_BOOLEAN:
        if (n == 4 && memcmp(s, "true", 4) == 0) { putc_(b, 1); return OK; }
        if (n == 5 && memcmp(s, "false", 5) == 0) { putc_(b, 0); return OK; }
        return FALLBACK;
    case C_ENUM: {
        PyObject *symbols = PyTuple_GET_ITEM(column, 3);
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(symbols); i++) {
            PyObject *symbol = PyTuple_GET_ITEM(symbols, i);
            if (PyBytes_GET_SIZE(symbol) == n && memcmp(PyBytes_AS_STRING(symbol), s, n) == 0) {
                put_varint(b, i);
                return OK;
            }
        }
        return FALLBACK;
    }
    case C_UUID:
        if (!uuid_ok(s, n)) return FALLBACK;
        RESERVE(b, 40);
        put_varint(b, 36);
        for (Py_ssize_t i = 0; i < 36; i++) putc_(b, (char)(s[i] >= 'A' && s[i] <= 'F' ? s[i] + 32 : s[i]));
        return OK;
    case C_DATE:
        if (parse_date_text(s, n, &v) != OK) return FALLBACK;
        put_varint(b, v);
        return OK;
    case C_TIMESTAMP_MILLIS:
        if (parse_timestamp_millis_text(s, n, &v) != OK) return FALLBACK;
        put_varint(b, v);
        return OK;
    case C_DECIMAL: {
        /* -digits.{scale digits}: exactly the scale (other forms are quantized or refused by
         * the Python path), within the precision */
        long precision = op_arg(column, 3), scale = op_arg(column, 4);
        int negative = s[0] == '-';
        const uint8_t *digits = s + negative;
        Py_ssize_t len = n - negative, whole = len;
        if (scale > 0) {
            whole = len - scale - 1;
            if (whole < 1 || digits[whole] != '.' || !all_digits(digits + whole + 1, scale)) return FALLBACK;
        }
        if (!all_digits(digits, whole) || whole + scale > 18) return FALLBACK;
        int64_t unscaled = number_at(digits, whole);
        for (long i = 0; i < scale; i++) unscaled = unscaled * 10 + (digits[whole + 1 + i] - '0');
        if (count_digits((uint64_t)unscaled) > precision) return FALLBACK;
        if (negative) unscaled = -unscaled;
        /* (n.bit_length() + 8) // 8 bytes, big-endian two's complement, as the Python path sizes them */
        uint64_t magnitude = unscaled < 0 ? (uint64_t)0 - (uint64_t)unscaled : (uint64_t)unscaled;
        int bits = 0;
        while (magnitude >> bits && bits < 64) bits++;
        int size = (bits + 8) / 8;
        put_varint(b, size);
        for (int i = size - 1; i >= 0; i--) putc_(b, (char)(i >= 8 ? (unscaled < 0 ? 0xff : 0) : ((uint64_t)unscaled >> (8 * i)) & 0xff));
        return OK;
    }
    }
    return FALLBACK;
}

PyDoc_STRVAR(csv_to_avro_doc,
"csv_to_avro(program, data, prefix) -> bytes | None\n\n"
"prefix + the Avro record of the one CSV row in data (comma-separated, '\"' quotes, an\n"
"empty unquoted cell is null), or None when the Python path must take the record.");

static PyObject *csv_to_avro(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3 || !PyTuple_Check(args[0]) || !PyBytes_Check(args[1]) || !PyBytes_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "csv_to_avro(program: tuple, data: bytes, prefix: bytes)");
        return NULL;
    }
    PyObject *program = args[0];
    Py_ssize_t width = PyTuple_GET_SIZE(program);
    const uint8_t *p = (const uint8_t *)PyBytes_AS_STRING(args[1]);
    const uint8_t *end = p + PyBytes_GET_SIZE(args[1]);
    /* one row and one line end at most; a byte-order mark and NUL bytes go the Python way */
    if (end > p && end[-1] == '\n') end--;
    if (end > p && end[-1] == '\r') end--;
    if (end == p || (end - p >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)) Py_RETURN_NONE;
    for (const uint8_t *q = p; q < end;) {
        if (*q < 0x80) { if (!*q) Py_RETURN_NONE; q++; continue; }
        int k = utf8_seq(q, end);
        if (!k) Py_RETURN_NONE;
        q += k;
    }
    Buf b, cell;
    buf_init(&b);
    buf_init(&cell);
    int rc = OK;
    Py_ssize_t plen = PyBytes_GET_SIZE(args[2]);
    if (plen + 16 > b.cap && buf_grow(&b, plen + 16) < 0) { rc = ERR; goto done; }
    put(&b, PyBytes_AS_STRING(args[2]), plen);
    Py_ssize_t column = 0;
    for (;;) {
        if (column >= width) { rc = FALLBACK; break; }
        const uint8_t *text;
        Py_ssize_t len;
        int quoted = 0;
        if (p < end && *p == '"') {
            quoted = 1;
            cell.len = 0;
            p++;
            for (;;) {
                if (p >= end) { rc = FALLBACK; goto done; }  /* no closing quote */
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') { p += 2; if (cell.len + 1 > cell.cap && buf_grow(&cell, 1) < 0) { rc = ERR; goto done; } putc_(&cell, '"'); continue; }
                    p++;
                    break;
                }
                const uint8_t *run = p;
                while (p < end && *p != '"') p++;
                if (cell.len + (p - run) > cell.cap && buf_grow(&cell, p - run) < 0) { rc = ERR; goto done; }
                put(&cell, (const char *)run, p - run);
            }
            if (p < end && *p != ',') { rc = FALLBACK; break; }  /* text after the closing quote */
            text = (const uint8_t *)cell.data;
            len = cell.len;
        } else {
            text = p;
            while (p < end && *p != ',') {
                if (*p == '"' || *p == '\r' || *p == '\n') { rc = FALLBACK; goto done; }
                p++;
            }
            len = p - text;
        }
        rc = csv_cell(PyTuple_GET_ITEM(program, column), text, len, quoted, &b);
        if (rc != OK) break;
        column++;
        if (p >= end) break;
        p++;  /* the delimiter; a row ending in one has an empty last cell */
        if (p >= end) {
            if (column >= width) { rc = FALLBACK; break; }
            rc = csv_cell(PyTuple_GET_ITEM(program, column), p, 0, 0, &b);
            column++;
            break;
        }
    }
    if (rc == OK && column != width) rc = FALLBACK;  /* too few columns: the Python path explains */
done:;
    PyObject *out = NULL;
    if (rc == OK) out = PyBytes_FromStringAndSize(b.data, b.len);
    buf_free(&b);
    buf_free(&cell);
    if (rc == ERR) return NULL;
    if (rc == FALLBACK) Py_RETURN_NONE;
    return out;
}

/* -- module ------------------------------------------------------------------------------ */
static PyMethodDef methods[] = {
    {"avro_to_json", (PyCFunction)(void (*)(void))avro_to_json, METH_FASTCALL, avro_to_json_doc},
    {"csv_to_avro", (PyCFunction)(void (*)(void))csv_to_avro, METH_FASTCALL, csv_to_avro_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "serde.gateway._speedups", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
