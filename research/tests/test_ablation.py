"""``research/ablation.py``: the ablation's table, resumed from the variants' files."""

import json

import ablation


def test_ablation_script_tabulates_variants_and_resumes_from_its_files(tmp_path, capsys):
    # the variants' files exist already (an interrupted run): they are read, not rerun;
    # the baselines are run (the ridge only, in seconds)

    def fake(mse_by_seed):
        runs = [
            {"model": "xlstm", "horizon": h, "seed": s, "mse": m + h / 100, "fit_seconds": 10.0}
            for s, m in mse_by_seed.items()
            for h in (6, 11)
        ]
        return {"runs": runs}

    (tmp_path / "default.json").write_text(json.dumps(fake({0: 1.0, 1: 1.2})))
    (tmp_path / "ridge_only.json").write_text(json.dumps(fake({0: 2.0, 1: 2.0})))
    argv = ["--dataset", "sunspots", "--horizons", "6", "11", "--seeds", "0", "1",
            "--variants", "default", "ridge_only", "--baselines", "ridge",
            "--out", str(tmp_path)]  # fmt: skip
    assert ablation.main(argv) == 0
    out = capsys.readouterr().out
    assert "| default | 1.160±0.141 | 1.210±0.141 | 1.185±0.141 | 10 |" in out
    assert "| ridge_only | 2.060±0.000 | 2.110±0.000 | 2.085±0.000 | 10 |" in out
    baseline = json.loads((tmp_path / "baselines.json").read_text())
    row = [line for line in out.splitlines() if line.startswith("| ridge (baseline) |")][0]
    assert row.split(" | ")[1] == f"{baseline['runs'][0]['mse']:.3f}"
