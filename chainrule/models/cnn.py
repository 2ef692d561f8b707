"""Small convolutional networks for the 8x8 Digits and the 28x28 (Fashion-)MNIST images."""

from __future__ import annotations

from chainrule import nn


class DigitsCNN(nn.Module):
    """A small CNN for 8x8 grey images: two 3x3 convolutions, one 2x2 max-pool, one Linear.

    conv(1->c1) -> [BN] -> ReLU -> conv(c1->c2) -> [BN] -> ReLU -> maxpool 2 -> dropout
    -> Linear(c2*4*4 -> 10). Padding 1 keeps the 8x8 size through both convolutions, so the
    pooled map is 4x4.

    Args:
        channels: the widths (c1, c2) of the two convolutions.
        dropout: dropout probability before the classifier.
        batch_norm: BatchNorm2d after each convolution (faster, steadier training).
        num_classes: output size.

    Shape: input (N, 1, 8, 8) -> logits (N, num_classes).

    Example:
        >>> DigitsCNN()(chainrule.zeros(2, 1, 8, 8)).shape
        chainrule.Size([2, 10])
    """

    def __init__(
        self,
        channels=(32, 64),
        dropout: float = 0.3,
        batch_norm: bool = True,
        num_classes: int = 10,
    ):
        super().__init__()
        c1, c2 = channels

        def conv(cin, cout):
            layers = [nn.Conv2d(cin, cout, 3, padding=1)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            return [*layers, nn.ReLU()]

        self.features = nn.Sequential(*conv(1, c1), *conv(c1, c2), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(c2 * 4 * 4, num_classes)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class SimpleCNN(nn.Module):
    """The classic two-block CNN for 28x28 images (the Keras / TensorFlow tutorial shape).

    [conv 3x3 (pad 1) -> ReLU -> maxpool 2] x 2 -> Linear(c2*7*7 -> hidden) -> ReLU -> dropout
    -> Linear(hidden -> 10).

    Args:
        channels: widths (c1, c2) of the two convolutions.
        hidden: width of the fully connected layer.
        dropout: dropout probability before the last layer.
        batch_norm: BatchNorm2d after each convolution.

    Shape: input (N, 1, 28, 28) -> logits (N, num_classes).
    """

    def __init__(
        self,
        channels=(32, 64),
        hidden: int = 128,
        dropout: float = 0.3,
        batch_norm: bool = False,
        num_classes: int = 10,
    ):
        super().__init__()
        c1, c2 = channels

        def block(cin, cout):
            layers = [nn.Conv2d(cin, cout, 3, padding=1)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            return [*layers, nn.ReLU(), nn.MaxPool2d(2)]

        self.features = nn.Sequential(*block(1, c1), *block(c1, c2))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * 7 * 7, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
