"""The benchmark tasks: one class per question, each timed the one way and reported alike.

Modelled on MMDetection's ``BaseBenchmark`` and its ``benchmark.py --task``: a task is
built from its options, :meth:`BaseBenchmark.run` measures and returns a result (its
``setting``, its ``rows`` and a ``summary``), :meth:`BaseBenchmark.markdown` renders that
result as the table the docs quote, and ``tools/benchmark.py`` writes both with
:func:`~qbheat_mm.utils.results.write_results`, the writer of every results file.

- ``step``: one training step of QB-Heat and of its peers, QB-Heat's encoder floor and
  the parts of its step; over several image and batch sizes, the scaling grid.
- ``parts``: the parts of one QB-Heat step of a config.
- ``options``: every speed option against the plain step, its loss checked.
- ``dataloader``: whether a config's training loader keeps up with the step.
- ``gpu``: ``step`` and ``options`` at the GPU setting, on one CUDA device.

Every time comes from :func:`~qbheat_mm.benchmark.timing.time_interleaved` (medians and
paired ratios), every memory figure from :func:`~qbheat_mm.benchmark.timing.step_memory_mb`.
"""
from __future__ import annotations

import itertools
import json
import statistics
import time
from typing import Callable, Dict, Optional, Sequence

import torch

from .steps import AMP_DTYPES, OPTIMIZER_IMPLS, PEERS, build_peer, peer_step, qbheat_part_fns, \
    state_mb
from .timing import paired_ratio, step_memory_mb, time_interleaved

__all__ = ['BaseBenchmark', 'StepBenchmark', 'PartsBenchmark', 'OptionsBenchmark',
           'DataloaderBenchmark', 'GPUBenchmark', 'TASKS', 'SAME_LOSS_RTOL']

#: Largest relative loss difference from the plain step that still counts as rounding.
SAME_LOSS_RTOL = 1e-4
#: The QB-Heat config of the parts and options tasks (found in a checkout or an installed
#: package alike).
DEFAULT_CONFIG = 'qbheat_mm::qbheat_mobileformer_in1k.py'
#: The project's speed goals for a QB-Heat step (docs/en/benchmarks.md): summary key,
#: direction, bound, and what it means. A goal is met when both the ratio of medians and
#: the paired ratio meet it.
GOALS = (('mocov2_over_qbheat', '>=', 3.0, "step at least 3x faster than MoCo-v2's"),
         ('step_over_floor', '<=', 1.35, 'step at most 1.35x the encoder floor'),
         ('neck_decoder_share', '<=', 0.25, 'neck + decoder at most 25 % of the step'))


def _fmt(value, spec: str) -> str:
    return '-' if value is None else format(value, spec)


def _config_setting(s: dict) -> str:
    """The line that heads a table of one config's step: config, batch, device, rounds."""
    return (f'`{s["config"]}` | {s["batch_size"]} x 3 x {s["img_size"]} x {s["img_size"]} | '
            f'{s["device"]}, {s["torch_threads"]} threads | {s["rounds"]} interleaved rounds, '
            'medians')


class BaseBenchmark:
    """A measurement: :meth:`run` it, then render its result with :meth:`markdown`.

    Args:
        device (str): Where to run (synchronised around every timed call on CUDA).
        rounds (int): Interleaved timed rounds; medians are reported.
        warmup (int): Untimed calls of each timed function first.
    """
    name = ''
    title = ''

    def __init__(self, device: str = 'cpu', rounds: int = 5, warmup: int = 1):
        if rounds < 1:
            raise ValueError(f'rounds must be >= 1, got {rounds}')
        self.device = torch.device(device)
        self.rounds = rounds
        self.warmup = warmup

    def setting(self) -> dict:
        """What the measurement was made on (the machine and versions are added by the
        report)."""
        return dict(task=self.name, device=str(self.device), rounds=self.rounds,
                    warmup=self.warmup, torch_threads=torch.get_num_threads())

    def run(self) -> dict:
        """Measure; returns ``setting`` and the task's ``rows`` and/or ``summary``."""
        raise NotImplementedError

    @classmethod
    def markdown(cls, result: dict) -> str:
        """The result of :meth:`run` as the Markdown table the docs quote."""
        raise NotImplementedError


# ---- step: QB-Heat against its peers -----------------------------------------------------

class StepBenchmark(BaseBenchmark):
    """One training step (forward, backward, AdamW) of every peer, interleaved, with
    QB-Heat's encoder floor and (``with_parts``) its neck and decoder.

    Args:
        peers (sequence[str]): Names in :data:`~qbheat_mm.benchmark.steps.PEERS`; must
            include ``'qbheat'``, the reference of every ratio.
        img_sizes, batch_sizes (sequence[int]): One of each: the full table. More: the
            grid of every combination (the scaling table, without parts).
        with_parts (bool): Time QB-Heat's neck and decoder too (single setting only).
        seed (int): Seed of the weights and of the random batch.
        optimizer_impl, channels_last, compile, amp: The step's speed options
            (:func:`~qbheat_mm.benchmark.steps.peer_step`), for every peer; ``amp`` is a
            key of ``AMP_DTYPES``.
    """
    name = 'step'
    title = 'QB-Heat against its peers: one training step each'

    def __init__(self, peers: Sequence[str] = tuple(PEERS), img_sizes: Sequence[int] = (256, ),
                 batch_sizes: Sequence[int] = (8, ), with_parts: bool = True, seed: int = 0,
                 optimizer_impl: str = 'plain', channels_last: bool = False,
                 compile: bool = False, amp: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.peers = list(dict.fromkeys(peers))
        if 'qbheat' not in self.peers:
            raise ValueError('peers must include "qbheat", the reference of every ratio')
        unknown = sorted(set(self.peers) - set(PEERS))
        if unknown:
            raise ValueError(f'unknown peer {unknown[0]!r}; choose from {sorted(PEERS)}')
        if optimizer_impl not in OPTIMIZER_IMPLS:
            raise ValueError(f'optimizer_impl must be one of {OPTIMIZER_IMPLS}')
        if amp is not None and amp not in AMP_DTYPES:
            raise ValueError(f'amp must be one of {sorted(AMP_DTYPES)}, got {amp!r}')
        self.grid = list(itertools.product(img_sizes, batch_sizes))
        self.with_parts = with_parts and len(self.grid) == 1
        self.seed = seed
        self.options = dict(optimizer_impl=optimizer_impl, channels_last=channels_last,
                            compile=compile, amp=amp)

    def setting(self) -> dict:
        return dict(super().setting(), peers=self.peers, seed=self.seed, **self.options,
                    grid=[dict(img_size=s, batch_size=b) for s, b in self.grid])

    def run(self) -> dict:
        results = [self.compare(img_size, batch_size) for img_size, batch_size in self.grid]
        if len(results) == 1:
            return dict(setting=self.setting(), rows=results[0]['rows'],
                        summary=results[0]['summary'])
        grid = [dict(img_size=s, batch_size=b, rows=r['rows'], summary=r['summary'])
                for (s, b), r in zip(self.grid, results)]
        return dict(setting=self.setting(), grid=grid)

    def compare(self, img_size: int, batch_size: int) -> dict:
        """The rows and summary of one image size and batch size."""
        device = self.device
        torch.manual_seed(self.seed)
        x = torch.randn(batch_size, 3, img_size, img_size, device=device)
        x2 = torch.randn(batch_size, 3, img_size, img_size, device=device)
        options = dict(self.options)
        options['amp_dtype'] = AMP_DTYPES.get(options.pop('amp'))
        models, fns = {}, {}
        for name in self.peers:
            models[name] = build_peer(name, img_size, batch_size, device)
            fns[name] = peer_step(models[name], PEERS[name].kind, x, x2, **options)
        fns['floor'] = qbheat_part_fns(models['qbheat'], x)['encoder_quarter']
        # Every QB-Heat on the reference's encoder (the default and its lighter-decoder
        # variant) is measured against the same floor, and its parts are timed.
        variants = [n for n in self.peers if PEERS[n].kind == 'qbheat'
                    and PEERS[n].backbone == PEERS['qbheat'].backbone]
        if self.with_parts:
            for name in variants:
                parts = qbheat_part_fns(models[name], x)
                fns[f'{name}:neck'], fns[f'{name}:decoder'] = parts['neck'], parts['decoder']
        timings = time_interleaved(fns, device, self.rounds, self.warmup)
        ref, ref_times = timings['qbheat']['median_ms'], timings['qbheat']['times_ms']
        rows = {}
        for name, timing in timings.items():
            ms = timing['median_ms']
            owner = name.split(':')[0] if name != 'floor' else 'qbheat'
            row = dict(ms=ms, times_ms=timing['times_ms'], ratio_to_qbheat=ms / ref,
                       paired_ratio_to_qbheat=paired_ratio(timing['times_ms'], ref_times),
                       images_per_s=batch_size / (ms / 1e3) if name in self.peers else None)
            if name in self.peers:
                model = models[name]
                row.update(label=PEERS[name].label, backbone=PEERS[name].backbone,
                           params_m=sum(p.numel() for p in model.parameters()
                                        if p.requires_grad) / 1e6,
                           state_mb=state_mb(model),
                           step_memory_mb=step_memory_mb(fns[name], device),
                           loss=float(fns[name]()))
            else:
                part = 'encoder alone on the visible quarter' if name == 'floor' else (
                    f'its {name.split(":")[1]}')
                row.update(label=f'{PEERS[owner].label}: {part} (fwd + bwd)',
                           backbone=PEERS[owner].backbone)
            rows[name] = row
        goals = {name: self._goals(rows, name) for name in variants}
        return dict(rows=rows, summary=dict(goals['qbheat'], variants=goals))

    def _goals(self, rows: dict, name: str) -> dict:
        """QB-Heat variant ``name``'s step over the encoder floor, MoCo-v2's step over
        its step and (with parts) its neck + decoder share of its step; each as a ratio
        of medians and as a paired ratio."""
        step, step_times = rows[name]['ms'], rows[name]['times_ms']
        goals = dict(step_over_floor=step / rows['floor']['ms'],
                     paired_step_over_floor=paired_ratio(step_times,
                                                         rows['floor']['times_ms']))
        if 'mocov2' in rows:
            goals['mocov2_over_qbheat'] = rows['mocov2']['ms'] / step
            goals['paired_mocov2_over_qbheat'] = paired_ratio(rows['mocov2']['times_ms'],
                                                              step_times)
        if self.with_parts:
            neck, decoder = rows[f'{name}:neck'], rows[f'{name}:decoder']
            goals['neck_decoder_share'] = (neck['ms'] + decoder['ms']) / step
            parts = [a + b for a, b in zip(neck['times_ms'], decoder['times_ms'])]
            goals['paired_neck_decoder_share'] = paired_ratio(parts, step_times)
        met = {}
        for key, direction, bound, _ in GOALS:
            if key in goals:
                values = (goals[key], goals[f'paired_{key}'])
                met[key] = all(v >= bound if direction == '>=' else v <= bound
                               for v in values)
        others = [rows[n]['step_memory_mb'] for n in ('mocov2', 'spark') if n in rows]
        if others and rows[name]['step_memory_mb'] is not None and None not in others:
            met['step_memory'] = rows[name]['step_memory_mb'] < min(others)
        goals['met'] = met
        return goals

    @classmethod
    def markdown(cls, result: dict) -> str:
        s = result['setting']
        head = (f'{s["rounds"]} interleaved rounds, medians | {s["device"]}, '
                f'{s["torch_threads"]} threads | AdamW {s["optimizer_impl"]}'
                + (', channels-last' if s['channels_last'] else '')
                + (', torch.compile' if s['compile'] else '')
                + (f', autocast {s["amp"]}' if s['amp'] else ''))
        if 'grid' in result:
            return head + '\n\n' + cls._grid_markdown(result['grid'])
        g = s['grid'][0]
        return (f'{g["batch_size"]} x 3 x {g["img_size"]} x {g["img_size"]} | {head}\n\n'
                + cls._table(result))

    @staticmethod
    def _table(result: dict) -> str:
        lines = ['| | backbone | ms per step | images/s | / QB-Heat | / QB-Heat, paired '
                 '| step memory (MiB) | weights + grads + AdamW (MiB) |',
                 '|---|---|---|---|---|---|---|---|']
        for row in result['rows'].values():
            lines.append(f'| {row["label"]} | {row["backbone"]} | {row["ms"]:.0f} | '
                         f'{_fmt(row["images_per_s"], ".1f")} | '
                         f'{row["ratio_to_qbheat"]:.2f}x | '
                         f'{row["paired_ratio_to_qbheat"]:.2f}x | '
                         f'{_fmt(row.get("step_memory_mb"), ".0f")} | '
                         f'{_fmt(row.get("state_mb"), ".0f")} |')
        notes = []
        for name, g in result['summary']['variants'].items():
            label = result['rows'][name]['label']
            notes.append(f'{label}: step / encoder floor = {g["step_over_floor"]:.2f} '
                         f'(paired {g["paired_step_over_floor"]:.2f})')
            if 'mocov2_over_qbheat' in g:
                notes.append(f'MoCo-v2 / {label} = {g["mocov2_over_qbheat"]:.2f} '
                             f'(paired {g["paired_mocov2_over_qbheat"]:.2f})')
            if 'neck_decoder_share' in g:
                notes.append(f'{label}: neck + decoder = {100 * g["neck_decoder_share"]:.1f} '
                             f'% of the step (paired '
                             f'{100 * g["paired_neck_decoder_share"]:.1f} %)')
        text = '\n'.join(lines) + '\n\n' + '\n'.join(f'- {n}' for n in notes)
        goals = [(name, g['met']) for name, g in result['summary']['variants'].items()
                 if g.get('met')]
        if goals:
            meaning = dict((key, what) for key, _, _, what in GOALS)
            meaning['step_memory'] = "step memory below MoCo-v2's and SparK's"
            keys = list(dict.fromkeys(k for _, met in goals for k in met))
            head = ' | '.join(result['rows'][name]['label'] for name, _ in goals)
            text += (f'\n\n| goal | {head} |\n|---|' + '---|' * len(goals) + '\n'
                     + '\n'.join(f'| {meaning[k]} | ' + ' | '.join(
                         '-' if k not in met else 'met' if met[k] else '**not met**'
                         for _, met in goals) + ' |' for k in keys))
        return text

    @staticmethod
    def _grid_markdown(grid: list) -> str:
        names = [n for n in grid[0]['rows'] if n != 'floor']
        others = [n for n in names if n != 'qbheat']
        lines = ['| image | batch | ' + ' | '.join(f'{n} ms' for n in names)
                 + ' | floor ms | step / floor | '
                 + ' | '.join(f'{n} / qbheat' for n in others) + ' |',
                 '|' + '---|' * (4 + len(names) + len(others))]
        for entry in grid:
            rows, g = entry['rows'], entry['summary']
            cells = [f'{rows[n]["ms"]:.0f}' for n in names]
            ratios = [f'{rows[n]["ratio_to_qbheat"]:.2f}x '
                      f'({rows[n]["paired_ratio_to_qbheat"]:.2f}x)' for n in others]
            lines.append(f'| {entry["img_size"]} | {entry["batch_size"]} | '
                         + ' | '.join(cells) + f' | {rows["floor"]["ms"]:.0f} | '
                         f'{g["step_over_floor"]:.2f} ({g["paired_step_over_floor"]:.2f}) | '
                         + ' | '.join(ratios) + ' |')
        return '\n'.join(lines)


# ---- parts: one QB-Heat step of a config -------------------------------------------------

def _build_qbheat(config: str, cfg_options: Optional[dict], device: torch.device,
                  seed: int) -> torch.nn.Module:
    from qbheat_mm.apis import init_model
    torch.manual_seed(seed)
    return init_model(config, device=device, cfg_options=cfg_options).train()


class PartsBenchmark(BaseBenchmark):
    """The parts of one QB-Heat step of ``config`` (forward + backward each, no
    optimizer), interleaved: the whole loss, the encoder on the visible quarter and on the
    full image, the neck and the decoder (see
    :func:`~qbheat_mm.benchmark.steps.qbheat_part_fns`)."""
    name = 'parts'
    title = 'The parts of one QB-Heat step'
    PARTS = ('step', 'encoder_quarter', 'encoder_full', 'neck', 'decoder')

    def __init__(self, config: str = DEFAULT_CONFIG, cfg_options: Optional[dict] = None,
                 img_size: int = 256, batch_size: int = 8, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.config, self.cfg_options = config, cfg_options
        self.img_size, self.batch_size, self.seed = img_size, batch_size, seed

    def setting(self) -> dict:
        return dict(super().setting(), config=self.config, img_size=self.img_size,
                    batch_size=self.batch_size, seed=self.seed)

    def run(self) -> dict:
        model = _build_qbheat(self.config, self.cfg_options, self.device, self.seed)
        x = torch.randn(self.batch_size, 3, self.img_size, self.img_size, device=self.device)
        parts = qbheat_part_fns(model, x)  # checks the geometry first
        params = [p for p in model.parameters() if p.requires_grad]

        def step():
            for p in params:
                p.grad = None
            sum(v for k, v in model.loss(x).items() if 'loss' in k).backward()

        timings = time_interleaved(dict(step=step, **parts), self.device, self.rounds,
                                   self.warmup)
        ref, ref_times = timings['step']['median_ms'], timings['step']['times_ms']
        rows = {name: dict(ms=t['median_ms'], times_ms=t['times_ms'],
                           share_of_step=t['median_ms'] / ref,
                           paired_share_of_step=paired_ratio(t['times_ms'], ref_times))
                for name, t in timings.items()}
        summary = dict(
            encoder_quarter_over_full=rows['encoder_quarter']['ms'] / rows['encoder_full']['ms'],
            paired_encoder_quarter_over_full=paired_ratio(
                rows['encoder_quarter']['times_ms'], rows['encoder_full']['times_ms']),
            neck_share_of_step=rows['neck']['share_of_step'],
            neck_decoder_share_of_step=(rows['neck']['ms'] + rows['decoder']['ms']) / ref,
            images_per_s=self.batch_size / (ref / 1e3),
            step_memory_mb=step_memory_mb(step, self.device))
        return dict(setting=self.setting(), rows=rows, summary=summary)

    @classmethod
    def markdown(cls, result: dict) -> str:
        s, g = result['setting'], result['summary']
        lines = [_config_setting(s), '',
                 '| part (forward + backward) | ms | share of the step | paired |',
                 '|---|---|---|---|']
        for name, row in result['rows'].items():
            lines.append(f'| {name} | {row["ms"]:.1f} | {100 * row["share_of_step"]:.1f} % '
                         f'| {100 * row["paired_share_of_step"]:.1f} % |')
        lines += ['', f'- encoder on the visible quarter / on the full image: '
                  f'{g["encoder_quarter_over_full"]:.3f} (paired '
                  f'{g["paired_encoder_quarter_over_full"]:.3f})',
                  f'- neck + decoder: {100 * g["neck_decoder_share_of_step"]:.1f} % of the step',
                  f'- {g["images_per_s"]:.1f} images/s; step memory '
                  f'{_fmt(g["step_memory_mb"], ".0f")} MiB']
        return '\n'.join(lines)


# ---- options: every speed option against the plain step ----------------------------------

class OptionsBenchmark(BaseBenchmark):
    """Each speed option of a QB-Heat training step against the plain step, side by side.

    Every variant is its own copy of the same model (same seed, same weights) on the same
    batch; one step of each (forward, backward, AdamW) is timed per round. The variants:
    ``plain`` (AdamW's single-tensor loop), ``decode every quarter`` (the path before the
    decoder skipped the visible quarter of a masked loss), ``foreach AdamW``, ``fused
    AdamW``, ``channels-last`` and, on request, ``torch.compile`` and autocast. Every
    option but autocast computes the same step: :meth:`run` raises if a first loss differs
    from the plain one by more than :data:`SAME_LOSS_RTOL`.
    """
    name = 'options'
    title = 'Speed options of a QB-Heat step against the plain step'

    def __init__(self, config: str = DEFAULT_CONFIG, cfg_options: Optional[dict] = None,
                 img_size: int = 256, batch_size: int = 8, compile: bool = False,
                 amp: Optional[str] = None, same_loss_rtol: float = SAME_LOSS_RTOL, **kwargs):
        super().__init__(**kwargs)
        if amp is not None and amp not in AMP_DTYPES:
            raise ValueError(f'amp must be one of {sorted(AMP_DTYPES)}, got {amp!r}')
        self.config, self.cfg_options = config, cfg_options
        self.img_size, self.batch_size = img_size, batch_size
        self.compile, self.amp, self.same_loss_rtol = compile, amp, same_loss_rtol

    def setting(self) -> dict:
        return dict(super().setting(), config=self.config, img_size=self.img_size,
                    batch_size=self.batch_size, compile=self.compile, amp=self.amp)

    def variants(self) -> Dict[str, dict]:
        """Name -> keyword arguments of :func:`peer_step` (``decode_all`` handled apart)."""
        table = {'plain': dict(), 'decode every quarter': dict(decode_all=True),
                 'foreach AdamW': dict(optimizer_impl='foreach'),
                 'fused AdamW': dict(optimizer_impl='fused'),
                 'channels-last': dict(channels_last=True)}
        if self.compile:
            table['torch.compile'] = dict(compile=True)
        if self.amp:
            table[f'autocast {self.amp}'] = dict(amp_dtype=AMP_DTYPES[self.amp])
        return table

    def run(self) -> dict:
        torch.manual_seed(1)
        x = torch.randn(self.batch_size, 3, self.img_size, self.img_size, device=self.device)
        steps, first_loss = {}, {}
        for name, options in self.variants().items():
            model = _build_qbheat(self.config, self.cfg_options, self.device, seed=0)
            loss_fn = None
            if options.pop('decode_all', False):
                def loss_fn(model=model):
                    return model.loss(x, decode_all=True)
            steps[name] = peer_step(model, 'qbheat', x, loss_fn=loss_fn, **options)
            first_loss[name] = float(steps[name]())  # also the warm-up (and compilation)
        timings = time_interleaved(steps, self.device, self.rounds, warmup=0)
        ref_ms, ref_loss = timings['plain']['median_ms'], first_loss['plain']
        ref_times = timings['plain']['times_ms']
        rows = {}
        for name, timing in timings.items():
            diff = abs(first_loss[name] - ref_loss) / abs(ref_loss)
            rows[name] = dict(ms=timing['median_ms'], times_ms=timing['times_ms'],
                              speedup=ref_ms / timing['median_ms'],
                              paired_speedup=paired_ratio(ref_times, timing['times_ms']),
                              first_loss=first_loss[name], loss_rel_diff=diff,
                              same_loss=name.startswith('autocast')
                              or diff <= self.same_loss_rtol)
        bad = [name for name, row in rows.items() if not row['same_loss']]
        if bad:
            raise RuntimeError(f'{", ".join(bad)}: first loss differs from the plain step by '
                               f'more than {self.same_loss_rtol:g} (relative)')
        return dict(setting=self.setting(), rows=rows)

    @classmethod
    def markdown(cls, result: dict) -> str:
        s = result['setting']
        lines = [_config_setting(s), '',
                 '| variant | ms per step | speed-up over plain | paired | first loss, rel. diff |',
                 '|---|---|---|---|---|']
        for name, row in result['rows'].items():
            lines.append(f'| {name} | {row["ms"]:.0f} | {row["speedup"]:.2f}x | '
                         f'{row["paired_speedup"]:.2f}x | {row["loss_rel_diff"]:.1e} |')
        return '\n'.join(lines)


# ---- dataloader: can the loader feed the step? -------------------------------------------

class DataloaderBenchmark(BaseBenchmark):
    """Seconds per batch of a config's ``train_dataloader``, built as MMEngine's Runner
    builds it, each batch followed by the model's data preprocessor; against the step
    rate (``step_images_per_s``, or QB-Heat's row of a ``step`` task's results.json).

    The first batch (worker start-up) is not timed. The loader runs here without a model
    stepping next to it: on a machine with few cores a loader only a little faster than
    the step will not keep up in training.
    """
    name = 'dataloader'
    title = 'Can the training loader feed the step?'

    def __init__(self, config: str, cfg_options: Optional[dict] = None, batches: int = 20,
                 num_workers: Optional[int] = None, batch_size: Optional[int] = None,
                 step_images_per_s: Optional[float] = None,
                 step_results: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        if step_results is not None:
            if step_images_per_s is not None:
                raise ValueError('give the step rate once: step_images_per_s or '
                                 'step_results')
            with open(step_results) as f:
                rows = json.load(f).get('rows', {})
            if 'qbheat' not in rows:
                raise ValueError(f'{step_results} has no QB-Heat row: pass the results.json '
                                 'of a single-setting `tools/benchmark.py --task step` run')
            step_images_per_s = rows['qbheat']['images_per_s']
        self.config, self.cfg_options, self.batches = config, cfg_options, batches
        self.num_workers, self.batch_size = num_workers, batch_size
        self.step_images_per_s = step_images_per_s

    def setting(self) -> dict:
        return dict(super().setting(), config=self.config, batches=self.batches)

    def run(self) -> dict:
        from mmengine.registry import init_default_scope
        from mmengine.runner import Runner

        from mmpretrain.registry import MODELS
        from qbheat_mm.apis.inference import read_config
        cfg = read_config(self.config, self.cfg_options)
        if self.num_workers is not None:
            cfg.train_dataloader.num_workers = self.num_workers
            if self.num_workers == 0:
                cfg.train_dataloader.persistent_workers = False
        if self.batch_size is not None:
            cfg.train_dataloader.batch_size = self.batch_size
        init_default_scope(cfg.get('default_scope', 'mmpretrain'))
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
        preprocessor = MODELS.build(cfg.model.data_preprocessor)
        it = iter(loader)
        start = time.perf_counter()
        next(it)  # worker start-up and the first batch: not timed
        first_s = time.perf_counter() - start
        times, images = [], 0
        for _ in range(self.batches):
            start = time.perf_counter()
            inputs = preprocessor(next(it), training=True)['inputs']
            times.append(time.perf_counter() - start)
            images += (inputs[0] if isinstance(inputs, list) else inputs).shape[0]
        rate = images / sum(times)
        step = self.step_images_per_s
        summary = dict(batch_size=images // self.batches,
                       num_workers=cfg.train_dataloader.get('num_workers', 0),
                       first_batch_s=first_s, median_batch_s=statistics.median(times),
                       mean_batch_s=sum(times) / self.batches, images_per_s=rate,
                       step_images_per_s=step,
                       keeps_up=None if step is None else rate >= step)
        return dict(setting=self.setting(), summary=summary)

    @classmethod
    def markdown(cls, result: dict) -> str:
        s, g = result['setting'], result['summary']
        lines = [f'`{s["config"]}` | batch {g["batch_size"]} | {g["num_workers"]} workers | '
                 f'{s["batches"]} batches after the first ({g["first_batch_s"]:.2f} s)', '',
                 f'- loader + preprocessor: {g["images_per_s"]:.1f} images/s '
                 f'({1e3 * g["mean_batch_s"]:.0f} ms per batch, median '
                 f'{1e3 * g["median_batch_s"]:.0f})']
        if g['step_images_per_s'] is not None:
            verdict = 'keeps up with' if g['keeps_up'] else 'is slower than'
            lines.append(f'- training step: {g["step_images_per_s"]:.1f} images/s: the loader '
                         f'{verdict} the step '
                         f'({g["images_per_s"] / g["step_images_per_s"]:.2f}x)')
        return '\n'.join(lines)


# ---- gpu: the GPU table in one run -------------------------------------------------------

class GPUBenchmark(BaseBenchmark):
    """The ``step`` task with every peer at 256 px (bf16 autocast, fused AdamW,
    channels-last) and the ``options`` task at the same setting with bf16 added, on one
    CUDA device; the device is named in the result."""
    name = 'gpu'
    title = 'QB-Heat on one GPU: its peers and its speed options'

    def __init__(self, batch_size: int = 256, img_size: int = 256,
                 config: str = DEFAULT_CONFIG, peers: Sequence[str] = tuple(PEERS), **kwargs):
        kwargs.setdefault('device', 'cuda')
        super().__init__(**kwargs)
        if self.device.type != 'cuda' or not torch.cuda.is_available():
            raise RuntimeError('no CUDA device: the gpu task measures the GPU table only')
        self.batch_size, self.img_size, self.config = batch_size, img_size, config
        self.peers = list(peers)

    def run(self) -> dict:
        torch.backends.cudnn.benchmark = True  # what the configs' env_cfg sets
        common = dict(device=str(self.device), rounds=self.rounds, warmup=self.warmup)
        step = StepBenchmark(peers=self.peers, img_sizes=[self.img_size],
                             batch_sizes=[self.batch_size], optimizer_impl='fused',
                             channels_last=True, amp='bf16', **common)
        options = OptionsBenchmark(self.config, img_size=self.img_size,
                                   batch_size=self.batch_size, amp='bf16', **common)
        setting = dict(self.setting(), gpu=torch.cuda.get_device_name(self.device),
                       cuda=torch.version.cuda)
        return dict(setting=setting, step=step.run(), options=options.run())

    @classmethod
    def markdown(cls, result: dict) -> str:
        s = result['setting']
        return (f'{s["gpu"]}, CUDA {s["cuda"]}\n\n' + StepBenchmark.markdown(result['step'])
                + '\n\nSpeed options (fp32 unless named):\n\n'
                + OptionsBenchmark.markdown(result['options']))


TASKS: Dict[str, Callable[..., BaseBenchmark]] = {
    cls.name: cls for cls in (StepBenchmark, PartsBenchmark, OptionsBenchmark,
                              DataloaderBenchmark, GPUBenchmark)}
