"""Ready-made models built from chainrule's layers.

- ``Perceptron``: Rosenblatt's 1958 learning rule (not gradient descent; no autograd).
- ``MLP``: a multilayer perceptron, Linear layers with activations in between.
"""

from chainrule.models.mlp import MLP
from chainrule.models.perceptron import Perceptron, PerceptronFitResult
from chainrule.models.word2vec import KeyedVectors, Word2Vec

__all__ = ["MLP", "KeyedVectors", "Perceptron", "PerceptronFitResult", "Word2Vec"]
