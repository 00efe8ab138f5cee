"""The table of a plan's rows: values over seeds, differences against the spread, and the
files ``results.md``, ``results.csv``, ``results.json`` and the plots."""
from __future__ import annotations

import csv
import os.path as osp
from statistics import mean

from qbheat_mm.utils.results import write_results

from .plan import columns

__all__ = ['summarise', 'differences', 'markdown', 'write_csv', 'report']


def _stage_value(stage: dict, col: dict) -> float | None:
    if col['metric'] is None:
        value = stage.get('value')
    else:
        value = stage.get('metrics', {}).get(col['metric'])
    return None if value is None else value * col['scale']


def summarise(plan: dict, rows: list[dict]) -> list[dict]:
    """One entry per row of the plan: per column the values over seeds, their mean and
    spread (max - min, None with one seed); the pre-training minutes; the k-NN monitor's
    checks, images seen and training minutes; the validation curves."""
    table = []
    pretrain = dict(key='pretrain', evaluation='pretrain', metric=None, scale=1 / 60)
    for pre in plan['pretrainings']:
        runs = [r for r in rows if r['pretraining'] == pre['name']]
        entry = dict(name=pre['name'], label=pre['label'], axes=pre.get('axes', {}),
                     cells={})
        for col in columns(plan) + [pretrain]:
            found = []
            for r in runs:
                stage = r['stages'].get(col['evaluation'])
                if stage is None:
                    continue
                value = (stage['seconds'] / 60 if col['key'] == 'pretrain'
                         else _stage_value(stage, col))
                if value is not None:
                    found.append((r['seed'], value, stage.get('dir', r.get('dir', ''))))
            values = [v for _, v, _ in found]
            entry['cells'][col['key']] = dict(
                values=values, seeds=[s for s, _, _ in found], dirs=[d for _, _, d in found],
                mean=mean(values) if values else None,
                spread=max(values) - min(values) if len(values) > 1 else None)
        monitored = [(r['seed'], r['stages']['pretrain']['knn_monitor']) for r in runs
                     if r['stages'].get('pretrain', {}).get('knn_monitor')]
        entry['taken_from'] = sorted(f"seed {r['seed']}: {r['source']}" for r in runs
                                     if r.get('source'))
        entry['knn_monitor'] = [m for _, m in monitored]
        entry['monitor_seeds'] = [seed for seed, _ in monitored]
        # Images seen and training minutes at the last check (after the last iteration).
        for key, index in (('images_seen', 2), ('train_minutes', 3)):
            values = [m[-1][index] for _, m in monitored
                      if len(m[-1]) > index and m[-1][index] is not None]
            entry[key] = dict(values=values, mean=mean(values) if values else None)
        entry['curves'] = {ev['name']: [(r['seed'], r['stages'][ev['name']].get('curve', []))
                                        for r in runs if ev['name'] in r['stages']]
                           for ev in plan['evaluations'] if ev['kind'] == 'validation'}
        entry['commits'] = sorted({c for r in runs for c in
                                   [r.get('commit')] + [s.get('commit')
                                                        for s in r['stages'].values()] if c})
        table.append(entry)
    return table


def _difference(a: dict, b: dict) -> dict:
    """``a`` minus ``b`` (two cells): the difference of the means, the larger spread and
    whether the difference exceeds it (None when either has one seed)."""
    spread = (max(a['spread'], b['spread'])
              if a['spread'] is not None and b['spread'] is not None else None)
    delta = a['mean'] - b['mean']
    return dict(delta=delta, spread=spread, seeds=min(len(a['values']), len(b['values'])),
                exceeds=None if spread is None else abs(delta) > spread)


def differences(plan: dict, table: list[dict]) -> list[dict]:
    """The plan's ``reference`` minus every other row, and every row minus its
    ``contrast`` twin, per headline column, each against the seed spread of both rows."""
    by_name = {t['name']: t for t in table}
    cols = columns(plan, headline_only=True)
    pairs = []
    reference = by_name.get(plan.get('reference'))
    if reference is not None:
        pairs += [('reference', reference, t, t) for t in table if t is not reference]
    contrast = plan.get('contrast')
    if contrast:
        axis, minus = contrast['axis'], contrast['minus']
        for t in table:
            if axis not in t['axes'] or t['axes'][axis] == minus:
                continue
            twin_axes = dict(t['axes'], **{axis: minus})
            twin = next((u for u in table if u['axes'] == twin_axes), None)
            if twin is not None:
                pairs.append(('contrast', t, twin, t))
    out = []
    for group, a, b, row in pairs:
        for col in cols:
            ca, cb = a['cells'][col['key']], b['cells'][col['key']]
            if ca['mean'] is None or cb['mean'] is None:
                continue
            out.append(dict(_difference(ca, cb), group=group, row=row['name'],
                            label=row['label'],
                            minuend=a['name'], subtrahend=b['name'], column=col['key'],
                            col_label=col['label']))
    return out


def _cell(cell: dict, work_dir: str, digits: int) -> str:
    if cell['mean'] is None:
        return 'not run'
    links = [f'[{v:.{digits}f}]({osp.relpath(d, work_dir)})'
             for v, d in zip(cell['values'], cell['dirs'])]
    if len(links) == 1:
        return links[0]
    return f"{cell['mean']:.{digits}f} (spread {cell['spread']:.{digits}f}: {', '.join(links)})"


def _filled(table: list[dict], cols: list[dict]) -> list[dict]:
    """The columns some row has a value in."""
    return [c for c in cols if any(t['cells'][c['key']]['mean'] is not None for t in table)]


def _features_tables(plan: dict, table: list[dict], work_dir: str) -> list[str]:
    """For each ``features`` evaluation: every probe at every layer and regime, one line
    per row, layer and regime; and the evidence that the probes converged."""
    lines = []
    for ev in [e for e in plan['evaluations'] if e['kind'] == 'features']:
        facets = ev['facets']
        head = ['pre-training', 'layer', 'BatchNorm regime'] + [
            facets['probe_labels'][p] for p in facets['probes']]
        lines += ['', f"{ev['label']}: every probe, layer and BatchNorm regime (headline: "
                  f"layer `{facets['headline_layer']}`, regime `{facets['headline_regime']}`; "
                  f"{facets['description']}):", '',
                  '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
        for t in table:
            for layer in facets['layers']:
                for regime in facets['regimes']:
                    cells = [_cell(t['cells'][f"{ev['name']}/{p}/{layer}/{regime}"], work_dir,
                                   ev['digits']) for p in facets['probes']]
                    if all(c == 'not run' for c in cells):
                        continue
                    lines.append(f"| {t['label']} | {layer} | {regime} | " + ' | '.join(cells)
                                 + ' |')
    return lines


def markdown(plan: dict, table: list[dict], work_dir: str,
             evidence: list[str] | None = None) -> str:
    cols = _filled(table, columns(plan, headline_only=True)) or columns(plan, True)
    cols += _filled(table, [c for c in columns(plan) if c['metric'] is not None
                            and c['evaluation'] in {e['name'] for e in plan['evaluations']
                                                    if e['kind'] == 'validation'}])
    seeds = sorted({s for t in table for c in t['cells'].values() for s in c['seeds']})
    with_images = any(t['images_seen']['mean'] is not None for t in table)
    head = (['pre-training'] + [c['label'] for c in cols] + ['pre-training time (min)']
            + (['training min, checks left out (mean)', 'images seen (mean)']
               if with_images else []))
    lines = [f"Seeds: {', '.join(map(str, seeds)) or 'none finished'}. Each number links "
             'to the run directory whose log it comes from; with several seeds a cell '
             'shows the mean, the spread (max - min) and each seed.', '',
             '| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    random_rows = {p['name'] for p in plan['pretrainings'] if p.get('config') is None}
    for t in table:
        cells = [_cell(t['cells'][c['key']], work_dir, c['digits']) for c in cols]
        pre = t['cells']['pretrain']
        cells.append('-' if pre['mean'] is None and t['name'] in random_rows
                     else _cell(pre, work_dir, 1))
        if with_images:
            minutes, seen = t['train_minutes']['mean'], t['images_seen']['mean']
            cells.append('-' if minutes is None else f'{minutes:.1f}')
            cells.append('-' if seen is None else f'{seen:,.0f}')
        lines.append(f"| {t['label']} | " + ' | '.join(cells) + ' |')
    lines += _features_tables(plan, table, work_dir)
    if evidence:
        lines += [''] + evidence
    taken = [f"{t['label']}, {source}" for t in table for source in t.get('taken_from', [])]
    if taken:
        lines += ['', 'Rows made in an earlier session and taken from its results file '
                  '(`--runs-from`; each keeps the commit of the run that made it):', '']
        lines += [f'- {line}' for line in taken]
    lines += _differences_lines(plan, table)
    monitored = [t for t in table if t['knn_monitor']]
    if monitored:
        lines += ['', 'k-NN top-1 of the encoder during pre-training (KNNMonitorHook; '
                  'iteration: top-1 %, first seed; every seed in curves.png):', '']
        for t in monitored:
            points = ', '.join(f'{int(p[0])}: {p[1]:.1f}' for p in t['knn_monitor'][0])
            lines.append(f"- {t['label']}: {points}")
    commits = sorted({c for t in table for c in t['commits']})
    if commits:
        lines += ['', 'Stages run at commit ' + ', '.join(f'`{c}`' for c in commits)
                  + (' (each stage keeps the commit it ran at; the table may join runs of '
                     'several sessions, see `--runs-from`).' if len(commits) > 1 else '.')]
    return '\n'.join(lines) + '\n'


def _differences_lines(plan: dict, table: list[dict]) -> list[str]:
    diffs = differences(plan, table)
    if not diffs:
        return []
    cols = [c for c in columns(plan, headline_only=True)
            if any(d['column'] == c['key'] for d in diffs)]
    titles = {}
    if plan.get('reference'):
        reference = next(t['label'] for t in table if t['name'] == plan['reference'])
        titles['reference'] = f'{reference} minus each other row'
    if plan.get('contrast'):
        titles['contrast'] = ('Each row minus its twin with {axis} = {minus}'
                              .format(**plan['contrast']))
    lines = []
    for group, title in titles.items():
        mine = [d for d in diffs if d['group'] == group]
        if not mine:
            continue
        lines += ['', f'{title} (difference of the means; "yes" where it exceeds the seed '
                  'spread of both rows, "one seed" where a spread is unknown):', '',
                  '| row | ' + ' | '.join(c['label'] for c in cols) + ' |',
                  '|' + '---|' * (len(cols) + 1)]
        for t in table:
            row = {d['column']: d for d in mine if d['row'] == t['name']}
            if not row:
                continue
            cells = []
            for c in cols:
                d = row.get(c['key'])
                if d is None:
                    cells.append('-')
                    continue
                verdict = ('one seed' if d['exceeds'] is None
                           else 'yes' if d['exceeds'] else 'no')
                cells.append(f"{d['delta']:+.{c['digits']}f} ({verdict})")
            lines.append(f"| {t['label']} | " + ' | '.join(cells) + ' |')
    return lines


def write_csv(plan: dict, table: list[dict], path: str) -> None:
    names = [c['key'] for c in columns(plan)] + ['pretrain_minutes']
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['pretraining', 'seeds'] + names + [f'{n}_spread' for n in names])
        for t in table:
            cells = [t['cells'][c['key']] for c in columns(plan)] + [t['cells']['pretrain']]
            seeds = sorted({s for c in cells for s in c['seeds']})
            fmt = lambda v: '' if v is None else f'{v:.4f}'  # noqa: E731
            writer.writerow([t['name'], ' '.join(map(str, seeds))]
                            + [fmt(c['mean']) for c in cells]
                            + [fmt(c['spread']) for c in cells])


def report(plan: dict, rows: list[dict], work_dir: str, command: list[str],
           report_only: bool = False) -> list[dict]:
    """Write results.md, results.csv, results.json (with the provenance of ``command``)
    and the plots to ``work_dir``; returns the table."""
    from qbheat_mm.evaluation.probe_protocol import evidence_summary

    from .plots import bar_chart, curves_chart, validation_chart

    table = summarise(plan, rows)
    evidence = evidence_summary(plan, rows)
    text = markdown(plan, table, work_dir, evidence)
    write_csv(plan, table, osp.join(work_dir, 'results.csv'))
    write_results(work_dir, dict(plan=plan, runs=rows, table=table,
                                 differences=differences(plan, table)),
                  text, plan['title'], command, report_only)
    bar_chart(plan, table, osp.join(work_dir, 'results.png'))
    curves_chart(plan, table, osp.join(work_dir, 'curves.png'))
    validation_chart(plan, table, osp.join(work_dir, 'validation.png'))
    print(text)
    return table
