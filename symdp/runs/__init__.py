"""Many runs at once: the sweep engine, the worker tasks and the registry of named experiments.

:mod:`symdp.runs.sweep`
    The generic engine: run configurations, their keys, the resumable result store, Dask.
:mod:`symdp.runs.experiments`
    The deck's experiments (Tables 1-3, Figure 3, the implicit-bias study) as named grids of runs
    with ``paper`` and ``ci`` profiles, and :func:`~symdp.runs.experiments.results`, what a
    chapter calls.
"""
