/* serde.formats._avro_native: Avro's binary encoding written from and read into plain
 * Python values, in C.
 *
 * serde writes Avro with cavro, after a generated Python pass that turns logical values
 * (Decimal, UUID, datetime, date) into what cavro's schema without logical types takes,
 * and reads it with cavro and the pass the other way; on the project's order record that
 * costs 14 us to write and 9-12 us to read. Writer and Reader walk a *program* built in
 * Python from the schema (serde/formats/_avro_fast.py) and do the work themselves, for
 * records made of exactly the plain types: dict (with exactly the schema's fields), list,
 * str, bytes, int, float, bool, None, and for logical types Decimal (with exactly the
 * schema's scale), UUID, datetime (naive or UTC; UTC when read) and date.
 *
 * The rule that keeps them safe, as for the gateway's transcoders: for each record (or
 * payload) they either give exactly what serde's Python path gives, or leave it to that
 * path (the fallback), which also says what is wrong with it. Writing, anything else goes
 * there: a subclass, a missing or extra field, a float where a long goes, an int out of
 * range, a non-finite float, a string that is not UTF-8, a Decimal with another exponent
 * or more than 18 digits, a datetime in another zone. Reading, every read is bounded by
 * the payload and anything unusual goes there: truncated data, trailing bytes, a negative
 * block count, a length beyond the payload, more items than the payload has bytes,
 * invalid UTF-8, a union branch or enum index out of range, a decimal wider than 64 bits
 * or than its precision, a date or timestamp outside datetime's years, a UUID not in its
 * canonical text. tests/formats/test_avro_writer.py and test_avro_reader.py compare both
 * sides on generated schemas, records and damaged payloads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "civil.h"

/* program opcodes, as in serde/formats/_avro_fast.py */
enum {
    OP_NULL = 0, OP_BOOLEAN = 1, OP_INT = 2, OP_LONG = 3, OP_FLOAT = 4, OP_DOUBLE = 5, OP_STRING = 6,
    OP_BYTES = 7, OP_ENUM = 8, OP_FIXED = 9, OP_RECORD = 10, OP_ARRAY = 11, OP_MAP = 12, OP_NULLABLE = 13,
    OP_DECIMAL = 14, OP_UUID = 15, OP_DATE = 16, OP_TIMESTAMP_MILLIS = 17, OP_TIMESTAMP_MICROS = 18,
    OP_FALLBACK = 19,
};

#define MAX_DEPTH 256 /* programs are built from non-recursive schemas, at most 128 deep */

/* results: 0 done, 1 "not for the C code" (the fallback takes it), -1 an error is set */
#define DONE 0
#define PASS 1
#define FAIL (-1)

/* Writer and Reader: the program, the Python path, and what UUIDs are made of */
typedef struct {
    PyObject_HEAD
    PyObject *program;
    PyObject *fallback;     /* the Python path: every record or payload the C code leaves */
    PyObject *uuid_type;    /* uuid.UUID */
    PyObject *uuid_unknown; /* uuid.SafeUUID.unknown, as uuid.UUID(text) sets it (Reader) */
    vectorcallfunc vectorcall;
} Codec;

typedef Codec Writer;
typedef Codec Reader;

static PyObject *str_int, *str_is_safe; /* interned once, in the module's init */

/* ======================================================================================
 * writing
 * ==================================================================================== */
/* -- an output buffer ------------------------------------------------------------------ */
typedef struct {
    char *data;
    Py_ssize_t len, cap;
    char inline_buf[1024];
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t need) {
    if (b->len + need <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap;
    while (cap < b->len + need) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *data;
    if (b->data == b->inline_buf) {
        data = PyMem_Malloc(cap);
        if (data)
            memcpy(data, b->data, b->len);
    } else {
        data = PyMem_Realloc(b->data, cap);
    }
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int put_long(Buf *b, int64_t v) {
    if (buf_reserve(b, 10) < 0)
        return -1;
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z >= 0x80) {
        b->data[b->len++] = (char)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    b->data[b->len++] = (char)z;
    return 0;
}

static inline int put_raw(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

static inline int put_blob(Buf *b, const char *s, Py_ssize_t n) {
    if (put_long(b, n) < 0)
        return -1;
    return put_raw(b, s, n);
}

/* a Python int as int64 within [lo, hi], else PASS */
static int as_int64(PyObject *v, int64_t lo, int64_t hi, int64_t *out) {
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (x == -1 && PyErr_Occurred())
        return FAIL;
    if (overflow || x < lo || x > hi)
        return PASS;
    *out = (int64_t)x;
    return DONE;
}

/* Decimal -> the unscaled integer for ``scale`` from its text, when it has exactly
 * ``scale`` digits after the point, no exponent and at most 18 digits */
static int decimal_unscaled(PyObject *v, long scale, int64_t *out) {
    PyObject *text = PyObject_Str(v);
    if (text == NULL)
        return FAIL;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    if (s == NULL) {
        Py_DECREF(text);
        return FAIL;
    }
    int negative = 0, digits = 0, seen_point = 0;
    long after = 0;
    int64_t acc = 0;
    Py_ssize_t i = 0;
    int result = DONE;
    if (i < n && s[i] == '-') {
        negative = 1;
        i++;
    }
    if (i == n)
        result = PASS;
    for (; i < n && result == DONE; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            if (++digits > 18) {
                result = PASS;
                break;
            }
            acc = acc * 10 + (c - '0');
            if (seen_point)
                after++;
        } else if (c == '.' && !seen_point && digits > 0) {
            seen_point = 1;
        } else {
            result = PASS; /* an exponent, NaN, Infinity */
        }
    }
    Py_DECREF(text);
    if (result != DONE)
        return result;
    if (digits == 0 || after != scale || (seen_point && after == 0))
        return PASS;
    *out = negative ? -acc : acc;
    return DONE;
}

static int put_decimal(Buf *b, int64_t n) {
    /* Python's n.to_bytes((n.bit_length() + 8) // 8, "big", signed=True) */
    uint64_t u = n < 0 ? (uint64_t)(-(n + 1)) + 1 : (uint64_t)n;
    int bits = 0;
    while (u) {
        bits++;
        u >>= 1;
    }
    int size = (bits + 8) / 8;
    char out[9];
    for (int i = size - 1; i >= 0; i--) {
        out[i] = (char)((uint64_t)n & 0xff);
        n >>= 8; /* arithmetic: sign bits fill, as two's complement wants */
    }
    return put_blob(b, out, size);
}

/* a str as Avro's string: its UTF-8 bytes; lone surrogates are the Python path's to refuse */
static int put_text(Buf *b, PyObject *v) {
    if (!PyUnicode_CheckExact(v))
        return PASS;
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(v, &len);
    if (s == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
            return FAIL;
        PyErr_Clear();
        return PASS;
    }
    return put_blob(b, s, len);
}

static const char HEX[] = "0123456789abcdef";

static int put_uuid(Buf *b, PyObject *v) {
    PyObject *number = PyObject_GetAttr(v, str_int);
    if (number == NULL)
        return FAIL;
    if (!PyLong_CheckExact(number)) {
        Py_DECREF(number);
        return PASS;
    }
    uint64_t low = PyLong_AsUnsignedLongLongMask(number);
    if (low == (uint64_t)-1 && PyErr_Occurred()) {
        Py_DECREF(number);
        return FAIL;
    }
    PyObject *shift = PyLong_FromLong(64);
    PyObject *high_obj = shift ? PyNumber_Rshift(number, shift) : NULL;
    Py_XDECREF(shift);
    Py_DECREF(number);
    if (high_obj == NULL)
        return FAIL;
    int overflow = 0;
    unsigned long long high = PyLong_AsUnsignedLongLong(high_obj);
    Py_DECREF(high_obj);
    if (high == (unsigned long long)-1 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return FAIL;
        PyErr_Clear(); /* an int beyond 128 bits: not a UUID uuid.UUID would make */
        overflow = 1;
    }
    if (overflow)
        return PASS;
    char text[36];
    int at = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 8 || i == 12 || i == 16 || i == 20)
            text[at++] = '-';
        uint64_t word = i < 16 ? high : low;
        int shift_bits = (15 - (i % 16)) * 4;
        text[at++] = HEX[(word >> shift_bits) & 0xf];
    }
    return put_blob(b, text, 36);
}

/* a datetime, naive or in datetime.timezone.utc, as units since the epoch */
static int datetime_units(PyObject *v, int64_t per_second, int64_t *out) {
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(v);
    if (tz != Py_None && tz != PyDateTime_TimeZone_UTC)
        return PASS;
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v));
    int64_t seconds = days * 86400 + PyDateTime_DATE_GET_HOUR(v) * 3600 + PyDateTime_DATE_GET_MINUTE(v) * 60 +
                      PyDateTime_DATE_GET_SECOND(v);
    int64_t micro = PyDateTime_DATE_GET_MICROSECOND(v);
    *out = per_second == 1000 ? seconds * 1000 + micro / 1000 : seconds * 1000000 + micro;
    return DONE;
}

static int write_value(Writer *w, PyObject *node, PyObject *v, Buf *b, int depth);

static int write_value(Writer *w, PyObject *node, PyObject *v, Buf *b, int depth) {
    if (depth > MAX_DEPTH)
        return PASS;
    if (!PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) < 1)
        return PASS;
    long op = PyLong_AsLong(PyTuple_GET_ITEM(node, 0));
    int64_t n;
    int r;
    switch (op) {
    case OP_NULL:
        return v == Py_None ? DONE : PASS;
    case OP_BOOLEAN:
        if (v == Py_True || v == Py_False) {
            if (buf_reserve(b, 1) < 0)
                return FAIL;
            b->data[b->len++] = v == Py_True ? 1 : 0;
            return DONE;
        }
        return PASS;
    case OP_INT:
    case OP_LONG:
        if (!PyLong_CheckExact(v))
            return PASS;
        r = op == OP_INT ? as_int64(v, INT32_MIN, INT32_MAX, &n) : as_int64(v, INT64_MIN, INT64_MAX, &n);
        return r != DONE ? r : put_long(b, n);
    case OP_FLOAT: {
        if (!PyFloat_CheckExact(v))
            return PASS;
        double d = PyFloat_AS_DOUBLE(v);
        if (!isfinite(d) || fabs(d) > FLT_MAX)
            return PASS;
        float f = (float)d;
        if (!isfinite(f))
            return PASS;
        unsigned char out[4];
        if (PyFloat_Pack4(d, (char *)out, 1) < 0)
            return FAIL;
        return put_raw(b, (const char *)out, 4);
    }
    case OP_DOUBLE: {
        if (!PyFloat_CheckExact(v))
            return PASS;
        double d = PyFloat_AS_DOUBLE(v);
        if (!isfinite(d))
            return PASS;
        unsigned char out[8];
        if (PyFloat_Pack8(d, (char *)out, 1) < 0)
            return FAIL;
        return put_raw(b, (const char *)out, 8);
    }
    case OP_STRING:
    case OP_UUID: {
        if (op == OP_UUID && Py_TYPE(v) == (PyTypeObject *)w->uuid_type)
            return put_uuid(b, v);
        return put_text(b, v);
    }
    case OP_BYTES:
        if (!PyBytes_CheckExact(v))
            return PASS;
        return put_blob(b, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
    case OP_ENUM: { /* (op, {symbol: index}, symbols) */
        if (!PyUnicode_CheckExact(v))
            return PASS;
        PyObject *index = PyDict_GetItemWithError(PyTuple_GET_ITEM(node, 1), v);
        if (index == NULL)
            return PyErr_Occurred() ? FAIL : PASS;
        return put_long(b, PyLong_AsLongLong(index));
    }
    case OP_FIXED: /* (op, size) */
        if (!PyBytes_CheckExact(v) || PyBytes_GET_SIZE(v) != PyLong_AsSsize_t(PyTuple_GET_ITEM(node, 1)))
            return PASS;
        return put_raw(b, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v));
    case OP_RECORD: { /* (op, ((name, node), ...)) */
        PyObject *fields = PyTuple_GET_ITEM(node, 1);
        if (!PyDict_CheckExact(v) || PyDict_GET_SIZE(v) != PyTuple_GET_SIZE(fields))
            return PASS;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++) {
            PyObject *field = PyTuple_GET_ITEM(fields, i);
            PyObject *item = PyDict_GetItemWithError(v, PyTuple_GET_ITEM(field, 0));
            if (item == NULL)
                return PyErr_Occurred() ? FAIL : PASS;
            Py_INCREF(item);
            r = write_value(w, PyTuple_GET_ITEM(field, 1), item, b, depth + 1);
            Py_DECREF(item);
            if (r != DONE)
                return r;
        }
        return DONE;
    }
    case OP_ARRAY: { /* (op, items) */
        if (!PyList_CheckExact(v))
            return PASS;
        Py_ssize_t count = PyList_GET_SIZE(v);
        if (count > 0) {
            if (put_long(b, count) < 0)
                return FAIL;
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(v); i++) {
                if (PyList_GET_SIZE(v) != count)
                    return PASS; /* changed under us (a __del__, another thread): start again elsewhere */
                PyObject *item = PyList_GET_ITEM(v, i);
                Py_INCREF(item);
                r = write_value(w, PyTuple_GET_ITEM(node, 1), item, b, depth + 1);
                Py_DECREF(item);
                if (r != DONE)
                    return r;
            }
        }
        return put_long(b, 0);
    }
    case OP_MAP: { /* (op, values) */
        if (!PyDict_CheckExact(v))
            return PASS;
        Py_ssize_t count = PyDict_GET_SIZE(v), pos = 0, seen = 0;
        PyObject *key, *item;
        if (count > 0) {
            if (put_long(b, count) < 0)
                return FAIL;
            while (PyDict_Next(v, &pos, &key, &item)) {
                r = put_text(b, key);
                if (r != DONE)
                    return r;
                Py_INCREF(key);
                Py_INCREF(item);
                r = write_value(w, PyTuple_GET_ITEM(node, 1), item, b, depth + 1);
                Py_DECREF(item);
                Py_DECREF(key);
                if (r != DONE)
                    return r;
                seen++;
                if (PyDict_GET_SIZE(v) != count)
                    return PASS;
            }
            if (seen != count)
                return PASS;
        }
        return put_long(b, 0);
    }
    case OP_NULLABLE: /* (op, null's branch index, the other's index, node) */
        if (v == Py_None)
            return put_long(b, PyLong_AsLongLong(PyTuple_GET_ITEM(node, 1)));
        if (put_long(b, PyLong_AsLongLong(PyTuple_GET_ITEM(node, 2))) < 0)
            return FAIL;
        return write_value(w, PyTuple_GET_ITEM(node, 3), v, b, depth + 1);
    case OP_DECIMAL: { /* (op, precision, scale, Decimal type, 10**precision as int64 or -1) */
        if (Py_TYPE(v) != (PyTypeObject *)PyTuple_GET_ITEM(node, 3))
            return PASS;
        r = decimal_unscaled(v, PyLong_AsLong(PyTuple_GET_ITEM(node, 2)), &n);
        if (r != DONE)
            return r;
        long long limit = PyLong_AsLongLong(PyTuple_GET_ITEM(node, 4));
        if (limit > 0 && (n >= limit || n <= -limit))
            return PASS;
        return put_decimal(b, n);
    }
    case OP_DATE:
        if (PyLong_CheckExact(v)) {
            r = as_int64(v, INT32_MIN, INT32_MAX, &n);
            return r != DONE ? r : put_long(b, n);
        }
        if (!PyDate_CheckExact(v))
            return PASS;
        return put_long(b, days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v)));
    case OP_TIMESTAMP_MILLIS:
    case OP_TIMESTAMP_MICROS:
        if (PyLong_CheckExact(v)) {
            r = as_int64(v, INT64_MIN, INT64_MAX, &n);
            return r != DONE ? r : put_long(b, n);
        }
        if (!PyDateTime_CheckExact(v))
            return PASS;
        r = datetime_units(v, op == OP_TIMESTAMP_MILLIS ? 1000 : 1000000, &n);
        return r != DONE ? r : put_long(b, n);
    default: /* OP_FALLBACK, or anything this build does not know */
        return PASS;
    }
}

static PyObject *writer_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Writer *w = (Writer *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL)
        return PyObject_Vectorcall(w->fallback, args, nargsf, kwnames);
    Buf b;
    b.data = b.inline_buf;
    b.len = 0;
    b.cap = sizeof(b.inline_buf);
    int r = write_value(w, w->program, args[0], &b, 0);
    PyObject *out = NULL;
    if (r == DONE)
        out = PyBytes_FromStringAndSize(b.data, b.len);
    if (b.data != b.inline_buf)
        PyMem_Free(b.data);
    if (r == PASS)
        return PyObject_CallOneArg(w->fallback, args[0]);
    return out; /* NULL with the error set for FAIL */
}

static PyObject *codec_new(PyTypeObject *type, PyObject *program, PyObject *fallback, PyObject *uuid_type,
                           PyObject *uuid_unknown, vectorcallfunc call) {
    if (!PyTuple_CheckExact(program) || !PyCallable_Check(fallback) || !PyType_Check(uuid_type)) {
        PyErr_Format(PyExc_TypeError, "%s(program: tuple, fallback: callable, uuid_type: type, ...)", type->tp_name);
        return NULL;
    }
    Codec *c = (Codec *)type->tp_alloc(type, 0);
    if (c == NULL)
        return NULL;
    Py_INCREF(program);
    Py_INCREF(fallback);
    Py_INCREF(uuid_type);
    Py_INCREF(uuid_unknown);
    c->program = program;
    c->fallback = fallback;
    c->uuid_type = uuid_type;
    c->uuid_unknown = uuid_unknown;
    c->vectorcall = call;
    return (PyObject *)c;
}

static PyObject *writer_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *program, *fallback, *uuid_type;
    static char *names[] = {"program", "fallback", "uuid_type", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO:Writer", names, &program, &fallback, &uuid_type))
        return NULL;
    return codec_new(type, program, fallback, uuid_type, Py_None, writer_vectorcall);
}

static int codec_traverse(Codec *c, visitproc visit, void *arg) {
    Py_VISIT(c->program);
    Py_VISIT(c->fallback);
    Py_VISIT(c->uuid_type);
    Py_VISIT(c->uuid_unknown);
    return 0;
}

static int codec_clear(Codec *c) {
    Py_CLEAR(c->program);
    Py_CLEAR(c->fallback);
    Py_CLEAR(c->uuid_type);
    Py_CLEAR(c->uuid_unknown);
    return 0;
}

static void codec_dealloc(Codec *c) {
    PyObject_GC_UnTrack(c);
    codec_clear(c);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyObject *codec_get_fallback(Codec *c, void *closure) {
    Py_INCREF(c->fallback);
    return c->fallback;
}

static PyGetSetDef codec_getset[] = {
    {"fallback", (getter)codec_get_fallback, NULL, "the Python path: every record or payload the C code leaves", NULL},
    {NULL},
};

static PyTypeObject WriterType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serde.formats._avro_native.Writer",
    .tp_basicsize = sizeof(Codec),
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_vectorcall_offset = offsetof(Codec, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Writer(program, fallback, uuid_type)(record) -> bytes: Avro's encoding of a plain record, "
              "or fallback(record) for any other",
    .tp_traverse = (traverseproc)codec_traverse,
    .tp_clear = (inquiry)codec_clear,
    .tp_getset = codec_getset,
    .tp_new = writer_new,
};

/* ======================================================================================
 * reading
 * ==================================================================================== */
typedef struct {
    const uint8_t *p, *end;
    Py_ssize_t items_left; /* array and map items: never more than the payload has bytes */
} In;

static int read_long(In *in, int64_t *out) {
    uint64_t v = 0;
    int shift = 0;
    while (in->p < in->end) {
        uint8_t byte = *in->p++;
        if (shift == 63 && (byte & 0x7e))
            return PASS; /* more than 64 bits */
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return DONE;
        }
        shift += 7;
        if (shift > 63)
            return PASS;
    }
    return PASS; /* truncated */
}

static int read_length(In *in, Py_ssize_t *n) {
    int64_t v;
    if (read_long(in, &v) != DONE || v < 0 || v > in->end - in->p)
        return PASS;
    *n = (Py_ssize_t)v;
    return DONE;
}

static int make_timestamp(int64_t v, int64_t per_second, PyObject **out) {
    int64_t seconds = floor_div(v, per_second);
    int64_t fraction = v - seconds * per_second;
    int64_t days = floor_div(seconds, 86400);
    int64_t in_day = seconds - days * 86400;
    if (days < MIN_DAY || days > MAX_DAY)
        return PASS;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int micro = (int)(per_second == 1000 ? fraction * 1000 : fraction);
    *out = PyDateTimeAPI->DateTime_FromDateAndTime((int)y, m, d, (int)(in_day / 3600), (int)(in_day % 3600 / 60),
                                                   (int)(in_day % 60), micro, PyDateTime_TimeZone_UTC,
                                                   PyDateTimeAPI->DateTimeType);
    return *out ? DONE : FAIL;
}

static int hex_value(uint8_t c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int make_uuid(Reader *r, const uint8_t *s, Py_ssize_t n, PyObject **out) {
    unsigned char raw[16];
    int at = 0;
    if (n != 36)
        return PASS;
    for (Py_ssize_t i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return PASS;
            continue;
        }
        int hi = hex_value(s[i]), lo = i + 1 < 36 ? hex_value(s[i + 1]) : -1;
        if (hi < 0 || lo < 0)
            return PASS;
        raw[at++] = (unsigned char)(hi << 4 | lo);
        i++;
    }
    PyObject *number = _PyLong_FromByteArray(raw, 16, 0, 0);
    if (number == NULL)
        return FAIL;
    PyTypeObject *type = (PyTypeObject *)r->uuid_type;
    PyObject *u = type->tp_alloc(type, 0); /* object.__new__(UUID): its slots set below, as UUID(text) does */
    if (u == NULL || PyObject_GenericSetAttr(u, str_int, number) < 0 ||
        PyObject_GenericSetAttr(u, str_is_safe, r->uuid_unknown) < 0) {
        Py_XDECREF(u);
        Py_DECREF(number);
        return FAIL;
    }
    Py_DECREF(number);
    *out = u;
    return DONE;
}

static int make_decimal(PyObject *node, const uint8_t *s, Py_ssize_t n, PyObject **out) {
    /* Decimal(int.from_bytes(s, "big", signed=True)).scaleb(-scale) for what fits 64 bits
     * and the precision: the same value and exponent as Decimal("<digits>.<scale digits>") */
    if (n > 8)
        return PASS;
    int64_t v = 0;
    if (n > 0)
        v = (int8_t)s[0];
    for (Py_ssize_t i = 1; i < n; i++)
        v = (int64_t)((uint64_t)v << 8 | s[i]);
    long long limit = PyLong_AsLongLong(PyTuple_GET_ITEM(node, 4));
    long scale = PyLong_AsLong(PyTuple_GET_ITEM(node, 2));
    if (limit > 0 && (v >= limit || v <= -limit))
        return PASS;
    if (v == INT64_MIN || scale < 0 || scale > 30)
        return PASS;
    uint64_t u = v < 0 ? (uint64_t)(-v) : (uint64_t)v;
    char digits[24], text[64];
    int count = 0;
    do {
        digits[count++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    int at = 0;
    if (v < 0)
        text[at++] = '-';
    int whole = count > scale ? count - (int)scale : 0;
    if (whole == 0)
        text[at++] = '0';
    for (int i = 0; i < whole; i++)
        text[at++] = digits[count - 1 - i];
    if (scale > 0) {
        text[at++] = '.';
        for (long i = scale; i > 0; i--)
            text[at++] = i > count ? '0' : digits[i - 1];
    }
    PyObject *str = PyUnicode_FromStringAndSize(text, at);
    if (str == NULL)
        return FAIL;
    *out = PyObject_CallOneArg(PyTuple_GET_ITEM(node, 3), str);
    Py_DECREF(str);
    return *out ? DONE : FAIL;
}

static int read_value(Reader *r, PyObject *node, In *in, PyObject **out, int depth);

/* n bytes of UTF-8 as a str; invalid UTF-8 is the Python path's to refuse */
static int decode_text(In *in, Py_ssize_t n, PyObject **out) {
    *out = PyUnicode_DecodeUTF8((const char *)in->p, n, "strict");
    if (*out == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
            return FAIL;
        PyErr_Clear();
        return PASS;
    }
    in->p += n;
    return DONE;
}

static int read_text(In *in, PyObject **out) {
    Py_ssize_t n;
    if (read_length(in, &n) != DONE)
        return PASS;
    return decode_text(in, n, out);
}

static int read_items(Reader *r, PyObject *node, In *in, PyObject *container, int is_map, int depth) {
    for (;;) {
        int64_t count;
        if (read_long(in, &count) != DONE || count < 0)
            return PASS; /* a negative count comes with a byte size: the Python path reads those */
        if (count == 0)
            return DONE;
        if (count > in->items_left)
            return PASS;
        in->items_left -= (Py_ssize_t)count;
        for (int64_t i = 0; i < count; i++) {
            PyObject *key = NULL, *value;
            if (is_map) {
                int result = read_text(in, &key);
                if (result != DONE)
                    return result;
            }
            int result = read_value(r, PyTuple_GET_ITEM(node, 1), in, &value, depth + 1);
            if (result != DONE) {
                Py_XDECREF(key);
                return result;
            }
            int failed = is_map ? PyDict_SetItem(container, key, value) : PyList_Append(container, value);
            Py_XDECREF(key);
            Py_DECREF(value);
            if (failed < 0)
                return FAIL;
        }
    }
}

static int read_value(Reader *r, PyObject *node, In *in, PyObject **out, int depth) {
    if (depth > MAX_DEPTH || !PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) < 1)
        return PASS;
    long op = PyLong_AsLong(PyTuple_GET_ITEM(node, 0));
    int64_t v;
    Py_ssize_t n;
    int result;
    switch (op) {
    case OP_NULL:
        Py_INCREF(Py_None);
        *out = Py_None;
        return DONE;
    case OP_BOOLEAN:
        if (in->p >= in->end || *in->p > 1)
            return PASS;
        *out = PyBool_FromLong(*in->p++);
        return DONE;
    case OP_INT:
    case OP_LONG:
        if (read_long(in, &v) != DONE || (op == OP_INT && (v < INT32_MIN || v > INT32_MAX)))
            return PASS;
        *out = PyLong_FromLongLong(v);
        return *out ? DONE : FAIL;
    case OP_FLOAT:
    case OP_DOUBLE: {
        Py_ssize_t size = op == OP_FLOAT ? 4 : 8;
        if (in->end - in->p < size)
            return PASS;
        double d = op == OP_FLOAT ? PyFloat_Unpack4((const char *)in->p, 1) : PyFloat_Unpack8((const char *)in->p, 1);
        if (d == -1.0 && PyErr_Occurred())
            return FAIL;
        in->p += size;
        *out = PyFloat_FromDouble(d);
        return *out ? DONE : FAIL;
    }
    case OP_STRING:
    case OP_UUID:
        if (read_length(in, &n) != DONE)
            return PASS;
        if (op == OP_UUID) {
            result = make_uuid(r, in->p, n, out);
            if (result == DONE)
                in->p += n;
            return result;
        }
        return decode_text(in, n, out);
    case OP_BYTES:
    case OP_DECIMAL:
        if (read_length(in, &n) != DONE)
            return PASS;
        result = op == OP_DECIMAL ? make_decimal(node, in->p, n, out)
                                  : ((*out = PyBytes_FromStringAndSize((const char *)in->p, n)) ? DONE : FAIL);
        if (result == DONE)
            in->p += n;
        return result;
    case OP_ENUM: { /* (op, {symbol: index}, symbols) */
        PyObject *symbols = PyTuple_GET_ITEM(node, 2);
        if (read_long(in, &v) != DONE || v < 0 || v >= PyTuple_GET_SIZE(symbols))
            return PASS;
        *out = PyTuple_GET_ITEM(symbols, (Py_ssize_t)v);
        Py_INCREF(*out);
        return DONE;
    }
    case OP_FIXED:
        n = PyLong_AsSsize_t(PyTuple_GET_ITEM(node, 1));
        if (n < 0 || in->end - in->p < n)
            return PASS;
        *out = PyBytes_FromStringAndSize((const char *)in->p, n);
        if (*out == NULL)
            return FAIL;
        in->p += n;
        return DONE;
    case OP_RECORD: { /* (op, ((name, node), ...)) */
        PyObject *fields = PyTuple_GET_ITEM(node, 1);
        PyObject *record = PyDict_New();
        if (record == NULL)
            return FAIL;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++) {
            PyObject *field = PyTuple_GET_ITEM(fields, i), *value;
            result = read_value(r, PyTuple_GET_ITEM(field, 1), in, &value, depth + 1);
            if (result != DONE) {
                Py_DECREF(record);
                return result;
            }
            int failed = PyDict_SetItem(record, PyTuple_GET_ITEM(field, 0), value);
            Py_DECREF(value);
            if (failed < 0) {
                Py_DECREF(record);
                return FAIL;
            }
        }
        *out = record;
        return DONE;
    }
    case OP_ARRAY:
    case OP_MAP: {
        PyObject *container = op == OP_ARRAY ? PyList_New(0) : PyDict_New();
        if (container == NULL)
            return FAIL;
        result = read_items(r, node, in, container, op == OP_MAP, depth);
        if (result != DONE) {
            Py_DECREF(container);
            return result;
        }
        *out = container;
        return DONE;
    }
    case OP_NULLABLE: /* (op, null's branch index, the other's index, node) */
        if (read_long(in, &v) != DONE)
            return PASS;
        if (v == PyLong_AsLongLong(PyTuple_GET_ITEM(node, 1))) {
            Py_INCREF(Py_None);
            *out = Py_None;
            return DONE;
        }
        if (v != PyLong_AsLongLong(PyTuple_GET_ITEM(node, 2)))
            return PASS;
        return read_value(r, PyTuple_GET_ITEM(node, 3), in, out, depth + 1);
    case OP_DATE: {
        if (read_long(in, &v) != DONE || v < MIN_DAY || v > MAX_DAY)
            return PASS;
        int64_t y;
        int m, d;
        civil_from_days(v, &y, &m, &d);
        *out = PyDateTimeAPI->Date_FromDate((int)y, m, d, PyDateTimeAPI->DateType);
        return *out ? DONE : FAIL;
    }
    case OP_TIMESTAMP_MILLIS:
    case OP_TIMESTAMP_MICROS:
        if (read_long(in, &v) != DONE)
            return PASS;
        return make_timestamp(v, op == OP_TIMESTAMP_MILLIS ? 1000 : 1000000, out);
    default: /* OP_FALLBACK, or anything this build does not know */
        return PASS;
    }
}

static PyObject *reader_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Reader *r = (Reader *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL || !PyBytes_CheckExact(args[0]))
        return PyObject_Vectorcall(r->fallback, args, nargsf, kwnames);
    In in;
    in.p = (const uint8_t *)PyBytes_AS_STRING(args[0]);
    in.end = in.p + PyBytes_GET_SIZE(args[0]);
    in.items_left = PyBytes_GET_SIZE(args[0]) + 16;
    PyObject *value = NULL;
    int result = read_value(r, r->program, &in, &value, 0);
    if (result == DONE && in.p != in.end) { /* trailing bytes: the Python path decides */
        Py_DECREF(value);
        result = PASS;
    }
    if (result == PASS)
        return PyObject_CallOneArg(r->fallback, args[0]);
    return result == DONE ? value : NULL;
}

static PyObject *reader_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *program, *fallback, *uuid_type, *uuid_unknown;
    static char *names[] = {"program", "fallback", "uuid_type", "uuid_unknown", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOO:Reader", names, &program, &fallback, &uuid_type, &uuid_unknown))
        return NULL;
    return codec_new(type, program, fallback, uuid_type, uuid_unknown, reader_vectorcall);
}

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serde.formats._avro_native.Reader",
    .tp_basicsize = sizeof(Codec),
    .tp_dealloc = (destructor)codec_dealloc,
    .tp_vectorcall_offset = offsetof(Codec, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Reader(program, fallback, uuid_type, uuid_unknown)(payload) -> value: Avro read into plain "
              "values, or fallback(payload) for anything unusual",
    .tp_traverse = (traverseproc)codec_traverse,
    .tp_clear = (inquiry)codec_clear,
    .tp_getset = codec_getset,
    .tp_new = reader_new,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "serde.formats._avro_native", NULL, -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__avro_native(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    if (PyType_Ready(&WriterType) < 0 || PyType_Ready(&ReaderType) < 0)
        return NULL;
    str_int = PyUnicode_InternFromString("int");
    str_is_safe = PyUnicode_InternFromString("is_safe");
    if (str_int == NULL || str_is_safe == NULL)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&WriterType);
    if (PyModule_AddObject(m, "Writer", (PyObject *)&WriterType) < 0) {
        Py_DECREF(&WriterType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(&ReaderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
