"""Engine semantics: graph building, accumulation, freeing, grad modes, hooks, in-place checks."""

import threading
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import detect_anomaly, gradcheck
from chainrule.autograd.checks import GradcheckError
from chainrule.autograd.functional import jacobian, vjp


def test_long_chain_has_no_recursion_limit():
    x = cr.tensor([0.5], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0])


def test_fan_out_adds():
    a = cr.tensor([3.0], requires_grad=True)
    b = a + a
    c = b * b  # c = 4a^2, dc/da = 8a
    c.backward()
    np.testing.assert_allclose(a.grad.numpy(), [24.0])


def test_diamond_graph():
    x = cr.tensor([2.0, -1.0], requires_grad=True)
    u = x.exp()
    v = x * 3
    y = (u * v).sum()  # d/dx (3x e^x) = 3 e^x (1 + x)
    y.backward()
    xn = np.array([2.0, -1.0])
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(xn) * (1 + xn), rtol=1e-6)


def test_leaf_grads_accumulate_across_backward_calls():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    (w * 2).sum().backward()
    (w * 3).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [5.0, 5.0])


def test_second_backward_through_freed_graph_says_retain_graph():
    x = cr.tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward():
    x = cr.tensor([1.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4 * np.e], rtol=1e-6)


def test_non_scalar_backward_needs_a_gradient():
    x = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()
    y = x * 2
    y.backward(cr.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_gradient_shape_mismatch():
    x = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(cr.ones(4))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        cr.ones(2).sum().backward()


def test_no_grad_records_nothing():
    x = cr.ones(2, requires_grad=True)
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
        with cr.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad and z.grad_fn is not None
    assert cr.is_grad_enabled()


def test_grad_mode_decorators_and_set_grad_enabled():
    x = cr.ones(2, requires_grad=True)

    @cr.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with cr.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert cr.is_grad_enabled()
    cr.set_grad_enabled(False)
    assert not cr.is_grad_enabled()
    cr.set_grad_enabled(True)
    assert cr.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with cr.no_grad():
        t = threading.Thread(target=lambda: seen.append(cr.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_autograd_grad_returns_without_accumulating():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor([3.0], requires_grad=True)
    out = (x * x).sum()
    (gx,) = cr.autograd.grad(out, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert x.grad is None
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        cr.autograd.grad(out, [x, y], retain_graph=True)
    gx, gy = cr.autograd.grad(out, [x, y], allow_unused=True)
    assert gy is None


def test_grad_of_intermediate():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    out = (h * h).sum()
    (gh,) = cr.autograd.grad(out, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


def test_retain_grad_and_is_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    assert x.is_leaf and not h.is_leaf
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    assert h.grad_fn.name() == "MulBackward"
    assert "MulBackward" in repr(h)


def test_hooks_see_and_replace_gradients():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x * 2
    handle = h.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 10)
    h.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_detach_cuts_the_graph_and_shares_memory():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x.detach()
    y.data[0] = 5.0
    assert x.data[0] == 5.0


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        cr.tensor([1, 2]).requires_grad_()


# ---------------------------------------------------------------- in-place


def test_inplace_bumps_version_and_saved_tensor_check():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1  # non-leaf
    z = y.exp()  # Exp saves its output
    v0 = z._version_number
    z.add_(1)
    assert z._version_number == v0 + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*ExpBackward"):
        z.sum().backward()


def test_inplace_on_saved_input_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y.log()  # Log saves its input y
    y.mul_(2)
    with pytest.raises(RuntimeError, match="version"):
        z.sum().backward()


def test_inplace_on_leaf_requiring_grad_raises():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.add_(1)
    with cr.no_grad():
        w.add_(1)  # allowed: this is how optimizers update parameters
    np.testing.assert_allclose(w.numpy(force=True), [2.0, 3.0])


def test_inplace_with_autograd_is_correct():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.mul_(x)  # y = 2x * x, dy/dx = 4x
    y.add_(3.0)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_users_recorded_before_an_inplace_op_get_the_old_value_gradient():
    # z used y before y.mul_(3): z's gradient must flow through y's old node (dz/dx = 2),
    # while w, recorded after, sees the new value (dw/dx = 3 * 5). Same as PyTorch.
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    z = y * 2.0
    y.mul_(3.0)
    w = y * 5.0
    y.add_(1.0)
    z.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])
    x.grad = None
    w.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [15.0, 15.0])


def test_users_recorded_before_copy_or_fill_keep_their_gradient():
    for overwrite in (
        lambda y: y.copy_(cr.ones(2)),
        lambda y: y.fill_(0.0),
        lambda y: y.detach_(),
    ):
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        z = y * 2.0
        overwrite(y)
        z.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_inplace_ops_on_plain_tensors():
    t = cr.zeros(3)
    t.fill_(2.0).add_(1.0).mul_(2.0).clamp_(max=5.0)
    np.testing.assert_allclose(t.numpy(), [5.0, 5.0, 5.0])
    t.copy_(cr.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(t.numpy(), [1.0, 2.0, 3.0])
    t.zero_()
    assert not t.numpy().any()
    cr.manual_seed(1)
    t.uniform_(-1, 1)
    assert np.all(np.abs(t.numpy()) <= 1)
    t.normal_(0, 1)
    assert t._version_number >= 7


# ---------------------------------------------------------------- checking tools


def test_gradcheck_reports_the_worst_element():
    class WrongSquare(cr.autograd.Function):
        """f(x) = x^2 with a deliberately wrong derivative 3x."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x

    x = cr.tensor([1.0, -2.0, 0.5], dtype=cr.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0.*element \(1,\).*analytic -6.*numeric -4"):
        gradcheck(WrongSquare.apply, [x])
    assert gradcheck(lambda t: t * t, [x])
    assert not gradcheck(WrongSquare.apply, [x], raise_exception=False)


def test_gradcheck_warns_for_float32():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        gradcheck(lambda t: t * 2, [x], eps=1e-2, atol=1e-2, rtol=1e-2)


def test_softmax_jacobian_is_diag_s_minus_ssT():
    x = cr.tensor([0.5, -1.0, 2.0, 0.1], dtype=cr.float64)
    J = jacobian(lambda t: t.softmax(0), x).numpy()
    s = np.exp(x.numpy()) / np.exp(x.numpy()).sum()
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), atol=1e-12)
    np.testing.assert_allclose(J.sum(axis=1), 0, atol=1e-12)  # rows sum to zero


def test_vjp_equals_vT_J():
    x = cr.tensor([0.5, -1.0, 2.0], dtype=cr.float64)
    v = cr.tensor([1.0, 2.0, -1.0], dtype=cr.float64)
    out, g = vjp(lambda t: t.tanh() * t, x, v)
    J = jacobian(lambda t: t.tanh() * t, x).numpy()
    np.testing.assert_allclose(g.numpy(), v.numpy() @ J, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy()) * x.numpy())


def test_detect_anomaly_names_op_and_line_in_forward():
    x = cr.tensor([-1.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"), detect_anomaly():
            with pytest.raises(RuntimeError, match="Log produced NaN"):
                x.log()


def test_detect_anomaly_names_op_and_line_in_backward():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"), detect_anomaly():
        y = x.sqrt()  # the line the error must point to
        with pytest.raises(
            RuntimeError, match=r"(?s)Sqrt produced NaN or Inf in backward.*y = x\.sqrt"
        ):
            y.sum().backward()


# ---------------------------------------------------------------- devices


def test_mixing_devices_names_both():
    a = cr.ones(2)
    b = cr.ones(2)
    b._device = cr.Device("cuda", 0)  # a fake GPU tensor: the check happens before any compute
    with pytest.raises(RuntimeError, match="cpu and cuda:0|cuda:0 and cpu"):
        a + b


def test_gradcheck_handles_non_contiguous_outputs():
    # Regression: one-hot cotangents written through reshape(-1) were lost for transposed outputs.
    x = cr.tensor(np.arange(6.0).reshape(2, 3), dtype=cr.float64, requires_grad=True)
    assert gradcheck(lambda t: (t * 2.0).t(), [x])


def test_leaf_gradients_never_share_memory():
    # Add hands one gradient array to both inputs; in-place edits of one .grad (as clipping
    # does) must not change the other.
    a = cr.ones(3, requires_grad=True)
    b = cr.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.data *= 0
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    c = cr.ones(2, 3, requires_grad=True)
    d = cr.ones(6, requires_grad=True)
    (c + d.reshape(2, 3)).sum().backward()
    c.grad.data *= 0
    assert d.grad.tolist() == [1.0] * 6
    root = cr.ones(3)
    e = cr.ones(3, requires_grad=True)
    (e * 1.0).backward(root)
    e.grad.data *= 0
    assert root.tolist() == [1.0, 1.0, 1.0]


def test_fan_in_accumulation_never_writes_into_arrays_others_hold(torch):
    # Gradients are summed in place on fan-in when the engine owns the array. Arrays that a
    # hook, autograd.grad or the caller holds, or that Add hands to both inputs, must not
    # change afterwards.
    def graph(lib, x):
        h = x * 2.0
        a = h + 1.0  # passes its gradient array through to h unchanged
        b = h * 3.0
        return h, (a * a).sum() + b.sum() + (h + h).sum()

    xs = np.array([0.5, -1.0, 2.0])
    for lib in (cr, torch):
        x = lib.tensor(xs, requires_grad=True)
        h, loss = graph(lib, x)
        seen = []
        clone = lib is torch  # torch may reuse the hook's tensor; chainrule must not change it
        h.register_hook(lambda g, seen=seen, clone=clone: seen.append(g.clone() if clone else g))
        (gh,) = lib.autograd.grad(loss, [h], retain_graph=True)
        loss.backward()
        if lib is torch:
            want = (gh.numpy(), x.grad.numpy(), seen[0].numpy())
        else:
            got = (gh.numpy(), x.grad.numpy(), seen[0].numpy())
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w)


def test_views_follow_inplace_changes_like_torch(torch):
    # A view used after its base changed in place sees the new values in its gradient, and
    # an in-place op on a view changes its base in the graph too.
    def stale(lib, x):
        y = x * 1.0
        v = y[:, 0]
        y.mul_(3.0)
        return v.sum()

    def through_view(lib, x):
        y = x * 1.0
        y[:, 0] *= 3.0
        return (y * y).sum()

    xs = np.array([[1.0, 2.0], [3.0, 4.0]])
    for case in (stale, through_view):
        grads = []
        for lib in (cr, torch):
            x = lib.tensor(xs, requires_grad=True)
            case(lib, x).backward()
            grads.append(x.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1])


def test_inplace_on_views_refuses_what_torch_refuses():
    w = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        w[0].mul_(2.0)
    y = w * 1.0
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y[:1].expand(3).add_(w[0])


def test_a_view_kept_after_no_grad_does_not_keep_the_graph_alive():
    import gc
    import weakref

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    node = weakref.ref(y.grad_fn)
    with cr.no_grad():
        kept = y[0]  # e.g. a prediction kept for logging
    del y
    gc.collect()
    assert node() is None
    assert kept.item() == 2.0


@pytest.mark.parametrize("order", ["C", "F"])
def test_view_positions_match_the_elements_each_view_shows(order):
    from chainrule.ops.views import view_positions

    root = np.asarray(np.arange(60.0).reshape(3, 4, 5), order=order)  # value = C position
    views = [
        root[1],
        root[:, 1:3, ::2],
        root.transpose(2, 0, 1)[1:, :, 2],
        root[None, 2, :, 1:2],
        np.broadcast_to(root[:1, :1, 3], (4, 1)),
    ]
    if order == "C":
        views.append(root.reshape(12, 5)[3:9:3])
    for v in views:
        assert np.shares_memory(v, root)
        np.testing.assert_array_equal(view_positions(np, root, v, "test"), v)


def test_hooks_registered_before_an_inplace_op_see_the_old_values_gradient(torch):
    got = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2.0
        seen = []
        y.register_hook(lambda g, seen=seen: seen.append(g.detach().numpy().copy()))
        z = y * 3.0
        y.mul_(2.0)
        (z.sum() + y.sum()).backward()
        got.append((seen, x.grad.numpy()))
    (ours, ours_x), (theirs, theirs_x) = got
    assert len(ours) == len(theirs) == 1
    np.testing.assert_allclose(ours[0], theirs[0])  # d/d(y before mul_) = 3 + 2
    np.testing.assert_allclose(ours_x, theirs_x)


def test_copy_of_a_constant_into_a_graph_tensor_cuts_its_history(torch):
    grads = []
    for lib in (cr, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2.0
        y.copy_(lib.ones(2))  # y now holds constants
        (y * x).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])
