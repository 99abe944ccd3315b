"""Cost of inducing effort with standard scaled scoring rules vs the LP-optimal mechanism.

For a single agent with a free uninformative effort L and a costly informative effort H (cost c),
compare the principal's expected payment needed to make H incentive compatible under
  * "simplex":  a scoring rule over the whole simplex (the shirker reports the prior), scaled by
                alpha = c / Delta_S (Delta_S the Jensen gap) and shifted to pay >= 0:
                E[pay] = alpha (sum_k P(k) G(q_k) - S_min);
  * "direct":   the rule applied to the posterior implied by a reported signal, shifted per state
                (an outcome-only shift keeps propriety) so the minimum payment is 0; the shirker
                picks the best of the |S| score lines:
                alpha = c / (sum_k P(k) G(q_k) - max_r S(q_r; mu)), E[pay] = alpha (sum_k P(k) G(q_k) - E_mu m);
  * "lp":       the optimal IC mechanism (optimal_mechanism), whose payment is the likelihood-ratio
                bound Lambda c / (Lambda - 1) for these instances.
The principal recommends H only when V(H) - E[pay] >= V(L). Writes results/cost_of_effort.csv and
results/cost_of_effort.png.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
from coopsim.mechanisms.information import InformationModel, optimal_mechanism
from coopsim.mechanisms.scoring import DecisionRule, LogarithmicRule

from coopsim import mechanisms
from coopsim.runner.functions import effort_model, scoring_payment_per_cost

HERE = Path(__file__).parent


def symmetric_instance(n_states: int, accuracy: float, cost: float) -> InformationModel:
    return effort_model({"n_states": n_states, "accuracy": accuracy}, cost)


def rule_of(name: str, model: InformationModel, log_eps: float):
    if name == "decision":
        return DecisionRule(model.utility)
    if name == "logarithmic":
        return LogarithmicRule(eps=log_eps)
    return mechanisms.get(name)


def payments(model: InformationModel, name: str, log_eps: float) -> dict[str, float]:
    """Expected payment per unit of cost (alpha scales linearly in c) for both scoring modes."""
    return scoring_payment_per_cost(model, rule_of(name, model, log_eps))


def main(spec_path: str | None = None) -> None:
    spec = tomllib.loads(Path(spec_path or HERE / "cost_of_effort.toml").read_text())
    cs = np.linspace(spec["costs"]["start"], spec["costs"]["stop"], spec["costs"]["num"])
    rows = []
    for inst in spec["instances"]:
        base = effort_model(inst, 0.0)
        vL, vH = base.values
        per_unit = {r: payments(base, r, spec["log_eps"]) for r in spec["rules"]}
        for c in cs:
            model = effort_model(inst, float(c))
            lp = optimal_mechanism(model)
            min_pay_lp = float(np.sum(model.joint[1] * lp.payments[0, 1]))
            rows.append(
                dict(
                    instance=inst["name"],
                    cost=c,
                    scheme="lp",
                    mode="lp",
                    payment=min_pay_lp if c > 0 else 0.0,
                    principal_utility=lp.value,
                    effort=bool(lp.recommendation[1] > 0.5),
                    ic=lp.ic,
                )
            )
            for r, pu in per_unit.items():
                for mode, k in pu.items():
                    pay = k * c
                    util = max(vL, vH - pay)
                    rows.append(
                        dict(
                            instance=inst["name"],
                            cost=c,
                            scheme=r,
                            mode=mode,
                            payment=pay,
                            principal_utility=util,
                            effort=bool(vH - pay >= vL),
                            ic=np.nan,
                        )
                    )
    df = pd.DataFrame(rows)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    df.to_csv(out / "cost_of_effort.csv", index=False)
    # summary: payment per unit of effort cost (the slope of payment in c)
    print("expected payment needed per unit of effort cost (slope in c):")
    for inst in spec["instances"]:
        base = effort_model(inst, 0.0)
        m1 = effort_model(inst, 0.01)
        lp_slope = float(np.sum(m1.joint[1] * optimal_mechanism(m1).payments[0, 1])) / 0.01
        line = [f"{inst['name']:>12}: lp {lp_slope:6.3f}"]
        for r in spec["rules"]:
            pu = payments(base, r, spec["log_eps"])
            line.append(f"{r} simplex {pu['simplex']:7.3f} direct {pu['direct']:6.3f}")
        print("; ".join(line))
    thresholds = df[df.effort].groupby(["instance", "scheme", "mode"]).cost.max()
    print("\nlargest cost on the grid at which effort is still induced:")
    print(thresholds.to_string())
    _simulate_check(spec)
    _plot(df, out / "cost_of_effort.png")


def _simulate_check(spec) -> None:
    """Cross-check one analytic point with the env's scoring plugin (Q+ on the full simplex, Instance A)."""
    from coopsim.envs.information_acquisition import InformationAcquisitionEnv

    c = 0.1
    model = symmetric_instance(2, 0.8, c)
    k = payments(model, "quadratic", spec["log_eps"])["simplex"]
    alpha = k * c / (sum(model.joint[1].sum(0) * mechanisms.get("quadratic").G(model.agent_posteriors(0)[1])) + 1)
    bound = 2 * alpha  # Q+ range [-1, 1]: scaled rule pays bound (S + 1) / 2 = alpha (S + 1)
    B = spec["simulate_check"]
    env = InformationAcquisitionEnv(model, mechanism="scoring", rule="quadratic", bound=bound, batch_size=B)
    env.reset(seed=0)
    env.step(env.default_actions())
    *_, info = env.step(env.default_actions())
    sim = float(np.nanmean(info["metrics"]["payments"]))
    print(
        f"\nsimulation check (Instance A, c = {c}, Q+ full simplex): analytic payment {k * c:.4f}, "
        f"env mean over {B} copies {sim:.4f}"
    )


def _plot(df: pd.DataFrame, path: Path) -> None:
    from coopsim import plotting

    insts = df.instance.unique()
    plotting.use_style()
    fig, axes = plotting.subplots(2, len(insts), figsize=(6 * len(insts), 8), squeeze=False)
    for j, inst in enumerate(insts):
        d = df[df.instance == inst]
        for (scheme, mode), g in d.groupby(["scheme", "mode"]):
            style = "-" if mode == "direct" else ("--" if mode == "simplex" else "-")
            lw = 3 if scheme == "lp" else 1.5
            label = "LP optimum" if scheme == "lp" else f"{scheme} ({mode})"
            color = "k" if scheme == "lp" else None
            ge = g[g.effort]
            axes[0, j].plot(ge.cost, ge.payment, style, lw=lw, label=label, color=color)
            axes[1, j].plot(g.cost, g.principal_utility, style, lw=lw, label=label, color=color)
        axes[0, j].set_title(f"{inst}: expected payment to induce effort")
        axes[0, j].set_xlabel("effort cost c")
        axes[0, j].set_ylabel("expected payment")
        axes[0, j].set_ylim(0, 1.0)
        axes[1, j].set_title(f"{inst}: principal's expected utility")
        axes[1, j].set_xlabel("effort cost c")
    plotting.legend_outside(fig)  # the same schemes in every panel
    plotting.save(fig, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
