"""The book's kit: what turns the chapters into an executed, rendered and regression-tested book.

The science (``symdp`` outside this folder) never imports it; it imports the science and
:mod:`symdp.runs`.

:mod:`~symdp.book.contract`
    The chapter contract, written once: a chapter's declaration (``Chapter``: its name,
    parameter profiles and sweeps), read by the chapter and by the build alike (``read``), and
    the ``PARAMS="N=256 nu=1.2"`` syntax of ``make chapter`` both ways.
:mod:`~symdp.book.chapter`
    What a chapter calls: ``setup`` (parameters, seeds, style), ``cfg.results`` (a declared
    sweep's results), ``glue``, computed words (``compare``, ``claim``), tables and figures shown
    with names.
:mod:`~symdp.book.figures`
    Every figure of the book: functions from results to a matplotlib figure, in chapter order.
:mod:`~symdp.book.tables`
    Tables the chapters show that are not a study's result (ours beside the deck's, solver
    settings).
:mod:`~symdp.book.build`
    Executes the chapters with papermill (their declared sweeps first) and renders them with
    Jupyter Book.
:mod:`~symdp.book.statistics`
    The generated "Execution statistics" page, and the environment each execution records.
:mod:`~symdp.book.references`
    The notebook regression: executions against ``tests/notebooks/`` within derived tolerances.
"""
