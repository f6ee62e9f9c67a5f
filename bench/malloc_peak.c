/* A malloc counter for bench/step_memory.py: preloaded (LD_PRELOAD) into a memory process,
 * it counts the bytes of every block obtained through malloc, calloc, realloc and the aligned
 * allocators (numpy's arrays and PyTorch's CPU tensors alike), and keeps the peak, which the
 * process can reset. Exact and the same for every engine, unlike the resident set, whose
 * counters the kernel keeps only approximately. Blocks are counted at their usable size
 * (malloc_usable_size), which is what they occupy. glibc only: it forwards to __libc_*.
 *
 * Built by step_memory.py:  cc -O2 -shared -fPIC -o malloc_peak.so malloc_peak.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void __libc_free(void *);

static _Atomic long long current, peak;

static void counted(void *p) {
    if (!p) return;
    long long now = atomic_fetch_add(&current, (long long)malloc_usable_size(p)) +
                    (long long)malloc_usable_size(p);
    long long high = atomic_load(&peak);
    while (now > high && !atomic_compare_exchange_weak(&peak, &high, now)) {
    }
}

static void uncounted(void *p) {
    if (p) atomic_fetch_sub(&current, (long long)malloc_usable_size(p));
}

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    counted(p);
    return p;
}

void *calloc(size_t k, size_t n) {
    void *p = __libc_calloc(k, n);
    counted(p);
    return p;
}

void *realloc(void *old, size_t n) {
    size_t before = old ? malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p) {
        atomic_fetch_sub(&current, (long long)before);
        counted(p);
    } else if (n == 0) {
        atomic_fetch_sub(&current, (long long)before); /* realloc(p, 0) freed p */
    }
    return p;
}

void free(void *p) {
    uncounted(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t n) {
    void *p = __libc_memalign(align, n);
    counted(p);
    return p;
}

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0) return EINVAL;
    void *p = memalign(align, n);
    if (!p && n) return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n) {
    void *p = __libc_valloc(n);
    counted(p);
    return p;
}

void *pvalloc(size_t n) {
    void *p = __libc_pvalloc(n);
    counted(p);
    return p;
}

/* The interface, through ctypes. */
long long malloc_peak_current(void) { return atomic_load(&current); }
long long malloc_peak_peak(void) { return atomic_load(&peak); }
void malloc_peak_reset(void) { atomic_store(&peak, atomic_load(&current)); }
