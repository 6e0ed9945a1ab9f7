"""Many runs at once: the deck's experiments as sweeps of independent runs, stored run by run.

:mod:`symdp.runs.experiments`
    The registry: each experiment of the deck (Tables 1-3, Figure 3, the implicit-bias study) as
    a named grid of runs with ``paper`` and ``ci`` profiles, the code version that keys the
    store, what a run's ``success`` means, and what chapters call
    (:func:`~symdp.runs.experiments.results`, :func:`~symdp.runs.experiments.layout`).
:mod:`symdp.runs.tasks`
    The worker tasks: what one run executes (a solve, a regression cell), on one torch thread.
:mod:`symdp.runs.layouts`
    The deck's table layouts: an experiment's runs aggregated as the deck prints them.
:mod:`symdp.runs.sweep`
    The generic engine: run configurations, their keys, the resumable result store, Dask. It is
    given the code version and knows nothing of this package.

The deck's published numbers shown beside ours are in :mod:`symdp.deck`; the command line
(``symdp sweep``) in :mod:`symdp.cli`.
"""
