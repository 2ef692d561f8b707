"""Ready-made models built from chainrule's layers.

- ``Perceptron``: Rosenblatt's 1958 learning rule (not gradient descent; no autograd).
- ``MLP``: a multilayer perceptron, Linear layers with activations in between.
"""

from chainrule.models.mlp import MLP
from chainrule.models.perceptron import Perceptron, PerceptronFitResult
from chainrule.models.word2vec import KeyedVectors, Word2Vec

__all__ = ["MLP", "KeyedVectors", "Perceptron", "PerceptronFitResult", "Word2Vec"]
from chainrule.models.char_lstm import CharLSTM
from chainrule.models.cnn import DigitsCNN, SimpleCNN
from chainrule.models.lenet import LeNet5
from chainrule.models.minigpt import MiniGPT
from chainrule.models.mnist1d import MNIST1DCNN, MNIST1DGRU, MNIST1DMLP, MNIST1DTunedCNN

__all__ += ["CharLSTM", "DigitsCNN", "LeNet5", "MiniGPT", "MNIST1DCNN", "MNIST1DGRU"]
__all__ += ["MNIST1DMLP", "MNIST1DTunedCNN", "SimpleCNN"]
