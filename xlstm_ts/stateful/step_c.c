/* One patch through the stateful network's encoder blocks in C (step_numpy.py has the same
   maths in NumPy, the torch blocks are the reference; equal to rounding).

   Built on first use by step_c.py and called through ctypes. Every array is
   C-contiguous; a state pointer of NULL is the empty state (zeros, m = -inf). The weights
   of a block come packed in one array, in the order step_c.py writes them. The
   file includes itself once per float type: the body below the #else is the code. */
#ifndef T
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define T float
#define F(name) name##_f32
#define EXP expf
#define LOG1P log1pf
#define TANH tanhf
#define ERF erff
#define BIG FLT_MAX
#include __FILE__
#undef T
#undef F
#undef EXP
#undef LOG1P
#undef TANH
#undef ERF
#undef BIG

#define T double
#define F(name) name##_f64
#define EXP exp
#define LOG1P log1p
#define TANH tanh
#define ERF erf
#define BIG DBL_MAX
#include __FILE__

#else

/* y = x @ W (+ y when acc): W is (n_in, n_out), row-major */
static void F(matvec)(long n_in, long n_out, const T *x, const T *W, T *y, int acc) {
    if (!acc)
        for (long o = 0; o < n_out; o++) y[o] = 0;
    for (long i = 0; i < n_in; i++) {
        const T xi = x[i];
        const T *w = W + i * n_out;
        for (long o = 0; o < n_out; o++) y[o] += xi * w[o];
    }
}

/* block-diagonal map: groups of bs features, W (groups, bs, bs) with y_g = x_g @ W_g */
static void F(headwise)(long n, long bs, const T *x, const T *W, T *y) {
    for (long g = 0; g < n / bs; g++) F(matvec)(bs, bs, x + g * bs, W + g * bs * bs, y + g * bs, 0);
}

/* layer norm over n values (biased variance, statistics in double); b may be NULL */
static void F(layer_norm)(long n, const T *x, const T *w, const T *b, double eps, T *y) {
    double mean = 0, var = 0;
    for (long j = 0; j < n; j++) mean += x[j];
    mean /= n;
    for (long j = 0; j < n; j++) var += (x[j] - mean) * (x[j] - mean);
    const double rstd = 1.0 / sqrt(var / n + eps);
    for (long j = 0; j < n; j++) {
        const T v = (T)((x[j] - mean) * rstd) * w[j];
        y[j] = b ? v + b[j] : v;
    }
}

static inline T F(sigmoid)(T x) { return (T)1 / ((T)1 + EXP(-x)); }
static inline T F(log_sigmoid)(T x) { return (x < 0 ? x : 0) - LOG1P(EXP(-(x < 0 ? -x : x))); }
static inline T F(maximum)(T a, T b) { return a != a || a > b ? a : b; } /* NaN spreads */

/* one step of the causal depthwise convolution over channels c: out = conv(window), and
   the new state (the window's last K - 1 rows); window = [state (K - 1, c), x] */
static void F(conv_step)(long c, long K, const T *x, const T *state, const T *w, const T *bias,
                         T *out, T *state_out) {
    for (long j = 0; j < c; j++) {
        T acc = bias[j];
        if (state)
            for (long r = 0; r < K - 1; r++) acc += state[r * c + j] * w[r * c + j];
        out[j] = acc + x[j] * w[(K - 1) * c + j];
    }
    for (long r = 0; r + 1 < K - 1; r++)
        for (long j = 0; j < c; j++) state_out[r * c + j] = state ? state[(r + 1) * c + j] : 0;
    if (K > 1)
        for (long j = 0; j < c; j++) state_out[(K - 2) * c + j] = x[j];
}

/* the mLSTM block (mlstm_block.py): x (B, D) -> y (B, D); I inner width, NH heads, K conv
   width, bs q/k/v block size. State: conv (B, K-1, I), C (B, NH, DH, DH), n (B, NH, DH),
   m (B, NH). work: D + 7 I + 2 NH values. */
void F(mlstm_block_step)(long B, long D, long I, long NH, long K, long bs, double eps_ln,
                         double eps_out, const T *w, const T *x, T *y, const T *conv_in,
                         const T *C_in, const T *n_in, const T *m_in, T *conv_out, T *C_out,
                         T *n_out, T *m_out, T *work) {
    const long DH = I / NH, G = 2 * NH;
    const T *ln_w = w, *ln_b = ln_w + D, *up = ln_b + D, *conv_w = up + D * 2 * I;
    const T *conv_b = conv_w + K * I, *wq = conv_b + I, *wk = wq + I * bs, *wv = wk + I * bs;
    const T *gw = wv + I * bs, *gb = gw + 2 * I * G, *out_w = gb + G, *skip = out_w + I;
    const T *down = skip + I;
    T *xn = work, *xm = xn + D, *z = xm + I, *xc = z + I, *q = xc + I, *k = q + I, *v = k + I;
    T *h = v + I, *g = h + I;
    const T scale = (T)(1.0 / sqrt((double)DH));
    for (long b = 0; b < B; b++) {
        const T *xb = x + b * D;
        F(layer_norm)(D, xb, ln_w, ln_b, eps_ln, xn);
        F(matvec)(D, 2 * I, xn, up, xm, 0); /* x_m, then z */
        F(conv_step)(I, K, xm, conv_in ? conv_in + b * (K - 1) * I : NULL, conv_w, conv_b, xc,
                     conv_out + b * (K - 1) * I);
        for (long j = 0; j < I; j++) xc[j] = xc[j] * F(sigmoid)(xc[j]);
        F(headwise)(I, bs, xc, wq, q);
        F(headwise)(I, bs, xc, wk, k);
        F(headwise)(I, bs, xm, wv, v);
        for (long j = 0; j < G; j++) g[j] = gb[j];
        F(matvec)(I, G, xc, gw, g, 1);
        F(matvec)(I, G, xm, gw + I * G, g, 1);
        for (long hd = 0; hd < NH; hd++) {
            const long s = b * NH + hd;
            const T ig = g[hd], m0 = m_in ? m_in[s] : -INFINITY;
            const T logf = F(log_sigmoid)(g[NH + hd]);
            const T m1 = F(maximum)(logf + m0, ig);
            const T ft = EXP(logf + m0 - m1), it = EXP(ig - m1) * scale;
            const T *Ci = C_in ? C_in + s * DH * DH : NULL, *ni = n_in ? n_in + s * DH : NULL;
            T *Co = C_out + s * DH * DH, *no = n_out + s * DH;
            const T *qh = q + hd * DH, *vh = v + hd * DH;
            T *hh = h + hd * DH;
            T nq = 0;
            for (long e = 0; e < DH; e++) hh[e] = 0;
            for (long d = 0; d < DH; d++) {
                const T kd = k[hd * DH + d] * it;
                no[d] = (ni ? ft * ni[d] : 0) + kd;
                nq += no[d] * qh[d];
                T *row = Co + d * DH;
                for (long e = 0; e < DH; e++) {
                    row[e] = (Ci ? ft * Ci[d * DH + e] : 0) + kd * vh[e];
                    hh[e] += qh[d] * row[e];
                }
            }
            const T cap = -m1 < 60 ? -m1 : 60;
            const T bound = EXP(cap), anq = nq < 0 ? -nq : nq;
            const T den = (anq > bound ? anq : bound) + (T)1e-6;
            for (long e = 0; e < DH; e++) hh[e] /= den;
            m_out[s] = m1;
            F(layer_norm)(DH, hh, out_w + hd * DH, NULL, eps_out, hh);
        }
        for (long j = 0; j < I; j++) h[j] = (h[j] + skip[j] * xc[j]) * (z[j] * F(sigmoid)(z[j]));
        T *yb = y + b * D;
        F(matvec)(I, D, h, down, yb, 0);
        for (long j = 0; j < D; j++) yb[j] += xb[j];
    }
}

/* the sLSTM block (slstm_block.py): x (B, D) -> y (B, D); NH heads, K conv width (0: no
   convolution), H hidden width of the MLP. State: conv (B, K-1, D), h, c, n, m (B, D).
   work: 9 D + 3 H values. */
void F(slstm_block_step)(long B, long D, long NH, long K, long H, double eps_ln,
                         double eps_out, double eps_mlp, const T *w, const T *x, T *y,
                         const T *conv_in, const T *h_in, const T *c_in, const T *n_in,
                         const T *m_in, T *conv_out, T *h_out, T *c_out, T *n_out, T *m_out,
                         T *work) {
    const long DH = D / NH;
    const T *ln_w = w, *ln_b = ln_w + D, *conv_w = ln_b + D, *conv_b = conv_w + K * D;
    const T *gw = conv_b + (K > 0 ? D : 0), *gb = gw + 4 * D * DH, *R = gb + 4 * D;
    const T *out_w = R + 4 * D * DH, *mlp_ln_w = out_w + D, *mlp_ln_b = mlp_ln_w + D;
    const T *mlp_up = mlp_ln_b + D, *mlp_down = mlp_up + D * 2 * H;
    T *u = work, *uc = u + D, *pre = uc + D, *x1 = pre + 4 * D, *xn = x1 + D, *hn = xn + D;
    T *gu = hn + D, *act = gu + 2 * H;
    for (long b = 0; b < B; b++) {
        const T *xb = x + b * D;
        const long s = b * D;
        F(layer_norm)(D, xb, ln_w, ln_b, eps_ln, u);
        if (K > 0) {
            F(conv_step)(D, K, u, conv_in ? conv_in + b * (K - 1) * D : NULL, conv_w, conv_b, uc,
                         conv_out + b * (K - 1) * D);
            for (long j = 0; j < D; j++) uc[j] = uc[j] * F(sigmoid)(uc[j]);
        } else {
            for (long j = 0; j < D; j++) uc[j] = u[j];
        }
        /* gate order i, f, z, o: i and f see the convolved input */
        for (long gt = 0; gt < 4; gt++) {
            T *p = pre + gt * D;
            F(headwise)(D, DH, gt < 2 ? uc : u, gw + gt * D * DH, p);
            for (long j = 0; j < D; j++) p[j] += gb[gt * D + j];
            if (h_in) /* gate gt of head j adds h[j] @ R[j, gt] */
                for (long j = 0; j < NH; j++)
                    F(matvec)(DH, DH, h_in + s + j * DH, R + (j * 4 + gt) * DH * DH, p + j * DH, 1);
        }
        for (long j = 0; j < D; j++) {
            const T ig = pre[j], zg = pre[2 * D + j], og = pre[3 * D + j];
            const T logf = F(log_sigmoid)(pre[D + j]);
            const T m0 = m_in ? m_in[s + j] : -INFINITY;
            const T m1 = F(maximum)(logf + m0, ig);
            const T it = EXP(ig - m1), ft = EXP(logf + m0 - m1);
            const T c1 = (c_in ? ft * c_in[s + j] : 0) + it * TANH(zg);
            const T n1 = (n_in ? ft * n_in[s + j] : 0) + it;
            c_out[s + j] = c1;
            n_out[s + j] = n1;
            m_out[s + j] = m1;
            h_out[s + j] = F(sigmoid)(og) * c1 / n1;
        }
        for (long j = 0; j < NH; j++)
            F(layer_norm)(DH, h_out + s + j * DH, out_w + j * DH, NULL, eps_out, hn + j * DH);
        for (long j = 0; j < D; j++) x1[j] = xb[j] + hn[j];
        F(layer_norm)(D, x1, mlp_ln_w, mlp_ln_b, eps_mlp, xn);
        F(matvec)(D, 2 * H, xn, mlp_up, gu, 0); /* gate, then up */
        for (long j = 0; j < H; j++)
            act[j] = (T)0.5 * gu[j] * ((T)1 + ERF(gu[j] * (T)0.70710678118654752440)) * gu[H + j];
        T *yb = y + b * D;
        F(matvec)(H, D, act, mlp_down, yb, 0);
        for (long j = 0; j < D; j++) yb[j] += x1[j];
    }
}

/* the patch embedding: y = x @ W + bias for B rows, with x read as np.nan_to_num does
   (NaN as 0, the mean; infinities as the largest finite values) */
void F(embed_rows)(long B, long n_in, long n_out, const T *x, const T *W, const T *bias, T *y) {
    for (long b = 0; b < B; b++) {
        T *yb = y + b * n_out;
        for (long o = 0; o < n_out; o++) yb[o] = bias[o];
        for (long i = 0; i < n_in; i++) {
            const T v = x[b * n_in + i];
            const T xi = v != v ? 0 : v > BIG ? BIG : v < -BIG ? -BIG : v;
            const T *w = W + i * n_out;
            for (long o = 0; o < n_out; o++) yb[o] += xi * w[o];
        }
    }
}

/* layer norm of B rows of n values */
void F(layer_norm_rows)(long B, long n, const T *x, const T *w, const T *b, double eps, T *y) {
    for (long r = 0; r < B; r++) F(layer_norm)(n, x + r * n, w, b, eps, y + r * n);
}

/* the forecast head in inference (net.py, forecast_array) for one row: forecasts
   o (HQ) from an encoding (E), a window x (W, NaN already read as 0) and a tail length.
   w: the fused input map ((E + W), E), its bias (E), the tail embedding (P, E), the
   output map (E, HQ) and its bias (HQ), in that order. hidden: E values of work. */
static void F(head_row)(long E, long W, long P, long HQ, const T *enc, const T *x, int64_t tail,
                        const T *w, T *o, T *hidden) {
    const T *w_in = w, *b_in = w_in + (E + W) * E, *emb = b_in + E, *w_out = emb + P * E;
    const T *b_out = w_out + E * HQ;
    for (long j = 0; j < E; j++) hidden[j] = b_in[j] + emb[tail * E + j];
    F(matvec)(E, E, enc, w_in, hidden, 1);
    F(matvec)(W, E, x, w_in + E * E, hidden, 1);
    for (long j = 0; j < E; j++) /* exact GELU */
        hidden[j] = (T)0.5 * hidden[j] * ((T)1 + ERF(hidden[j] * (T)0.70710678118654752440));
    for (long j = 0; j < HQ; j++) o[j] = b_out[j] + x[W - 1]; /* the level skip */
    F(matvec)(E, HQ, hidden, w_out, o, 1);
}

/* as np.nan_to_num: NaN reads as 0 (the mean), infinities as the largest finite values */
static inline T F(finite)(T v) { return v != v ? 0 : v > BIG ? BIG : v < -BIG ? -BIG : v; }

/* forecasts (B, HQ) from encodings (B, E), windows (B, W) and tail lengths (B,); the
   weights as for head_row. work: W + E values. */
void F(head_rows)(long B, long E, long W, long P, long HQ, const T *enc, const T *win,
                  const int64_t *tails, const T *w, T *out, T *work) {
    T *x = work, *hidden = x + W;
    for (long b = 0; b < B; b++) {
        for (long j = 0; j < W; j++) x[j] = F(finite)(win[b * W + j]);
        F(head_row)(E, W, P, HQ, enc + b * E, x, tails[b], w, out + b * HQ, hidden);
    }
}

/* the same from the last W values of each series on its own scale (B, W), normalised
   here by its mean and scale (B,): forecasts (B, H, Q) on that scale, each step's Q
   quantiles sorted. work: W + E + H * Q values. */
void F(head_scaled_rows)(long B, long E, long W, long P, long H, long Q, const T *enc,
                         const double *values, const int64_t *tails, const double *mean,
                         const double *scale, const T *w, double *out, T *work) {
    T *x = work, *hidden = x + W, *o = hidden + E;
    for (long b = 0; b < B; b++) {
        for (long j = 0; j < W; j++)
            x[j] = F(finite)((T)((values[b * W + j] - mean[b]) / scale[b]));
        F(head_row)(E, W, P, H * Q, enc + b * E, x, tails[b], w, o, hidden);
        for (long h = 0; h < H; h++) {
            T *q = o + h * Q;
            for (long i = 1; i < Q; i++) /* insertion sort: Q is a handful */
                for (long k = i; k > 0 && q[k] < q[k - 1]; k--) {
                    const T t = q[k];
                    q[k] = q[k - 1];
                    q[k - 1] = t;
                }
            for (long i = 0; i < Q; i++)
                out[(b * H + h) * Q + i] = (double)q[i] * scale[b] + mean[b];
        }
    }
}

#endif
