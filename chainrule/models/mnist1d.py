"""The MNIST-1D baselines of Greydanus & Kobak (github.com/greydanus/mnist1d, notebooks/models.py)
and a tuned CNN that goes past them.

Inputs are signals of length 40: (N, 40). Parameter counts match the paper's models.
"""

from __future__ import annotations

from chainrule import nn
from chainrule.nn import functional as F


class MNIST1DMLP(nn.Module):
    """The paper's ``MLPBase``: h = relu(W1 x); h = h + relu(W2 h); logits = W3 h.

    Linear(40 -> 100), one residual Linear(100 -> 100), Linear(100 -> 10): 15,210 parameters.

    Shape: input (N, 40) -> logits (N, 10).
    """

    def __init__(self, input_size: int = 40, hidden: int = 100, num_classes: int = 10):
        super().__init__()
        self.linear1 = nn.Linear(input_size, hidden)
        self.linear2 = nn.Linear(hidden, hidden)
        self.linear3 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        h = F.relu(self.linear1(x))
        h = h + F.relu(self.linear2(h))
        return self.linear3(h)


class MNIST1DCNN(nn.Module):
    """The paper's ``ConvBase``: three stride-2 Conv1d layers with 25 channels, then a Linear.

    Conv1d(1->25, k5, s2, p1) -> ReLU -> Conv1d(25->25, k3, s2, p1) -> ReLU
    -> Conv1d(25->25, k3, s2, p1) -> ReLU -> flatten (25 x 5 = 125) -> Linear(125 -> 10).
    Lengths: 40 -> 19 -> 10 -> 5. 5,210 parameters.

    Shape: input (N, 40) -> logits (N, 10).
    """

    def __init__(self, channels: int = 25, num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv1d(1, channels, 5, stride=2, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(channels, channels, 3, stride=2, padding=1)
        self.linear = nn.Linear(channels * 5, num_classes)

    def forward(self, x):
        h = x.reshape(x.shape[0], 1, x.shape[-1])
        h = F.relu(self.conv1(h))
        h = F.relu(self.conv2(h))
        h = F.relu(self.conv3(h))
        return self.linear(h.flatten(1))


class MNIST1DGRU(nn.Module):
    """The paper's ``GRUBase``: a bidirectional GRU (hidden 6) read at every position.

    The signal is a sequence of 40 scalars; all 40 outputs (2 directions x 6) are flattened
    (480) and fed to Linear(480 -> 10). h0 = 0. 5,134 parameters.

    Shape: input (N, 40) -> logits (N, 10).
    """

    def __init__(self, length: int = 40, hidden: int = 6, num_classes: int = 10):
        super().__init__()
        self.gru = nn.GRU(1, hidden, batch_first=True, bidirectional=True)
        self.linear = nn.Linear(2 * hidden * length, num_classes)

    def forward(self, x):
        out, _ = self.gru(x.reshape(x.shape[0], x.shape[-1], 1))
        return self.linear(out.flatten(1))


class MNIST1DTunedCNN(nn.Module):
    """A wider, deeper CNN for MNIST-1D: stride-1 convolutions with BatchNorm, max-pooling,
    global average pooling over positions and dropout.

    [Conv1d(k3, pad 1) -> BatchNorm1d -> ReLU] x 2 -> maxpool 2, three such stages
    (widths ``channels``), then global average pooling -> dropout -> Linear(-> 10).

    Shape: input (N, 40) -> logits (N, 10).
    """

    def __init__(self, channels=(32, 64, 128), dropout: float = 0.2, num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 1
        for c in channels:
            for _ in range(2):
                layers += [nn.Conv1d(cin, c, 3, padding=1), nn.BatchNorm1d(c), nn.ReLU()]
                cin = c
            layers.append(nn.MaxPool1d(2))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x):
        h = self.features(x.reshape(x.shape[0], 1, x.shape[-1]))
        return self.linear(self.dropout(h.mean(dim=2)))
