"""Cost of inducing effort with scaled scoring rules vs the LP-optimal mechanism: table and figure
of ``info_cost_of_effort`` results.

Reads the results store of ``experiments/specs/info_cost_of_effort.toml`` (unit function
``info_cost_of_effort``: for a single agent with a free uninformative effort L and a costly
informative effort H of cost c, the expected payment that makes H incentive compatible under a
scaled scoring rule, over the whole simplex ("simplex") or on the reported signal's posterior
("direct"), against the optimal IC mechanism "lp"; the principal recommends H only when
V(H) - E[pay] >= V(L)). Prints the payment per unit of effort cost (slope in c, at c = 0.01) and the
largest cost on the grid at which effort is still induced.

    coopsim run experiments/specs/info_cost_of_effort.toml --workers 2
    python experiments/information_acquisition/cost_of_effort.py results/info_cost_of_effort

Writes ``<folder>/cost_of_effort.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from coopsim import plotting, runner


def long_table(folder: str) -> pd.DataFrame:
    """Rows (instance, cost, scheme, mode, payment, principal_utility, effort) from the store."""
    w = plotting.final_values(runner.load(folder), ["function.instance", "function.cost"])
    schemes = sorted({c.removeprefix("payment_") for c in w.columns if c.startswith("payment_")})
    rows = []
    for s in schemes:  # "lp" or "<rule>_<mode>"
        scheme, mode = ("lp", "lp") if s == "lp" else tuple(s.rsplit("_", 1))
        part = pd.DataFrame(
            {
                "instance": w["function.instance"],
                "cost": w["function.cost"],
                "scheme": scheme,
                "mode": mode,
                "payment": w[f"payment_{s}"],
                "principal_utility": w[f"utility_{s}"],
                "effort": w[f"effort_{s}"] > 0.5,
            }
        )
        rows.append(part)
    return pd.concat(rows, ignore_index=True).sort_values(["instance", "scheme", "mode", "cost"])


def figure(df: pd.DataFrame, path: Path) -> None:
    insts = df.instance.unique()
    plotting.use_style()
    fig, axes = plotting.subplots(2, len(insts), figsize=(6 * len(insts), 8), squeeze=False)
    for j, inst in enumerate(insts):
        for (scheme, mode), g in df[df.instance == inst].groupby(["scheme", "mode"]):
            style = "--" if mode == "simplex" else "-"
            kw = {"lw": 3, "color": "k", "label": "LP optimum"} if scheme == "lp" else {"label": f"{scheme} ({mode})"}
            ge = g[g.effort]
            axes[0, j].plot(ge.cost, ge.payment, style, **kw)
            axes[1, j].plot(g.cost, g.principal_utility, style, **kw)
        axes[0, j].set(
            title=f"{inst}: expected payment to induce effort", xlabel="effort cost c", ylabel="expected payment"
        )
        axes[0, j].set_ylim(0, 1.0)
        axes[1, j].set(title=f"{inst}: principal's expected utility", xlabel="effort cost c")
    plotting.legend_outside(fig)  # the same schemes in every panel
    plotting.save(fig, path)


def main(folder: str = "results/info_cost_of_effort") -> pd.DataFrame:
    df = long_table(folder)
    at = df[(df.cost - 0.01).abs() < 1e-9]
    if len(at):
        slope = at.assign(per_unit_cost=at.payment / 0.01).pivot_table(
            index="instance", columns=["scheme", "mode"], values="per_unit_cost"
        )
        print("expected payment needed per unit of effort cost (at c = 0.01):")
        print(slope.to_string(float_format=lambda v: f"{v:.3f}"))
    print("\nlargest cost on the grid at which effort is still induced:")
    print(df[df.effort].groupby(["instance", "scheme", "mode"]).cost.max().to_string())
    path = Path(folder) / "cost_of_effort.png"
    figure(df, path)
    print(f"wrote {path}")
    return df


if __name__ == "__main__":
    main(*sys.argv[1:])
