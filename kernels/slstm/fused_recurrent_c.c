/* The two step loops of the fused recurrent sLSTM (fused_recurrent_numpy.py) in C.

   Same layouts and the same maths as the NumPy loops there (equal to rounding: σ(õ) is
   1 / (1 + exp(-õ)) here, and of f' and i' only the one below 1 needs an exp); built on
   first use by fused_recurrent_c.py and called through ctypes. Every array is C-contiguous.
   U = NH * DH units; gate rows in the loop order o, f, i, z. */
#include <math.h>

#define SLSTM_LOOPS(T, SUF, EXP, LOG1P, TANH, FABS)                                        \
/* logaddexp(0, y), as NumPy computes it */                                                \
static inline T softplus_##SUF(T y) {                                                      \
    if (y == 0) return LOG1P((T)1);                                                        \
    return (y > 0 ? y : 0) + LOG1P(EXP(-FABS(y)));                                         \
}                                                                                          \
/* G: (S, B, 4, U) W x + b with o and f negated, overwritten with the pre-activations;    \
   R: (4, NH, DH, DH) in the same order and signs; H: (S+1, B, U); CN: (S+1, B, 2, U),     \
   n and c; M0: (S+1, B, 2, U), m in row 1. Index 0 of H, CN, M0 holds the initial state. */ \
void slstm_forward_##SUF(long S, long B, long NH, long DH, T *G, const T *R, T *H, T *CN,  \
                         T *M0) {                                                          \
    const long U = NH * DH;                                                                \
    for (long t = 0; t < S; t++) {                                                         \
        for (long b = 0; b < B; b++) {                                                     \
            const T *h0 = H + (t * B + b) * U;                                             \
            T *P = G + (t * B + b) * 4 * U;                                                \
            for (long g = 0; g < 4; g++)                                                   \
                for (long j = 0; j < NH; j++)                                              \
                    for (long d = 0; d < DH; d++) {                                        \
                        const T hd = h0[j * DH + d];                                       \
                        const T *r = R + ((g * NH + j) * DH + d) * DH;                     \
                        T *p = P + g * U + j * DH;                                         \
                        for (long e = 0; e < DH; e++) p[e] += hd * r[e];                   \
                    }                                                                      \
            const T *n0 = CN + (t * B + b) * 2 * U, *c0 = n0 + U;                          \
            const T *m0 = M0 + (t * B + b) * 2 * U + U;                                    \
            T *n1 = CN + ((t + 1) * B + b) * 2 * U, *c1 = n1 + U;                          \
            T *m1 = M0 + ((t + 1) * B + b) * 2 * U + U;                                    \
            T *h1 = H + ((t + 1) * B + b) * U;                                             \
            for (long u = 0; u < U; u++) {                                                 \
                /* P[u] = -õ: σ(õ) = 1 / (1 + exp(-õ)), one call instead of exp(logσ) */    \
                const T og = (T)1 / ((T)1 + EXP(P[u]));                                    \
                const T a = m0[u] - softplus_##SUF(P[U + u]);                              \
                const T ig = P[2 * U + u];                                                 \
                /* m is one of a, ĩ: its own exponential is exp(0) = 1 exactly */           \
                T m, fp, ip;                                                               \
                if (a >= ig || a != a) { m = a; fp = (T)1; ip = EXP(ig - m); }             \
                else { m = ig; fp = EXP(a - m); ip = (T)1; }                               \
                m1[u] = m;                                                                 \
                n1[u] = n0[u] * fp + ip;                                                   \
                c1[u] = c0[u] * fp + TANH(P[3 * U + u]) * ip;                              \
                h1[u] = c1[u] / n1[u] * og;                                                \
            }                                                                              \
        }                                                                                  \
    }                                                                                      \
}                                                                                          \
/* Steps t0 + T - 1 down to t0. ZZ: (S+1, B, 9, U); K: (T, B, 5, 7, U); RT: (4, NH, DH,   \
   DH), each block of R transposed, in the loop's gate order with R's own signs. */         \
void slstm_backward_##SUF(long T_, long t0, long B, long NH, long DH, T *ZZ, const T *K,   \
                          const T *RT) {                                                    \
    const long U = NH * DH;                                                                \
    for (long t = t0 + T_ - 1; t >= t0; t--) {                                             \
        for (long b = 0; b < B; b++) {                                                     \
            const T *in = ZZ + ((t + 1) * B + b) * 9 * U + 4 * U;                          \
            T *out = ZZ + (t * B + b) * 9 * U;                                             \
            const T *k = K + ((t - t0) * B + b) * 35 * U;                                  \
            for (long r = 0; r < 7; r++)                                                   \
                for (long u = 0; u < U; u++) {                                             \
                    T acc = k[r * U + u] * in[u];                                          \
                    for (long i = 1; i < 5; i++) acc += k[(i * 7 + r) * U + u] * in[i * U + u]; \
                    out[r * U + u] = acc;                                                  \
                }                                                                          \
            T *rec = out + 7 * U;                                                          \
            for (long u = 0; u < U; u++) rec[u] = 0;                                       \
            for (long g = 0; g < 4; g++)                                                   \
                for (long j = 0; j < NH; j++)                                              \
                    for (long e = 0; e < DH; e++) {                                        \
                        const T dpe = out[g * U + j * DH + e];                             \
                        const T *r = RT + ((g * NH + j) * DH + e) * DH;                    \
                        T *q = rec + j * DH;                                               \
                        for (long d = 0; d < DH; d++) q[d] += dpe * r[d];                  \
                    }                                                                      \
        }                                                                                  \
    }                                                                                      \
}

SLSTM_LOOPS(float, f32, expf, log1pf, tanhf, fabsf)
SLSTM_LOOPS(double, f64, exp, log1p, tanh, fabs)
