"""Argument and environment checks of ``run`` happen before anything starts: no progress bar, no
folder, no catalogue; the CLI names the option at fault."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from coopsim import runner
from coopsim.runner.executors import ExecutorError

PY = sys.executable

SPEC = {
    "experiment": {"name": "c", "rounds": 20, "batch": 2, "record_every": 10, "seeds": 1},
    "function": {"name": "random_walk"},
}

ZIP_TOML = """
[experiment]
name = "z"
rounds = 20
batch = 2
record_every = 10
seeds = 1

[function]
name = "random_walk"

[zip]
"experiment.rounds" = [20, 40]
"function.drift" = [0.0, 0.5]
"""


def test_missing_ray_fails_before_the_progress_bar_and_the_folder(tmp_path, monkeypatch):
    import tqdm.auto

    made = []

    class Bar:
        def __init__(self, *a, **k):
            made.append(k)

    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    monkeypatch.setitem(sys.modules, "ray", None)  # ``import ray`` raises ImportError
    out = tmp_path / "o"
    with pytest.raises(ExecutorError, match="executor 'ray' needs Ray"):
        runner.run(SPEC, executor="ray", out=out, progress=True)
    assert made == [] and not out.exists()


def _cli_on_a_terminal(args: list[str], cwd: Path) -> tuple[int, str]:
    """``coopsim ARGS`` with ``import ray`` failing and stderr on a pseudo-terminal (a bar would draw)."""
    code = f"import sys; sys.modules['ray'] = None\nfrom coopsim.cli import main\nsys.exit(main({args!r}))\n"
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a bar would have room
    try:
        p = subprocess.run([PY, "-c", code], stderr=slave, stdout=subprocess.PIPE, cwd=cwd, timeout=120)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    return p.returncode, b"".join(chunks).decode(errors="replace")


def test_cli_missing_ray_on_a_terminal_draws_no_bar(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(ZIP_TOML.replace('"experiment.rounds" = [20, 40]\n', ""))
    code, err = _cli_on_a_terminal(["run", str(spec), "--executor", "ray", "--out", str(tmp_path / "o")], tmp_path)
    assert code == 2
    assert err.startswith("coopsim run: error: executor 'ray' needs Ray"), err  # nothing drawn before it
    assert not (tmp_path / "o").exists()


def test_out_below_a_file_names_the_option(tmp_path, capsys):
    from coopsim.cli import main

    (tmp_path / "f").write_text("x")
    spec = tmp_path / "s.toml"
    spec.write_text(ZIP_TOML.replace('"experiment.rounds" = [20, 40]\n', ""))
    assert main(["run", str(spec), "--out", str(tmp_path / "f" / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--out: expected a results folder" in err and "lies below the file" in err
    assert main(["run", str(spec), "--out", str(tmp_path / "f"), "--no-progress"]) == 2
    assert "--out: expected a results folder" in capsys.readouterr().err
    # Python callers get the parameter's name
    with pytest.raises(ValueError, match="out: expected a results folder"):
        runner.run(SPEC, executor="serial", out=tmp_path / "f" / "o", progress=False)


def test_set_of_a_key_the_zip_sets_is_refused(tmp_path, capsys):
    from coopsim.cli import main

    spec = tmp_path / "s.toml"
    spec.write_text(ZIP_TOML)
    assert main(["run", str(spec), "--set", "experiment.rounds=50", "--check"]) == 2
    err = capsys.readouterr().err
    assert "--set experiment.rounds: the spec's [zip] sets experiment.rounds" in err and "no effect" in err
    # a key the zip does not set still applies
    assert main(["run", str(spec), "--set", "experiment.batch=3", "--check"]) == 0
