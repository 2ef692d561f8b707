"""Word2Vec: sampling formulas, the loss gradient, training, planted structure, file formats,
and quality side by side with gensim (skipped without gensim)."""

import math
import os

import numpy as np
import pytest

import chainrule
from chainrule.autograd import gradcheck
from chainrule.models.word2vec import (
    KeyedVectors,
    Word2Vec,
    _spearman,
    corpus_similarity_pairs,
    negative_sampling_loss,
    negative_sampling_probs,
    read_corpus,
    subsample_keep_prob,
    tokenize,
    write_word_pairs,
)

SHAKESPEARE = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "tinyshakespeare", "input.txt"
)
needs_shakespeare = pytest.mark.skipif(
    not os.path.exists(SHAKESPEARE), reason="tiny Shakespeare not found"
)


def _zipf_corpus(seed=0, n_sent=400, length=12, vocab=30):
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab + 1)
    p /= p.sum()
    return [[f"w{i}" for i in rng.choice(vocab, length, p=p)] for _ in range(n_sent)]


# ---------------------------------------------------------------- vocabulary and sampling
def test_tokenize():
    assert tokenize("First Citizen:\nWe know't, we KNOW'T!") == [
        "first", "citizen", "we", "know't", "we", "know't"
    ]  # fmt: skip


def test_vocab_order_min_count_and_gensim_ties():
    model = Word2Vec(min_count=1)
    model.build_vocab([["a", "b", "c", "b", "c", "d", "e", "f", "f"]])
    # by count, ties as gensim 4 sorts them (lexsort on -first_seen): later words first
    assert model.index_to_key == ["f", "c", "b", "e", "d", "a"]
    model = Word2Vec(min_count=2)
    model.build_vocab([["a", "b", "c", "b", "c", "d", "e", "f", "f"]])
    assert model.index_to_key == ["f", "c", "b"]
    gensim = pytest.importorskip("gensim")
    g = gensim.models.Word2Vec(min_count=1, vector_size=4)
    g.build_vocab([["a", "b", "c", "b", "c", "d", "e", "f", "f"]])
    assert g.wv.index_to_key == ["f", "c", "b", "e", "d", "a"]


def test_keep_probability_formula_and_empirical():
    counts = np.array([5000, 1200, 300, 40, 3])
    sample = 1e-3
    t = sample * counts.sum()
    expected = np.minimum(1, (np.sqrt(counts / t) + 1) * t / counts)
    np.testing.assert_allclose(subsample_keep_prob(counts, sample), expected)
    assert subsample_keep_prob(counts, 0).tolist() == [1.0] * 5

    corpus = _zipf_corpus(n_sent=500, length=20)
    model = Word2Vec(min_count=1, sample=1e-2, seed=3)
    model.build_vocab(corpus)
    ids, sent, _ = model._encode(corpus)
    kept = np.zeros(len(model.index_to_key))
    reps = 40
    for _ in range(reps):
        kept += np.bincount(model.subsample(ids, sent)[0], minlength=len(kept))
    seen = np.bincount(ids, minlength=len(kept)) * reps
    frequent = seen > 2000
    assert frequent.sum() >= 5 and model.keep_prob[0] < 0.5  # the test really subsamples
    np.testing.assert_allclose(
        kept[frequent] / seen[frequent], model.keep_prob[frequent], atol=0.02
    )


def test_negative_sampling_distribution():
    corpus = _zipf_corpus()
    model = Word2Vec(min_count=1, negative=5, ns_exponent=0.75, seed=0)
    model.build_vocab(corpus)
    expected = model.counts**0.75 / (model.counts**0.75).sum()
    np.testing.assert_allclose(negative_sampling_probs(model.counts, 0.75), expected)
    draws = model._draw_negatives(np.full(40000, -1))  # no clash with a positive
    assert draws.shape == (40000, 5)
    freq = np.bincount(draws.ravel(), minlength=len(expected)) / draws.size
    tolerance = 4 * np.sqrt(expected / draws.size) + 1e-4  # 4 standard errors
    assert np.all(np.abs(freq - expected) <= tolerance)
    # a negative equal to the positive target is redrawn
    positives = np.zeros(5000, dtype=np.int64)
    assert not (model._draw_negatives(positives) == 0).any()


# ---------------------------------------------------------------- the loss
def test_loss_gradient_gradcheck_and_closed_form():
    rng = np.random.default_rng(0)
    D, K = 6, 4
    v = chainrule.tensor(rng.normal(size=(1, D)), dtype=chainrule.float64, requires_grad=True)
    u = chainrule.tensor(rng.normal(size=(1, D)), dtype=chainrule.float64, requires_grad=True)
    un = chainrule.tensor(rng.normal(size=(1, K, D)), dtype=chainrule.float64, requires_grad=True)
    assert gradcheck(negative_sampling_loss, [v, u, un], eps=1e-6, atol=1e-5, rtol=1e-3)

    loss = negative_sampling_loss(v, u, un)
    loss.backward()
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    vv, uu, nn_ = v.detach().numpy()[0], u.detach().numpy()[0], un.detach().numpy()[0]
    ref = -np.log(sig(uu @ vv)) - np.log(sig(-(nn_ @ vv))).sum()
    assert math.isclose(loss.item(), ref, rel_tol=1e-12)
    np.testing.assert_allclose(
        v.grad.numpy()[0], (sig(uu @ vv) - 1) * uu + (sig(nn_ @ vv)[:, None] * nn_).sum(0)
    )
    np.testing.assert_allclose(u.grad.numpy()[0], (sig(uu @ vv) - 1) * vv)
    np.testing.assert_allclose(un.grad.numpy()[0], sig(nn_ @ vv)[:, None] * vv)


@pytest.mark.parametrize("sg", [1, 0])
def test_sparse_step_equals_module_forward_with_optim_sgd(sg):
    """The fast sparse update equals loss = model(...); backward; SGD.step on full tables."""
    corpus = _zipf_corpus()
    fast = Word2Vec(min_count=1, vector_size=8, sg=sg, seed=2)
    fast.build_vocab(corpus)
    slow = Word2Vec(min_count=1, vector_size=8, sg=sg, seed=2, sparse=False)
    slow.build_vocab(corpus)
    slow.out_embed.weight.data[...] = np.random.default_rng(0).normal(size=(30, 8)) * 0.1
    fast.out_embed.weight.data[...] = slow.out_embed.weight.data
    ids, sent, _ = fast._encode(corpus)
    examples = fast.make_examples(ids[:300], sent[:300])
    target = examples[1] if sg else examples[0]
    negatives = fast._draw_negatives(target)
    mask = None if sg else examples[2]
    opt = chainrule.optim.SGD(slow.parameters(), lr=1.0)
    l_slow = slow.training_step(examples[0], examples[1], negatives, mask, 0.05, opt)
    l_fast = fast.training_step(examples[0], examples[1], negatives, mask, 0.05)
    assert math.isclose(l_slow, l_fast, rel_tol=1e-5)
    for name in ("in_embed.weight", "out_embed.weight"):
        np.testing.assert_allclose(
            fast.state_dict()[name].numpy(), slow.state_dict()[name].numpy(), rtol=1e-5, atol=1e-7
        )


# ---------------------------------------------------------------- training
@needs_shakespeare
@pytest.mark.parametrize("sg", [1, 0])
def test_training_reduces_loss_on_shakespeare(sg):
    sentences = read_corpus(SHAKESPEARE, max_lines=4000)
    # CBOW makes one example per word (skip-gram ~2 b per word): word2vec.c's CBOW alpha 0.05
    model = Word2Vec(
        sentences,
        vector_size=32,
        min_count=3,
        sg=sg,
        epochs=3 if sg else 5,
        alpha=0.025 if sg else 0.05,
        seed=1,
        batch_words=2000,
    )
    first = np.mean(model.loss_history[:2])  # mean loss per example, chunks of 2000 words
    last = np.mean(model.loss_history[-3:])
    assert first > 4.0 and last < first - 0.5, (first, last)
    assert model.in_embed.weight.shape == (len(model.wv), 32)


def test_planted_pairs_are_nearest_neighbours():
    """Random sentences of 300 noise words; in each, one word of a planted pair (a_i or b_i)
    sits next to one of the pair's 4 private words c_i_*. a_i and b_i never meet but have
    the same neighbours, so each must be the other's nearest neighbour."""
    rng = np.random.default_rng(0)
    noise = [f"n{i}" for i in range(300)]
    pairs = [(f"a{i}", f"b{i}") for i in range(8)]
    private = [[f"c{i}_{j}" for j in range(4)] for i in range(8)]
    sentences = []
    for _ in range(3000):
        i = rng.integers(8)
        s = [str(w) for w in rng.choice(noise, 8)]
        k = rng.integers(0, 8)
        planted = [pairs[i][rng.integers(2)], private[i][rng.integers(4)]]
        s[k:k] = planted if rng.random() < 0.5 else planted[::-1]
        sentences.append(s)
    model = Word2Vec(sentences, vector_size=24, window=2, min_count=1, epochs=5, seed=1)
    for a, b in pairs:
        assert model.wv.most_similar(a, topn=1)[0][0] == b
        assert model.wv.most_similar(b, topn=1)[0][0] == a
    assert model.wv.similarity("a0", "b0") > model.wv.similarity("a0", "b1")


# ---------------------------------------------------------------- KeyedVectors
def _toy_kv():
    words = ["king", "queen", "man", "woman", "apple"]
    vecs = np.array([[1, 1, 0], [1, -1, 0], [0, 1, 0.1], [0, -1, 0.1], [0, 0, 1]], np.float32)
    return KeyedVectors(words, vecs)


def test_keyed_vectors_queries(tmp_path):
    kv = _toy_kv()
    assert "king" in kv and "prince" not in kv and len(kv) == 5
    assert kv.key_to_index["man"] == 2 and kv.index_to_key[4] == "apple"
    np.testing.assert_array_equal(kv["queen"], [1, -1, 0])
    assert math.isclose(kv.similarity("king", "queen"), 0.0, abs_tol=1e-7)
    # 3CosAdd: king - man + woman = queen; the input words are excluded
    assert kv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert "king" not in [w for w, _ in kv.most_similar("king")]
    assert kv.doesnt_match(["king", "man", "apple"]) == "apple"

    analogies = tmp_path / "questions.txt"
    analogies.write_text(
        ": royal\nman king woman queen\nman woman king queen\n"
        ": fruit\nking queen man apple\nking queen man pear\n"
    )
    score, sections = kv.evaluate_word_analogies(analogies)
    assert [s["section"] for s in sections] == ["royal", "fruit", "Total accuracy"]
    assert len(sections[0]["correct"]) == 2 and len(sections[1]["incorrect"]) == 1
    assert math.isclose(score, 2 / 3)

    pairs = tmp_path / "sim.txt"
    pairs.write_text(
        "# comment\nking\tqueen\t1\nman\twoman\t2\nking\tapple\t0\n"
        "queen\tapple\t0.5\nking\tpear\t3\n"
    )
    (pearson, _), (spearman, _), oov = kv.evaluate_word_pairs(pairs)
    sims = [
        kv.similarity(*p)
        for p in [("king", "queen"), ("man", "woman"), ("king", "apple"), ("queen", "apple")]
    ]
    assert math.isclose(pearson, np.corrcoef(sims, [1, 2, 0, 0.5])[0, 1], rel_tol=1e-9)
    assert -1 <= spearman <= 1 and oov == 20.0


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_round_trip(tmp_path, binary):
    rng = np.random.default_rng(0)
    kv = KeyedVectors(["the", "king's", "été"], rng.normal(size=(3, 7)).astype(np.float32))
    path = tmp_path / ("v.bin" if binary else "v.txt")
    kv.save_word2vec_format(path, binary=binary)
    assert path.read_bytes().startswith(b"3 7\n")
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(back.vectors, kv.vectors)  # exact: str(float32) round-trips
    gensim = pytest.importorskip("gensim")
    g = gensim.models.KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert g.index_to_key == kv.index_to_key
    np.testing.assert_array_equal(g.vectors, kv.vectors)
    gpath = tmp_path / ("g.bin" if binary else "g.txt")
    g.save_word2vec_format(str(gpath), binary=binary)
    np.testing.assert_array_equal(
        KeyedVectors.load_word2vec_format(gpath, binary).vectors, kv.vectors
    )


def test_state_dict_save_load(tmp_path):
    model = Word2Vec(_zipf_corpus(), vector_size=8, min_count=1, epochs=1)
    chainrule.save(model.state_dict(), tmp_path / "w2v.safetensors")
    other = Word2Vec(vector_size=8, min_count=1)
    other.build_vocab(_zipf_corpus())
    other.load_state_dict(chainrule.load(tmp_path / "w2v.safetensors"))
    np.testing.assert_array_equal(other.wv.vectors, model.wv.vectors)
    assert other.wv.most_similar("w0", topn=3) == model.wv.most_similar("w0", topn=3)


# ---------------------------------------------------------------- quality vs gensim
@needs_shakespeare
def test_quality_at_least_90_percent_of_gensim(tmp_path):
    """Same corpus and hyperparameters; both scored by the same evaluator on a
    corpus-derived PMI similarity set (see corpus_similarity_pairs)."""
    gensim = pytest.importorskip("gensim")
    sentences = read_corpus(SHAKESPEARE, max_lines=20000)
    params = dict(
        vector_size=50,
        window=5,
        min_count=5,
        sg=1,
        negative=5,
        sample=1e-3,
        epochs=10,
        alpha=0.025,
        min_alpha=0.0001,
        seed=1,
    )
    pairs = corpus_similarity_pairs(sentences, window=5, min_count=10, seed=0)
    assert len(pairs) > 300
    pair_file = write_word_pairs(pairs, tmp_path / "pmi_pairs.txt")
    ours = Word2Vec(sentences, **params)
    theirs = gensim.models.Word2Vec(sentences, workers=1, **params)
    ours_rho = ours.wv.evaluate_word_pairs(pair_file)[1][0]
    theirs_kv = KeyedVectors(theirs.wv.index_to_key, theirs.wv.vectors)
    theirs_rho = theirs_kv.evaluate_word_pairs(pair_file)[1][0]
    # our evaluator agrees with gensim's own on gensim's vectors
    assert math.isclose(
        theirs.wv.evaluate_word_pairs(str(pair_file))[1][0], theirs_rho, abs_tol=1e-6
    )
    assert theirs_rho > 0.3, theirs_rho  # gensim learned something: the comparison means a lot
    assert ours_rho >= 0.9 * theirs_rho, (ours_rho, theirs_rho)


def test_rank_correlation_helper_matches_definition():
    a = np.array([1.0, 2.0, 2.0, 5.0, 3.0])
    b = np.array([2.0, 1.0, 4.0, 4.0, 9.0])
    rho, _ = _spearman(a, b)
    ra, rb = np.array([1, 2.5, 2.5, 5, 4]), np.array([2, 1, 3.5, 3.5, 5])
    assert math.isclose(rho, np.corrcoef(ra, rb)[0, 1], rel_tol=1e-12)


@needs_shakespeare
def test_demo_fast_holds_and_saves_plot(tmp_path):
    from chainrule.edu.demos.word2vec import run as run_demo

    evidence = run_demo(fast=True, out_dir=tmp_path, path=SHAKESPEARE)
    assert evidence.claim_holds, evidence.numbers
    assert evidence.figures and evidence.figures[0].exists()
