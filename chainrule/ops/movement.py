"""PLACEHOLDER: being written now; replaced before commit."""

def cat(*args, **kwargs):
    raise NotImplementedError('movement.cat placeholder')


def chunk(*args, **kwargs):
    raise NotImplementedError('movement.chunk placeholder')


def clone(*args, **kwargs):
    raise NotImplementedError('movement.clone placeholder')


def concat(*args, **kwargs):
    raise NotImplementedError('movement.concat placeholder')


def concatenate(*args, **kwargs):
    raise NotImplementedError('movement.concatenate placeholder')


def contiguous(*args, **kwargs):
    raise NotImplementedError('movement.contiguous placeholder')


def expand(*args, **kwargs):
    raise NotImplementedError('movement.expand placeholder')


def flatten(*args, **kwargs):
    raise NotImplementedError('movement.flatten placeholder')


def flip(*args, **kwargs):
    raise NotImplementedError('movement.flip placeholder')


def movedim(*args, **kwargs):
    raise NotImplementedError('movement.movedim placeholder')


def pad(*args, **kwargs):
    raise NotImplementedError('movement.pad placeholder')


def permute(*args, **kwargs):
    raise NotImplementedError('movement.permute placeholder')


def repeat(*args, **kwargs):
    raise NotImplementedError('movement.repeat placeholder')


def reshape(*args, **kwargs):
    raise NotImplementedError('movement.reshape placeholder')


def roll(*args, **kwargs):
    raise NotImplementedError('movement.roll placeholder')


def split(*args, **kwargs):
    raise NotImplementedError('movement.split placeholder')


def squeeze(*args, **kwargs):
    raise NotImplementedError('movement.squeeze placeholder')


def stack(*args, **kwargs):
    raise NotImplementedError('movement.stack placeholder')


def tile(*args, **kwargs):
    raise NotImplementedError('movement.tile placeholder')


def transpose(*args, **kwargs):
    raise NotImplementedError('movement.transpose placeholder')


def tril(*args, **kwargs):
    raise NotImplementedError('movement.tril placeholder')


def triu(*args, **kwargs):
    raise NotImplementedError('movement.triu placeholder')


def unbind(*args, **kwargs):
    raise NotImplementedError('movement.unbind placeholder')


def unflatten(*args, **kwargs):
    raise NotImplementedError('movement.unflatten placeholder')


def unsqueeze(*args, **kwargs):
    raise NotImplementedError('movement.unsqueeze placeholder')


