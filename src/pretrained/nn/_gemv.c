/* Few-row fp32 products y = x W^T + b for decoding, streaming W once, row by row.
 *
 * A decode step multiplies 1-4 rows (batch x beams) by every weight of the model, so it runs at the speed the
 * weights stream from memory. BLAS gemv kernels read a row-major (out, in) weight as several interleaved row
 * streams, or walk an (in, out) one with a stride; on the CPUs we measured both reach ~60-70% of the memory's
 * read bandwidth. Reading the weight strictly in order, one whole row at a time (a dot product per output, all
 * rows of x at once), reaches ~95%: decode matmuls run ~1.4x faster.
 *
 * w is (N, K) with rows w_stride floats apart and unit stride within a row (an nn.Linear weight, or a row slice
 * of a fused buffer); x is (M, K) with rows x_stride apart; y is (M, N) with rows y_stride apart; b is (N,) or
 * NULL. Large products are split by output rows over a small pthread pool (each thread streams one contiguous
 * block of W). Only the order of summation differs from BLAS (relative differences ~1e-7).
 *
 * Exposed to Python as pretrained.nn._gemv: gemv(x, x_stride, w, w_stride, b, y, y_stride, M, K, N, threads)
 * with addresses as integers (b = 0 for none), simd() -> 512, 256 or 0 (no vector kernel: callers should use
 * BLAS), and max_rows() -> the most rows M one call takes (8 with AVX-512: 5-8 rows run as 4 x 4 register tiles,
 * ~10% faster than oneDNN's GEMM there; 4 with AVX2). The GIL is released while computing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_THREADS 64

typedef struct {
    const float *x, *w, *b;
    float *y;
    Py_ssize_t xs, ws, ys;
    int M, K, N;
} job_t;

typedef void (*kernel_t)(const job_t *, int, int);

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1

/* ---- AVX-512: 16 floats per vector ---- */
#define T512 __attribute__((target("avx512f")))

T512 static inline float dot1_512(const float *r, const float *x, int K) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int i = 0;
    for (; i + 64 <= K; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i), _mm512_loadu_ps(x + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 16), _mm512_loadu_ps(x + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 32), _mm512_loadu_ps(x + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 48), _mm512_loadu_ps(x + i + 48), s3);
    }
    for (; i + 16 <= K; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i), _mm512_loadu_ps(x + i), s0);
    if (i < K) {
        __mmask16 k = (__mmask16)((1u << (K - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, r + i), _mm512_maskz_loadu_ps(k, x + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

/* One row of x: rows o and o + n/2 of the block at once. Two read streams far apart keep more of the memory
 * system busy than one (~8% more bandwidth than dot1_512 row after row on the CPUs we measured). */
T512 static void one_512(const job_t *j, int o0, int o1) {
    const int K = j->K, h = (o1 - o0) / 2;
    const float *x = j->x;
    for (int o = o0; o < o0 + h; o++) {
        const float *r = j->w + (size_t)o * j->ws, *q = j->w + (size_t)(o + h) * j->ws;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, c0 = a0, c1 = a0;
        int i = 0;
        for (; i + 32 <= K; i += 32) {
            __m512 x0 = _mm512_loadu_ps(x + i), x1 = _mm512_loadu_ps(x + i + 16);
            a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i), x0, a0);
            a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r + i + 16), x1, a1);
            c0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), x0, c0);
            c1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), x1, c1);
        }
        for (; i < K; i += 16) {
            __mmask16 k = K - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (K - i)) - 1);
            __m512 xv = _mm512_maskz_loadu_ps(k, x + i);
            a0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, r + i), xv, a0);
            c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(k, q + i), xv, c0);
        }
        j->y[o] = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1)) + (j->b ? j->b[o] : 0.0f);
        j->y[o + h] = _mm512_reduce_add_ps(_mm512_add_ps(c0, c1)) + (j->b ? j->b[o + h] : 0.0f);
    }
    for (int o = o0 + 2 * h; o < o1; o++) j->y[o] = dot1_512(j->w + (size_t)o * j->ws, x, K) + (j->b ? j->b[o] : 0.0f);
}

/* M rows of x against one row of W: the W vector is loaded once and used M times */
#define ROWS_512(MM)                                                                                          \
    T512 static void rows##MM##_512(const job_t *j, int o0, int o1) {                                          \
        const int K = j->K;                                                                                   \
        for (int o = o0; o < o1; o++) {                                                                       \
            const float *r = j->w + (size_t)o * j->ws;                                                        \
            __m512 a[MM];                                                                                     \
            for (int m = 0; m < MM; m++) a[m] = _mm512_setzero_ps();                                          \
            int i = 0;                                                                                        \
            for (; i + 16 <= K; i += 16) {                                                                    \
                __m512 wv = _mm512_loadu_ps(r + i);                                                           \
                for (int m = 0; m < MM; m++)                                                                  \
                    a[m] = _mm512_fmadd_ps(wv, _mm512_loadu_ps(j->x + (size_t)m * j->xs + i), a[m]);          \
            }                                                                                                 \
            if (i < K) {                                                                                      \
                __mmask16 k = (__mmask16)((1u << (K - i)) - 1);                                               \
                __m512 wv = _mm512_maskz_loadu_ps(k, r + i);                                                  \
                for (int m = 0; m < MM; m++)                                                                  \
                    a[m] = _mm512_fmadd_ps(wv, _mm512_maskz_loadu_ps(k, j->x + (size_t)m * j->xs + i), a[m]); \
            }                                                                                                 \
            float bias = j->b ? j->b[o] : 0.0f;                                                               \
            for (int m = 0; m < MM; m++) j->y[(size_t)m * j->ys + o] = _mm512_reduce_add_ps(a[m]) + bias;     \
        }                                                                                                     \
    }
ROWS_512(2)
ROWS_512(3)
ROWS_512(4)

/* 5-8 rows: a 4 x MM tile (four W rows against up to four x rows, 16 accumulators) keeps the FMA units busy;
 * the four W rows stay in L1 while the next group of x rows reads them. */
T512 static inline __m128 sum4_512(__m512 a, __m512 b, __m512 c, __m512 d) { /* the four horizontal sums */
#define HALF(v) _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)))
    __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(HALF(a), HALF(b)), _mm256_hadd_ps(HALF(c), HALF(d)));
#undef HALF
    return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

#define TILE_512(MM)                                                                                          \
    T512 static void tile##MM##_512(const job_t *j, const float *x, float *y, int o) {                         \
        const int K = j->K;                                                                                   \
        const float *r0 = j->w + (size_t)o * j->ws, *r1 = r0 + j->ws, *r2 = r1 + j->ws, *r3 = r2 + j->ws;     \
        __m512 a[4 * MM];                                                                                     \
        for (int t = 0; t < 4 * MM; t++) a[t] = _mm512_setzero_ps();                                          \
        int i = 0;                                                                                            \
        for (; i + 16 <= K; i += 16) {                                                                        \
            __m512 w0 = _mm512_loadu_ps(r0 + i), w1 = _mm512_loadu_ps(r1 + i);                                \
            __m512 w2 = _mm512_loadu_ps(r2 + i), w3 = _mm512_loadu_ps(r3 + i);                                \
            for (int m = 0; m < MM; m++) {                                                                    \
                __m512 v = _mm512_loadu_ps(x + (size_t)m * j->xs + i);                                        \
                a[4 * m] = _mm512_fmadd_ps(w0, v, a[4 * m]);                                                  \
                a[4 * m + 1] = _mm512_fmadd_ps(w1, v, a[4 * m + 1]);                                          \
                a[4 * m + 2] = _mm512_fmadd_ps(w2, v, a[4 * m + 2]);                                          \
                a[4 * m + 3] = _mm512_fmadd_ps(w3, v, a[4 * m + 3]);                                          \
            }                                                                                                 \
        }                                                                                                     \
        if (i < K) {                                                                                          \
            __mmask16 k = (__mmask16)((1u << (K - i)) - 1);                                                   \
            __m512 w0 = _mm512_maskz_loadu_ps(k, r0 + i), w1 = _mm512_maskz_loadu_ps(k, r1 + i);              \
            __m512 w2 = _mm512_maskz_loadu_ps(k, r2 + i), w3 = _mm512_maskz_loadu_ps(k, r3 + i);              \
            for (int m = 0; m < MM; m++) {                                                                    \
                __m512 v = _mm512_maskz_loadu_ps(k, x + (size_t)m * j->xs + i);                               \
                a[4 * m] = _mm512_fmadd_ps(w0, v, a[4 * m]);                                                  \
                a[4 * m + 1] = _mm512_fmadd_ps(w1, v, a[4 * m + 1]);                                          \
                a[4 * m + 2] = _mm512_fmadd_ps(w2, v, a[4 * m + 2]);                                          \
                a[4 * m + 3] = _mm512_fmadd_ps(w3, v, a[4 * m + 3]);                                          \
            }                                                                                                 \
        }                                                                                                     \
        __m128 bias = j->b ? _mm_loadu_ps(j->b + o) : _mm_setzero_ps();                                       \
        for (int m = 0; m < MM; m++)                                                                          \
            _mm_storeu_ps(y + (size_t)m * j->ys + o,                                                          \
                          _mm_add_ps(sum4_512(a[4 * m], a[4 * m + 1], a[4 * m + 2], a[4 * m + 3]), bias));    \
    }
TILE_512(1)
TILE_512(2)
TILE_512(3)
TILE_512(4)

T512 static void many_512(const job_t *j, int o0, int o1) {
    int o = o0;
    for (; o + 4 <= o1; o += 4) {
        for (int m0 = 0; m0 < j->M; m0 += 4) {
            const float *x = j->x + (size_t)m0 * j->xs;
            float *y = j->y + (size_t)m0 * j->ys;
            switch (j->M - m0 < 4 ? j->M - m0 : 4) {
            case 1: tile1_512(j, x, y, o); break;
            case 2: tile2_512(j, x, y, o); break;
            case 3: tile3_512(j, x, y, o); break;
            default: tile4_512(j, x, y, o); break;
            }
        }
    }
    for (; o < o1; o++)
        for (int m = 0; m < j->M; m++)
            j->y[(size_t)m * j->ys + o] =
                dot1_512(j->w + (size_t)o * j->ws, j->x + (size_t)m * j->xs, j->K) + (j->b ? j->b[o] : 0.0f);
}

T512 static void kernel_512(const job_t *j, int o0, int o1) {
    switch (j->M) {
    case 1: one_512(j, o0, o1); break;
    case 2: rows2_512(j, o0, o1); break;
    case 3: rows3_512(j, o0, o1); break;
    case 4: rows4_512(j, o0, o1); break;
    default: many_512(j, o0, o1); break;
    }
}

/* ---- AVX2 + FMA: 8 floats per vector ---- */
#define T256 __attribute__((target("avx2,fma")))

T256 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

T256 static inline float dot1_256(const float *r, const float *x, int K) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int i = 0;
    for (; i + 32 <= K; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + i), _mm256_loadu_ps(x + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r + i + 8), _mm256_loadu_ps(x + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r + i + 16), _mm256_loadu_ps(x + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r + i + 24), _mm256_loadu_ps(x + i + 24), s3);
    }
    for (; i + 8 <= K; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r + i), _mm256_loadu_ps(x + i), s0);
    float s = hsum256(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < K; i++) s += r[i] * x[i];
    return s;
}

#define ROWS_256(MM)                                                                                          \
    T256 static void rows##MM##_256(const job_t *j, int o0, int o1) {                                          \
        const int K = j->K;                                                                                   \
        for (int o = o0; o < o1; o++) {                                                                       \
            const float *r = j->w + (size_t)o * j->ws;                                                        \
            __m256 a[MM];                                                                                     \
            for (int m = 0; m < MM; m++) a[m] = _mm256_setzero_ps();                                          \
            int i = 0;                                                                                        \
            for (; i + 8 <= K; i += 8) {                                                                      \
                __m256 wv = _mm256_loadu_ps(r + i);                                                           \
                for (int m = 0; m < MM; m++)                                                                  \
                    a[m] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(j->x + (size_t)m * j->xs + i), a[m]);          \
            }                                                                                                 \
            float bias = j->b ? j->b[o] : 0.0f;                                                               \
            for (int m = 0; m < MM; m++) {                                                                    \
                const float *xm = j->x + (size_t)m * j->xs;                                                   \
                float s = hsum256(a[m]);                                                                      \
                for (int t = i; t < K; t++) s += r[t] * xm[t];                                                \
                j->y[(size_t)m * j->ys + o] = s + bias;                                                       \
            }                                                                                                 \
        }                                                                                                     \
    }
ROWS_256(2)
ROWS_256(3)
ROWS_256(4)

T256 static void kernel_256(const job_t *j, int o0, int o1) {
    switch (j->M) {
    case 1:
        for (int o = o0; o < o1; o++) j->y[o] = dot1_256(j->w + (size_t)o * j->ws, j->x, j->K) + (j->b ? j->b[o] : 0.0f);
        break;
    case 2: rows2_256(j, o0, o1); break;
    case 3: rows3_256(j, o0, o1); break;
    default: rows4_256(j, o0, o1); break;
    }
}

/* ---- RMSNorm of a few rows: y = w * x / sqrt(mean(x^2) + eps) ---- */
T512 static void rms_512(const float *x, Py_ssize_t xs, const float *w, float *y, int M, int C, float eps) {
    for (int m = 0; m < M; m++) {
        const float *xm = x + (size_t)m * xs;
        float *ym = y + (size_t)m * C;
        __m512 s0 = _mm512_setzero_ps(), s1 = s0;
        int i = 0;
        for (; i + 32 <= C; i += 32) {
            __m512 a = _mm512_loadu_ps(xm + i), b = _mm512_loadu_ps(xm + i + 16);
            s0 = _mm512_fmadd_ps(a, a, s0);
            s1 = _mm512_fmadd_ps(b, b, s1);
        }
        float ss = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
        for (; i < C; i++) ss += xm[i] * xm[i];
        __m512 r = _mm512_set1_ps(1.0f / sqrtf(ss / (float)C + eps));
        i = 0;
        for (; i + 16 <= C; i += 16)
            _mm512_storeu_ps(ym + i, _mm512_mul_ps(_mm512_loadu_ps(w + i), _mm512_mul_ps(_mm512_loadu_ps(xm + i), r)));
        float rs = 1.0f / sqrtf(ss / (float)C + eps);
        for (; i < C; i++) ym[i] = w[i] * (xm[i] * rs);
    }
}
#endif

static void rms_plain(const float *x, Py_ssize_t xs, const float *w, float *y, int M, int C, float eps) {
    for (int m = 0; m < M; m++) {
        const float *xm = x + (size_t)m * xs;
        float ss = 0.0f;
        for (int i = 0; i < C; i++) ss += xm[i] * xm[i];
        float rs = 1.0f / sqrtf(ss / (float)C + eps);
        for (int i = 0; i < C; i++) y[(size_t)m * C + i] = w[i] * (xm[i] * rs);
    }
}

static kernel_t kernel = NULL;
static int simd_width = 0, max_rows = 0;

/* ---- thread pool: workers 1..n-1 each take one block of output rows; the caller takes block 0 ----
 * A decode step makes dozens of these calls per token, ~0.1 ms apart, so waking sleeping threads (~40 us per
 * call) would cost more than the split gains: a worker spins (with pause) for a while after each job before it
 * sleeps on a condition variable. Jobs are posted by bumping pool_gen; pool_pending counts workers not done. */
#define SPIN 20000
static pthread_mutex_t call_mu = PTHREAD_MUTEX_INITIALIZER; /* one parallel call at a time */
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cv = PTHREAD_COND_INITIALIZER;
static int pool_size = 0, pool_sleeping = 0, pool_parts = 0;
static unsigned long pool_gen = 0;
static int pool_pending = 0;
static job_t pool_job;
static unsigned long start_gen[MAX_THREADS]; /* pool_gen when each worker was started: jobs before it are not its */

static inline void cpu_relax(void) {
#ifdef HAVE_X86
    __asm__ __volatile__("" ::: "memory");
#endif
}

static void block(int N, int p, int parts, int *o0, int *o1) {
    *o0 = (int)((long long)N * p / parts);
    *o1 = (int)((long long)N * (p + 1) / parts);
}

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    unsigned long seen = start_gen[id], gen;
    for (;;) {
        int spins = 0;
        while ((gen = __atomic_load_n(&pool_gen, __ATOMIC_ACQUIRE)) == seen) {
            if (++spins < SPIN) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool_mu);
            pool_sleeping++;
            while (__atomic_load_n(&pool_gen, __ATOMIC_ACQUIRE) == seen) pthread_cond_wait(&start_cv, &pool_mu);
            pool_sleeping--;
            pthread_mutex_unlock(&pool_mu);
        }
        seen = gen;
        if (id < pool_parts) {
            job_t job = pool_job;
            int o0, o1;
            block(job.N, id, pool_parts, &o0, &o1);
            kernel(&job, o0, o1);
        }
        __atomic_sub_fetch(&pool_pending, 1, __ATOMIC_ACQ_REL);
    }
    return NULL;
}

static void after_fork_child(void) { /* the workers do not exist in a forked child */
    pthread_mutex_init(&call_mu, NULL);
    pthread_mutex_init(&pool_mu, NULL);
    pthread_cond_init(&start_cv, NULL);
    pool_size = pool_sleeping = pool_pending = 0;
}

static int grow_pool(int want) { /* with call_mu held and no job in flight; returns the workers available */
    while (pool_size < want && pool_size < MAX_THREADS - 1) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        start_gen[pool_size + 1] = pool_gen;
        int rc = pthread_create(&t, &attr, worker, (void *)(intptr_t)(pool_size + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        pool_size++;
    }
    return pool_size;
}

static void run(const job_t *job, int threads) {
    if (threads > 1 && pthread_mutex_trylock(&call_mu) == 0) {
        int workers = grow_pool(threads - 1);
        int parts = workers + 1 < threads ? workers + 1 : threads;
        if (parts > 1) {
            pool_job = *job;
            pool_parts = parts;
            __atomic_store_n(&pool_pending, pool_size, __ATOMIC_RELEASE);
            pthread_mutex_lock(&pool_mu);
            __atomic_add_fetch(&pool_gen, 1, __ATOMIC_ACQ_REL);
            if (pool_sleeping) pthread_cond_broadcast(&start_cv);
            pthread_mutex_unlock(&pool_mu);
            int o0, o1;
            block(job->N, 0, parts, &o0, &o1);
            kernel(job, o0, o1);
            while (__atomic_load_n(&pool_pending, __ATOMIC_ACQUIRE) > 0) cpu_relax();
            pthread_mutex_unlock(&call_mu);
            return;
        }
        pthread_mutex_unlock(&call_mu);
    }
    kernel(job, 0, job->N);
}

static PyObject *py_gemv(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "gemv(x, x_stride, w, w_stride, b, y, y_stride, M, K, N, threads)");
        return NULL;
    }
    long long v[11];
    for (int i = 0; i < 11; i++) {
        v[i] = PyLong_AsLongLong(args[i]);
        if (v[i] == -1 && PyErr_Occurred()) return NULL;
    }
    if (kernel == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no vector kernel for this CPU (simd() == 0)");
        return NULL;
    }
    if (v[7] < 1 || v[7] > max_rows || v[8] < 1 || v[9] < 1 || v[8] > INT32_MAX || v[9] > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "gemv: need 1 <= M <= %d and K, N >= 1 (got M=%lld K=%lld N=%lld)", max_rows,
                     v[7], v[8], v[9]);
        return NULL;
    }
    job_t job = {
        .x = (const float *)(intptr_t)v[0], .xs = (Py_ssize_t)v[1],
        .w = (const float *)(intptr_t)v[2], .ws = (Py_ssize_t)v[3],
        .b = (const float *)(intptr_t)v[4],
        .y = (float *)(intptr_t)v[5], .ys = (Py_ssize_t)v[6],
        .M = (int)v[7], .K = (int)v[8], .N = (int)v[9],
    };
    int threads = (int)(v[10] < 1 ? 1 : (v[10] > MAX_THREADS ? MAX_THREADS : v[10]));
    Py_BEGIN_ALLOW_THREADS run(&job, threads);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static int use_rms_512 = 0;

static PyObject *py_rms_norm(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "rms_norm(x, x_stride, w, y, M, C, eps)");
        return NULL;
    }
    long long v[6];
    for (int i = 0; i < 6; i++) {
        v[i] = PyLong_AsLongLong(args[i]);
        if (v[i] == -1 && PyErr_Occurred()) return NULL;
    }
    double eps = PyFloat_AsDouble(args[6]);
    if (eps == -1.0 && PyErr_Occurred()) return NULL;
    if (v[4] < 1 || v[4] > max_rows || v[5] < 1 || v[5] > INT32_MAX) {
        PyErr_Format(PyExc_ValueError, "rms_norm: need 1 <= M <= %d and C >= 1 (got M=%lld C=%lld)", max_rows, v[4], v[5]);
        return NULL;
    }
    const float *x = (const float *)(intptr_t)v[0], *w = (const float *)(intptr_t)v[2];
    float *y = (float *)(intptr_t)v[3];
    Py_ssize_t xs = (Py_ssize_t)v[1];
    int M = (int)v[4], C = (int)v[5];
#ifdef HAVE_X86
    if (use_rms_512) {
        rms_512(x, xs, w, y, M, C, (float)eps);
        Py_RETURN_NONE;
    }
#endif
    rms_plain(x, xs, w, y, M, C, (float)eps);
    Py_RETURN_NONE;
}

static PyObject *py_simd(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong(simd_width);
}

/* use_simd(width): choose the kernel for a narrower vector width than the CPU's (tests run the AVX2 path on
 * AVX-512 machines this way); returns the width now in use. Not for concurrent use with gemv(). */
static PyObject *py_use_simd(PyObject *self, PyObject *arg) {
    (void)self;
    long want = PyLong_AsLong(arg);
    if (want == -1 && PyErr_Occurred()) return NULL;
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (want >= 512 && __builtin_cpu_supports("avx512f")) {
        kernel = kernel_512;
        simd_width = 512;
        max_rows = 8;
        use_rms_512 = 1;
        return PyLong_FromLong(simd_width);
    }
    if (want >= 256 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel = kernel_256;
        simd_width = 256;
        max_rows = 4;
        use_rms_512 = 0;
        return PyLong_FromLong(simd_width);
    }
#endif
    PyErr_Format(PyExc_ValueError, "use_simd(%ld): this CPU has no such vector kernel", want);
    return NULL;
}

static PyObject *py_max_rows(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    return PyLong_FromLong(max_rows);
}

static PyMethodDef methods[] = {
    {"gemv", (PyCFunction)(void (*)(void))py_gemv, METH_FASTCALL,
     "gemv(x, x_stride, w, w_stride, b, y, y_stride, M, K, N, threads): y = x w^T + b on raw fp32 addresses"},
    {"simd", py_simd, METH_NOARGS, "vector width the kernel uses: 512, 256, or 0 (none: use BLAS)"},
    {"rms_norm", (PyCFunction)(void (*)(void))py_rms_norm, METH_FASTCALL,
     "rms_norm(x, x_stride, w, y, M, C, eps): y = w * x / sqrt(mean(x^2) + eps) for M rows of C floats"},
    {"use_simd", py_use_simd, METH_O, "use_simd(512 or 256): pick the vector kernel (for tests); returns the width"},
    {"max_rows", py_max_rows, METH_NOARGS, "most rows of x one call takes on this CPU (8 with AVX-512, 4 with AVX2)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_gemv", "Few-row fp32 decode products.", -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__gemv(void) {
#ifdef HAVE_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        kernel = kernel_512;
        simd_width = 512;
        max_rows = 8;
        use_rms_512 = 1;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        kernel = kernel_256;
        simd_width = 256;
        max_rows = 4;
    }
#endif
    pthread_atfork(NULL, NULL, after_fork_child);
    return PyModule_Create(&module);
}
