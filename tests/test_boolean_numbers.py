"""A boolean column scored as the 0/1 numbers pandas makes of it (``astype(int)``).

A column of Python objects 0/1 was read as false/true, but the same numbers as an integer
or float column were refused ("0 is not true/false and 299 more"). Numbers other than 0
and 1 are still refused, naming the row.
"""

import numpy as np
import pandas as pd
import pytest

from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.formats import DataError

FLAGS = np.random.default_rng(0).random(40) > 0.5
FRAME = pd.DataFrame({"flag": FLAGS, "amount": np.arange(40.0)})


@pytest.mark.parametrize("dtype", ["int64", "float64", "Int64", "uint8", "object"])
def test_zeros_and_ones_encode_as_the_booleans_they_were(dtype):
    encoder = TableEncoder().fit(FRAME)
    expected = np.asarray(encoder.transform(FRAME), dtype=float)
    numbers = FRAME.assign(flag=FRAME["flag"].astype(int).astype(dtype))
    np.testing.assert_array_equal(np.asarray(encoder.transform(numbers), dtype=float), expected)


def test_a_missing_number_is_missing_and_another_number_is_refused():
    encoder = TableEncoder(impute="most_frequent").fit(FRAME)
    with_missing = FRAME.assign(flag=pd.array([None, *FLAGS[1:].astype(int)], dtype="Int64"))
    assert np.isfinite(np.asarray(encoder.transform(with_missing), dtype=float)).all()
    with pytest.raises(DataError, match=r"column 'flag' is boolean but row 3: 2(\.0)? is not"):
        encoder.transform(FRAME.assign(flag=[*FLAGS[:3].astype(float), 2.0, *FLAGS[4:]]))
