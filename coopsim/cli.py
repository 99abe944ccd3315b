"""The ``coopsim`` command line: ``run``, ``list``, ``audit``, ``report``, ``plot``.

Exit codes: 0 success; 1 some units failed; 2 bad usage or a bad spec (the message names the key
path). See ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
import inspect
import shlex
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep the message format
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
    p = _Parser(
        prog="coopsim", description="Simulate strategic agents under designed mechanisms: sweeps, audits, report cards."
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True

    r = sub.add_parser("run", help="run an experiment spec (TOML) and store Parquet results")
    r.add_argument("spec", help="path to the TOML experiment spec")
    r.add_argument(
        "--executor", choices=["serial", "process", "ray"], default="process", help="where units run (default: process)"
    )
    r.add_argument("--workers", type=int, default=None, help="processes (process) or CPUs of a local Ray instance")
    r.add_argument("--address", default=None, help="Ray cluster address: auto or HOST:PORT (executor ray)")
    r.add_argument("--out", default=None, help="output folder (default: results/<experiment.name>)")
    r.add_argument("--resume", action="store_true", help="skip units whose results file already exists")
    r.add_argument("--retries", type=int, default=0, help="retries of a failing unit before it is recorded failed")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.add_argument("--check", action="store_true", help="validate the spec and print the units; run nothing")
    r.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a spec key, e.g. --set experiment.rounds=50 (TOML value; repeatable)",
    )

    ls = sub.add_parser("list", help="list environments, mechanisms, learners and unit functions")
    ls.add_argument("what", nargs="?", choices=["envs", "mechanisms", "learners", "functions", "all"], default="all")

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
        a.add_argument("--seed", type=int, default=0)
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
    return p


# ----------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from coopsim import runner

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers: expected an integer >= 1, got {args.workers}")
    if args.retries < 0:
        raise UsageError(f"--retries: expected an integer >= 0, got {args.retries}")
    if args.address is not None and args.executor != "ray":
        raise UsageError("--address: only used with --executor ray")
    spec = runner.load_spec(args.spec, overrides=parse_params(args.overrides))
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
        progress=not args.no_progress,
    )
    print(
        f"{spec.name}: {res.done} done, {res.failed} failed, {res.skipped} skipped of {res.n_units} units "
        f"in {res.seconds:.1f}s -> {res.out}"
    )
    for key, err in res.failures.items():
        last = err.strip().splitlines()[-1] if err.strip() else "?"
        print(f"  failed {key}: {last}", file=sys.stderr)
    return res.exit_code


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(k if v is inspect.Parameter.empty else f"{k}={v!r}" for k, v in params.items())


def cmd_list(args: argparse.Namespace) -> int:
    what = args.what
    if what in ("envs", "all"):
        from coopsim.runner.spec import available_envs, env_module, game_factory

        print("environments (coopsim.envs.<name>):")
        for name in available_envs():
            mod = env_module(name)
            if hasattr(mod, "make_game"):
                sig = inspect.signature(game_factory(mod))
                params = {
                    p.name: p.default
                    for p in sig.parameters.values()
                    if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
                }
                kind = "game"
            else:
                params, kind = {}, "native"
            print(f"  {name:<28} [{kind}] {_params_text(params)}")
    if what in ("mechanisms", "all"):
        from coopsim import mechanisms

        print("mechanisms (coopsim.mechanisms registry):")
        reg = mechanisms.registry
        for name in reg.names():
            try:
                params = reg.parameters(name)
            except (TypeError, ValueError):
                params = {}
            mod = getattr(reg.factory(name), "__module__", "") or "plugin"
            fam = mod.split(".")[2] if mod.startswith("coopsim.mechanisms.") else mod
            print(f"  {name:<28} [{fam}] {_params_text(params)}")
    if what in ("learners", "all"):
        from coopsim import agents
        from coopsim.runner.spec import LEARNER_RESERVED

        print("learners (coopsim.agents registry; n_actions, batch, n_agents, utility_range set by the runner):")
        for name in agents.registry.names():
            params = {k: v for k, v in agents.registry.parameters(name).items() if k not in LEARNER_RESERVED}
            print(f"  {name:<28} {_params_text(params)}")
    if what in ("functions", "all"):
        from coopsim.runner.units import FUNCTIONS

        print("unit functions ([function] name = ...):")
        for name, fn in sorted(FUNCTIONS.items()):
            doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
            print(f"  {name:<28} {doc}")
    return EXIT_OK


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


def _check_mechanism(name: str) -> None:
    from coopsim import mechanisms

    if name not in mechanisms.registry:
        raise UsageError(f"mechanism: expected one of {mechanisms.available()}, got {name!r}")


def cmd_audit(args: argparse.Namespace) -> int:
    from coopsim import report as rep

    _check_mechanism(args.mechanism)
    params, opts = _family_options(args, parse_params(args.params))
    card = rep.audit(args.mechanism, params, **opts)
    print(card.markdown(command="coopsim " + " ".join(shlex.quote(a) for a in args.argv)))
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from coopsim import report as rep

    _check_mechanism(args.mechanism)
    params, opts = _family_options(args, parse_params(args.params))
    if any(n < 2 for n in args.n):
        raise UsageError(f"--n: expected integers >= 2, got {args.n}")
    out = Path(args.out) if args.out else Path("results") / "reports" / args.mechanism
    command = "coopsim report " + " ".join(shlex.quote(a) for a in [args.mechanism, *args.params])
    card, path = rep.report(args.mechanism, params, out=out, command=command, ratio_ns=tuple(args.n), **opts)
    print(path.read_text())
    print(f"report written to {path}", file=sys.stderr)
    return EXIT_OK


def cmd_plot(args: argparse.Namespace) -> int:
    from coopsim import plotting, runner

    try:
        df = runner.load(args.results)
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
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


COMMANDS = {"run": cmd_run, "list": cmd_list, "audit": cmd_audit, "report": cmd_report, "plot": cmd_plot}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``coopsim`` console script; returns the exit code."""
    from coopsim.runner.executors import ExecutorError
    from coopsim.runner.spec import SpecError

    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    args.argv = argv  # the command line as given, for the audit card
    try:
        return COMMANDS[args.command](args)
    except SpecError as err:
        print(f"coopsim {args.command}: bad spec: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (UsageError, ExecutorError) as err:
        print(f"coopsim {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, TypeError) as err:
        if args.command in ("audit", "report"):  # bad mechanism parameters
            print(f"coopsim {args.command}: error: {err}", file=sys.stderr)
            return EXIT_USAGE
        raise
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
