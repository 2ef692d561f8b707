"""PLACEHOLDER: being written now; replaced before commit."""

def gather(*args, **kwargs):
    raise NotImplementedError('indexing.gather placeholder')


def getitem(*args, **kwargs):
    raise NotImplementedError('indexing.getitem placeholder')


def index_select(*args, **kwargs):
    raise NotImplementedError('indexing.index_select placeholder')


def masked_fill(*args, **kwargs):
    raise NotImplementedError('indexing.masked_fill placeholder')


def scatter(*args, **kwargs):
    raise NotImplementedError('indexing.scatter placeholder')


def scatter_add(*args, **kwargs):
    raise NotImplementedError('indexing.scatter_add placeholder')


def setitem_(*args, **kwargs):
    raise NotImplementedError('indexing.setitem_ placeholder')


def take_along_dim(*args, **kwargs):
    raise NotImplementedError('indexing.take_along_dim placeholder')


