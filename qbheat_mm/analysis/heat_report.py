"""Write :func:`qbheat_mm.analysis.heat_diagnostics.diagnose` results: markdown, JSON, PNGs.

Plots use matplotlib's object API on the Agg canvas (no pyplot, no global backend switch),
imported only when a plot is drawn.
"""
from __future__ import annotations

import json
import math
import os
import os.path as osp
from typing import Optional

import numpy as np

from .heat_diagnostics import AXES, Diagnostics

CURVES = ('copy', 'position', 'fitted', 'learned')  # the columns of section 3, in order


def _jsonable(value):
    """Floats that JSON can hold: inf and nan become strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def fmt(value: Optional[float], digits: int = 3) -> str:
    """A number for the tables: fixed point, scientific when very large or small."""
    if value is None:
        return '-'
    if not math.isfinite(value):
        return 'inf'
    if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
        return f'{value:.2e}'
    return f'{value:.{digits}f}'


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return (['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
            + ['| ' + ' | '.join(r) + ' |' for r in rows])


def _section_linearity(summary: dict) -> list[str]:
    op, lin = summary['operator'], summary['linearity']
    text = ('Explained fraction R^2 of the central difference (z(j+1) - z(j-1)) / 2 by a '
            'linear map of z, fitted (ridge) on the fitting half and scored on the other: '
            '1 = exactly linear, about 0 = no linear relation (independent cells). '
            '*position only*: the difference predicted by its mean at that cell position '
            '(border and padding patterns shared by all images); *centred*: the fit on maps '
            'minus that position mean, i.e. the part that changes with the image.')
    head = ['derivative', 'fitted', 'position only', 'fitted, centred']
    if op:
        text += (f' *learned*: the forward difference over one operator step (s = '
                 f'{op["step"]} cells) against the step of A (or B), so copying (A = 0) '
                 'scores about 0; *best linear step*: any linear step of s cells, fitted on '
                 'the fitting half.')
        head += ['learned operator (step s)', 'best linear step (step s)']
    rows = []
    for axis, name in zip(AXES, ('A', 'B')):
        r = lin[axis]
        row = [f'dz/d{axis}', fmt(r['r2']), fmt(r['r2_position']), fmt(r['r2_centred'])]
        if op:
            sf = op['step_fraction'].get(axis, {})
            row += [f'{name}: {fmt(sf.get("learned"))}', fmt(sf.get('best_linear'))]
        rows.append(row)
    r = lin['x']
    return (['## 1. Linearity of the derivatives (held-out images)', '', text, '']
            + _table(head, rows)
            + ['', f'Cell pairs per axis: {r["pairs_fit"]} fitted, {r["pairs_test"]} scored, '
               f'for {summary["channels"]} channels.', ''])


def _section_operator(summary: dict) -> list[str]:
    op = summary['operator']
    lines = ['## 2. The operator', '']
    if not op:
        operator = summary.get('meta', {}).get('operator', 'none')
        return lines + [f'No learned operator ({operator}).', '']
    sx, sy = op['spectrum']['x'], op['spectrum']['y']
    hc, cm = op['heat_coefficient'], op['commutator']
    lines += [f'Mode `{op["mode"]}`, {op["channels"]} channels'
              + (" (after the neck's projection)" if op['projected'] else '') + '.', '']
    lines += _table(['', 'I + A', 'I + B'], [
        ['largest eigenvalue modulus', fmt(sx['spectral_radius'], 4),
         fmt(sy['spectral_radius'], 4)],
        ['eigenvalues with modulus > 1', f'{sx["unstable"]} / {sx["size"]}',
         f'{sy["unstable"]} / {sy["size"]}'],
        ['condition number', fmt(sx['cond']), fmt(sy['cond'])],
    ])
    if hc['exists']:
        heat = (f'- S = -A^2 B^-2 exists: cond(B) = {fmt(hc["cond_B"])}, cond(B^2) = '
                f'{fmt(hc["cond_B2"])}, |S| = {fmt(hc["norm_S"])}, cond(S) = '
                f'{fmt(hc["cond_S"])}.')
    else:
        heat = (f'- S = -A^2 B^-2 does not exist: B^2 is singular (cond(B^2) = '
                f'{fmt(hc["cond_B2"])} > {fmt(hc["max_cond"])}; cond(B) = '
                f'{fmt(hc["cond_B"])}).')
    return lines + ['', heat,
                    f'- |AB - BA|_F = {fmt(cm["norm"])} ({fmt(cm["relative"])} of its largest '
                    "possible value); the diagonal quarter's two orders differ by "
                    f'{fmt(cm["diagonal_gap"])} (relative RMS) on the scored maps.', '']


def _section_extrapolation(summary: dict) -> list[str]:
    ext = summary['extrapolation']
    cols = [(axis, key) for axis in AXES for key in CURVES if key in ext[axis]]
    distances = sorted({int(d) for a, k in cols for d in ext[a][k]})
    rows = [[str(d)] + [fmt(ext[a][k].get(d)) for a, k in cols] for d in distances]
    text = ('Normalised squared error sum |pred - z(j+d)|^2 / sum |z(j+d) - mean|^2 (1 = as '
            'good as the mean feature), over every start cell j of the scored images. '
            '*copy*: the start cell; *position*: the mean feature at the target position; '
            '*fitted*: unit steps of a linear one-cell step fitted on the fitting half; '
            '*learned*: steps of the operator.')
    return (['## 3. Extrapolation error against distance', '', text, '']
            + _table(['distance (cells)'] + [f'{k} {a}' for a, k in cols], rows) + [''])


def report_markdown(summary: dict) -> str:
    """The report as markdown: the run, then one section per measurement."""
    meta = summary.get('meta', {})
    H, W = summary['map_size']
    lines = ['# Heat-operator diagnostics', '']
    for key, label in (('config', 'config'), ('checkpoint', 'checkpoint'),
                       ('weights', 'weights'), ('img_size', 'input size (px)')):
        if key in meta:
            lines.append(f'- {label}: `{meta[key]}`')
    lines += [f'- images: {summary["images"]} ({summary["fit_images"]} with even index fit, '
              f'{summary["test_images"]} with odd index are scored); feature map {H} x {W} '
              f'x {summary["channels"]}', '']
    lines += _section_linearity(summary) + _section_operator(summary)
    lines += _section_extrapolation(summary)
    return '\n'.join(lines)


def write_report(diag: Diagnostics, out_dir: str) -> list[str]:
    """Write ``report.md``, ``report.json`` and the PNG plots into ``out_dir``; return the
    paths (``spectra.png`` only with an operator)."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [osp.join(out_dir, 'report.md'), osp.join(out_dir, 'report.json')]
    with open(paths[0], 'w') as f:
        f.write(report_markdown(diag.summary))
    with open(paths[1], 'w') as f:
        json.dump(_jsonable(diag.summary), f, indent=1)
    paths.append(plot_linearity(diag.summary, osp.join(out_dir, 'linearity.png')))
    paths.append(plot_extrapolation(diag.summary, osp.join(out_dir, 'extrapolation.png')))
    if diag.eigenvalues:
        paths.append(plot_spectra(diag.eigenvalues, osp.join(out_dir, 'spectra.png')))
    return paths


def _figure(width: float, height: float, ncols: int = 1):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), layout='constrained')
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def plot_linearity(summary: dict, path: str, floor: float = -1.) -> str:
    """Bars of section 1; bars below ``floor`` are cut there and labelled with their value."""
    fig, (ax, ) = _figure(7, 3.4)
    op = summary['operator']
    labels, values = [], []
    for axis in AXES:
        r = summary['linearity'][axis]
        labels += [f'd/d{axis}\nfitted', f'd/d{axis}\nposition', f'd/d{axis}\ncentred']
        values += [r['r2'], r['r2_position'], r['r2_centred']]
        if op and axis in op['step_fraction']:
            sf = op['step_fraction'][axis]
            labels += [f'd/d{axis}\n{"A" if axis == "x" else "B"} (s={op["step"]})',
                       f'd/d{axis}\nbest (s={op["step"]})']
            values += [sf['learned'], sf['best_linear']]
    shown = [max(v, floor) for v in values]
    ax.bar(range(len(values)), shown, color='tab:blue')
    for i, v in enumerate(values):
        if v < floor:
            ax.text(i, floor, f'{v:.3g}', ha='center', va='bottom', fontsize=7, color='white')
    ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.axhline(0, color='black', lw=0.8)
    ax.set_ylim(min(-0.1, min(shown) - 0.05), 1.05)
    ax.set_ylabel('explained fraction (held out)')
    fig.savefig(path, dpi=120)
    return path


def plot_extrapolation(summary: dict, path: str) -> str:
    """Error against distance (log scale), one panel per axis."""
    fig, axes = _figure(8, 3.4, ncols=2)
    styles = dict(copy=('grey', 'o--'), position=('tab:purple', 'x:'),
                  fitted=('tab:green', 's-'), learned=('tab:red', 'd-'))
    for ax, axis in zip(axes, AXES):
        for key in CURVES:
            curve = summary['extrapolation'][axis].get(key)
            if curve:
                colour, style = styles[key]
                ax.plot([int(d) for d in curve], list(curve.values()), style, color=colour,
                        label=key, ms=4)
        ax.axhline(1, color='black', lw=0.6, ls=':')
        ax.set_yscale('log')
        ax.set_xlabel(f'distance along {axis} (cells)')
        ax.set_ylabel('normalised error')
        ax.legend(fontsize=8)
    fig.savefig(path, dpi=120)
    return path


def plot_spectra(eigenvalues: dict, path: str) -> str:
    """Eigenvalues of I + A and I + B in the complex plane, with the unit circle."""
    fig, axes = _figure(8, 4, ncols=2)
    t = np.linspace(0, 2 * np.pi, 361)
    for ax, axis, name in zip(axes, AXES, ('I + A', 'I + B')):
        eig = eigenvalues[axis]
        ax.plot(np.cos(t), np.sin(t), color='black', lw=0.6)
        ax.scatter(eig.real, eig.imag, s=4, color='tab:red')
        ax.set_aspect('equal', adjustable='datalim')
        ax.set_title(f'eigenvalues of {name} (largest modulus {np.abs(eig).max():.3f})',
                     fontsize=9)
        ax.set_xlabel('real')
        ax.set_ylabel('imaginary')
    fig.savefig(path, dpi=120)
    return path
