/* Int columns and int64 numbering for the cold load (monitor/hosting/asn.py, monitor/hosting/fused.py), in C.
 *
 * flat_ints() / flat_u128() read a slice of a list of lists of ints (geoip2fast's chunked columns) as if it were
 * flattened, and raise TypeError for a non-int item and OverflowError for a value out of range, like numpy does. In
 * Python that is one object-level step per item and per column (~0.13 s for the 1.4 M geoip2fast blocks); here it is
 * one pass per column that writes native integers into a bytearray, which the caller wraps with numpy.frombuffer
 * (writable, no copy).
 *
 * factorize() numbers the distinct values of an int64 buffer with a hash table, in order of first appearance (the
 * fused table's triple keys; numpy can only sort for that).
 *
 * Items are only read through public API (PySequence_Fast, PyLong_As*, PyNumber_Rshift). The one call that may run
 * Python code (the shift of an int subclass) is made while this code holds strong references to everything it still
 * uses, and sizes are re-read on every step, so a caller mutating its own lists from such code gets an error, never
 * a crash. factorize() holds the keys' buffer for the whole call and touches no Python object while it counts
 * without the GIL. There is no global mutable state (multi-phase init; the module has no state at all).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

/* ---------------------------------------------------------------------------------------------------------------
 * geoip2fast chunked columns
 * ------------------------------------------------------------------------------------------------------------- */

/* Stores one item (an int, checked by the caller) at output position k; -1 with an error set on failure. */
typedef int (*store_fn)(PyObject *item, Py_ssize_t k, void *out);

static int
store_u8(PyObject *item, Py_ssize_t k, void *out)
{
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(item, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || value < 0 || value > UINT8_MAX) {
        PyErr_Format(PyExc_OverflowError, "Python integer %R out of bounds for uint8", item);
        return -1;
    }
    ((uint8_t *)out)[k] = (uint8_t)value;
    return 0;
}

static int
store_i64(PyObject *item, Py_ssize_t k, void *out)
{
    int overflow; /* not PyLong_AsLongLong: it takes the slower byte-array route for values of two digits or more */
    long long value = PyLong_AsLongLongAndOverflow(item, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow) {
        PyErr_Format(PyExc_OverflowError, "Python integer %R out of bounds for int64", item);
        return -1;
    }
    ((int64_t *)out)[k] = (int64_t)value;
    return 0;
}

static int
store_u64(PyObject *item, Py_ssize_t k, void *out)
{
    /* PyLong_AsLongLongAndOverflow first: a plain loop over the digits, where PyLong_AsUnsignedLongLong takes the
     * slower byte-array route for every value of two digits or more (2**30 and up: most IPv4 starts) */
    int overflow;
    long long small = PyLong_AsLongLongAndOverflow(item, &overflow);
    if (small == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0 && small >= 0) {
        ((uint64_t *)out)[k] = (uint64_t)small;
        return 0;
    }
    unsigned long long value = PyLong_AsUnsignedLongLong(item); /* OverflowError if negative or >= 2**64 */
    if (value == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    ((uint64_t *)out)[k] = (uint64_t)value;
    return 0;
}

/* out: two uint64 arrays (high halves, then low halves) of the slice's length. */
typedef struct {
    uint64_t *hi, *lo;
    PyObject *sixty_four;
} Halves;

static int
store_u128(PyObject *item, Py_ssize_t k, void *out)
{
    Halves *h = out;
    int overflow;
    long long small = PyLong_AsLongLongAndOverflow(item, &overflow); /* no exception when it does not fit */
    if (small == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow < 0 || (overflow == 0 && small < 0)) {
        PyErr_Format(PyExc_OverflowError, "Python integer %R out of bounds for 128 bits (negative)", item);
        return -1;
    }
    if (overflow == 0) {
        h->hi[k] = 0;
        h->lo[k] = (uint64_t)small;
        return 0;
    }
    PyObject *high = PyNumber_Rshift(item, h->sixty_four); /* item >> 64 (an int subclass may run Python code) */
    if (high == NULL) {
        return -1;
    }
    unsigned long long upper = PyLong_AsUnsignedLongLong(high); /* OverflowError if item >= 2**128 */
    Py_DECREF(high);
    if (upper == (unsigned long long)-1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_OverflowError, "Python integer %R out of bounds for 128 bits", item);
        }
        return -1;
    }
    unsigned long long lower = PyLong_AsUnsignedLongLongMask(item); /* item & (2**64 - 1); cannot fail for an int */
    if (lower == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    h->hi[k] = (uint64_t)upper;
    h->lo[k] = (uint64_t)lower;
    return 0;
}

/* Calls store(item, k, out) for the items at flattened positions [start, stop) of `chunks` (a sequence of
 * sequences of ints), k = position - start. Every item and chunk is held by a strong reference while it is used and
 * sizes are re-read at every step; fewer than `stop` items (the lists shrank, or were short) is a ValueError. */
static int
walk(PyObject *chunks, Py_ssize_t start, Py_ssize_t stop, store_fn store, void *out)
{
    PyObject *outer = PySequence_Fast(chunks, "chunks must be a sequence of sequences of ints");
    if (outer == NULL) {
        return -1;
    }
    Py_ssize_t n = stop - start;
    Py_ssize_t pos = 0; /* flattened position of the current chunk's first item */
    Py_ssize_t k = 0;   /* items stored */
    int rc = 0;
    for (Py_ssize_t c = 0; rc == 0 && k < n && c < PySequence_Fast_GET_SIZE(outer); c++) {
        PyObject *chunk = Py_NewRef(PySequence_Fast_GET_ITEM(outer, c));
        PyObject *inner = PySequence_Fast(chunk, "chunks must be a sequence of sequences of ints");
        Py_DECREF(chunk);
        if (inner == NULL) {
            rc = -1;
            break;
        }
        Py_ssize_t len = PySequence_Fast_GET_SIZE(inner);
        for (Py_ssize_t i = start > pos ? start - pos : 0; k < n && i < PySequence_Fast_GET_SIZE(inner); i++) {
            PyObject *item = Py_NewRef(PySequence_Fast_GET_ITEM(inner, i));
            if (!PyLong_Check(item)) {
                PyErr_Format(PyExc_TypeError, "expected an int, got %.100s", Py_TYPE(item)->tp_name);
                rc = -1;
            }
            else {
                rc = store(item, k++, out);
            }
            Py_DECREF(item);
            if (rc < 0) {
                break;
            }
        }
        pos += len;
        Py_DECREF(inner);
    }
    Py_DECREF(outer);
    if (rc == 0 && k < n) {
        PyErr_Format(PyExc_ValueError, "chunks hold fewer than %zd items", stop);
        rc = -1;
    }
    return rc;
}

static int
check_slice(Py_ssize_t start, Py_ssize_t stop)
{
    if (start < 0 || stop < start) {
        PyErr_Format(PyExc_ValueError, "bad slice [%zd, %zd)", start, stop);
        return -1;
    }
    return 0;
}

/* flat_ints(chunks, start, stop, code) -> bytearray: items [start, stop) of the flattened chunks as native integers
 * of the struct/numpy type code "B" (uint8), "q" (int64) or "Q" (uint64). */
static PyObject *
flat_ints(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *chunks;
    Py_ssize_t start, stop;
    int code;
    if (!PyArg_ParseTuple(args, "OnnC:flat_ints", &chunks, &start, &stop, &code) || check_slice(start, stop) < 0) {
        return NULL;
    }
    store_fn store;
    Py_ssize_t width;
    switch (code) {
    case 'B':
        store = store_u8;
        width = 1;
        break;
    case 'q':
        store = store_i64;
        width = 8;
        break;
    case 'Q':
        store = store_u64;
        width = 8;
        break;
    default:
        PyErr_Format(PyExc_ValueError, "code must be 'B', 'q' or 'Q', not %R", PyTuple_GET_ITEM(args, 3));
        return NULL;
    }
    if (stop - start > PY_SSIZE_T_MAX / width) {
        return PyErr_NoMemory();
    }
    PyObject *out = PyByteArray_FromStringAndSize(NULL, (stop - start) * width);
    if (out == NULL) {
        return NULL;
    }
    if (walk(chunks, start, stop, store, PyByteArray_AS_STRING(out)) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* flat_u128(chunks, start, stop) -> (high, low): items [start, stop) of the flattened chunks, 0 <= item < 2**128,
 * as two bytearrays of native uint64 (item >> 64, item & (2**64 - 1)). */
static PyObject *
flat_u128(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *chunks;
    Py_ssize_t start, stop;
    if (!PyArg_ParseTuple(args, "Onn:flat_u128", &chunks, &start, &stop) || check_slice(start, stop) < 0) {
        return NULL;
    }
    if (stop - start > PY_SSIZE_T_MAX / 8) {
        return PyErr_NoMemory();
    }
    PyObject *hi = PyByteArray_FromStringAndSize(NULL, (stop - start) * 8);
    PyObject *lo = hi ? PyByteArray_FromStringAndSize(NULL, (stop - start) * 8) : NULL;
    PyObject *result = NULL;
    Halves h = {NULL, NULL, PyLong_FromLong(64)};
    if (lo != NULL && h.sixty_four != NULL) {
        /* bytearray buffers are not resized here: nothing else holds a reference to them yet */
        h.hi = (uint64_t *)PyByteArray_AS_STRING(hi);
        h.lo = (uint64_t *)PyByteArray_AS_STRING(lo);
        if (walk(chunks, start, stop, store_u128, &h) == 0) {
            result = PyTuple_Pack(2, hi, lo);
        }
    }
    Py_XDECREF(h.sixty_four);
    Py_XDECREF(hi);
    Py_XDECREF(lo);
    return result;
}

/* ---------------------------------------------------------------------------------------------------------------
 * factorize: number the distinct values of an int64 array (monitor.hosting.fused numbers ~0.1 M distinct triples
 * among ~0.9 M breakpoints; numpy can only sort for that, ~0.1 s, a hash table takes ~15 ms)
 * ------------------------------------------------------------------------------------------------------------- */

/* Open addressing, linear probing; slots hold id + 1 (0 = empty), the key of id k is uniq[k]. */
typedef struct {
    int64_t *uniq;
    Py_ssize_t n, cap; /* used and allocated entries of uniq */
    Py_ssize_t *slots;
    size_t mask; /* slot count - 1 (a power of two, kept at least twice the count of distinct keys) */
    int bits;    /* log2 of the slot count */
} Numbering;

static size_t
slot_of(int64_t key, int bits)
{
    /* Fibonacci hashing: the product's top bits depend on every bit of the key, so take those (keys that differ
     * only in their high bits would share the low ones) */
    uint64_t h = (uint64_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> (64 - bits));
}

/* Double the slot table and re-insert every id; -1 when out of memory. */
static int
grow_slots(Numbering *nb)
{
    size_t size = (nb->mask + 1) * 2;
    Py_ssize_t *slots = PyMem_RawCalloc(size, sizeof(Py_ssize_t));
    if (slots == NULL) {
        return -1;
    }
    for (Py_ssize_t k = 0; k < nb->n; k++) {
        size_t i = slot_of(nb->uniq[k], nb->bits + 1);
        while (slots[i] != 0) {
            i = (i + 1) & (size - 1);
        }
        slots[i] = k + 1;
    }
    PyMem_RawFree(nb->slots);
    nb->slots = slots;
    nb->mask = size - 1;
    nb->bits += 1;
    return 0;
}

/* The id of key, numbering it if new; -1 when out of memory. */
static Py_ssize_t
number_of(Numbering *nb, int64_t key)
{
    size_t i = slot_of(key, nb->bits);
    while (nb->slots[i] != 0) {
        Py_ssize_t k = nb->slots[i] - 1;
        if (nb->uniq[k] == key) {
            return k;
        }
        i = (i + 1) & nb->mask;
    }
    if (nb->n == nb->cap) {
        Py_ssize_t cap = nb->cap * 2;
        int64_t *uniq = PyMem_RawRealloc(nb->uniq, (size_t)cap * sizeof(int64_t));
        if (uniq == NULL) {
            return -1;
        }
        nb->uniq = uniq;
        nb->cap = cap;
    }
    Py_ssize_t k = nb->n++;
    nb->uniq[k] = key;
    nb->slots[i] = k + 1;
    if ((size_t)nb->n * 2 > nb->mask + 1 && grow_slots(nb) < 0) {
        return -1;
    }
    return k;
}

/* factorize(keys) -> (uniq, inverse): keys a 1-d buffer of native int64 ("q"/"l"); uniq the distinct values in
 * order of first appearance and inverse the id of each key, both native int64 bytearrays. */
static PyObject *
factorize(PyObject *Py_UNUSED(module), PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return NULL;
    }
    const char *fmt = view.format ? view.format : "B";
    char code = fmt[0] == '@' || fmt[0] == '=' || fmt[0] == '<' ? fmt[1] : fmt[0];
    if (view.ndim != 1 || view.itemsize != 8 || (code != 'q' && code != 'l') || fmt[code == fmt[0] ? 1 : 2] != '\0') {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_TypeError, "factorize() needs a one-dimensional buffer of int64");
        return NULL;
    }
    Py_ssize_t n = view.shape ? view.shape[0] : view.len / 8;
    PyObject *inverse = PyByteArray_FromStringAndSize(NULL, n * 8);
    PyObject *result = NULL;
    Numbering nb = {NULL, 0, 1024, NULL, 1023, 10};
    nb.uniq = PyMem_RawMalloc((size_t)nb.cap * sizeof(int64_t));
    nb.slots = PyMem_RawCalloc(nb.mask + 1, sizeof(Py_ssize_t));
    int failed = inverse == NULL || nb.uniq == NULL || nb.slots == NULL;
    if (!failed) {
        const int64_t *keys = (const int64_t *)view.buf;
        int64_t *ids = (int64_t *)PyByteArray_AS_STRING(inverse);
        Py_BEGIN_ALLOW_THREADS /* no Python object is touched in the loop; the buffer is held */
        for (Py_ssize_t j = 0; j < n && !failed; j++) {
            Py_ssize_t k = number_of(&nb, keys[j]);
            failed = k < 0;
            ids[j] = k;
        }
        Py_END_ALLOW_THREADS
        if (failed) {
            PyErr_NoMemory();
        }
    }
    else if (inverse != NULL) {
        PyErr_NoMemory();
    }
    if (!failed) {
        PyObject *uniq = PyByteArray_FromStringAndSize((const char *)nb.uniq, nb.n * 8);
        if (uniq != NULL) {
            result = PyTuple_Pack(2, uniq, inverse);
            Py_DECREF(uniq);
        }
    }
    PyMem_RawFree(nb.uniq);
    PyMem_RawFree(nb.slots);
    Py_XDECREF(inverse);
    PyBuffer_Release(&view);
    return result;
}

/* ---------------------------------------------------------------------------------------------------------------
 * module
 * ------------------------------------------------------------------------------------------------------------- */

static PyMethodDef columns_methods[] = {
    {"flat_ints", (PyCFunction)flat_ints, METH_VARARGS,
     "flat_ints(chunks, start, stop, code, /) -> bytearray\n\n"
     "Items [start, stop) of a flattened list of lists of ints as native integers of type code 'B' (uint8), "
     "'q' (int64) or 'Q' (uint64). TypeError for a non-int, OverflowError for a value out of range, ValueError if "
     "the chunks hold fewer than stop items."},
    {"flat_u128", (PyCFunction)flat_u128, METH_VARARGS,
     "flat_u128(chunks, start, stop, /) -> (high, low)\n\n"
     "Items [start, stop) of a flattened list of lists of ints in [0, 2**128) as two bytearrays of native uint64 "
     "halves. TypeError for a non-int, OverflowError for a value out of range, ValueError if the chunks hold fewer "
     "than stop items."},
    {"factorize", (PyCFunction)factorize, METH_O,
     "factorize(keys, /) -> (uniq, inverse)\n\n"
     "The distinct values of a one-dimensional int64 buffer in order of first appearance, and the index of each key "
     "among them (uniq[inverse[j]] == keys[j]), as native int64 bytearrays. Releases the GIL while it counts."},
    {NULL, NULL, 0, NULL},
};

/* INTERFACE: bumped whenever the Python side starts relying on something new (a stale build is then ignored) */
static int
columns_exec(PyObject *m)
{
    return PyModule_AddIntConstant(m, "INTERFACE", 1);
}

static PyModuleDef_Slot columns_slots[] = {
    {Py_mod_exec, columns_exec},
    {0, NULL},
};

static struct PyModuleDef columns_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "monitor.hosting._columns",
    .m_doc = "C conversion of chunked int lists into numpy-ready columns, and a hash-table numbering of int64 "
             "keys (optional; see monitor.hosting.asn and monitor.hosting.fused).",
    .m_size = 0,
    .m_methods = columns_methods,
    .m_slots = columns_slots,
};

PyMODINIT_FUNC
PyInit__columns(void)
{
    return PyModuleDef_Init(&columns_module);
}
