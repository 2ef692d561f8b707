"""LeNet-5 (LeCun et al. 1998), in its common modern form: ReLU and max-pooling."""

from __future__ import annotations

from chainrule import nn


class LeNet5(nn.Module):
    """LeNet-5 for 28x28 digits: two conv/pool stages and three fully connected layers.

    conv 5x5 (1->6, pad 2) -> act -> pool 2 -> conv 5x5 (6->16) -> act -> pool 2
    -> Linear(16*5*5 -> 120) -> act -> Linear(120 -> 84) -> act -> Linear(84 -> 10).

    The 1998 network used scaled tanh, trainable subsampling and a sparse C3 connection
    table; ReLU, max-pooling and a full C3 are what "LeNet-5" means in today's tutorials.

    Args:
        activation: "relu" (default) or "tanh".
        pool: "max" (default) or "avg".
        num_classes: output size.

    Shape: input (N, 1, 28, 28) -> logits (N, num_classes). 61,706 parameters.

    Example:
        >>> LeNet5()(chainrule.zeros(2, 1, 28, 28)).shape
        chainrule.Size([2, 10])
    """

    def __init__(self, activation: str = "relu", pool: str = "max", num_classes: int = 10):
        super().__init__()
        act = {"relu": nn.ReLU, "tanh": nn.Tanh}[activation]
        pool_cls = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}[pool]
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            act(),
            pool_cls(2),
            nn.Conv2d(6, 16, 5),
            act(),
            pool_cls(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120),
            act(),
            nn.Linear(120, 84),
            act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))
