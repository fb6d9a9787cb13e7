"""benchmarks/stream_stages.py times the live pipeline's stages and leaves it as it found it."""

import re

from ae_anomaly.tables import scoring
from ae_anomaly.tables.reader import TableReader
from ae_anomaly.tables.writer import TableWriter
from benchmarks.stream_stages import main
from tests.cli_checks import ROWS, train_model


def test_stream_stages_reports_every_stage_and_restores_them(tmp_path, capsys):
    model = train_model(tmp_path)
    (tmp_path / "new.csv").write_text("id,amount,age,score\n" + ROWS * 50)
    originals = [TableReader._parse_piece, scoring.score_encoded, TableWriter.write]

    assert main([str(model), str(tmp_path / "new.csv")]) == 0

    assert [TableReader._parse_piece, scoring.score_encoded, TableWriter.write] == originals
    lines = capsys.readouterr().out.splitlines()
    assert re.match(r"3,000 rows \(.*\): stream [\d.]+ s, [\d.]+ CPU-s$", lines[0]), lines[0]
    pattern = r"  (\w+) +[\d.]+ CPU-s +[\d.]+ s over (\d+) calls$"
    stages = [re.match(pattern, line).groups() for line in lines[1:]]
    assert [name for name, _ in stages] == ["_parse_piece", "score_encoded", "write"], lines
    assert all(int(calls) > 0 for _, calls in stages), lines  # each stage ran, and was counted
