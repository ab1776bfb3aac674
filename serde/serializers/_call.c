/* serde.serializers._call: the serializer's commonest call, in C.
 *
 * serializer(record, ctx) for the value of a topic it has written before is a frame in
 * front of the encoder's bytes; in Python, reading the context, finding the topic and
 * calling the encoder cost 0.2-0.3 us, as much as a small Protobuf message's own
 * SerializeToString(). ValueCall does that part here and hands every other call (the
 * first one for a topic, keys, tombstones, header or callable schema ids, anything
 * unusual) to the Python __call__ it wraps, which stays the one definition of what a
 * serializer does. It reads only what that Python code left in the serializer:
 *
 *   self._values: {topic: (prefix, encode, message_types)}
 *
 * and returns prefix + encode(record), or prefix + record.SerializeToString() when the
 * record's class is one the encoder has accepted as a message whose bytes are its own
 * (a set the encoder grows). Errors are those of the Python __call__: an AttributeError
 * reading the context means "not this path", any other error propagates. An encoder that raises goes to failed(exc), the Python
 * function that raises what the serializer raises. tests/test_serializers.py runs the
 * same calls with and without this type.
 *
 * It is a method descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR), so a class that has one as
 * __call__ gets the instance as its first argument without a bound method being built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *fallback; /* the Python __call__(self, obj, ctx=None) */
    PyObject *failed;   /* failed(exc): raises the serializer's error for an encoder's */
    vectorcallfunc vectorcall;
} ValueCall;

static PyObject *str_values, *str_topic, *str_field, *str_value, *str_serialize;

static PyObject *
value_call_fallback(ValueCall *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
}

/* read an attribute the way the Python __call__ does: an AttributeError means "not the
 * common case" (0, nothing set), any other error is the caller's (-1, set) */
static int
read_attr(PyObject *obj, PyObject *name, PyObject **out)
{
    *out = PyObject_GetAttr(obj, name);
    if (*out != NULL)
        return 1;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();
    return 0;
}

/* clear an Exception (not a KeyboardInterrupt, SystemExit...) as the Python `except
 * Exception` does; 1 when cleared */
static int
clear_exception(void)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception))
        return 0;
    PyErr_Clear();
    return 1;
}

/* the frame + the payload; or NULL with *failed = 0 for "not the common case" (nothing
 * set), *failed = 1 for an encoder's error (set), *failed = 2 for any other error (set) */
static PyObject *
value_call_fast(ValueCall *self, PyObject *serializer, PyObject *obj, PyObject *ctx, int *failed)
{
    PyObject *values, *topic, *field, *entry, *payload, *result;
    int is_value, found;

    *failed = 0;
    /* as `self._values.get(ctx.topic) if ctx.field == "value" else None` */
    found = read_attr(ctx, str_field, &field);
    if (found <= 0) {
        *failed = found < 0 ? 2 : 0;
        return NULL;
    }
    is_value = PyObject_RichCompareBool(field, str_value, Py_EQ);
    Py_DECREF(field);
    if (is_value != 1) {
        *failed = is_value < 0 ? 2 : 0;
        return NULL;
    }
    found = read_attr(ctx, str_topic, &topic);
    if (found <= 0) {
        *failed = found < 0 ? 2 : 0;
        return NULL;
    }
    values = PyObject_GetAttr(serializer, str_values);
    if (values == NULL || !PyDict_CheckExact(values)) {
        Py_DECREF(topic);
        Py_XDECREF(values);
        if (PyErr_Occurred())
            *failed = 2;
        return NULL;
    }
    entry = PyDict_GetItemWithError(values, topic);
    Py_DECREF(topic);
    if (entry == NULL || !PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 3) {
        Py_DECREF(values);
        if (PyErr_Occurred())
            *failed = 2; /* an unhashable topic: dict.get raises it too */
        return NULL;
    }
    Py_INCREF(entry); /* the dict may change under the encoder's call */
    Py_DECREF(values);
    if (obj == Py_None) { /* a tombstone: the Python __call__ says None */
        Py_DECREF(entry);
        return NULL;
    }

    /* a message its codec writes as it is: prefix + obj.SerializeToString(), any
     * Exception on the way sending it to the encoder, as the Python __call__ does */
    found = PySet_Contains(PyTuple_GET_ITEM(entry, 2), (PyObject *)Py_TYPE(obj));
    if (found < 0) {
        Py_DECREF(entry);
        *failed = 2;
        return NULL;
    }
    if (found == 1) {
        payload = PyObject_CallMethodNoArgs(obj, str_serialize);
        result = payload != NULL ? PyNumber_Add(PyTuple_GET_ITEM(entry, 0), payload) : NULL;
        Py_XDECREF(payload);
        if (result != NULL) {
            Py_DECREF(entry);
            return result;
        }
        if (!clear_exception()) {
            Py_DECREF(entry);
            *failed = 2;
            return NULL;
        }
    }
    payload = PyObject_CallOneArg(PyTuple_GET_ITEM(entry, 1), obj);
    if (payload == NULL) {
        Py_DECREF(entry);
        *failed = 1;
        return NULL;
    }
    result = PyNumber_Add(PyTuple_GET_ITEM(entry, 0), payload);
    Py_DECREF(payload);
    Py_DECREF(entry);
    if (result == NULL)
        *failed = 1;
    return result;
}

static PyObject *
value_call_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    ValueCall *self = (ValueCall *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *result, *exc_type, *exc, *tb;
    int failed;

    if (nargs != 3 || kwnames != NULL)
        return value_call_fallback(self, args, nargsf, kwnames);
    result = value_call_fast(self, args[0], args[1], args[2], &failed);
    if (result != NULL)
        return result;
    if (failed == 0)
        return value_call_fallback(self, args, nargsf, kwnames);
    if (failed == 2)
        return NULL; /* raised where the Python __call__ raises it too */
    /* the encoder raised: the Python side turns it into the serializer's error */
    PyErr_Fetch(&exc_type, &exc, &tb);
    PyErr_NormalizeException(&exc_type, &exc, &tb);
    if (tb != NULL && exc != NULL)
        PyException_SetTraceback(exc, tb);
    Py_XDECREF(exc_type);
    Py_XDECREF(tb);
    if (exc == NULL) {
        PyErr_SetString(PyExc_SystemError, "serde.serializers._call: an encoder failed without an exception");
        return NULL;
    }
    result = PyObject_CallOneArg(self->failed, exc);
    Py_DECREF(exc);
    if (result != NULL) { /* failed() always raises; never hand back a value it returned */
        Py_DECREF(result);
        PyErr_SetString(PyExc_SystemError, "serde.serializers._call: failed() returned instead of raising");
    }
    return NULL;
}

static PyObject *
value_call_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *fallback, *failed;
    static char *names[] = {"fallback", "failed", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO:ValueCall", names, &fallback, &failed))
        return NULL;
    if (!PyCallable_Check(fallback) || !PyCallable_Check(failed)) {
        PyErr_SetString(PyExc_TypeError, "ValueCall(fallback, failed) takes two callables");
        return NULL;
    }
    ValueCall *self = (ValueCall *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    Py_INCREF(fallback);
    Py_INCREF(failed);
    self->fallback = fallback;
    self->failed = failed;
    self->vectorcall = value_call_vectorcall;
    return (PyObject *)self;
}

static int
value_call_traverse(ValueCall *self, visitproc visit, void *arg)
{
    Py_VISIT(self->fallback);
    Py_VISIT(self->failed);
    return 0;
}

static int
value_call_clear(ValueCall *self)
{
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->failed);
    return 0;
}

static void
value_call_dealloc(ValueCall *self)
{
    PyObject_GC_UnTrack(self);
    value_call_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* instance.__call__ (attribute access): a bound method, as for a Python function */
static PyObject *
value_call_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static PyMemberDef value_call_members[] = {
    {"fallback", T_OBJECT, offsetof(ValueCall, fallback), READONLY, "the Python __call__ this one stands in front of"},
    {NULL},
};

/* __doc__, __name__, __qualname__, __module__ are the Python __call__'s, and __wrapped__
 * is it, so inspect.signature() and help() describe the serializer as before */
static PyObject *
value_call_fallback_attr(ValueCall *self, void *name)
{
    return PyObject_GetAttrString(self->fallback, (const char *)name);
}

static PyObject *
value_call_wrapped(ValueCall *self, void *closure)
{
    Py_INCREF(self->fallback);
    return self->fallback;
}

static PyGetSetDef value_call_getset[] = {
    {"__doc__", (getter)value_call_fallback_attr, NULL, NULL, "__doc__"},
    {"__name__", (getter)value_call_fallback_attr, NULL, NULL, "__name__"},
    {"__qualname__", (getter)value_call_fallback_attr, NULL, NULL, "__qualname__"},
    {"__module__", (getter)value_call_fallback_attr, NULL, NULL, "__module__"},
    {"__wrapped__", (getter)value_call_wrapped, NULL, NULL, NULL},
    {NULL},
};

static PyTypeObject ValueCallType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "serde.serializers._call.ValueCall",
    .tp_basicsize = sizeof(ValueCall),
    .tp_dealloc = (destructor)value_call_dealloc,
    .tp_vectorcall_offset = offsetof(ValueCall, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_traverse = (traverseproc)value_call_traverse,
    .tp_clear = (inquiry)value_call_clear,
    .tp_members = value_call_members,
    .tp_getset = value_call_getset,
    .tp_descr_get = value_call_get,
    .tp_new = value_call_new,
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "serde.serializers._call", NULL, -1, NULL, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC
PyInit__call(void)
{
    PyObject *m;
    if (PyType_Ready(&ValueCallType) < 0)
        return NULL;
    str_values = PyUnicode_InternFromString("_values");
    str_topic = PyUnicode_InternFromString("topic");
    str_field = PyUnicode_InternFromString("field");
    str_value = PyUnicode_InternFromString("value");
    str_serialize = PyUnicode_InternFromString("SerializeToString");
    if (!str_values || !str_topic || !str_field || !str_value || !str_serialize)
        return NULL;
    m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    Py_INCREF(&ValueCallType);
    if (PyModule_AddObject(m, "ValueCall", (PyObject *)&ValueCallType) < 0) {
        Py_DECREF(&ValueCallType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
