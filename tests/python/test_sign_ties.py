"""tools/sign_ties.py's per-sample judgement, on made-up outputs (the probe of Sign
inputs in ONNX files is tested through test_convert_field, test_benchmarks and
test_reactnet)."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tools.sign_ties import OutputMismatch, compare, worst_of  # noqa: E402


def outputs(n=8):
    want = np.random.default_rng(0).standard_normal((n, 10)).astype(np.float32)
    return want.copy(), want


def test_a_nan_differs():
    got, want = outputs()
    got[2, want[2].argmax()] = np.nan             # numpy's argmax takes the NaN: the same top-1
    agreement = compare(got, want, np.zeros(8, bool))
    assert agreement.differ.tolist() == [i == 2 for i in range(8)]
    with pytest.raises(OutputMismatch, match=r"differs in samples \[2\]"):
        agreement.check("nan")


def test_top1_is_compared_at_every_position_of_a_feature_map():
    want = np.zeros((2, 3, 2, 2), np.float32)
    want[:, 0] = 1.0
    got = want.copy()
    got[1, 2, 1, 1] = 1.00001                     # within the tolerance, but another class there
    assert compare(got, want, np.zeros(2, bool)).differ.tolist() == [False, True]


def test_ties_are_left_out_of_the_figures_and_limited_in_number():
    got, want = outputs()
    got[[1, 6]] = -want[[1, 6]]                   # two samples far off, both at ties
    ties = np.array([False, True, False, False, True, False, True, False])
    agreement = compare(got, want, ties)
    assert agreement.summary() == {"samples": 8, "sign_ties": 3, "differ_at_tie": 2, "compared": 6,
                                   "top1_identical": 6, "median_relative_l2": 0.0, "max_relative_l2": 0.0,
                                   "real_mismatches": 0}
    agreement.check("two of eight")               # a quarter may
    with pytest.raises(OutputMismatch, match=r"2 of 8 samples differ at sign ties \(at most 1 may\)"):
        agreement.check("two of eight", max_tie_share=0.2)


def test_worst_of_several_comparisons():
    got, want = outputs()
    other = got.copy()
    other[5] += 1.0
    ties = np.zeros(8, bool)
    ties[5] = True
    worst = worst_of([compare(got, want, ties), compare(other, want, ties)])
    assert worst.at_tie.tolist() == [i == 5 for i in range(8)] and worst.max_abs[5] == pytest.approx(1.0)
