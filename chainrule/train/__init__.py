"""Training tools: a Trainer for the usual loop, callbacks, history and progress display.

The Trainer is a convenience, never a requirement. The plain PyTorch-style loop stays the
reference and is as short as ever::

    model = MLP(...)
    opt = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = chainrule.nn.CrossEntropyLoss()
    for epoch in range(10):
        model.train()
        for x, y in train_loader:
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
        model.eval()
        with chainrule.no_grad():
            hits = sum(chainrule.metrics.accuracy(model(x), y) * len(y) for x, y in val_loader)
        print(epoch, loss.item(), hits / len(val_set))
    chainrule.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, "ckpt.safetensors")

The same with the Trainer, plus metrics, validation, a progress bar, early stopping and the
best checkpoint::

    from chainrule.train import Trainer, EarlyStopping, ModelCheckpoint

    trainer = Trainer(model, opt, loss_fn, metrics=["accuracy"], callbacks=[
        EarlyStopping(patience=3, restore_best_weights=True),
        ModelCheckpoint("best.safetensors", save_best_only=True),
    ])
    history = trainer.fit(train_loader, val_loader, epochs=10)
    history.plot("curves.png")
    trainer.evaluate(test_loader)            # {"loss": ..., "accuracy": ...}

    trainer.load_checkpoint("best.safetensors")   # resume later, even in a new process
    trainer.fit(train_loader, val_loader, epochs=5)
"""

from chainrule.train.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ProgressBar,
    TerminateOnNaN,
)
from chainrule.train.history import History
from chainrule.train.trainer import Trainer

__all__ = [
    "Trainer",
    "History",
    "Callback",
    "CSVLogger",
    "EarlyStopping",
    "LambdaCallback",
    "ModelCheckpoint",
    "ProgressBar",
    "TerminateOnNaN",
]
