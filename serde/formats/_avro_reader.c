/* serde.formats._avro_reader: Avro's binary encoding read into plain Python values, in C.
 *
 * serde reads Avro with cavro, then a generated Python pass turns logical values into
 * Decimal, UUID, datetime and date; on the project's order record that is 9-12 us.
 * Reader walks the payload along the same program as the writer (serde/formats/_avro_fast.py)
 * and builds the values itself: dicts for records and maps, lists, str, bytes, int, float,
 * bool, None, enum symbols, and for logical types Decimal, UUID, datetime (UTC) and date.
 *
 * The rule that keeps it safe, as for the writer: for each payload it either returns a
 * value equal to what serde's Python path returns, or leaves the payload to that path
 * (the fallback), which also explains what is wrong with it. Every read is bounded by the
 * payload; anything unusual (truncated data, trailing bytes, a negative block count, a
 * length beyond the payload, more items than the payload has bytes, invalid UTF-8, a
 * union branch or enum index out of range, a decimal wider than 64 bits or than its
 * precision, a date or timestamp outside datetime's years, a UUID not in its canonical
 * text) goes there. tests/formats/test_avro_reader.py compares both on generated data.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* program opcodes, as in serde/formats/_avro_fast.py */
enum {
    OP_NULL = 0, OP_BOOLEAN = 1, OP_INT = 2, OP_LONG = 3, OP_FLOAT = 4, OP_DOUBLE = 5, OP_STRING = 6,
    OP_BYTES = 7, OP_ENUM = 8, OP_FIXED = 9, OP_RECORD = 10, OP_ARRAY = 11, OP_MAP = 12, OP_NULLABLE = 13,
    OP_DECIMAL = 14, OP_UUID = 15, OP_DATE = 16, OP_TIMESTAMP_MILLIS = 17, OP_TIMESTAMP_MICROS = 18,
    OP_FALLBACK = 19,
};

#define DONE 0
#define PASS 1
#define FAIL (-1)
#define MAX_DEPTH 256

typedef struct {
    PyObject_HEAD
    PyObject *program;
    PyObject *fallback; /* fallback(payload): serde's Python path */
    PyObject *uuid_type;
    PyObject *uuid_unknown; /* uuid.SafeUUID.unknown, as uuid.UUID(text) sets it */
    PyObject *int_name, *is_safe_name;
    vectorcallfunc vectorcall;
} Reader;

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

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static inline int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

/* days since 1970-01-01 within datetime's years 1..9999 */
#define MIN_DAYS (-719162)
#define MAX_DAYS 2932896

static int make_timestamp(int64_t v, int64_t per_second, PyObject **out) {
    int64_t seconds = floor_div(v, per_second);
    int64_t fraction = v - seconds * per_second;
    int64_t days = floor_div(seconds, 86400);
    int64_t in_day = seconds - days * 86400;
    if (days < MIN_DAYS || days > MAX_DAYS)
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
    if (u == NULL || PyObject_GenericSetAttr(u, r->int_name, number) < 0 ||
        PyObject_GenericSetAttr(u, r->is_safe_name, r->uuid_unknown) < 0) {
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
                Py_ssize_t n;
                if (read_length(in, &n) != DONE)
                    return PASS;
                key = PyUnicode_DecodeUTF8((const char *)in->p, n, "strict");
                if (key == NULL) {
                    if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
                        return FAIL;
                    PyErr_Clear();
                    return PASS;
                }
                in->p += n;
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
        *out = PyUnicode_DecodeUTF8((const char *)in->p, n, "strict");
        if (*out == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError))
                return FAIL;
            PyErr_Clear();
            return PASS;
        }
        in->p += n;
        return DONE;
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
        if (read_long(in, &v) != DONE || v < MIN_DAYS || v > MAX_DAYS)
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
    if (!PyTuple_CheckExact(program) || !PyCallable_Check(fallback) || !PyType_Check(uuid_type)) {
        PyErr_SetString(PyExc_TypeError, "Reader(program: tuple, fallback: callable, uuid_type: type, uuid_unknown)");
        return NULL;
    }
    Reader *r = (Reader *)type->tp_alloc(type, 0);
    if (r == NULL)
        return NULL;
    r->int_name = PyUnicode_InternFromString("int");
    r->is_safe_name = PyUnicode_InternFromString("is_safe");
    if (r->int_name == NULL || r->is_safe_name == NULL) {
        Py_DECREF(r);
        return NULL;
    }
    Py_INCREF(program);
    Py_INCREF(fallback);
    Py_INCREF(uuid_type);
    Py_INCREF(uuid_unknown);
    r->program = program;
    r->fallback = fallback;
    r->uuid_type = uuid_type;
    r->uuid_unknown = uuid_unknown;
    r->vectorcall = reader_vectorcall;
    return (PyObject *)r;
}

static int reader_traverse(Reader *r, visitproc visit, void *arg) {
    Py_VISIT(r->program);
    Py_VISIT(r->fallback);
    Py_VISIT(r->uuid_type);
    Py_VISIT(r->uuid_unknown);
    return 0;
}

static int reader_clear(Reader *r) {
    Py_CLEAR(r->program);
    Py_CLEAR(r->fallback);
    Py_CLEAR(r->uuid_type);
    Py_CLEAR(r->uuid_unknown);
    Py_CLEAR(r->int_name);
    Py_CLEAR(r->is_safe_name);
    return 0;
}

static void reader_dealloc(Reader *r) {
    PyObject_GC_UnTrack(r);
    reader_clear(r);
    Py_TYPE(r)->tp_free((PyObject *)r);
}

static PyObject *reader_get_fallback(Reader *r, void *closure) {
    Py_INCREF(r->fallback);
    return r->fallback;
}

static PyGetSetDef reader_getset[] = {
    {"fallback", (getter)reader_get_fallback, NULL, "the Python path: every payload this reader leaves", NULL},
    {NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serde.formats._avro_reader.Reader",
    .tp_basicsize = sizeof(Reader),
    .tp_dealloc = (destructor)reader_dealloc,
    .tp_vectorcall_offset = offsetof(Reader, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "Reader(program, fallback, uuid_type, uuid_unknown)(payload) -> value: Avro read into plain "
              "values, or fallback(payload) for anything unusual",
    .tp_traverse = (traverseproc)reader_traverse,
    .tp_clear = (inquiry)reader_clear,
    .tp_getset = reader_getset,
    .tp_new = reader_new,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "serde.formats._avro_reader", NULL, -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__avro_reader(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    if (PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0) {
        Py_DECREF(&ReaderType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
