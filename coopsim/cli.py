"""The ``coopsim`` command line: ``run``, ``list``, ``examples``, ``audit``, ``report``, ``plot``.

Exit codes: 0 success; 1 some units failed; 2 the user's input is wrong (usage, spec, folder: the
message names the option, key path or file); 3 the environment failed (disk full, permission,
database locked); 4 an internal error. See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import sys
import tomllib
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 already; keep the message format
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parse_value(text: str) -> Any:
    """A ``key=value`` value as TOML data (``3``, ``0.5``, ``true``, ``[0, 0.5]``, ``"x"``), else a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_params(items: Sequence[str]) -> dict[str, Any]:
    """``["k=v", ...]`` -> ``{k: v}`` with values read as TOML literals (data, never code)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"params: expected key=value, got {item!r}")
        out[key.strip()] = _parse_value(value.strip())
    return out


def build_parser() -> argparse.ArgumentParser:
    from coopsim import __version__

    p = _Parser(
        prog="coopsim", description="Simulate strategic agents under designed mechanisms: sweeps, audits, report cards."
    )
    p.add_argument("--version", action="version", version=f"coopsim {__version__}", help="print the version and exit")
    p.add_argument("--debug", action="store_true", help="show the full traceback of an error (any position)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    sub.required = True

    ls = sub.add_parser("list", help="list environments, mechanisms, learners, unit functions and example specs")
    ls.add_argument(
        "what",
        nargs="?",
        choices=[*LIST_SECTIONS, "all"],
        default="all",
        help="which section to show (default: all)",
    )

    ex = sub.add_parser("examples", help="copy the packaged example specs into a folder (or list them)")
    ex.add_argument(
        "dest", nargs="?", default=None, help="folder to copy the *.toml specs into (created); omit to list"
    )
    ex.add_argument("--force", action="store_true", help="overwrite example files that already exist in DEST")

    _add_run(sub)
    _add_card_commands(sub)
    _add_results_commands(sub)
    return p


def _add_run(sub: Any) -> None:
    """``coopsim run SPEC``: executors, resume, retries, timeouts, overrides."""
    r = sub.add_parser("run", help="run an experiment spec (TOML) and store Parquet results")
    r.add_argument(
        "spec",
        help="path to a TOML experiment spec, or the name of a packaged example such as facility_compare "
        "(coopsim list examples)",
    )
    r.add_argument(
        "--executor", choices=["serial", "process", "ray"], default="process", help="where units run (default: process)"
    )
    r.add_argument("--workers", type=int, default=None, help="processes (process) or CPUs of a local Ray instance")
    r.add_argument("--address", default=None, help="Ray cluster address: auto or HOST:PORT (executor ray)")
    r.add_argument("--out", default=None, help="output folder (default: results/<experiment.name>)")
    r.add_argument("--resume", action="store_true", help="skip units whose results file already exists")
    r.add_argument("--retries", type=int, default=0, help="retries of a failing unit before it is recorded failed")
    r.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a unit running longer than this and record it failed (default: experiment.timeout, else none)",
    )
    r.add_argument(
        "--no-compact",
        action="store_true",
        help="keep one file per unit (by default a run leaving >= 1000 unit files merges them into parts)",
    )
    r.add_argument(
        "--allow-mixed",
        action="store_true",
        help="resume into a folder written by a different spec (the table gains a spec_fingerprint column)",
    )
    r.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar (it is shown only when stderr is a terminal)"
    )
    r.add_argument("--check", action="store_true", help="validate the spec and print the units; run nothing")
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a spec key, e.g. --set experiment.rounds=50 (TOML value; repeatable)",
    )


def _add_card_commands(sub: Any) -> None:
    """``coopsim audit`` and ``coopsim report``: one mechanism's report card."""
    for name, helptext in (
        ("audit", "incentive audit plus the family's property checks"),
        ("report", "write a Markdown report card with figures"),
    ):
        a = sub.add_parser(name, help=helptext)
        a.add_argument("mechanism", help="registered mechanism name (see coopsim list mechanisms)")
        a.add_argument("params", nargs="*", help="mechanism parameters as key=value (TOML values)")
        a.add_argument(
            "--n-agents",
            type=int,
            default=None,
            help="agents in the audited game (default 5, or the n a mechanism is built for)",
        )
        a.add_argument("--profiles", type=int, default=512, help="type profiles per class (default 512)")
        a.add_argument("--grid", type=int, default=101, help="misreport grid points (default 101)")
        a.add_argument("--seed", type=int, default=0, help="seed of the sampled profiles (default 0)")
        if name == "report":
            a.add_argument(
                "--n",
                type=int,
                nargs="+",
                default=[2, 3, 4, 5, 6],
                help="numbers of agents for the worst-case ratios (default 2..6; a mechanism "
                "built for one n uses that n)",
            )
            a.add_argument(
                "--out", default=None, help="folder for report.md and figures (default results/reports/<mechanism>)"
            )


def _add_results_commands(sub: Any) -> None:
    """``compact``, ``repair``, ``export-manifest`` and ``plot`` on a results folder."""
    for name, helptext in (
        ("compact", "merge a results folder's unit files into a few parts (resume and load keep working)"),
        ("repair", "check a results folder; rebuild a corrupt catalogue from the results files"),
        ("export-manifest", "write a results folder's catalogue as manifest.json"),
    ):
        c = sub.add_parser(name, help=helptext)
        c.add_argument("results", help="results folder written by coopsim run")
        if name == "export-manifest":
            c.add_argument("--out", default=None, help="file to write (default <results>/manifest.json)")

    pl = sub.add_parser("plot", help="plot a metric of a results folder")
    pl.add_argument("results", help="results folder written by coopsim run")
    pl.add_argument(
        "--metric",
        required=True,
        nargs="+",
        help="metric name(s) (see the 'metric' column); several give one panel each",
    )
    pl.add_argument("--by", nargs="*", default=[], help="columns whose values get one line each (e.g. mechanism.name)")
    pl.add_argument("--x", default="round", help="x axis column (default round)")
    pl.add_argument(
        "--at-round",
        default=None,
        metavar="last|N",
        help="keep one recorded round per unit (its last, or round N) — for --x other than round",
    )
    pl.add_argument("--out", default=None, help="figure path (.png/.pdf/.svg; default <results>/figures/<metric>.png)")


# ----------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from coopsim import runner

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.retries < 0:
        raise UsageError(f"--retries: expected an integer >= 0, got {args.retries}")
    if args.timeout is not None and not 0 < args.timeout < float("inf"):
        raise UsageError(f"--timeout: expected a number of seconds > 0, got {args.timeout}")
    if args.address is not None and args.executor != "ray":
        raise UsageError("--address: only used with --executor ray")
    overrides = parse_params(args.overrides)
    spec = runner.load_spec(spec_path(args.spec), overrides=overrides)
    _check_overrides(spec, overrides)
    if args.out is not None:
        _check_out(Path(args.out))
    if args.check:
        units = spec.units()
        print(f"{spec.name}: {len(units)} units ({len(spec.points())} configs x {len(spec.replicates)} seeds)")
        for u in units:
            varied = {
                k: v
                for k, v in u.params().items()
                if k.startswith(("env.", "mechanism.", "agents.", "function.")) or k == "replicate"
            }
            print(f"  {u.key}  {varied}")
        return EXIT_OK
    res = runner.run(
        spec,
        executor=args.executor,
        out=args.out,
        resume=args.resume,
        retries=args.retries,
        workers=args.workers,
        address=args.address,
        progress=not args.no_progress and sys.stderr.isatty(),  # no bar in logs and pipes
        timeout=args.timeout,
        allow_mixed=args.allow_mixed,
        compact=False if args.no_compact else None,
    )
    print(
        f"{spec.name}: {res.done} done, {res.failed} failed, {res.skipped} skipped of {res.n_units} units "
        f"in {res.seconds:.1f}s -> {res.out}"
    )
    if res.busy:
        print(f"  {res.busy} units were being computed by another run into {res.out}", file=sys.stderr)
    for entry in res.quarantined:
        print(f"  {entry} (not trusted: recomputed; bad files go to units/quarantine/)", file=sys.stderr)
    for key, err in res.failures.items():
        last = err.strip().splitlines()[-1] if err.strip() else "?"
        print(f"  failed {key}: {last}", file=sys.stderr)
    return res.exit_code


def _check_overrides(spec: Any, overrides: dict[str, Any]) -> None:
    """Refuse ``--set PATH=...`` when the spec's [grid] or [zip] sets PATH for every point (the
    override would silently have no effect)."""
    tables = [("grid", spec.grid)] + [
        ("zip" if len(spec.zips) == 1 else f"zip[{i}]", z) for i, z in enumerate(spec.zips)
    ]
    for path in overrides:
        for name, axes in tables:
            if path in axes:
                raise UsageError(
                    f"--set {path}: the spec's [{name}] sets {path} for each point ({axes[path]}), so --set would "
                    f"have no effect; change the values in [{name}] instead"
                )


def _check_out(out: Path) -> None:
    """``--out`` must be a folder or a path that can become one (no file at it or above it)."""
    for p in (out, *out.parents):
        if p.exists() and not p.is_dir():
            what = "is a file" if p == out else f"lies below the file {str(p)!r}"
            raise UsageError(f"--out: expected a results folder, got {str(out)!r}, which {what}")
        if p.is_dir():
            return


LIST_SECTIONS = ("envs", "mechanisms", "learners", "functions", "examples")
_LIST_HEADINGS = {
    "envs": "environments ([env] name = ...; Gymnasium ids; constructor parameters with defaults)",
    "mechanisms": "mechanisms (coopsim.mechanisms.get(name, **params); [mechanism] name = ...)",
    "learners": "learners ([[agents]] learner = ...; n_actions, batch, n_agents, utility_range set by the runner)",
    "functions": "unit functions ([function] name = ...; the keys each declares)",
    "examples": "example specs (coopsim run NAME; coopsim examples DIR copies them out)",
}


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in params.items())


def _print_entry(entry: Any, width: int) -> None:
    """``  name  [tag]  ids`` then the description and the parameters, wrapped under it."""
    import textwrap

    head = "  " + entry.name + (f"  [{entry.tag}]" if entry.tag else "") + "".join(f"  {i}" for i in entry.ids)
    print(head)
    indent = " " * 6
    for text in (entry.description, _params_text(entry.params)):
        if text:
            print(textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent, break_on_hyphens=False))


def cmd_list(args: argparse.Namespace) -> int:
    import shutil

    from coopsim import listing

    width = max(60, min(shutil.get_terminal_size((100, 24)).columns, 120))
    sections = LIST_SECTIONS if args.what == "all" else (args.what,)
    for i, section in enumerate(sections):
        entries = {
            "envs": listing.environments,
            "mechanisms": listing.mechanisms,
            "learners": listing.learners,
            "functions": listing.functions,
            "examples": listing.examples,
        }[section]()
        print(("\n" if i else "") + _LIST_HEADINGS[section] + ":")
        for entry in entries:
            _print_entry(entry, width)
    return EXIT_OK


def cmd_examples(args: argparse.Namespace) -> int:
    from coopsim import listing

    if args.dest is None:
        for entry in listing.examples():
            print(f"  {entry.name:<30} {entry.description}")
        return EXIT_OK
    try:
        written = listing.copy_examples(args.dest, overwrite=args.force)
    except (FileExistsError, NotADirectoryError) as err:
        raise UsageError(str(err).replace("dest:", "DEST:", 1)) from None
    print(f"{len(written)} example specs written to {args.dest}; run one with: coopsim run {written[0]}")
    return EXIT_OK


def spec_path(arg: str) -> Path:
    """The spec file ``coopsim run ARG`` means: an existing path, else a packaged example of that name.

    A bare name (``facility_compare`` or ``facility_compare.toml``, no folder) that is not a file
    resolves to the example spec shipped with coopsim; an unknown name raises ``UsageError`` with
    "did you mean" suggestions. Anything else is returned as given for the loader to report.
    """
    path = Path(arg)
    if path.exists() or len(path.parts) != 1 or path.suffix not in ("", ".toml"):
        return path
    from coopsim import listing

    try:
        return Path(str(listing.example_spec(arg)))
    except ValueError as err:
        hint = str(err).partition("; ")[2]
        raise UsageError(f"spec: no file {arg!r} here and no example spec of that name; {hint}") from None


def _family_options(args: argparse.Namespace, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    opts = {"n_agents": args.n_agents, "profiles": args.profiles, "grid": args.grid, "seed": args.seed}
    for key in list(params):  # n_agents=3 etc. given as key=value are audit options, not mechanism params
        if key in opts:
            opts[key] = params.pop(key)
    if opts["n_agents"] is None:
        del opts["n_agents"]
    for key, lo in (("n_agents", 2), ("profiles", 1), ("grid", 2), ("seed", 0)):
        if key not in opts:
            continue
        v = opts[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise UsageError(f"--{key.replace('_', '-')}: expected an integer >= {lo}, got {v!r}")
    return params, opts


def _check_mechanism(name: str) -> str:
    """The registered name ``name`` designates (case-insensitive); ``UsageError`` with suggestions if none."""
    from coopsim import mechanisms

    try:
        return mechanisms.registry.canonical(name)
    except (TypeError, ValueError) as err:
        raise UsageError(f"{err} (coopsim list mechanisms shows them all)") from None


def cmd_audit(args: argparse.Namespace) -> int:
    from coopsim import report as rep

    args.mechanism = _check_mechanism(args.mechanism)
    params, opts = _family_options(args, parse_params(args.params))
    card = rep.audit(args.mechanism, params, **opts)
    print(card.markdown(command="coopsim " + " ".join(shlex.quote(a) for a in args.argv)))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from coopsim import report as rep

    args.mechanism = _check_mechanism(args.mechanism)
    params, opts = _family_options(args, parse_params(args.params))
    if any(n < 2 for n in args.n):
        raise UsageError(f"--n: expected integers >= 2, got {args.n}")
    out = Path(args.out) if args.out else Path("results") / "reports" / args.mechanism
    command = "coopsim report " + " ".join(shlex.quote(a) for a in [args.mechanism, *args.params])
    card, path = rep.report(args.mechanism, params, out=out, command=command, ratio_ns=tuple(args.n), **opts)
    assert path is not None  # report() always writes report.md when given a folder
    print(path.read_text())
    print(f"report written to {path}", file=sys.stderr)
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    from coopsim import plotting, runner

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = runner.load(args.results)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    for w in caught:
        print(f"coopsim plot: warning: {w.message}", file=sys.stderr)
    if df.empty:
        raise UsageError(f"results: no finished units under {args.results!r}")
    if args.at_round is not None:
        if args.at_round == "last":
            df = df[df["round"] == df.groupby("unit")["round"].transform("max")]
        elif args.at_round.isdigit():
            df = df[df["round"] == int(args.at_round)]
            if df.empty:
                raise UsageError(f"--at-round: no unit recorded round {args.at_round}")
        else:
            raise UsageError(f"--at-round: expected 'last' or a round number, got {args.at_round!r}")
    try:
        fig = plotting.plot_metrics(df, args.metric, by=args.by, x=args.x)
    except ValueError as err:
        raise UsageError(str(err)) from None
    suffix = ("_by_" + "_".join(b.replace(".", "-") for b in args.by)) if args.by else ""
    if args.x != "round":
        suffix = f"_vs_{args.x.replace('.', '-')}{suffix}"
    out = Path(args.out) if args.out else Path(args.results) / "figures" / f"{'+'.join(args.metric)}{suffix}.png"
    plotting.save(fig, out)
    print(f"figure written to {out}")
    return EXIT_OK


def _results_folder(path: str) -> Path:
    p = Path(path)
    if not p.is_dir():
        raise UsageError(f"results: expected a results folder, got {path!r}")
    return p


def cmd_compact(args: argparse.Namespace) -> int:
    from coopsim import runner

    st = runner.compact(_results_folder(args.results))
    print(
        f"{args.results}: {st['units']} units merged into {st['parts']} part(s); "
        f"{st['quarantined']} bad file(s) quarantined; {st['removed']} orphaned part(s) removed"
    )
    return EXIT_OK


def cmd_repair(args: argparse.Namespace) -> int:
    from coopsim.runner import catalogue

    rep = catalogue.repair(_results_folder(args.results))
    for p in rep["set_aside"]:
        print(f"  set aside {p}", file=sys.stderr)
    for p in rep["quarantined"]:
        print(f"  quarantined {p} (its units will be recomputed by run --resume)", file=sys.stderr)
    verb = "catalogue rebuilt from the results files" if rep["rebuilt"] else "catalogue ok"
    print(f"{args.results}: {verb}; {rep['units']} units done, {len(rep['quarantined'])} file(s) quarantined")
    return EXIT_OK


def cmd_export_manifest(args: argparse.Namespace) -> int:
    from coopsim import runner

    print(f"manifest written to {runner.export_manifest(_results_folder(args.results), args.out)}")
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "compact": cmd_compact,
    "repair": cmd_repair,
    "export-manifest": cmd_export_manifest,
    "list": cmd_list,
    "examples": cmd_examples,
    "audit": cmd_audit,
    "report": cmd_report,
    "plot": cmd_plot,
}


EXIT_ENV, EXIT_INTERNAL = 3, 4
#: errno values that mean the machine failed us (exit 3), not that the user asked for something wrong
_ENV_ERRNOS = {"EACCES", "EPERM", "EROFS", "ENOSPC", "EFBIG", "EDQUOT", "EIO", "EMFILE", "ENFILE", "ENOMEM", "EBUSY"}


def _classify(command: str, err: BaseException) -> tuple[int, str] | None:
    """``(exit code, one-line message)`` for an error the CLI reports without a traceback."""
    import errno
    import sqlite3

    from coopsim.runner.catalogue import CatalogueError, SpecDriftError
    from coopsim.runner.executors import ExecutorError
    from coopsim.runner.spec import SpecError
    from coopsim.runner.store import LoadError

    if isinstance(err, SpecError):
        return EXIT_USAGE, f"bad spec: {err}"
    if isinstance(err, (UsageError, ExecutorError, SpecDriftError, CatalogueError, LoadError)):
        return EXIT_USAGE, f"error: {err}"
    if isinstance(err, sqlite3.OperationalError):
        return EXIT_ENV, f"environment error: results catalogue: {err} (nothing lost: rerun with --resume)"
    if isinstance(err, sqlite3.DatabaseError):
        return EXIT_USAGE, f"error: results catalogue: {err}"
    if isinstance(err, OSError):
        name = errno.errorcode.get(err.errno or 0, "")
        where = f" {err.filename!r}" if err.filename else ""
        text = f"{err.strerror or err}{':' + where if where else ''}"
        if name in _ENV_ERRNOS:
            return EXIT_ENV, f"environment error: {text} (finished units are kept: fix it and rerun with --resume)"
        return EXIT_USAGE, f"error: {text}"
    if isinstance(err, MemoryError):
        return EXIT_ENV, "environment error: out of memory"
    if isinstance(err, (ValueError, TypeError)) and command in ("audit", "report", "run"):
        return EXIT_USAGE, f"error: {err}"  # bad mechanism parameters, bad run() options
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coopsim`` console script; returns the exit code.

    Exit codes: 0 all done; 1 some units failed; 2 the user's input (spec, flags, folder) is wrong;
    3 the environment failed (disk full, permission denied, database locked); 4 an internal error
    (a bug). Each error is one line on stderr; ``--debug`` (anywhere) shows the traceback instead.
    """
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = [a for a in argv if a != "--debug"]
    args = parser.parse_args(argv)
    args.argv = argv  # the command line as given, for the audit card
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
        if debug:
            raise
        known = _classify(args.command, err)
        if known is None:
            print(
                f"coopsim {args.command}: internal error: {type(err).__name__}: {err} "
                "(rerun with --debug for the traceback)",
                file=sys.stderr,
            )
            return EXIT_INTERNAL
        print(f"coopsim {args.command}: {known[1]}", file=sys.stderr)
        return known[0]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
