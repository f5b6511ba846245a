"""pandana, the benchmark peer of the station locator: its network from an Area's arrays."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


def pandana_network(arrays: Any) -> Any:
    """A ``pandana.Network`` (contraction hierarchy) of a graph's nodes and travel times.

    Same nodes (projected x/y) and directed edges (``travel_time``, the collapsed CSR) as
    warmheart searches. Raises ``ImportError`` without pandana (``pip install -e '.[bench]'``).
    """
    import pandana
    import pandas as pd

    coo = arrays.time.tocoo()
    idx = pd.Index(np.arange(arrays.n), name="id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pandana.Network(
            pd.Series(arrays.x, index=idx),
            pd.Series(arrays.y, index=idx),
            pd.Series(coo.row),
            pd.Series(coo.col),
            pd.DataFrame({"travel_time": coo.data}),
            twoway=False,
        )
