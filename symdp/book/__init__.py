"""The book's kit: what turns the chapters into an executed, rendered and regression-tested book.

The science (``symdp`` outside this folder) never imports it.

:mod:`~symdp.book.chapter`
    What a chapter calls: ``setup`` (parameters, seeds, style), ``glue``, computed words
    (``compare``, ``claim``), tables and figures shown with names.
:mod:`~symdp.book.figures`
    Every figure of the book: functions from results to a matplotlib figure, in chapter order.
:mod:`~symdp.book.build`
    Executes the chapters with papermill (sweeps first) and renders them with Jupyter Book.
:mod:`~symdp.book.references`
    The notebook regression: executions against ``tests/notebooks/`` within derived tolerances.
"""
