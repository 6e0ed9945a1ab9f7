"""The deck's published numbers: its Tables 1 to 3 and the figures its text quotes, as printed.

Data from the paper, not results of this package: the runs (:mod:`symdp.runs`) and the book show
them beside ours, and tests check that our networks have the deck's coefficient counts. Each
table maps ``(group, row)``, the deck's row names in its order, to a tuple of values in the
order of its ``*_COLUMNS``; NaN where the deck shows "-".

Kept out of the code that computes anything, so that correcting a transcribed value never
changes a stored run's key.
"""

from __future__ import annotations

__all__ = ["BASELINE_THOUSANDS", "DECK_TABLE1", "TABLE1_COLUMNS", "TABLE2_COLUMNS",
           "DECK_TABLE2", "TABLE3_COLUMNS", "DECK_TABLE3", "SPARSE_GRID_ERROR"]

_NAN = float("nan")

#: The coefficient counts of the three baselines, in thousands, as the deck's text gives them
#: (phi(Identity), phi(Moments), phi(ReLU)).
BASELINE_THOUSANDS = {"identity": 49.4, "moments": 49.8, "relu": 66.8}

#: The columns of the deck's Table 1 (appendix, the regression example): the latent dimension L
#: of the deep set, and "NONE", the network without symmetry.
TABLE1_COLUMNS = (1, 2, 3, 4, 5, 20, "NONE")

#: The deck's Table 1: mean relative test error in percent, by N (rows) and the columns
#: :data:`TABLE1_COLUMNS`.
DECK_TABLE1 = {
    2: (1.85, 1.19, 1.91, 1.27, 1.7, 1.75, 1.36),
    4: (1.04, 1.7, 1.76, 0.76, 0.97, 0.83, 1.65),
    8: (0.57, 0.57, 0.71, 0.64, 0.6, 0.56, 3.68),
    16: (0.5, 0.49, 0.51, 0.45, 0.42, 0.48, 4.91),
    32: (0.32, 0.35, 0.32, 0.28, 0.37, 0.51, 5.69),
    64: (0.32, 0.27, 0.27, 0.33, 0.28, 0.29, 5.77),
    128: (0.32, 0.22, 0.24, 0.28, 0.23, 0.22, 5.77),
}

#: The policy error of the deck's three-point fit in R^512: "approximately 0.06% relative error
#: of u(X)" (a fraction).
SPARSE_GRID_ERROR = 0.0006

#: What each value of :data:`DECK_TABLE2` is: success in percent of the runs, coefficients in
#: thousands, fit time in seconds, Euler MSEs, and the policy error as a fraction.
TABLE2_COLUMNS = ("Success (%)", "Parameters (K)", "Time (s)", "Train MSE", "Val MSE",
                  "Test MSE", "Policy error")

#: The deck's Table 2: the linear model (nu = 1, N = 128).
DECK_TABLE2 = {
    ("Identity", "Baseline"): (48, 49.4, 28, 6.7e-07, 4.9e-07, 5.0e-07, 0.0010),
    ("Moments", "Baseline: Moments (1,2,3,4)"): (59, 50.3, 36, 9.0e-07, 8.7e-07, 1.2e-06, 0.0013),
    ("Moments", "Moments (1,2)"): (54, 50.0, 33, 1.0e-06, 8.7e-07, 1.0e-06, 0.0012),
    ("Moments", "Very Shallow (1 layer)"): (0, 0.8, _NAN, _NAN, _NAN, _NAN, _NAN),
    ("Deep Sets", "Baseline: L = 4"): (97, 199.6, 17, 1.3e-06, 3.6e-07, 3.6e-07, 0.0009),
    ("Deep Sets", "L = 2"): (93, 201.1, 17, 1.3e-06, 4.0e-07, 4.3e-07, 0.0009),
    ("Deep Sets", "L = 16"): (93, 204.2, 14, 1.5e-06, 3.5e-07, 3.5e-07, 0.0010),
    ("Deep Sets", "Deep (phi: 2 layers, rho: 4 layers)"):
        (100, 215.9, 25, 2.0e-06, 3.8e-07, 3.7e-07, 0.0010),
    ("Deep Sets", "Shallow (phi: 1 layer, rho: 2 layers)"):
        (1, 68.0, 16, 1.6e-07, 3.3e-07, 3.5e-07, 0.0010),
}

#: What each value of :data:`DECK_TABLE3` is: fit time in seconds, coefficients in thousands,
#: Euler MSEs.
TABLE3_COLUMNS = ("Time (s)", "Parameters (K)", "Train MSE", "Val MSE", "Test MSE")

#: The deck's Table 3: the nonlinear model (nu = 1.5, N = 128).
DECK_TABLE3 = {
    ("phi(Moments)", "Baseline"): (26, 49.8, 6.0e-06, 3.8e-06, 5.0e-06),
    ("phi(Moments)", "Moments (1,2)"): (27, 49.5, 8.0e-06, 3.6e-06, 5.1e-06),
    ("phi(Moments)", "Very Shallow (1 layer)"): (252, 0.6, 8.3e-06, 5.0e-06, 1.4e+00),
    ("phi(Moments)", "Thin (32 nodes)"): (66, 3.2, 1.1e-05, 4.4e-06, 9.7e-06),
    ("phi(ReLU)", "Baseline"): (60, 67.1, 1.4e-05, 3.3e-06, 4.7e-06),
    ("phi(ReLU)", "L = 8"): (73, 68.1, 1.1e-05, 2.0e-06, 4.9e-06),
    ("phi(ReLU)", "L = 16"): (72, 70.2, 1.5e-05, 1.7e-06, 5.4e-06),
    ("phi(ReLU)", "Very Shallow (phi, rho: 1 layer)"): (136, 1.4, 8.9e-06, 4.9e-06, 4.8e+06),
    ("phi(ReLU)", "Shallow (phi, rho: 2 layers)"): (47, 34.3, 1.0e-05, 2.8e-06, 9.2e-06),
    ("phi(ReLU)", "Thin (phi, rho: 32 nodes)"): (52, 4.5, 1.3e-05, 2.7e-06, 6.0e-06),
}
