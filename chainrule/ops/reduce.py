"""PLACEHOLDER: being written now; replaced before commit."""

def all(*args, **kwargs):
    raise NotImplementedError('reduce.all placeholder')


def amax(*args, **kwargs):
    raise NotImplementedError('reduce.amax placeholder')


def amin(*args, **kwargs):
    raise NotImplementedError('reduce.amin placeholder')


def any(*args, **kwargs):
    raise NotImplementedError('reduce.any placeholder')


def argmax(*args, **kwargs):
    raise NotImplementedError('reduce.argmax placeholder')


def argmin(*args, **kwargs):
    raise NotImplementedError('reduce.argmin placeholder')


def cumsum(*args, **kwargs):
    raise NotImplementedError('reduce.cumsum placeholder')


def logsumexp(*args, **kwargs):
    raise NotImplementedError('reduce.logsumexp placeholder')


def max(*args, **kwargs):
    raise NotImplementedError('reduce.max placeholder')


def mean(*args, **kwargs):
    raise NotImplementedError('reduce.mean placeholder')


def min(*args, **kwargs):
    raise NotImplementedError('reduce.min placeholder')


def norm(*args, **kwargs):
    raise NotImplementedError('reduce.norm placeholder')


def prod(*args, **kwargs):
    raise NotImplementedError('reduce.prod placeholder')


def std(*args, **kwargs):
    raise NotImplementedError('reduce.std placeholder')


def sum(*args, **kwargs):
    raise NotImplementedError('reduce.sum placeholder')


def var(*args, **kwargs):
    raise NotImplementedError('reduce.var placeholder')


