"""Recall and false-positive rate of the FOLL_GET checker, per rule, over the labelled corpus.

    python benchmarks/spec_accuracy.py [CORPUS_DIR]

Recall = ruleid lines flagged / ruleid lines; false positives = findings on no ruleid line of
their rule / all findings of the rule. Targets: recall >= 95%, false positives <= 5%.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from reviewtool.analyses.spec import RULE_NAMES
from reviewtool.analyses.spec.accuracy import mutation_score, score_corpus

DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "spec"
RECALL_TARGET = 0.95
FP_TARGET = 0.05


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else DEFAULT_CORPUS
    started = time.perf_counter()
    score = score_corpus(corpus)
    elapsed = time.perf_counter() - started
    print(f"corpus: {corpus} ({len(list(corpus.rglob('*.c')))} files)")
    header = ("expected", "found", "missed", "false+", "recall", "FP rate")
    print(
        f"{'rule':28} "
        + " ".join(
            f"{h:>8}" if i == 0 else f"{h:>6}" if i < 4 else f"{h:>7}" for i, h in enumerate(header)
        )
    )
    for rule in RULE_NAMES:
        tp, fn, fp = score.tp[rule], score.fn[rule], score.fp[rule]
        print(
            f"{rule:28} {tp + fn:8} {tp:6} {fn:6} {fp:6} "
            f"{score.recall(rule):7.1%} {score.fp_rate(rule):7.1%}"
        )
    total_tp, total_fn = sum(score.tp.values()), sum(score.fn.values())
    total_fp = sum(score.fp.values())
    print(
        f"{'all rules':28} {total_tp + total_fn:8} {total_tp:6} {total_fn:6} {total_fp:6} "
        f"{score.recall():7.1%} {score.fp_rate():7.1%}"
    )
    print(f"ok-annotated look-alikes left alone: {sum(score.tn.values())}")
    print(f"time: {elapsed:.2f}s")
    for line in score.misses + score.false_positives:
        print(f"  {line}")
    mutants = mutation_score(corpus)
    print("machine-made mutants of every release in the corpus (killed = a new finding):")
    for operator, made in sorted(mutants.made.items()):
        print(f"  {operator:24} {mutants.killed[operator]:3}/{made:<3} killed")
    for line in mutants.survivors:
        print(f"    survived {line}")
    met = score.recall() >= RECALL_TARGET and score.fp_rate() <= FP_TARGET
    verdict = "met" if met else "NOT met"
    print(f"targets (recall >= {RECALL_TARGET:.0%}, FP <= {FP_TARGET:.0%}): {verdict}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
