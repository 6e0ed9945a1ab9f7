"""Fixtures shared by the tests of the registry, its tasks and the command line."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def figure3_ci(tmp_path_factory):
    """Figure 3's ci grid (4 tiny solves), run once into a fresh store: (store, results)."""
    from symdp.runs import experiments

    store = tmp_path_factory.mktemp("store")
    return store, experiments.results("figure3", "ci", store=store, scheduler="serial",
                                      progress=False)
