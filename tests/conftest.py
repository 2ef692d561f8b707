"""Shared fixtures: seeds, the device list, and the PyTorch oracle."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))  # opspec.py and opspecs/ import by name

import chainrule  # noqa: E402

DEVICES = ["cpu"] + (["cuda"] if chainrule.backend.is_cuda_available() else [])


@pytest.fixture(autouse=True)
def _seed():
    chainrule.manual_seed(0)
    np.random.seed(0)
    yield


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


SHARED_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")
