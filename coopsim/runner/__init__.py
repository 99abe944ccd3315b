"""The experiment runner: TOML specs -> units -> executors -> a Parquet results dataset.

>>> from coopsim import runner
>>> res = runner.run_experiment("experiments/specs/quickstart.toml", out="results/quickstart")  # doctest: +SKIP
>>> df = runner.load("results/quickstart")                                                     # doctest: +SKIP

Public API: :func:`run_experiment` (also importable under its former name ``run``), :func:`load`,
:func:`compact`, :func:`load_spec`, :class:`SpecError`, :func:`register_function`,
:class:`RunResult`, :func:`read_manifest`, :func:`export_manifest`, and the errors
:class:`SpecDriftError`, :class:`CatalogueError`, :class:`LoadError`. See ``docs/specs.md``,
``docs/executors.md`` and ``docs/results.md``.
"""

from coopsim.runner.catalogue import CatalogueError, SpecDriftError, export_manifest
from coopsim.runner.engine import RunResult, run, run_experiment
from coopsim.runner.spec import Spec, SpecError, Unit, load_spec
from coopsim.runner.store import LoadError, compact, load, read_manifest
from coopsim.runner.units import FUNCTIONS, execute, register_function

__all__ = [
    "FUNCTIONS",
    "CatalogueError",
    "LoadError",
    "RunResult",
    "Spec",
    "SpecDriftError",
    "SpecError",
    "Unit",
    "compact",
    "execute",
    "export_manifest",
    "load",
    "load_spec",
    "read_manifest",
    "register_function",
    "run",
    "run_experiment",
]

# Report cards moved to their own layer, ``coopsim.report``; the old module paths stay importable
# as the same module objects (``coopsim.runner.report``, ``coopsim.runner.report_facility``, ...).
import sys as _sys  # noqa: E402

from coopsim import report as _report  # noqa: E402

_sys.modules[f"{__name__}.report"] = _report
for _family in ("auctions", "budget", "facility", "gates", "scoring"):
    _sys.modules[f"{__name__}.report_{_family}"] = getattr(_report, _family)
