/* Single-address lookups in the fused interval table (monitor/hosting/fused.py), in C.
 *
 * The pure-Python path (Resolver.lookup) spends ~500 ns per address: inet_pton, int.from_bytes, the top-prefix
 * index, bisect and list indexing are each a separate Python-level step. Here they are one C call: parse the
 * string with the C library's inet_pton (the same function socket.inet_pton calls, so the same strings are accepted),
 * narrow the search with the caller's top-prefix index, binary-search the sorted interval starts and return the
 * interval's id (the fused triple id) as an int.
 *
 * The object only *reads* the caller's buffers (array.array or numpy arrays). It holds a Py_buffer on each, which
 * keeps the exporting object alive and, for array.array, prevents it from being resized, until the Table is freed.
 * There is no global mutable state: Table is a heap type owned by the module object (multi-phase init), and
 * everything a lookup needs lives in the Table instance.
 *
 * Lazy results: get() returns results[id]. When that entry is None and the table was given a `compose` callable,
 * get() calls compose(id), stores its return value in results[id] and returns it, so each result is built on first
 * use (monitor.hosting.resolver composes ~0.1 M Attributions this way instead of all of them at load). All of this
 * runs under the GIL; compose() is Python code and may let other threads run, so two threads can compose the same id
 * at once: the first to store wins and the other returns the stored object (its own result is dropped). An exception
 * raised by compose() propagates from get() unchanged and nothing is stored.
 *
 * Parsing rules, identical to monitor.hosting.resolver.Resolver.lookup / monitor.hosting.prefixes.parse_ip:
 *   - the string is encoded as UTF-8 (lone surrogates raise UnicodeEncodeError), and an embedded NUL raises
 *     ValueError("embedded null character"), as socket.inet_pton does;
 *   - a string containing ':' is IPv6; if it does not parse whole, everything from the first '%' on (a zone id,
 *     "fe80::1%eth0") is dropped and it is tried again;
 *   - IPv4-mapped IPv6 (::ffff:a.b.c.d) is looked up as the IPv4 address;
 *   - anything else raises ValueError("not an IP address: <repr>").
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include <arpa/inet.h> /* POSIX inet_pton; elsewhere the build fails and the optional extension is skipped */
#include <sys/socket.h>

#define INDEX_BITS 20 /* must match monitor.hosting.fused.INDEX_BITS */
#define INDEX_SIZE ((Py_ssize_t)1 << INDEX_BITS)

typedef struct {
    PyObject_HEAD
    /* Buffers held for the object's lifetime; the typed pointers below point into them. */
    Py_buffer views[7];
    int nviews; /* how many of views[] are held (released in dealloc) */
    int ready;  /* set once __init__ has validated every buffer; lookups refuse to run before */
    const uint32_t *starts4, *ids4, *bounds4, *ids6, *bounds6;
    const uint64_t *hi6, *lo6;
    Py_ssize_t n4, n6;
    PyObject *results; /* optional list: get() returns results[id] (a strong reference, hence the GC support) */
    PyObject *compose; /* optional callable: compose(id) fills a results[id] that is None (strong reference too) */
} TableObject;

/* Take a read-only, C-contiguous, one-dimensional buffer of native unsigned integers of `itemsize` bytes. */
static int
take_view(TableObject *self, PyObject *obj, Py_ssize_t itemsize, const char *name, const void **data, Py_ssize_t *n)
{
    Py_buffer *view = &self->views[self->nviews];
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        return -1;
    }
    self->nviews++; /* from here on dealloc releases it, even if it is rejected below */
    const char *fmt = view->format ? view->format : "B";
    if (*fmt == '@' || *fmt == '=') {
        fmt++;
    }
    /* unsigned struct codes; the itemsize check below settles which width each one has on this platform */
    int is_unsigned = fmt[0] != '\0' && fmt[1] == '\0' && strchr("BHILQN", fmt[0]) != NULL;
    if (view->ndim != 1 || view->itemsize != itemsize || !is_unsigned) {
        PyErr_Format(PyExc_TypeError, "%s: expected a 1-d buffer of %zd-byte unsigned integers (format %s, itemsize %zd)",
                     name, itemsize, view->format ? view->format : "B", view->itemsize);
        return -1;
    }
    *data = view->buf;
    *n = view->len / itemsize;
    return 0;
}

/* A top-prefix index must be nondecreasing and point inside the table, else a lookup could read out of bounds. */
static int
check_bounds(const uint32_t *bounds, Py_ssize_t len, Py_ssize_t n, const char *name)
{
    if (len != INDEX_SIZE + 1) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd entries, got %zd", name, INDEX_SIZE + 1, len);
        return -1;
    }
    for (Py_ssize_t b = 0; b < len; b++) {
        if ((Py_ssize_t)bounds[b] > n || (b > 0 && bounds[b] < bounds[b - 1])) {
            PyErr_Format(PyExc_ValueError, "%s: entry %zd out of order or out of range", name, b);
            return -1;
        }
    }
    return 0;
}

static int
Table_traverse(TableObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self)); /* heap type instances reference their type */
    Py_VISIT(self->results);
    Py_VISIT(self->compose);
    return 0;
}

static int
Table_clear(TableObject *self)
{
    Py_CLEAR(self->results);
    Py_CLEAR(self->compose);
    return 0;
}

static void
Table_dealloc(TableObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Table_clear(self);
    for (int k = 0; k < self->nviews; k++) {
        PyBuffer_Release(&self->views[k]);
    }
    self->nviews = 0;
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp); /* instances of a heap type own a reference to it */
}

static int
Table_init(TableObject *self, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"starts4", "ids4", "bounds4", "hi6", "lo6", "ids6", "bounds6", "results", "compose",
                             NULL};
    PyObject *o[7];
    PyObject *results = Py_None, *compose = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOOOOO|OO:Table", kwlist, &o[0], &o[1], &o[2], &o[3], &o[4], &o[5],
                                     &o[6], &results, &compose)) {
        return -1;
    }
    if (results != Py_None && !PyList_Check(results)) {
        PyErr_SetString(PyExc_TypeError, "results must be a list or None");
        return -1;
    }
    if (compose != Py_None && !PyCallable_Check(compose)) {
        PyErr_SetString(PyExc_TypeError, "compose must be callable or None");
        return -1;
    }
    if (compose != Py_None && results == Py_None) {
        PyErr_SetString(PyExc_TypeError, "compose needs a results list to fill");
        return -1;
    }
    if (self->nviews != 0) {
        PyErr_SetString(PyExc_TypeError, "Table is already initialised");
        return -1;
    }
    const void *p[7];
    Py_ssize_t len[7];
    static const Py_ssize_t sizes[7] = {4, 4, 4, 8, 8, 4, 4};
    for (int k = 0; k < 7; k++) {
        if (take_view(self, o[k], sizes[k], kwlist[k], &p[k], &len[k]) < 0) {
            return -1;
        }
    }
    if (len[1] != len[0] || len[4] != len[3] || len[5] != len[3]) {
        PyErr_SetString(PyExc_ValueError, "starts and ids of a family must have the same length");
        return -1;
    }
    self->starts4 = p[0];
    self->ids4 = p[1];
    self->bounds4 = p[2];
    self->hi6 = p[3];
    self->lo6 = p[4];
    self->ids6 = p[5];
    self->bounds6 = p[6];
    self->n4 = len[0];
    self->n6 = len[3];
    if (check_bounds(self->bounds4, len[2], self->n4, "bounds4") < 0 ||
        check_bounds(self->bounds6, len[6], self->n6, "bounds6") < 0) {
        return -1;
    }
    if (results != Py_None) {
        self->results = Py_NewRef(results);
    }
    if (compose != Py_None) {
        self->compose = Py_NewRef(compose);
    }
    self->ready = 1;
    return 0;
}

/* Id of the last IPv4 interval starting at or before `value`, or -1 if none does. */
static long
find4(const TableObject *self, uint32_t value)
{
    uint32_t block = value >> (32 - INDEX_BITS);
    /* bounds4[b]: first start > b's first address; everything before it starts at or before `value` */
    Py_ssize_t lo = self->bounds4[block], hi = self->bounds4[block + 1];
    while (lo < hi) { /* first index in [lo, hi) whose start is > value */
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (self->starts4[mid] <= value) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo > 0 ? (long)self->ids4[lo - 1] : -1;
}

/* Id of the last IPv6 interval starting at or before (high, low), or -1 if none does. */
static long
find6(const TableObject *self, uint64_t high, uint64_t low)
{
    uint32_t block = (uint32_t)(high >> (64 - INDEX_BITS));
    /* bounds6[b]: first start whose upper half is in block b or later */
    Py_ssize_t lo = self->bounds6[block], hi = self->bounds6[block + 1];
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        uint64_t h = self->hi6[mid];
        if (h < high || (h == high && self->lo6[mid] <= low)) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo > 0 ? (long)self->ids6[lo - 1] : -1;
}

static long
not_an_address(PyObject *text)
{
    PyErr_Format(PyExc_ValueError, "not an IP address: %R", text);
    return -2;
}

/* Interval id of `text` (see the top of this file for the parsing rules); -2 with an exception set on error. */
static long
lookup_id(TableObject *self, PyObject *text)
{
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "Table.__init__ did not complete");
        return -2;
    }
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "lookup() argument must be str, not %.100s", Py_TYPE(text)->tp_name);
        return -2;
    }
    Py_ssize_t size;
    const char *s = PyUnicode_AsUTF8AndSize(text, &size); /* cached UTF-8; raises UnicodeEncodeError */
    if (s == NULL) {
        return -2;
    }
    if ((Py_ssize_t)strlen(s) != size) {
        PyErr_SetString(PyExc_ValueError, "embedded null character");
        return -2;
    }
    if (memchr(s, ':', (size_t)size) == NULL) {
        unsigned char a4[4];
        if (inet_pton(AF_INET, s, a4) != 1) {
            return not_an_address(text); /* without ':' it cannot be IPv6 either */
        }
        uint32_t value = (uint32_t)a4[0] << 24 | (uint32_t)a4[1] << 16 | (uint32_t)a4[2] << 8 | a4[3];
        return find4(self, value);
    }
    unsigned char a6[16];
    if (inet_pton(AF_INET6, s, a6) != 1) {
        /* retry without a zone id: the text before the first '%' (as parse_ip's text.split("%", 1)[0]) */
        const char *pct = memchr(s, '%', (size_t)size);
        char buf[64];  /* longer than any IPv6 text (45 chars), so a longer head is not an address anyway */
        size_t head = pct ? (size_t)(pct - s) : 0;
        if (pct == NULL || head >= sizeof buf) {
            return not_an_address(text);
        }
        memcpy(buf, s, head);
        buf[head] = '\0';
        if (inet_pton(AF_INET6, buf, a6) != 1) {
            return not_an_address(text);
        }
    }
    uint64_t high = 0, low = 0;
    for (int k = 0; k < 8; k++) {
        high = high << 8 | a6[k];
        low = low << 8 | a6[8 + k];
    }
    if (high == 0 && low >> 32 == 0xFFFF) { /* IPv4-mapped: looked up as IPv4 */
        return find4(self, (uint32_t)low);
    }
    return find6(self, high, low);
}

static PyObject *
Table_lookup(TableObject *self, PyObject *text)
{
    long id = lookup_id(self, text);
    return id == -2 ? NULL : PyLong_FromLong(id);
}

/* First use of results[id] (None): compose(id), store the result in the list and return it (a new reference). */
static PyObject *
compose_result(TableObject *self, long id)
{
    /* Strong references for the duration of the call: compose() runs arbitrary Python code. */
    PyObject *compose = Py_NewRef(self->compose);
    PyObject *results = Py_NewRef(self->results);
    PyObject *made = NULL;
    PyObject *arg = PyLong_FromLong(id);
    if (arg != NULL) {
        made = PyObject_CallOneArg(compose, arg);
        Py_DECREF(arg);
    }
    /* compose() may have let another thread fill the entry, or (perversely) resized the list: re-check both. */
    if (made != NULL && id < PyList_GET_SIZE(results)) {
        PyObject *now = PyList_GET_ITEM(results, id); /* borrowed */
        if (now != Py_None) { /* another thread stored first: return its object, so every caller shares one */
            PyObject *mine = made;
            made = Py_NewRef(now);
            Py_DECREF(mine); /* after taking `now`: dropping ours may run arbitrary code */
        }
        else if (PyList_SetItem(results, id, Py_NewRef(made)) < 0) { /* steals the new reference, drops the None */
            Py_CLEAR(made);
        }
    }
    Py_DECREF(results);
    Py_DECREF(compose);
    return made;
}

static PyObject *
Table_get(TableObject *self, PyObject *text)
{
    long id = lookup_id(self, text);
    if (id == -2) {
        return NULL;
    }
    if (self->results == NULL) {
        PyErr_SetString(PyExc_TypeError, "Table was built without results");
        return NULL;
    }
    if (id < 0 || id >= PyList_GET_SIZE(self->results)) {
        PyErr_Format(PyExc_IndexError, "interval id %ld has no result", id);
        return NULL;
    }
    PyObject *found = PyList_GET_ITEM(self->results, id); /* borrowed */
    if (found != Py_None || self->compose == NULL) {
        return Py_NewRef(found);
    }
    return compose_result(self, id);
}

static PyObject *
Table_len(TableObject *self, PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("(nn)", self->n4, self->n6);
}

static PyMethodDef Table_methods[] = {
    {"lookup", (PyCFunction)Table_lookup, METH_O,
     "lookup(ip) -> int\n\nInterval id (fused triple id) of one address, -1 if no interval covers it; ValueError if "
     "ip is not an IP address."},
    {"get", (PyCFunction)Table_get, METH_O,
     "get(ip) -> object\n\nresults[lookup(ip)] (the results list given to the constructor); ValueError if ip is not an "
     "IP address, IndexError if its id has no result. If that entry is None and a compose callable was given, "
     "compose(id) is called, stored in results[id] and returned (its exceptions propagate)."},
    {"sizes", (PyCFunction)Table_len, METH_NOARGS, "sizes() -> (IPv4 intervals, IPv6 intervals)"},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Table_slots[] = {
    {Py_tp_doc, PyDoc_STR("Table(starts4, ids4, bounds4, hi6, lo6, ids6, bounds6, results=None, compose=None): lookups in "
                          "a fused interval table."
                          "\n\nstarts4/ids4/bounds4/ids6/bounds6: uint32 buffers; hi6/lo6: uint64 buffers (native "
                          "byte order); bounds*: the top-prefix index of monitor.hosting.fused.FusedTable; results: "
                          "a list get() indexes by id; compose: called as compose(id) by get() to fill an entry of "
                          "results that is None (lazy results).")},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, Table_init},
    {Py_tp_dealloc, Table_dealloc},
    {Py_tp_traverse, Table_traverse},
    {Py_tp_clear, Table_clear},
    {Py_tp_methods, Table_methods},
    {0, NULL},
};

static PyType_Spec Table_spec = {
    .name = "monitor.hosting._fastlookup.Table",
    .basicsize = sizeof(TableObject),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = Table_slots,
};

/* Module exec slot: create the Table type for this module object and add it (the module holds the only reference). */
static int
fastlookup_exec(PyObject *m)
{
    PyObject *type = PyType_FromModuleAndSpec(m, &Table_spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int rc = PyModule_AddObjectRef(m, "Table", type);
    Py_DECREF(type);
    if (rc < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(m, "INDEX_BITS", INDEX_BITS) < 0) {
        return -1;
    }
    /* bumped whenever the Python side starts relying on something new (2: the compose hook) */
    return PyModule_AddIntConstant(m, "INTERFACE", 2);
}

static PyModuleDef_Slot fastlookup_slots[] = {
    {Py_mod_exec, fastlookup_exec},
    {0, NULL},
};

static struct PyModuleDef fastlookup_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "monitor.hosting._fastlookup",
    .m_doc = "C single-address lookups in the fused interval table (optional; see monitor.hosting.resolver).",
    .m_size = 0,
    .m_slots = fastlookup_slots,
};

PyMODINIT_FUNC
PyInit__fastlookup(void)
{
    return PyModuleDef_Init(&fastlookup_module);
}
