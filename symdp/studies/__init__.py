"""The book's studies: what its chapters compute beyond one solve, grouped by what they compute.

:mod:`~symdp.studies.symmetry`
    Permutation and replication checks of a policy; how far test states lie from the grid.
:mod:`~symdp.studies.regression`
    The appendix regression example: a symmetric function learned by deep sets and by an MLP.
:mod:`~symdp.studies.concentration`
    The one-draw expectation: its error against N, the draw's own bias.
:mod:`~symdp.studies.baselines`
    The deck's three baseline networks fitted side by side, and the bands and lines their paths
    are read through.
:mod:`~symdp.studies.scaling`
    What one solver step costs as N grows.
:mod:`~symdp.studies.distribution`
    Whether a nonlinear policy uses the cross-sectional distribution beyond its mean.
:mod:`~symdp.studies.implicit_bias`
    Which root of the Euler equation a fit selects: time iteration, sparse grids.
:mod:`~symdp.studies.own_shock`
    What one draw of an agent's own shock costs when its policy uses its own state (the
    extensions of :mod:`symdp.models`).

Each imports the science (:mod:`symdp.solver` and below), never the book's kit.
"""
