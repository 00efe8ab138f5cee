"""The plots of a plan's table: its headline columns as grouped bars (``results.png``),
the k-NN monitor's learning curves (``curves.png``) and the rows' validation curves
(``validation.png``)."""
from __future__ import annotations

from .plan import columns

__all__ = ['bar_chart', 'curves_chart', 'validation_chart']

STYLES = ['-', '--', ':', '-.']


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def bar_chart(plan: dict, table: list[dict], path: str) -> bool:
    """Grouped bars: one group per headline column, one bar per row (half the seed
    spread as the error bar); False if no column has a value."""
    cols = [c for c in columns(plan, headline_only=True)
            if any(t['cells'][c['key']]['mean'] is not None for t in table)]
    if not cols:
        return False
    plt = _pyplot()
    width = 0.8 / len(table)
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(cols), 4))
    for i, t in enumerate(table):
        means = [t['cells'][c['key']]['mean'] or 0. for c in cols]
        errors = [(t['cells'][c['key']]['spread'] or 0.) / 2 for c in cols]
        xs = [j + (i - (len(table) - 1) / 2) * width for j in range(len(cols))]
        ax.bar(xs, means, width, yerr=errors if any(errors) else None, label=t['label'],
               capsize=2)
    ax.set_xticks(range(len(cols)), [c['label'] for c in cols], fontsize=8)
    ax.set_ylabel('top-1 (%) / AP (%) / PSNR (dB)')
    ax.set_title(plan['title'], fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def curves_chart(plan: dict, table: list[dict], path: str) -> bool:
    """k-NN top-1 during pre-training against images seen and against training minutes,
    one colour per row and one line style per seed; False if nothing to draw."""
    curves = [(t, seed, m) for t in table
              for seed, m in zip(t['monitor_seeds'], t['knn_monitor'])
              if all(len(p) > 3 and p[2] is not None for p in m)]
    if not curves:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colours = {t['name']: f'C{i}' for i, t in enumerate(table)}
    seeds = sorted({seed for _, seed, _ in curves})
    for t, seed, m in curves:
        style = STYLES[seeds.index(seed) % len(STYLES)]
        for ax, index in zip(axes, (2, 3)):
            ax.plot([p[index] for p in m], [p[1] for p in m], style, marker='o',
                    markersize=3, color=colours[t['name']], label=f"{t['label']} (seed {seed})")
    axes[0].set_xlabel('images seen')
    axes[1].set_xlabel('training minutes (k-NN checks left out)')
    axes[0].set_ylabel('k-NN top-1 (%)')
    axes[1].legend(fontsize=7, loc='best')
    fig.suptitle(plan['title'], fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def validation_chart(plan: dict, table: list[dict], path: str) -> bool:
    """Each ``validation`` evaluation's metric at every validation against the
    iteration, one colour per row and one line style per seed, with the better trivial
    predictor (copy, flat) as a line where the runs logged them; False if no curve."""
    evals = [e for e in plan['evaluations'] if e['kind'] == 'validation']
    drawn = [(ev, t, seed, curve) for ev in evals for t in table
             for seed, curve in t['curves'].get(ev['name'], []) if curve]
    if not drawn:
        return False
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(evals), figsize=(7 * len(evals), 4), squeeze=False)
    seeds = sorted({seed for _, _, seed, _ in drawn})
    colours = {t['name']: f'C{i}' for i, t in enumerate(table)}
    for ax, ev in zip(axes[0], evals):
        for e, t, seed, curve in drawn:
            if e is not ev:
                continue
            ax.plot(*zip(*curve), STYLES[seeds.index(seed) % len(STYLES)], marker='o',
                    markersize=3, color=colours[t['name']], label=f"{t['label']}, seed {seed}")
        trivial = [t['cells'][f"{ev['name']}/{m}"]['mean'] for t in table
                   for m in ev['also'] if m.endswith(('_copy', '_flat'))
                   and t['cells'].get(f"{ev['name']}/{m}", {}).get('mean') is not None]
        if trivial:
            ax.axhline(max(trivial), color='grey', lw=0.8, ls=':',
                       label='better trivial predictor')
        ax.set_xlabel('iteration')
        ax.set_ylabel(f"{ev['label']}, validation")
        ax.legend(fontsize=6)
    fig.suptitle(plan['title'], fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
