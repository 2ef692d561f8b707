"""The ``chainrule`` command.

    chainrule train [RECIPE] [--epochs N] [--batch-size B] [--lr LR] [--seed S]
                    [--device cpu|cuda] [--data-dir DIR] [--out DIR] [--resume CKPT] [--fast]
    chainrule recipes                      list the recipes and what they should reach
    chainrule evaluate CHECKPOINT          test metrics of a trained model
    chainrule predict CHECKPOINT INPUT     classes of the inputs in a .npy file
    chainrule sample CHECKPOINT --prompt "ROMEO:" [--length N] [--temperature T]
    chainrule demo [NAME] [--fast] [--out DIR]
    chainrule info                         versions and devices

Datasets are read from ``--data-dir``, by default ``$CHAINRULE_DATA`` or
``~/.cache/chainrule/data``. The Digits set is bundled, so ``chainrule train`` works offline
with nothing to download. A missing file gives a message saying where to put it (exit
code 2).
"""

from __future__ import annotations

import argparse
import os
import sys

EXIT_USAGE = 2


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder with the datasets (default: $CHAINRULE_DATA or ~/.cache/chainrule/data)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: a deep-learning framework built from the chain rule up.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="versions, devices and the BLAS NumPy uses")

    train = sub.add_parser("train", help="train a recipe (default: digits-cnn)")
    train.add_argument("recipe", nargs="?", default=None, help="recipe name (chainrule recipes)")
    train.add_argument("--epochs", type=int, default=None)
    train.add_argument("--batch-size", type=int, default=None)
    train.add_argument("--lr", type=float, default=None)
    train.add_argument("--seed", type=int, default=None)
    train.add_argument("--device", default="cpu", help="cpu or cuda")
    _add_data_dir(train)
    train.add_argument("--out", default=None, help="run folder (default runs/<recipe>-<time>)")
    train.add_argument("--resume", default=None, help="continue from this checkpoint")
    train.add_argument("--fast", action="store_true", help="tiny subset, 1 epoch (for tests)")
    train.add_argument(
        "--threads", type=int, default=None, help="BLAS threads (needs threadpoolctl)"
    )
    train.add_argument("--quiet", action="store_true", help="no model summary or progress")

    sub.add_parser("recipes", help="list the recipes")

    ev = sub.add_parser("evaluate", help="test metrics of a checkpoint")
    ev.add_argument("checkpoint")
    ev.add_argument("--device", default="cpu")
    _add_data_dir(ev)

    pr = sub.add_parser("predict", help="predicted classes for the inputs in a .npy file")
    pr.add_argument("checkpoint")
    pr.add_argument("input", help=".npy file: one input (e.g. 8x8) or a batch (N, ...)")

    sa = sub.add_parser("sample", help="generate text from a character model")
    sa.add_argument("checkpoint")
    sa.add_argument("--prompt", default="\n")
    sa.add_argument("--length", type=int, default=500)
    sa.add_argument("--temperature", type=float, default=0.8)
    sa.add_argument("--seed", type=int, default=0)

    demo = sub.add_parser("demo", help="list the course demos, or run one")
    demo.add_argument("name", nargs="?", default=None)
    demo.add_argument("--fast", action="store_true")
    demo.add_argument("--out", default=None, help="folder for the demo's pictures")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from chainrule import __version__

        print(f"chainrule {__version__}")
        return 0
    commands = {
        "info": _info,
        "train": _train,
        "recipes": _recipes,
        "evaluate": _evaluate,
        "predict": _predict,
        "sample": _sample,
        "demo": _demo,
    }
    if args.command not in commands:
        parser.print_help()
        return 0
    try:
        return commands[args.command](args)
    except FileNotFoundError as e:  # a dataset or checkpoint that is not there
        print(f"chainrule {args.command}: {e.args[-1] if e.args else e}", file=sys.stderr)
        if getattr(args, "data_dir", "unset") != "unset":
            print(
                "(point --data-dir at the folder that holds the datasets, or set "
                "CHAINRULE_DATA; the default is ~/.cache/chainrule/data)",
                file=sys.stderr,
            )
        return EXIT_USAGE
    except KeyError as e:  # an unknown recipe name
        print(f"chainrule {args.command}: {e.args[0] if e.args else e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


# ---------------------------------------------------------------- commands
def _info(args) -> int:
    import numpy as np

    import chainrule

    print(
        f"chainrule {chainrule.__version__}, numpy {np.__version__}, "
        f"python {sys.version.split()[0]}"
    )
    print(f"cuda available: {chainrule.is_cuda_available()}")
    from chainrule.recipes import default_data_dir

    print(f"data dir: {default_data_dir()} (set CHAINRULE_DATA or pass --data-dir)")
    return 0


def _recipes(args) -> int:
    from chainrule import recipes

    rows = []
    notes = []
    for r in recipes.REGISTRY.values():
        note = r.available()
        if note:
            notes.append(f"{r.name}: skipped ({note})")
            continue
        default = " (default)" if r.name == recipes.DEFAULT else ""
        rows.append((r.name + default, r.dataset, r.model, r.target))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    header = ("recipe", "dataset", "model", "expected")
    widths = [max(w, len(h)) for w, h in zip(widths, header)]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row[:3], widths)) + "  " + row[3])
    for n in notes:
        print(n)
    print(f"\ndata dir: --data-dir, default {recipes.default_data_dir()}")
    return 0


def _set_threads(n: int | None) -> None:
    if n is None:
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("--threads needs threadpoolctl (pip install threadpoolctl)", file=sys.stderr)
        return
    threadpool_limits(n)


def _train(args) -> int:
    from chainrule import recipes
    from chainrule.recipes import runner

    _set_threads(args.threads)
    if args.resume:
        state = runner.load_checkpoint(args.resume)
        name = args.recipe or state["recipe"]
        if name != state["recipe"]:
            print(
                f"chainrule train: {args.resume} is a {state['recipe']!r} checkpoint, not {name!r}",
                file=sys.stderr,
            )
            return EXIT_USAGE
        recipe = recipes.get(name)
        cfg = dict(state["config"])
        for key in ("epochs", "batch_size", "lr"):
            if getattr(args, key) is not None:
                cfg[key] = getattr(args, key)
    else:
        recipe = recipes.get(args.recipe or recipes.DEFAULT)
        cfg = recipe.resolved_config(
            fast=args.fast,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=args.seed,
        )
    note = recipe.available()
    if note:
        print(f"chainrule train: {recipe.name} is not available: {note}", file=sys.stderr)
        return EXIT_USAGE
    metrics = runner.train(
        recipe,
        cfg,
        data_dir=args.data_dir,
        out_dir=args.out,
        resume=args.resume,
        device=args.device,
        verbose=0 if args.quiet else 1,
    )
    _print_final(recipe, metrics)
    return 0


def _print_final(recipe, metrics: dict) -> None:
    parts = []
    for key in ("test_accuracy", "test_loss", "val_loss", "val_bits_per_char", "pmi_spearman"):
        value = metrics.get(key)
        if isinstance(value, float):
            shown = f"{100 * value:.2f}%" if key.endswith("accuracy") else f"{value:.4f}"
            parts.append(f"{key.replace('_', ' ')} {shown}")
    seconds = metrics.get("train_seconds", metrics.get("total_seconds"))
    if seconds is not None:
        parts.append(f"trained in {seconds:.1f}s")
    print(f"\n{recipe.name}: " + ", ".join(parts) + f"   (expected: {recipe.target})")
    if metrics.get("out_dir"):
        print(f"saved checkpoint, metrics.json, history.csv, curves.png in {metrics['out_dir']}")


def _evaluate(args) -> int:
    from chainrule import recipes
    from chainrule.recipes import runner

    state = runner.load_checkpoint(args.checkpoint)
    recipe = recipes.get(state["recipe"])
    results = runner.evaluate(recipe, state, args.data_dir, args.device)
    print(f"{recipe.name} ({args.checkpoint}):")
    for key, value in results.items():
        shown = f"{100 * value:.2f}%" if key.endswith("accuracy") else f"{value:.4f}"
        print(f"  {key.replace('_', ' ')}: {shown}")
    return 0


def _predict(args) -> int:
    import numpy as np

    import chainrule
    from chainrule import recipes
    from chainrule.recipes import runner

    state = runner.load_checkpoint(args.checkpoint)
    recipe = recipes.get(state["recipe"])
    if recipe.task != "classify":
        print(f"chainrule predict: {recipe.name} is not a classifier", file=sys.stderr)
        return EXIT_USAGE
    if not os.path.isfile(args.input):
        raise FileNotFoundError(f"no input file {args.input!r} (a .npy array of inputs)")
    x = np.load(args.input, allow_pickle=False)
    cfg = state["config"]
    if np.issubdtype(x.dtype, np.integer) and "pixel_max" in cfg:
        x = x.astype(np.float32) / np.float32(cfg["pixel_max"])  # raw pixels, as in the files
    x = x.astype(np.float32)
    model = runner.model_from_checkpoint(state, recipe)
    sample_shape = tuple(cfg["input_size"])
    if x.size % int(np.prod(sample_shape)):
        print(
            f"chainrule predict: inputs of shape {x.shape} do not split into samples of "
            f"shape {sample_shape}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    x = x.reshape(-1, *sample_shape)
    with chainrule.no_grad():
        logits = model(chainrule.tensor(x)).numpy()
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for i, (c, pc) in enumerate(zip(p.argmax(axis=1), p.max(axis=1))):
        print(f"{i}\t{c}\t{pc:.3f}")
    return 0


def _sample(args) -> int:
    from chainrule import recipes
    from chainrule.recipes import runner

    state = runner.load_checkpoint(args.checkpoint)
    recipe = recipes.get(state["recipe"])
    cfg = state["config"]
    if recipe.task != "language-model" or "vocab" not in cfg:
        print(f"chainrule sample: {recipe.name} is not a character model", file=sys.stderr)
        return EXIT_USAGE
    stoi = {ch: i for i, ch in enumerate(cfg["vocab"])}
    unknown = sorted({ch for ch in args.prompt if ch not in stoi})
    if unknown or not args.prompt:
        print(
            f"chainrule sample: the prompt must be non-empty and use only the model's "
            f"characters (unknown: {unknown})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    model = runner.model_from_checkpoint(state, recipe)
    ids = runner.generate(
        model, [stoi[ch] for ch in args.prompt], args.length, args.temperature, args.seed
    )
    print(args.prompt + "".join(cfg["vocab"][i] for i in ids))
    return 0


def _demo(args) -> int:
    from chainrule.edu import demos

    if args.name is None:
        print("demos (chainrule demo NAME [--fast] [--out DIR]):")
        items = list(demos.list_demos())
        width = max(len(n) for n, _ in items)
        for name, description in items:
            print(f"  {name.ljust(width)}  {description}")
        return 0
    sys.exit(demos.run(args.name, args.fast, args.out))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
