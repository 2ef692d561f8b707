"""Image transforms: shapes, values vs hand computations, flips, crops, rotations."""

import numpy as np
import pytest

import chainrule
from chainrule.data import transforms as T


def _img(c=3, h=6, w=6, seed=0):
    return np.random.default_rng(seed).random((c, h, w)).astype(np.float32)


def test_to_tensor_and_normalize_values():
    hwc = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
    t = T.ToTensor()(hwc)
    assert isinstance(t, chainrule.Tensor) and t.shape == (3, 5, 4) and t.dtype == chainrule.float32
    np.testing.assert_allclose(t.numpy(), hwc.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    hw = hwc[..., 0]
    assert T.ToTensor()(hw).shape == (1, 5, 4)
    f64 = np.zeros((2, 2), np.float64)
    assert T.ToTensor()(f64).dtype == chainrule.float64  # only uint8 is rescaled

    mean, std = (0.5, 0.25, 0.1), (0.2, 0.5, 1.0)
    out = T.Normalize(mean, std)(t)
    want = (hwc.transpose(2, 0, 1) / 255.0 - np.array(mean)[:, None, None]) / np.array(std)[
        :, None, None
    ]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5, atol=1e-6)
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    x = pipeline(hw)
    np.testing.assert_allclose(x.numpy()[0], (hw / 255.0 - 0.1307) / 0.3081, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError):
        T.Normalize((0.5,), (0.0,))


def test_to_tensor_matches_torch(torch):
    hwc = np.random.default_rng(1).integers(0, 256, (4, 5, 3), dtype=np.uint8)
    ref = torch.from_numpy(hwc.transpose(2, 0, 1).copy()).float().div(255)
    np.testing.assert_allclose(T.ToTensor()(hwc).numpy(), ref.numpy(), rtol=1e-6, atol=1e-7)


def test_flips():
    img = _img()
    g = chainrule.Generator().manual_seed(0)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(img), img[..., ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(img), img)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(img), img[..., ::-1, :])
    flips = [T.RandomHorizontalFlip(generator=g)(img)[0, 0, 0] != img[0, 0, 0] for _ in range(400)]
    assert 0.4 < np.mean(flips) < 0.6
    t = T.RandomHorizontalFlip(p=1.0)(chainrule.tensor(img))
    assert isinstance(t, chainrule.Tensor)
    np.testing.assert_array_equal(t.numpy(), img[..., ::-1])


def test_random_crop_with_padding():
    img = _img(1, 8, 8)
    g = chainrule.Generator().manual_seed(1)
    crop = T.RandomCrop(8, padding=2, generator=g)
    padded = np.pad(img, ((0, 0), (2, 2), (2, 2)))
    seen = set()
    for _ in range(60):
        out = crop(img)
        assert out.shape == (1, 8, 8)
        hits = [
            (i, j)
            for i in range(5)
            for j in range(5)
            if np.array_equal(padded[:, i : i + 8, j : j + 8], out)
        ]
        assert hits  # every crop is a window of the zero-padded image
        seen.update(hits)
    assert len(seen) > 5
    assert T.RandomCrop((4, 6))(img[0]).shape == (4, 6)  # (H, W) input
    assert T.RandomCrop(10, pad_if_needed=True)(img).shape == (1, 10, 10)
    assert T.CenterCrop(4)(img).shape == (1, 4, 4)
    u8 = (img * 255).astype(np.uint8)[0]
    assert T.RandomCrop(6, padding=(1, 2), fill=7)(u8).dtype == np.uint8
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(10)(img)


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_rotation_by_90_equals_rot90(interpolation):
    for shape in [(7, 7), (2, 6, 6)]:
        img = np.random.default_rng(2).random(shape).astype(np.float32)
        out = T.RandomRotation((90, 90), interpolation=interpolation)(img)
        want = np.rot90(img, 1, axes=(-2, -1))
        np.testing.assert_allclose(out, want, atol=1e-6)
        out = T.RandomRotation((-90, -90), interpolation=interpolation)(img)
        np.testing.assert_allclose(out, np.rot90(img, -1, axes=(-2, -1)), atol=1e-6)
    # an angle of 0 is the identity; affine with no change too
    img = _img()
    np.testing.assert_allclose(T.RandomRotation(0)(img), img, atol=1e-7)
    np.testing.assert_allclose(T.RandomAffine(0, interpolation=interpolation)(img), img, atol=1e-7)


def test_rotation_fill_uint8_and_tensor():
    u8 = np.full((9, 9), 200, np.uint8)
    out = T.RandomRotation((45, 45), fill=0)(u8)
    assert out.dtype == np.uint8 and out.shape == (9, 9)
    assert out[0, 0] == 0 and out[4, 4] == 200  # corners come from outside the image
    t = T.RandomRotation(30, interpolation="bilinear")(chainrule.tensor(_img(1, 5, 5)))
    assert isinstance(t, chainrule.Tensor) and t.shape == (1, 5, 5)


def test_affine_translation_and_scale():
    img = np.zeros((1, 9, 9), np.float32)
    img[0, 4, 4] = 1.0
    # translate by exactly +1 pixel right and +2 down: translate fractions of the size
    aff = T.RandomAffine(
        0, translate=(1 / 9, 2 / 9), generator=chainrule.Generator().manual_seed(0)
    )
    angle, (tx, ty), scale, shear = aff.get_params(np.random.default_rng(0), 9, 9)
    assert abs(tx) <= 1 and abs(ty) <= 2 and scale == 1.0
    out = T.RandomAffine(0, translate=(1 / 9, 2 / 9), generator=np.random.default_rng(0))(img)
    ys, xs = np.nonzero(out[0])
    assert (ys[0] - 4, xs[0] - 4) == (ty, tx)
    big = T.RandomAffine(0, scale=(2.0, 2.0))(img)
    assert big[0, 4, 4] == 1.0 and big.sum() >= 1
    assert T.RandomAffine(20, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10)(img).shape == (
        1,
        9,
        9,
    )


def test_gaussian_noise_and_lambda():
    img = np.zeros((1, 50, 50), np.float32)
    out = T.GaussianNoise(mean=0.0, std=0.5, generator=chainrule.Generator().manual_seed(0))(img)
    assert out.dtype == np.float32 and abs(out.std() - 0.5) < 0.03
    clipped = T.GaussianNoise(std=0.5, clip=True)(img)
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert T.Lambda(lambda x: x + 1)(img).max() == 1
    # default randomness follows chainrule's global generator
    chainrule.manual_seed(3)
    a = T.GaussianNoise(std=1.0)(img)
    chainrule.manual_seed(3)
    np.testing.assert_array_equal(a, T.GaussianNoise(std=1.0)(img))


def _torchvision_like(torch, img, inv, mode):
    """torchvision's tensor path: affine grid over pixel centres, then grid_sample."""
    h, w = img.shape[-2:]
    theta = torch.tensor(inv, dtype=torch.float64).reshape(1, 2, 3)
    xs = torch.linspace(-w * 0.5 + 0.5, w * 0.5 - 0.5, w, dtype=torch.float64)
    ys = torch.linspace(-h * 0.5 + 0.5, h * 0.5 - 0.5, h, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    base = torch.stack([gx, gy, torch.ones_like(gx)], -1).reshape(1, h * w, 3)
    grid = (base @ theta.transpose(1, 2)) / torch.tensor([0.5 * w, 0.5 * h], dtype=torch.float64)
    out = torch.nn.functional.grid_sample(
        torch.tensor(img[None], dtype=torch.float64),
        grid.reshape(1, h, w, 2),
        mode=mode,
        padding_mode="zeros",
        align_corners=False,
    )
    return out[0].numpy()


def test_rotation_and_affine_match_grid_sample(torch):
    from chainrule.data.transforms import _inverse_affine_matrix

    img = np.random.default_rng(0).random((2, 9, 11)).astype(np.float32)
    for angle in (30.0, -17.0):
        inv = _inverse_affine_matrix(-angle, (0, 0), 1.0, (0, 0))  # rotate: counter-clockwise
        ours = T.RandomRotation((angle, angle), interpolation="bilinear")(img)
        np.testing.assert_allclose(ours, _torchvision_like(torch, img, inv, "bilinear"), atol=1e-6)
    aff = T.RandomAffine((25, 25), scale=(1.3, 1.3), shear=(10, 10, 5, 5), interpolation="bilinear")
    inv = _inverse_affine_matrix(25.0, (0, 0), 1.3, (10.0, 5.0))
    np.testing.assert_allclose(aff(img), _torchvision_like(torch, img, inv, "bilinear"), atol=1e-6)
    near = T.RandomRotation((-17, -17))(img)
    inv = _inverse_affine_matrix(17.0, (0, 0), 1.0, (0, 0))
    np.testing.assert_allclose(near, _torchvision_like(torch, img, inv, "nearest"), atol=1e-7)
