"""A column fitted from percentages (``5.4%`` read as 0.054) given other writings later.

Numbers (a float column, a Parquet file's) were read as they are: 5.4 was 100 times the
fitted 0.054 and every row was flagged, silently. They are refused now, naming the column,
the row and both readings. And a model fitted with ``thousands=","`` refused the text
``5.4`` advising ``thousands=' '`` rather than naming the missing ``%``.
"""

import numpy as np
import pandas as pd
import pytest

from ae_anomaly import Autoencoder, make_table_pipeline
from ae_anomaly.tables.encoder import TableEncoder
from ae_anomaly.tables.formats import DataError
from tests.cli_checks import FAST, assert_error, run

RATES = np.round(np.random.default_rng(0).uniform(3, 8, 60), 1)
TABLE = pd.DataFrame({"rate": [f"{v}%" for v in RATES],
                      "amount": [f"{1000 + 10 * i:,}" for i in range(60)]})  # fmt: skip


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_numbers_for_a_percent_column_are_refused_with_both_readings(scale):
    pipeline = make_table_pipeline(Autoencoder(max_iter=2, random_state=0), thousands=",")
    pipeline.fit(TABLE)
    typed = TABLE.assign(rate=RATES * scale)
    first = f"{RATES[0] * scale:g}"  # the cell itself may print more digits
    with pytest.raises(DataError, match=rf"column 'rate' was fitted from percentages.* row 0: "
                                        rf"\S+ may mean {first}% or"):  # fmt: skip
        pipeline.predict(typed)
    assert np.isfinite(pipeline.score_samples(TABLE)).all()  # as fitted: still read


def test_a_percent_column_of_missing_numbers_is_not_refused():
    encoder = TableEncoder(thousands=",", impute="median").fit(TABLE)
    encoded = encoder.transform(TABLE.assign(rate=np.full(60, np.nan)))
    assert np.isfinite(np.asarray(encoded, dtype=float)).all()


def test_text_without_percent_signs_is_advised_as_such_whatever_the_marks():
    encoder = TableEncoder(thousands=",").fit(TABLE)
    with pytest.raises(DataError) as info:
        encoder.transform(TABLE.assign(rate=[str(v) for v in RATES]))
    assert "the fitted column's were percentages" in str(info.value)
    assert "thousands" not in str(info.value)


def test_the_cli_refuses_a_parquet_of_numbers_for_a_model_fitted_on_percentages(tmp_path):
    TABLE.to_csv(tmp_path / "train.csv", index=False)
    fitted = run("fit", tmp_path / "train.csv", "-o", tmp_path / "m.skops", "--thousands", ",",
                 *FAST)  # fmt: skip
    assert fitted.exit_code == 0, fitted.output
    TABLE.assign(rate=RATES, amount=[1000.0 + 10 * i for i in range(60)]).to_parquet(
        tmp_path / "new.parquet"
    )
    result = run("score", tmp_path / "m.skops", tmp_path / "new.parquet", "-o", tmp_path / "s.csv")
    assert_error(result, 1, "column 'rate' was fitted from percentages", "% or")
