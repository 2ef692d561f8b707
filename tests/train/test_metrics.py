"""chainrule.metrics against hand computations (scikit-learn's definitions)."""

import math

import numpy as np
import pytest

import chainrule
from chainrule import metrics

# 3 classes, 8 samples. Hand-made confusion matrix (rows: true, columns: predicted):
#   true 0: predicted 0,0,1      -> [2, 1, 0]
#   true 1: predicted 1,1,2      -> [0, 2, 1]
#   true 2: predicted 0,2        -> [1, 0, 1]
TARGET = [0, 0, 0, 1, 1, 1, 2, 2]
PRED = [0, 0, 1, 1, 1, 2, 0, 2]
CM = np.array([[2, 1, 0], [0, 2, 1], [1, 0, 1]])


def one_hot_logits(labels, num_classes=3):
    logits = np.full((len(labels), num_classes), -1.0, dtype=np.float32)
    logits[np.arange(len(labels)), labels] = 2.0
    return logits


def test_accuracy_labels_logits_tensors_and_arrays():
    assert metrics.accuracy(PRED, TARGET) == 5 / 8
    logits = one_hot_logits(PRED)
    assert metrics.accuracy(chainrule.tensor(logits), chainrule.tensor(TARGET)) == 5 / 8
    assert metrics.accuracy(logits, np.array(TARGET)) == 5 / 8
    # a tensor that requires grad is fine (no .detach() needed)
    t = chainrule.tensor(logits, requires_grad=True)
    assert isinstance(metrics.accuracy(t, TARGET), float)


def test_accuracy_class_dim_and_binary_probabilities():
    # (N, C, L) with the class dimension 1, as PyTorch's cross_entropy
    scores = np.zeros((2, 3, 4))
    scores[:, 2, :] = 1.0
    target = np.full((2, 4), 2)
    target[0, 0] = 1
    assert metrics.accuracy(scores, target) == 7 / 8
    assert metrics.accuracy(np.moveaxis(scores, 1, -1), target, dim=-1) == 7 / 8
    probs = np.array([0.9, 0.2, 0.6, 0.4])
    assert metrics.accuracy(probs, np.array([1.0, 0.0, 0.0, 0.0])) == 0.75
    assert metrics.accuracy(np.array([2.0, -1.0]), np.array([1, 0]), threshold=0.0) == 1.0


def test_accuracy_shape_mismatch_is_clear():
    with pytest.raises(ValueError, match="do not match"):
        metrics.accuracy(np.zeros(3), np.zeros(4))


def test_top_k_accuracy():
    logits = np.array(
        [
            [0.1, 0.5, 0.4],  # true 2: rank 2 (second) -> top-2 yes, top-1 no
            [0.7, 0.2, 0.1],  # true 0: rank 1
            [0.2, 0.3, 0.5],  # true 0: rank 3
            [0.3, 0.3, 0.4],  # true 1: tied second -> counts for top-2
        ]
    )
    target = np.array([2, 0, 0, 1])
    assert metrics.top_k_accuracy(logits, target, k=1) == 0.25
    assert metrics.top_k_accuracy(logits, target, k=2) == 0.75
    assert metrics.top_k_accuracy(logits, target, k=3) == 1.0
    assert metrics.top_k_accuracy(chainrule.tensor(logits), chainrule.tensor(target), 2) == 0.75


def test_confusion_matrix_rows_true_columns_predicted():
    cm = metrics.confusion_matrix(PRED, TARGET, num_classes=3)
    np.testing.assert_array_equal(cm, CM)
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(metrics.confusion_matrix(one_hot_logits(PRED), TARGET), CM)
    # num_classes larger than the labels seen pads with zeros
    cm5 = metrics.confusion_matrix(PRED, TARGET, num_classes=5)
    assert cm5.shape == (5, 5) and cm5[:3, :3].tolist() == CM.tolist() and cm5.sum() == 8
    with pytest.raises(ValueError, match="labels must lie"):
        metrics.confusion_matrix([0, 3], [0, 1], num_classes=3)


def test_precision_recall_f1_per_class_and_averages():
    p, r, f1 = metrics.precision_recall_f1(PRED, TARGET, 3, average=None)
    # precision = diag / column sums, recall = diag / row sums
    np.testing.assert_allclose(p, [2 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(r, [2 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(f1, [2 / 3, 2 / 3, 1 / 2])
    mp, mr, mf = metrics.precision_recall_f1(PRED, TARGET, 3)  # macro
    assert mp == pytest.approx((2 / 3 + 2 / 3 + 1 / 2) / 3)
    assert mr == pytest.approx(mp) and mf == pytest.approx(mp)
    micro = metrics.precision_recall_f1(PRED, TARGET, 3, average="micro")
    assert micro == pytest.approx((5 / 8, 5 / 8, 5 / 8))
    wp, _, _ = metrics.precision_recall_f1(PRED, TARGET, 3, average="weighted")
    assert wp == pytest.approx((3 * 2 / 3 + 3 * 2 / 3 + 2 * 1 / 2) / 8)


def test_precision_recall_f1_zero_division_gives_zero():
    # class 2 never predicted (precision 0/0) and class 3 never present (recall 0/0)
    pred = [0, 1, 1, 3]
    target = [0, 1, 2, 0]
    p, r, f1 = metrics.precision_recall_f1(pred, target, 4, average=None)
    np.testing.assert_allclose(p, [1.0, 1 / 2, 0.0, 0.0])
    np.testing.assert_allclose(r, [1 / 2, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(f1, [2 / 3, 2 / 3, 0.0, 0.0])
    assert not np.isnan(p).any()
    mp, mr, mf = metrics.precision_recall_f1(pred, target, 4)
    assert (mp, mr, mf) == pytest.approx((1.5 / 4, 1.5 / 4, (4 / 3) / 4))
    with pytest.raises(ValueError, match="average"):
        metrics.precision_recall_f1(pred, target, 4, average="bogus")


def test_regression_metrics_and_perplexity():
    pred = chainrule.tensor([1.0, 2.0, 4.0])
    target = np.array([1.0, 0.0, 1.0])
    assert metrics.mse(pred, target) == pytest.approx((0 + 4 + 9) / 3)
    assert metrics.mae(pred, target) == pytest.approx((0 + 2 + 3) / 3)
    assert metrics.perplexity(0.0) == 1.0
    assert metrics.perplexity(math.log(50.0)) == pytest.approx(50.0)
    assert metrics.perplexity(chainrule.tensor(math.log(7.0))) == pytest.approx(7.0, rel=1e-6)
    assert metrics.perplexity(1e4) == math.inf


def test_stateful_metrics_accumulate_over_batches():
    acc = metrics.Accuracy()
    acc.update(one_hot_logits(PRED[:3]), TARGET[:3])
    acc.update(chainrule.tensor(one_hot_logits(PRED[3:])), chainrule.tensor(TARGET[3:]))
    assert acc.name == "accuracy" and acc.compute() == 5 / 8
    acc.reset()
    assert acc.compute() == 0.0

    top = metrics.TopKAccuracy(2)
    top.update(np.array([[0.1, 0.5, 0.4]]), [2])
    top.update(np.array([[0.2, 0.3, 0.5], [0.9, 0.0, 0.1]]), [0, 0])
    assert top.name == "top2_accuracy" and top.compute() == pytest.approx(2 / 3)

    mse = metrics.MeanSquaredError()
    mse.update(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    mse.update(np.array([3.0]), np.array([0.0]))
    assert mse.name == "mse" and mse.compute() == pytest.approx(14 / 3)
    mae = metrics.MeanAbsoluteError()
    mae.update(np.array([1.0, -2.0]), np.array([0.0, 0.0]))
    assert mae.compute() == 1.5 and not mae.higher_is_better

    f1 = metrics.F1Score(3)
    f1.update(PRED[:4], TARGET[:4])
    f1.update(PRED[4:], TARGET[4:])
    assert f1.compute() == pytest.approx(metrics.precision_recall_f1(PRED, TARGET, 3)[2])


def test_get_metric_names_objects_and_functions():
    assert isinstance(metrics.get_metric("accuracy"), metrics.Accuracy)
    assert metrics.get_metric("top5_accuracy").k == 5
    assert isinstance(metrics.get_metric("mse"), metrics.MeanSquaredError)
    m = metrics.Accuracy()
    assert metrics.get_metric(m) is m

    def hits(output, target):
        return metrics.accuracy(output, target)

    wrapped = metrics.get_metric(hits)
    assert wrapped.name == "hits"
    wrapped.update(np.array([0, 1]), np.array([0, 0]))  # 0.5 over 2 samples
    wrapped.update(np.array([1, 1, 1, 1]), np.array([1, 1, 1, 1]))  # 1.0 over 4
    assert wrapped.compute() == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.get_metric("bogus")


def test_plot_confusion_matrix(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "cm.png"
    fig = metrics.plot_confusion_matrix(CM, class_names=["a", "b", "c"], path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    assert metrics.plot_confusion_matrix(CM, normalize=True) is not None
