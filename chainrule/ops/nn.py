"""Fused neural-network ops: each is worth its own backward for numerical stability or speed.

Softmax and LogSoftmax (shift by the max), CrossEntropy (one op: backward is softmax minus the
target, scaled by the weights), binary cross-entropy on probabilities and on logits, and the
activations whose composition would overflow, lose precision or put the kinks where PyTorch
does not (Softplus, LogSigmoid, Gelu, Elu, LeakyRelu, Hardtanh, Hardsigmoid, Hardswish).

Everything else in ``chainrule.nn.functional`` is composed from existing ops.
"""

from __future__ import annotations

import math

from chainrule.autograd.function import Function, composite_backward_graph, graph_inputs
from chainrule.ops.common import exp_no_underflow as _exp
from chainrule.ops.common import normalize_dim, piecewise_linear_backward_graph, sum_keepdims
from chainrule.tensor import Tensor

# ---------------------------------------------------------------- numerical helpers


def _sigmoid_pair(xp, x):
    """(sigmoid(x), sigmoid(-x)) without overflow: both from e = e^-|x| <= 1."""
    e = _exp(xp, -xp.abs(x))
    big = 1 / (1 + e)  # sigmoid(|x|)
    small = e * big  # sigmoid(-|x|)
    pos = x >= 0
    return xp.where(pos, big, small), xp.where(pos, small, big)


def _softplus_stable(xp, z):
    """log(1 + e^z) = max(z, 0) + log(1 + e^-|z|): never overflows, exact for z << 0."""
    return xp.maximum(z, 0) + xp.log1p(_exp(xp, -xp.abs(z)))


def _shifted_log_softmax(xp, x, axis):
    """log softmax(x) along axis."""
    # NOTE: softmax(x) = softmax(x - c) for every c. With c = max(x) all exponents are <= 0, so
    # e^(x - c) cannot overflow, and the largest term is e^0 = 1: the sum lies in [1, n] and its
    # log is finite. Without the shift, e^x overflows for x > 88 (float32) and gives inf/inf.
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - xp.log(sum_keepdims(xp, _exp(xp, shifted), axis))


def _divide_or_nan(xp, a, denom):
    """a / denom, and nan for 0/0 (a mean over nothing, as in PyTorch) without a warning."""
    if isinstance(denom, int):
        return a / denom if denom else a * float("nan")
    ok = denom != 0
    return xp.where(ok, a / xp.where(ok, denom, 1), float("nan"))


def _reduce(xp, loss, reduction: str, dtype):
    if reduction == "none":
        return loss
    total = loss.sum()
    if reduction == "mean":
        total = total / max(loss.size, 1) if loss.size else xp.asarray(float("nan"))
    return xp.asarray(total, dtype=dtype)


def _reduce_grad(grad, size: int, reduction: str):
    """The gradient reaching each element of the unreduced loss (broadcastable)."""
    if reduction == "mean":
        return grad / size
    return grad


# ---------------------------------------------------------------- softmax family


class Softmax(Function):
    """y_i = e^(x_i) / sum_j e^(x_j) along dim;  dy/dx . g = y * (g - sum(g * y))."""

    rule = "d softmax(x)_i/dx_j = y_i (delta_ij - y_j)"

    @staticmethod
    def forward(ctx, x, dim):
        xp = ctx.xp
        ctx.dim = dim
        if x.size == 0:
            return x.copy()
        # NOTE: shift by the max so that no exponent is positive (see _shifted_log_softmax).
        e = _exp(xp, x - x.max(axis=dim, keepdims=True))
        e /= sum_keepdims(xp, e, dim)
        ctx.save_for_backward(e)
        return e

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        gy = grad * y
        return gy - y * sum_keepdims(ctx.xp, gy, ctx.dim)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        y = x.softmax(ctx.dim)
        return y * (grad - (grad * y).sum(ctx.dim, keepdim=True))


class LogSoftmax(Function):
    """y_i = x_i - log sum_j e^(x_j) along dim;  dy/dx . g = g - softmax(x) * sum(g)."""

    rule = "d log_softmax(x)_i/dx_j = delta_ij - softmax(x)_j"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        out = x.copy() if x.size == 0 else _shifted_log_softmax(ctx.xp, x, dim)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - _exp(ctx.xp, out) * sum_keepdims(ctx.xp, grad, ctx.dim)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return grad - x.log_softmax(ctx.dim).exp() * grad.sum(ctx.dim, keepdim=True)


# ---------------------------------------------------------------- losses


class CrossEntropy(Function):
    """loss_n = -sum_c q_nc log softmax(x_n)_c, with q the (weighted, smoothed) target;
    d loss_n/dx_n = softmax(x_n) * sum_c q_nc - q_n  (= softmax - onehot without options).

    Class indices: q_nc = m_n [(1 - eps) w_c [c = t_n] + eps w_c / C], m_n = [t_n != ignore].
    Probabilities: q_nc = w_c ((1 - eps) y_nc + eps / C); ``target`` is then differentiable:
    d loss_n/dy_nc = -(1 - eps) w_c log softmax(x_n)_c.
    'mean' divides by sum_n m_n w_(t_n) (indices) or by the number of samples (probabilities).
    """

    rule = "d cross_entropy(x, t)/dx = softmax(x) * sum(q) - q  (q: weighted one-hot target)"

    @staticmethod
    def forward(ctx, x, target, weight, axis, probs, ignore_index, reduction, label_smoothing):
        xp = ctx.xp
        eps = float(label_smoothing)
        n_classes = x.shape[axis]
        logp = _shifted_log_softmax(xp, x, axis)
        bshape = [1] * x.ndim
        bshape[axis] = n_classes
        w_b = None if weight is None else weight.astype(x.dtype, copy=False).reshape(bshape)
        ctx.axis, ctx.probs, ctx.reduction, ctx.eps = axis, probs, reduction, eps
        if probs:
            q = target if eps == 0 else target * (1 - eps) + eps / n_classes
            if w_b is not None:
                q = q * w_b
            loss = -(q * logp).sum(axis=axis)
            denom = loss.size
            ctx.save_for_backward(logp, q, w_b)
        else:
            mask = target != ignore_index
            t = xp.where(mask, target, 0)
            t_e = xp.expand_dims(t, axis)
            picked = xp.take_along_axis(logp, t_e, axis=axis).squeeze(axis)
            wt = mask.astype(x.dtype) if weight is None else weight.astype(x.dtype)[t] * mask
            loss = -(1 - eps) * wt * picked
            if eps > 0:
                smooth = (logp if w_b is None else logp * w_b).sum(axis=axis)
                loss = loss - (eps / n_classes) * mask * smooth
            denom = wt.sum()
            ctx.save_for_backward(logp, t_e, mask, wt, w_b)
        ctx.denom = denom
        if reduction == "none":
            return loss.astype(x.dtype, copy=False)
        total = loss.sum()
        if reduction == "mean":
            total = _divide_or_nan(xp, total, denom)
        return xp.asarray(total, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        axis, eps = ctx.axis, ctx.eps
        if ctx.reduction == "mean":
            # Nothing counted (every target ignored): the loss is nan, and, as in PyTorch, no
            # element gets a gradient (0 / 0 would make every gradient nan).
            grad = grad / ctx.denom if float(ctx.denom) != 0 else xp.zeros_like(grad)
        g = grad  # per sample ('none') or one number
        gx = gt = None
        if ctx.probs:
            if ctx.reduction == "none":
                g = xp.expand_dims(g, axis)
            logp, q, w_b = ctx.saved_tensors
            p = _exp(xp, logp)
            if ctx.needs_input_grad[0]:
                gx = (p * q.sum(axis=axis, keepdims=True) - q) * g
            if ctx.needs_input_grad[1]:
                gt = -(1 - eps) * logp * g
                if w_b is not None:
                    gt = gt * w_b
            return gx, gt, None
        logp, t_e, mask, wt, w_b = ctx.saved_tensors
        n_classes = logp.shape[axis]
        # Per sample n: g_n (p_n sum_c q_nc - q_n), with q_n = (1 - eps) w_t onehot + eps w / C.
        total_w = float(n_classes) if w_b is None else w_b.sum()
        scale = ((1 - eps) * wt + (eps / n_classes) * total_w * mask) * g  # g_n sum_c q_nc
        gx = _exp(xp, logp)
        gx *= xp.expand_dims(scale, axis).astype(gx.dtype, copy=False)
        picked = xp.expand_dims(((1 - eps) * wt * g).astype(gx.dtype, copy=False), axis)
        if hasattr(xp, "put_along_axis"):  # O(N) update at the target classes
            at_target = xp.take_along_axis(gx, t_e, axis=axis)
            xp.put_along_axis(gx, t_e, at_target - picked, axis=axis)
        else:
            classes = xp.arange(n_classes).reshape([-1 if i == axis else 1 for i in range(gx.ndim)])
            gx -= (classes == t_e) * picked
        if eps > 0:
            smooth = xp.expand_dims(mask * (eps / n_classes) * g, axis).astype(gx.dtype, copy=False)
            gx -= smooth if w_b is None else smooth * w_b
        return gx, None, None

    @staticmethod
    def backward_graph(ctx, grad):
        # d loss_n/dx_n = p_n sum_c q_nc - q_n with p = softmax(x): only p depends on x (and q
        # on a soft target), so the gradient is built from softmax(x) with recorded ops.
        xp, axis, eps = ctx.xp, ctx.axis, ctx.eps
        x, target = graph_inputs(ctx)[:2]
        if ctx.reduction == "mean":
            grad = grad / ctx.denom if float(ctx.denom) != 0 else grad * 0.0
        g = grad.unsqueeze(axis) if ctx.reduction == "none" else grad
        p = x.softmax(axis)
        if ctx.probs:
            _, _, w_b = ctx.saved_tensors
            n_classes = x.shape[axis]
            q = target if eps == 0 else target * (1 - eps) + eps / n_classes
            if w_b is not None:
                q = q * Tensor._make(w_b, ctx.device)
            gx = (p * q.sum(axis, keepdim=True) - q) * g if ctx.needs_input_grad[0] else None
            gt = None
            if ctx.needs_input_grad[1]:
                gt = x.log_softmax(axis) * g * -(1 - eps)
                if w_b is not None:
                    gt = gt * Tensor._make(w_b, ctx.device)
            return gx, gt, None
        logp, t_e, mask, wt, w_b = ctx.saved_tensors
        n_classes = logp.shape[axis]
        total_w = float(n_classes) if w_b is None else w_b.sum()
        weight_sum = (1 - eps) * wt + (eps / n_classes) * total_w * mask  # sum_c q_nc
        classes = xp.arange(n_classes).reshape([-1 if i == axis else 1 for i in range(logp.ndim)])
        q = (classes == t_e) * xp.expand_dims((1 - eps) * wt, axis)
        if eps > 0:
            smooth = xp.expand_dims(mask * (eps / n_classes), axis)
            q = q + (smooth if w_b is None else smooth * w_b)
        dt = logp.dtype
        a = Tensor._make(xp.expand_dims(weight_sum, axis).astype(dt), ctx.device)
        gx = (p * a - Tensor._make(q.astype(dt), ctx.device)) * g
        return gx, None, None


def _reduce_reference(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _bce_reference(ctx, x, y, w, reduction):
    loss = -(y * x.log().clamp(min=-100.0) + (1 - y) * (1 - x).log().clamp(min=-100.0))
    return _reduce_reference(loss if w is None else loss * w, reduction)


def _bce_with_logits_reference(ctx, x, y, w, pos_weight, reduction):
    sp_neg = softplus(-x)  # -log sigmoid(x); smooth at 0 (max(z, 0) + log1p(e^-|z|) has kinks)
    scale = 1.0 if pos_weight is None else (pos_weight - 1) * y + 1
    loss = (1 - y) * x + scale * sp_neg
    return _reduce_reference(loss if w is None else loss * w, reduction)


class BinaryCrossEntropy(Function):
    """loss = -w [y log x + (1 - y) log(1 - x)] (each log clamped at -100, like PyTorch);
    d loss/dx = w (x - y) / max(x (1 - x), 1e-12),  d loss/dy = w [log(1 - x) - log x]."""

    rule = "d bce(x, y)/dx = (x - y) / (x (1 - x))"

    @staticmethod
    def forward(ctx, x, y, w, reduction):
        xp = ctx.xp
        # NOTE: log 0 = -inf would make 0 * -inf = nan for a confident, correct prediction;
        # PyTorch clamps each log at -100 so the loss stays finite (computed warning-free here).
        pos, below1 = x > 0, x < 1
        log_x = xp.where(pos, xp.log(xp.where(pos, x, 1)), -math.inf)
        log_1mx = xp.where(below1, xp.log1p(-xp.where(below1, x, 0)), -math.inf)
        loss = -(y * xp.maximum(log_x, -100) + (1 - y) * xp.maximum(log_1mx, -100))
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, y, w, log_x, log_1mx)
        ctx.reduction, ctx.size = reduction, loss.size
        return _reduce(xp, loss, reduction, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, y, w, log_x, log_1mx = ctx.saved_tensors
        g = _reduce_grad(grad, ctx.size, ctx.reduction)
        if w is not None:
            g = g * w
        gx = gy = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - y) / xp.maximum(x * (1 - x), 1e-12)
        if ctx.needs_input_grad[1]:
            gy = g * (log_1mx - log_x)
        return gx, gy, None

    backward_graph = composite_backward_graph(_bce_reference)


class BinaryCrossEntropyWithLogits(Function):
    """loss = w [(1 - y) x + (1 + (p - 1) y) softplus(-x)]  (p: pos_weight; = bce(sigmoid(x), y));
    d loss/dx = w [(1 - y) - (1 + (p - 1) y) sigmoid(-x)]  (= w (sigmoid(x) - y) for p = 1),
    d loss/dy = w [(p - 1) softplus(-x) - x]."""

    rule = "d bce_with_logits(x, y)/dx = sigmoid(x) - y"

    @staticmethod
    def forward(ctx, x, y, w, pos_weight, reduction):
        xp = ctx.xp
        # NOTE: log sigmoid(x) computed as -(max(-x, 0) + log1p(e^-|x|)): e^-|x| <= 1 never
        # overflows, so x = +-1e4 gives exact losses where log(sigmoid(x)) gives log 0 = -inf.
        sp_neg = _softplus_stable(xp, -x)  # -log sigmoid(x)
        if pos_weight is None:
            loss = (1 - y) * x + sp_neg
        else:
            loss = (1 - y) * x + ((pos_weight - 1) * y + 1) * sp_neg
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, y, w, pos_weight, sp_neg)
        ctx.reduction, ctx.size = reduction, loss.size
        return _reduce(xp, loss, reduction, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, y, w, pw, sp_neg = ctx.saved_tensors
        g = _reduce_grad(grad, ctx.size, ctx.reduction)
        if w is not None:
            g = g * w
        gx = gy = None
        if ctx.needs_input_grad[0]:
            sig, sig_neg = _sigmoid_pair(xp, x)
            if pw is None:
                gx = g * (sig - y)
            else:
                gx = g * ((1 - y) - ((pw - 1) * y + 1) * sig_neg)
        if ctx.needs_input_grad[1]:
            gy = g * (-x if pw is None else (pw - 1) * sp_neg - x)
        return gx, gy, None, None

    backward_graph = composite_backward_graph(_bce_with_logits_reference)


# ---------------------------------------------------------------- activations


class Softplus(Function):
    """y = log(1 + e^(beta x)) / beta, or x where beta x > threshold;
    dy/dx = sigmoid(beta x), or 1 where beta x > threshold."""

    rule = "d softplus(x)/dx = sigmoid(beta x)"

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = ctx.xp
        ctx.beta = beta
        z = x * beta
        # NOTE: above the threshold softplus switches to the identity, as PyTorch does: there
        # log(1 + e^z)/beta = x + log1p(e^-z)/beta differs from x by less than e^-threshold/beta
        # (below float32's resolution for the default 20), and the gradient is exactly 1.
        # Below it, max(z, 0) + log1p(e^-|z|) never overflows whatever the threshold.
        above = z > threshold
        out = xp.where(above, x, _softplus_stable(xp, z) / beta).astype(x.dtype, copy=False)
        ctx.save_for_backward(z, above)
        return out

    @staticmethod
    def backward(ctx, grad):
        z, above = ctx.saved_tensors
        sig, _ = _sigmoid_pair(ctx.xp, z)
        return grad * ctx.xp.where(above, 1, sig)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        _, above = ctx.saved_tensors
        slope = (x * ctx.beta).sigmoid().masked_fill(Tensor._make(above, ctx.device), 1.0)
        return grad * slope


class LogSigmoid(Function):
    """y = log sigmoid(x) = min(x, 0) - log(1 + e^-|x|);  dy/dx = sigmoid(-x) = 1 - sigmoid(x)."""

    rule = "d log sigmoid(x)/dx = sigmoid(-x)"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # NOTE: e^-|x| <= 1: no overflow, and log sigmoid(-1e4) = -1e4 exactly, not log 0.
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(_exp(xp, -xp.abs(x)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        _, sig_neg = _sigmoid_pair(ctx.xp, x)
        return grad * sig_neg

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        return grad * (-x).sigmoid()


# Cody's rational Chebyshev approximations of erf and erfc, accurate to double precision.
# Source: W. J. Cody, "Rational Chebyshev approximations for the error function",
# Math. Comp. 23 (1969), 631-637; coefficients as in his CALERF routine (netlib specfun).
# fmt: off
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02,
          3.20937758913846947e03, 1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03,
          2.84423683343917062e03)
_ERF_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01,
          2.98635138197400131e02, 8.81952221241769090e02, 1.71204761263407058e03,
          2.05107837782607147e03, 1.23033935479799725e03, 2.15311535474403846e-8)
_ERF_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02,
          1.62138957456669019e03, 3.29079923573345963e03, 4.36261909014324716e03,
          3.43936767414372164e03, 1.23033935480374942e03)
_ERF_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1,
          1.60837851487422766e-2, 6.58749161529837803e-4, 1.63153871373020978e-2)
_ERF_Q = (2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
          6.05183413124413191e-2, 2.33520497626869185e-3)
# fmt: on


# A rational approximation of erf on [-4, 4] for single precision: erf(x) = x P(x^2) / Q(x^2),
# P of degree 6 and Q of degree 4 in x^2 (the float32 erf of Eigen and XLA; its own error is
# about 1 ulp of float32). Highest power first.
# fmt: off
_ERF32_P = (-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
            -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
            -1.60960333262415e-02)
_ERF32_Q = (-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
            -7.37332916720468e-03, -1.42647390514189e-02)
# fmt: on


def erf(xp, x):
    """The error function, vectorised.

    float64: Cody's three rational approximations (1969) on |x| <= 0.46875, 0.46875 < |x| <= 4
    and |x| > 4, selected elementwise, accurate to double precision. float32 and narrower: one
    rational function on x clipped to [-4, 4] (outside, erf rounds to +-1), evaluated in
    float64 and rounded: within 2 ulps of float32, at a third of the cost of Cody's. On CuPy,
    Cody's approximations in x's dtype.

    NOTE: SciPy's compiled erf is no faster on float32 than Cody's, and importing
    ``scipy.special`` costs ~18 MB of resident memory.
    """
    if x.dtype.itemsize > 4 or xp.__name__ != "numpy":
        # CuPy: Cody's branches in x's own dtype (GPUs are slow at float64).
        return _cody_erf(xp, x)
    # NOTE: evaluated in float32, Horner's rule without fused multiply-adds loses up to 7 ulps
    # near |x| = 3; float64 arithmetic on float32-sized inputs keeps it within 2.
    t = xp.clip(x, -4.0, 4.0, dtype=xp.float64)
    t2 = t * t
    p = t2 * _ERF32_P[0]
    for c in _ERF32_P[1:-1]:
        p += c
        p *= t2
    p += _ERF32_P[-1]
    p *= t
    q = t2 * _ERF32_Q[0]
    for c in _ERF32_Q[1:-1]:
        q += c
        q *= t2
    q += _ERF32_Q[-1]
    p /= q
    return p.astype(x.dtype)


def _cody_erf(xp, x):
    """Cody's rational approximations (the pure NumPy/CuPy path)."""
    y = xp.abs(x)
    # |x| <= 0.46875: erf(x) = x P(x^2) / Q(x^2)
    xs = xp.clip(x, -0.46875, 0.46875)
    z = xs * xs
    num, den = _ERF_A[4] * z, z
    for i in range(3):
        num = (num + _ERF_A[i]) * z
        den = (den + _ERF_B[i]) * z
    small = xs * (num + _ERF_A[3]) / (den + _ERF_B[3])
    # 0.46875 < |x| <= 4: erfc(|x|) = e^(-x^2) P(|x|) / Q(|x|)
    ym = xp.clip(y, 0.46875, 4.0)
    num, den = _ERF_C[8] * ym, ym
    for i in range(7):
        num = (num + _ERF_C[i]) * ym
        den = (den + _ERF_D[i]) * ym
    mid = (num + _ERF_C[7]) / (den + _ERF_D[7]) * xp.exp(-ym * ym)
    if x.dtype.itemsize <= 4:
        # NOTE: in float32 (and float16), erfc(|x|) <= erfc(4) = 1.5e-8 is below half an ulp of
        # 1.0 (6e-8), so 1 - erfc(4) already rounds to erf = +-1: the third branch is
        # skipped, which makes erf (and GELU) a third cheaper.
        return xp.where(y <= 0.46875, small, xp.copysign(1 - mid, x)).astype(x.dtype, copy=False)
    # |x| > 4: erfc(|x|) = e^(-x^2)/|x| (1/sqrt(pi) + R(1/x^2)/x^2); erfc(6) < 2.2e-17, so
    # clipping at 6 leaves erf = 1 to double precision and keeps e^(-x^2) from underflowing.
    yl = xp.clip(y, 4.0, 6.0)
    s = 1 / (yl * yl)
    num, den = _ERF_P[5] * s, s
    for i in range(4):
        num = (num + _ERF_P[i]) * s
        den = (den + _ERF_Q[i]) * s
    large = (0.5641895835477563 - s * (num + _ERF_P[4]) / (den + _ERF_Q[4])) / yl
    large = large * xp.exp(-yl * yl)
    erfc = xp.where(y <= 4.0, mid, large)
    out = xp.where(y <= 0.46875, small, xp.copysign(1 - erfc, x))
    return out.astype(x.dtype, copy=False)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_BLOCK = 1 << 16  # elements per block of an elementwise chain (256 KiB of float32)


def _blocks(xp, *arrays):
    """Matching flat blocks of same-shaped arrays (views), for a chain of elementwise operations
    that would otherwise make a full-size temporary per step and stream each one through
    memory; the arrays whole, as one block, off the CPU or when one is not C-contiguous."""
    first = arrays[0]
    if xp.__name__ != "numpy" or not all(
        a.shape == first.shape and a.flags.c_contiguous for a in arrays
    ):
        return [arrays]
    flat = [a.reshape(-1) for a in arrays]
    return [tuple(a[i : i + _BLOCK] for a in flat) for i in range(0, first.size, _BLOCK)]


class Gelu(Function):
    """y = x Phi(x) = x (1 + erf(x / sqrt 2)) / 2;  dy/dx = Phi(x) + x phi(x).
    approximate='tanh': y = x (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3);
    dy/dx = (1 + tanh u) / 2 + x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2."""

    rule = "d gelu(x)/dx = Phi(x) + x phi(x)"

    @staticmethod
    def forward(ctx, x, approximate):
        xp = ctx.xp
        ctx.approximate = approximate
        if approximate == "tanh":
            th = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
            ctx.save_for_backward(x, th)
            return 0.5 * x * (1 + th)
        # cdf = (1 + erf(x / sqrt 2)) / 2 and y = x cdf, a block at a time (see _blocks): erf's
        # temporaries stay cache-sized and only y is a new full-size array.
        y = xp.empty(x.shape, x.dtype)
        for xi, yi in _blocks(xp, x, y):
            cdf = erf(xp, xi * math.sqrt(0.5))
            cdf += 1
            cdf *= 0.5
            xp.multiply(xi, cdf, out=yi)
        # NOTE: save the output, not cdf: the graph keeps both x (this node's input) and y
        # (the next node's input) alive anyway, so this costs no memory, while cdf would be
        # a third full-size array, and recomputing it costs an erf (the dearest ufunc here).
        # Backward recovers cdf = y / x to within an ulp of the saved cdf (cdf(0) = 1/2).
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, saved = ctx.saved_tensors
        if ctx.approximate == "tanh":
            du = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x)
            return grad * (0.5 * (1 + saved) + 0.5 * x * (1 - saved * saved) * du)
        # dy/dx = cdf + x pdf with pdf = e^(-x^2/2) / sqrt(2 pi) and cdf = y / x, a block at a
        # time into the result: only the result is a new full-size array.
        out = xp.empty(x.shape, xp.result_type(grad, x))
        for xi, yi, gi, oi in _blocks(xp, x, saved, grad, out):
            d = xp.multiply(xi, xi)
            d *= -0.5
            d = _exp(xp, d)
            d *= _INV_SQRT_2PI
            d *= xi
            zero = xi == 0
            cdf = yi / (xi + zero)  # y / x (0 / 1 where x = 0, no 0 / 0)
            cdf[zero] = 0.5
            d += cdf
            xp.multiply(gi, d, out=oi)
        return out

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        if ctx.approximate == "tanh":
            th = ((x + x * x * x * 0.044715) * _SQRT_2_OVER_PI).tanh()
            du = (x * x * (3 * 0.044715) + 1.0) * _SQRT_2_OVER_PI
            return grad * ((th + 1.0) * 0.5 + x * (1.0 - th * th) * du * 0.5)
        cdf = ((x * math.sqrt(0.5)).erf() + 1.0) * 0.5
        pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
        return grad * (cdf + x * pdf)


class Elu(Function):
    """y = scale x for x > 0, else scale alpha (e^(input_scale x) - 1)  (elu, celu, selu);
    dy/dx = scale for x > 0, else scale alpha input_scale e^(input_scale x)."""

    rule = "d elu(x)/dx = scale if x > 0 else scale alpha input_scale e^(input_scale x)"

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        xp = ctx.xp
        neg = xp.minimum(x, 0) * input_scale  # no e^(large x) in the branch not taken
        ctx.save_for_backward(x, neg)
        ctx.coefs = (alpha, scale, input_scale)
        out = xp.where(x > 0, x * scale, (scale * alpha) * xp.expm1(neg))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, neg = ctx.saved_tensors
        alpha, scale, input_scale = ctx.coefs
        slope = ctx.xp.where(x > 0, scale, (scale * alpha * input_scale) * _exp(ctx.xp, neg))
        return grad * slope.astype(x.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)[:1]
        alpha, scale, input_scale = ctx.coefs
        # x masked to 0 where x >= 0 (not clamped): the slope's own derivative is then 0 at
        # x = 0, as in PyTorch's double backward, while the slope keeps the negative branch.
        below = x.masked_fill(Tensor._make(x.data >= 0, ctx.device), 0.0)
        negative = (below * input_scale).exp() * (scale * alpha * input_scale)
        return grad * negative.masked_fill(Tensor._make(x.data > 0, ctx.device), scale)


class LeakyRelu(Function):
    """y = x for x > 0, else slope x;  dy/dx = 1 for x > 0, else slope (also at 0, like PyTorch)."""

    rule = "d leaky_relu(x)/dx = 1 if x > 0 else negative_slope"

    @staticmethod
    def forward(ctx, x, slope):
        pos = x > 0
        ctx.save_for_backward(pos)
        ctx.slope = slope
        return ctx.xp.where(pos, x, x * slope).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (pos,) = ctx.saved_tensors
        return ctx.xp.where(pos, grad, grad * ctx.slope).astype(grad.dtype, copy=False)

    backward_graph = staticmethod(piecewise_linear_backward_graph)


class Hardtanh(Function):
    """y = min(max(x, lo), hi);  dy/dx = 1 for lo < x < hi, else 0 (0 at the bounds, as PyTorch)."""

    rule = "d hardtanh(x)/dx = 1 if min_val < x < max_val else 0"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward((x > lo) & (x < hi))
        return ctx.xp.minimum(ctx.xp.maximum(x, lo), hi).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside

    backward_graph = staticmethod(piecewise_linear_backward_graph)


class Hardsigmoid(Function):
    """y = min(max(x + 3, 0), 6) / 6;  dy/dx = 1/6 for -3 < x < 3, else 0."""

    rule = "d hardsigmoid(x)/dx = 1/6 if -3 < x < 3 else 0"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward((x > -3) & (x < 3))
        return (xp.minimum(xp.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (inside,) = ctx.saved_tensors
        return grad * inside / 6

    backward_graph = staticmethod(piecewise_linear_backward_graph)


class Hardswish(Function):
    """y = x min(max(x + 3, 0), 6) / 6;
    dy/dx = 0 for x <= -3, x/3 + 1/2 for -3 < x < 3, 1 for x >= 3 (PyTorch's values at kinks)."""

    rule = "d hardswish(x)/dx = 0 if x <= -3, x/3 + 1/2 if -3 < x < 3, else 1"

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return (x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (x,) = ctx.saved_tensors
        slope = xp.where(x <= -3, 0, xp.where(x < 3, x / 3 + 0.5, 1))
        return grad * slope.astype(x.dtype, copy=False)

    @staticmethod
    def backward_graph(ctx, grad):
        (x,) = graph_inputs(ctx)
        slope = (x / 3 + 0.5).masked_fill(
            Tensor._make(ctx.xp.asarray(x.data <= -3), ctx.device), 0.0
        )
        return grad * slope.masked_fill(Tensor._make(ctx.xp.asarray(x.data >= 3), ctx.device), 1.0)


# ---------------------------------------------------------------- public functions


def _float_input(x: Tensor, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor as input, got {type(x).__name__}")
    if x.data.dtype.kind != "f":
        raise RuntimeError(f"{op}: expected a floating point input, got dtype {x.dtype.name}")
    return x


def _softmax_args(x: Tensor, dim, dtype, op: str):
    if dtype is not None:
        from chainrule.ops.common import cast

        x = cast(x, dtype)
    _float_input(x, op)
    if dim is None:
        raise TypeError(f"{op}: dim must be given (the dimension to normalise over)")
    d = normalize_dim(dim, x.data.ndim, op)
    return x, (d if x.data.ndim else None)


def softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """e^x / sum(e^x) along ``dim`` (computed in ``dtype`` if given)."""
    x, d = _softmax_args(x, dim, dtype, "softmax")
    return Softmax.apply(x, dim=d)


def log_softmax(x: Tensor, dim: int, dtype=None) -> Tensor:
    """x - logsumexp(x) along ``dim`` (computed in ``dtype`` if given)."""
    x, d = _softmax_args(x, dim, dtype, "log_softmax")
    return LogSoftmax.apply(x, dim=d)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return Softplus.apply(_float_input(x, "softplus"), beta=float(beta), threshold=float(threshold))


def logsigmoid(x: Tensor) -> Tensor:
    return LogSigmoid.apply(_float_input(x, "logsigmoid"))


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(_float_input(x, "gelu"), approximate=approximate)


def elu(x: Tensor, alpha: float = 1.0, scale: float = 1.0, input_scale: float = 1.0) -> Tensor:
    return Elu.apply(
        _float_input(x, "elu"),
        alpha=float(alpha),
        scale=float(scale),
        input_scale=float(input_scale),
    )


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return LeakyRelu.apply(_float_input(x, "leaky_relu"), slope=float(negative_slope))


def hardtanh(x: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    if min_val > max_val:
        raise ValueError(
            f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
        )
    return Hardtanh.apply(_float_input(x, "hardtanh"), lo=float(min_val), hi=float(max_val))


def hardsigmoid(x: Tensor) -> Tensor:
    return Hardsigmoid.apply(_float_input(x, "hardsigmoid"))


def hardswish(x: Tensor) -> Tensor:
    return Hardswish.apply(_float_input(x, "hardswish"))


_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(reduction: str, op: str, extra: tuple = ()) -> None:
    if reduction not in _REDUCTIONS + extra:
        valid = ", ".join(repr(r) for r in _REDUCTIONS + extra)
        raise ValueError(f"{op}: {reduction!r} is not a valid value for reduction ({valid})")


def check_same_shape(x: Tensor, target: Tensor, op: str) -> None:
    if tuple(x.shape) != tuple(target.shape):
        raise ValueError(
            f"{op}: target of shape {tuple(target.shape)} does not match input of shape "
            f"{tuple(x.shape)}; give them the same shape (no silent broadcasting)"
        )


def check_class_targets(x: Tensor, target: Tensor, weight, ignore_index: int, op: str) -> int:
    """Validate class-index targets for input of shape (C,), (N, C) or (N, C, d1, ...);
    return the class axis."""
    if x.data.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d input")
    axis = 0 if x.data.ndim == 1 else 1
    n_classes = x.data.shape[axis]
    kind = target.data.dtype.kind
    if kind not in "iu":
        raise TypeError(
            f"{op}: expected class-index targets of dtype int64 (long), got target of dtype "
            f"{target.dtype.name} and shape {tuple(target.shape)} for input of shape "
            f"{tuple(x.shape)}"
            + (
                " (class probabilities need a float target of the input's shape)"
                if op == "cross_entropy"
                else ""
            )
        )
    expected = x.data.shape[:axis] + x.data.shape[axis + 1 :]
    if tuple(target.data.shape) != expected:
        raise ValueError(
            f"{op}: expected target of shape {expected} for input of shape {tuple(x.shape)} "
            f"(classes on dim {axis}), got target of shape {tuple(target.shape)}"
        )
    t = target.data
    bad = ((t < 0) | (t >= n_classes)) & (t != ignore_index)
    if bool(bad.any()):
        value = int(t[bad].ravel()[0])
        raise IndexError(
            f"{op}: target {value} is out of bounds for {n_classes} classes "
            f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})"
        )
    _check_weight(weight, n_classes, op)
    return axis


def _check_weight(weight, n_classes: int, op: str) -> None:
    if weight is not None and tuple(weight.shape) != (n_classes,):
        raise ValueError(
            f"{op}: weight should have one entry per class ({n_classes},), got shape "
            f"{tuple(weight.shape)}"
        )


def _const(t):
    return None if t is None else (t.data if isinstance(t, Tensor) else t)


def cross_entropy(
    x: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy of logits ``x`` against class indices or class probabilities."""
    op = "cross_entropy"
    _float_input(x, op)
    check_reduction(reduction, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}"
        )
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    w = _const(weight)
    if w is not None:
        w = w.astype(x.data.dtype, copy=False)
    if target.data.dtype.kind == "f" and tuple(target.shape) == tuple(x.shape) and x.data.ndim:
        axis = 0 if x.data.ndim == 1 else 1
        _check_weight(weight, x.data.shape[axis], op)
        if target.data.dtype != x.data.dtype:
            from chainrule.ops.common import cast

            target = cast(target, x.dtype)
        return CrossEntropy.apply(
            x,
            target,
            w,
            axis=axis,
            probs=True,
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=label_smoothing,
        )
    axis = check_class_targets(x, target, weight, ignore_index, op)
    return CrossEntropy.apply(
        x,
        target.data,
        w,
        axis=axis,
        probs=False,
        ignore_index=int(ignore_index),
        reduction=reduction,
        label_smoothing=label_smoothing,
    )


def _bce_operands(x, target, weight, op):
    _float_input(x, op)
    check_same_shape(x, target, op)
    if target.data.dtype != x.data.dtype:
        from chainrule.ops.common import cast

        target = (
            cast(target, x.dtype)
            if target.data.dtype.kind == "f"
            else Tensor._make(target.data.astype(x.data.dtype), target._device)
        )
    w = _const(weight)
    if w is not None:
        w = w.astype(x.data.dtype, copy=False)
    return target, w


def binary_cross_entropy(x: Tensor, target: Tensor, weight=None, reduction: str = "mean"):
    """-w [y log x + (1 - y) log(1 - x)], logs clamped at -100."""
    op = "binary_cross_entropy"
    check_reduction(reduction, op)
    target, w = _bce_operands(x, target, weight, op)
    d = x.data
    if bool(((d < 0) | (d > 1)).any()):
        raise RuntimeError(f"{op}: all elements of input should be between 0 and 1")
    return BinaryCrossEntropy.apply(x, target, w, reduction=reduction)


def binary_cross_entropy_with_logits(
    x: Tensor, target: Tensor, weight=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """bce(sigmoid(x), y), computed stably from the logits."""
    op = "binary_cross_entropy_with_logits"
    check_reduction(reduction, op)
    target, w = _bce_operands(x, target, weight, op)
    pw = _const(pos_weight)
    if pw is not None:
        pw = pw.astype(x.data.dtype, copy=False)
    return BinaryCrossEntropyWithLogits.apply(x, target, w, pw, reduction=reduction)


# ---------------------------------------------------------------- CTC


def _logaddexp(xp, *terms):
    """log(sum e^t) elementwise over a few arrays, -inf where every term is -inf."""
    m = terms[0]
    for t in terms[1:]:
        m = xp.maximum(m, t)
    safe = xp.where(xp.isfinite(m), m, 0.0)
    total = sum(xp.exp(t - safe) for t in terms)
    with xp.errstate(divide="ignore") if hasattr(xp, "errstate") else _nullcontext():
        return xp.where(xp.isfinite(m), xp.log(total) + safe, m)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class CTCLoss(Function):
    """Connectionist temporal classification: loss_n = -log p(target_n | x_n), p summed over every
    alignment of the target (blanks between and around its labels, repeats merged) to the input
    frames, by the forward (alpha) recursion; d loss/d lp[t, c] = e^lp - gamma[t, c], gamma the
    posterior of label c at frame t from alpha and beta (PyTorch's formula: the gradient of the
    logits when lp comes from log_softmax)."""

    rule = "d ctc/d logp[t, c] = exp(logp[t, c]) - posterior(label c at frame t)"

    @staticmethod
    def forward(ctx, log_probs, ext, skip, input_lengths, target_lengths, zero_infinity):
        xp = ctx.xp
        T, N, _ = log_probs.shape
        S2 = ext.shape[1]  # 2 * max target length + 1
        lp = log_probs.astype(xp.float64)
        rows = xp.arange(N)[:, None]
        emit = lp[:, rows, ext]  # (T, N, S2): log-probability of each extended label
        neg = -xp.inf
        alpha = xp.full((T, N, S2), neg)
        alpha[0, :, 0] = emit[0, :, 0]
        alpha[0, :, 1] = xp.where(target_lengths > 0, emit[0, :, 1], neg)
        pad1 = xp.full((N, 1), neg)
        pad2 = xp.full((N, 2), neg)
        for t in range(1, T):
            a = alpha[t - 1]
            a1 = xp.concatenate([pad1, a[:, :-1]], axis=1)
            a2 = xp.where(skip, xp.concatenate([pad2, a[:, :-2]], axis=1), neg)
            alpha[t] = _logaddexp(xp, a, a1, a2) + emit[t]
        last = alpha[input_lengths - 1, xp.arange(N)]  # (N, S2) at each sequence's last frame
        end = 2 * target_lengths
        tail = xp.where(target_lengths > 0, last[xp.arange(N), xp.maximum(end - 1, 0)], neg)
        nll = -_logaddexp(xp, last[xp.arange(N), end], tail)
        ctx.save_for_backward(lp, emit, alpha, nll)
        ctx.ext, ctx.skip = ext, skip
        ctx.lengths, ctx.target_lengths, ctx.zero_infinity = (
            input_lengths,
            target_lengths,
            zero_infinity,
        )
        out = xp.where(xp.isinf(nll) & zero_infinity, 0.0, nll)
        return out.astype(log_probs.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        lp, emit, alpha, nll = ctx.saved_tensors
        ext, skip, lengths, tlens = ctx.ext, ctx.skip, ctx.lengths, ctx.target_lengths
        T, N, C = lp.shape
        S2 = ext.shape[1]
        neg = -xp.inf
        beta = xp.full((T, N, S2), neg)
        end = 2 * tlens
        n_idx = xp.arange(N)
        skip_next = xp.concatenate([skip[:, 2:], xp.zeros((N, 2), dtype=bool)], axis=1)
        pad1 = xp.full((N, 1), neg)
        pad2 = xp.full((N, 2), neg)
        for t in range(T - 1, -1, -1):
            if t < T - 1:
                b = beta[t + 1]
                b1 = xp.concatenate([b[:, 1:], pad1], axis=1)
                b2 = xp.where(skip_next, xp.concatenate([b[:, 2:], pad2], axis=1), neg)
                beta[t] = _logaddexp(xp, b, b1, b2) + emit[t]
            starts = lengths - 1 == t  # sequences whose last frame is t start here
            if bool(starts.any()):
                init = xp.full((N, S2), neg)
                init[n_idx, end] = emit[t, n_idx, end]
                has = tlens > 0
                init[n_idx[has], end[has] - 1] = emit[t, n_idx[has], end[has] - 1]
                beta[t] = xp.where(starts[:, None], init, beta[t])
            beta[t] = xp.where((t < lengths)[:, None], beta[t], neg)
        finite = xp.isfinite(nll)
        safe_nll = xp.where(finite, nll, 0.0)
        # posterior of each extended position: e^(alpha + beta - emit + nll), in [0, 1]
        with xp.errstate(invalid="ignore") if hasattr(xp, "errstate") else _nullcontext():
            post = xp.exp(alpha + beta - emit + safe_nll[None, :, None])
        post = xp.where(xp.isfinite(post), post, 0.0)
        gamma = xp.zeros((T, N, C))
        t_idx = xp.broadcast_to(xp.arange(T)[:, None, None], post.shape)
        n_b = xp.broadcast_to(n_idx[None, :, None], post.shape)
        c_b = xp.broadcast_to(ext[None], post.shape)
        from chainrule.backend import scatter_add

        flat = (t_idx * N + n_b) * C + c_b
        scatter_add(xp, gamma.reshape(-1), flat.reshape(-1), post.reshape(-1))
        g = xp.exp(lp) - gamma
        # an impossible alignment (infinite loss): nan, or 0 with zero_infinity, as PyTorch;
        # frames past a sequence's length get 0 either way
        g = xp.where(finite[None, :, None], g, 0.0 if ctx.zero_infinity else xp.nan)
        g = xp.where((xp.arange(T)[:, None] < lengths[None, :])[:, :, None], g, 0.0)
        g = g * grad.astype(xp.float64)[None, :, None]
        return g.astype(grad.dtype), None, None, None, None, None
