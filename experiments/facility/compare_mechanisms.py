"""Compare Uniform Phantom, median, average and midpoint for n = 2..10 (the newcomer's experiment).

For each mechanism and n it measures, on random uniform profiles, the share of outcomes that
satisfy each fairness axiom and the incentive-audit gain (with its witness), and runs the
worst-case ratio search for SW, TC and MC; the published closed forms (Aziz, Lam, Lee and Walsh, arXiv:2111.01566)
are printed beside the measured ratios. Writes ``table.csv``, ``table.parquet`` and
``figure.png`` into ``--out`` (default ``results/facility_compare``).

    python experiments/facility/compare_mechanisms.py [--out DIR] [--n-max 10] [--profiles 2000]
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from coopsim.envs.facility_location import AXIOMS, FacilityLocation  # noqa: E402

from coopsim import plotting
from coopsim.analysis import incentive_audit, worst_case_ratio  # noqa: E402

MECHANISMS = ("uniform_phantom", "median", "average", "midpoint")


def r_of_n(n: int) -> float:
    """R(n) = max_k n k / (n^2 - 2 n k + 2 k^2), the welfare ratio of proportional rules (Aziz, Lam, Lee, Walsh)."""
    return float(max(Fraction(n * k, n * n - 2 * n * k + 2 * k * k) for k in range(n + 1)))


def spec_ratio(mechanism: str, objective: str, n: int) -> float:
    """The closed-form worst-case ratio of the four compared mechanisms (Aziz et al.; Procaccia, Tennenholtz)."""
    table = {
        "uniform_phantom": {"TC": n - 1, "MC": 2, "SW": r_of_n(n)},
        "median": {"TC": 1, "MC": 2, "SW": 1},
        "average": {"TC": 2 - 2 / n, "MC": 2 - 2 / n, "SW": r_of_n(n)},
        "midpoint": {"TC": n / 2, "MC": 1, "SW": 2 - 2 / n},
    }
    return float(table[mechanism][objective])


def run(n_max: int, profiles: int, seed: int) -> pd.DataFrame:
    rows = []
    rng = np.random.default_rng(seed)
    for n in range(2, n_max + 1):
        peaks = rng.random((profiles, n))
        for name in MECHANISMS:
            game = FacilityLocation(n_agents=n, mechanism=name)
            metrics = game.metrics(peaks, game.play(peaks, peaks))
            audit = incentive_audit(game, peaks[: min(profiles, 500)], grid=101, n_random=32, rng=seed)
            row = {
                "mechanism": name,
                "n": n,
                "audit_gain": audit.max_gain,
                "audit_share_profitable": audit.share_profitable,
                "witness": str(audit.witness.to_dict()) if audit.max_gain > audit.tol else "",
            }
            row.update({f"rate_{a}": float(metrics[a].mean()) for a in AXIOMS})
            exhaustive = n <= 6
            for objective in ("SW", "TC", "MC"):
                wc = worst_case_ratio(
                    game,
                    objective,
                    n_grid=2 * n if exhaustive else n,
                    refine_steps=100 if exhaustive else 300,
                    rng=seed,
                )
                row[f"worst_{objective}"] = wc.ratio
                row[f"spec_{objective}"] = spec_ratio(name, objective, n)
            rows.append(row)
            print(
                f"n={n:2d} {name:16s} audit gain {audit.max_gain:8.4f}  "
                + "  ".join(f"{o} {row[f'worst_{o}']:.4f} (spec {row[f'spec_{o}']:.4f})" for o in ("SW", "TC", "MC"))
            )
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, path: Path) -> None:
    plotting.use_style()
    fig, axes = plotting.subplots(1, 4, figsize=(17, 3.8))
    for k, (name, part) in enumerate(table.groupby("mechanism")):
        marker = {"marker": plotting.MARKERS[k], "mfc": "none", "ms": 8.0 - 1.2 * k}
        axes[0].plot(part["n"], part["audit_gain"], label=name, **marker)
        for ax, obj in zip(axes[1:], ("SW", "TC", "MC")):
            # measured: markers; closed form: the dashed line through them
            (line,) = ax.plot(part["n"], part[f"worst_{obj}"], ls="none", label=name, **marker)
            ax.plot(part["n"], part[f"spec_{obj}"], color=line.get_color(), **plotting.REFERENCE_STYLE)
    axes[0].set(title="largest gain from a misreport", xlabel="n", ylabel="utility gain")
    for ax, obj in zip(axes[1:], ("SW", "TC", "MC")):
        ax.set(title=f"worst-case {obj} ratio (dashed: closed form)", xlabel="n", ylabel="ratio (>= 1)")
    plotting.legend_outside(axes[-1], title="mechanism")
    plotting.save(fig, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/facility_compare")
    parser.add_argument("--n-max", type=int, default=10)
    parser.add_argument("--profiles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = run(args.n_max, args.profiles, args.seed)
    table.to_csv(out / "table.csv", index=False)
    table.to_parquet(out / "table.parquet", index=False)
    figure(table, out / "figure.png")
    axiom_cols = [f"rate_{a}" for a in AXIOMS]
    print(table.groupby("mechanism")[axiom_cols].mean().round(3).to_string())
    print(f"wrote {out / 'table.csv'}, {out / 'table.parquet'} and {out / 'figure.png'}")


if __name__ == "__main__":
    main()
