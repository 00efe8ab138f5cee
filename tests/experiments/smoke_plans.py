"""Plans shrunk to smoke scale, as the pipeline tests run them: the real configs with a
tiny Mobile-Former, tiny generated data and a few iterations per stage."""
import importlib.util
from pathlib import Path

from mmengine.config import Config
from tool_loader import load_tool

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / 'configs' / 'experiments'


def run(argv):
    return load_tool('run_experiment.py').main([str(a) for a in argv])


def _tiny_detectors():
    spec = importlib.util.spec_from_file_location(
        'tiny_detectors_for_pipeline', REPO / 'tests' / 'det' / 'tiny_detectors.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _walk(node, visit):
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _walk(value, visit)


def shrink(config: str, tmp: Path) -> str:
    """The real config with a tiny backbone, tiny data in ``tmp``, a few iterations."""
    tiny = _tiny_detectors()
    cfg = Config.fromfile(REPO / config)
    model = cfg.model
    if model.type in ('RetinaNet', 'DETR', 'ConditionalDETR'):
        tiny.shrink_to_tiny(cfg)
    else:
        model.backbone.arch = tiny.TINY_ARCH
    width, tokens = 192, 16  # TINY_ARCH: expanded stride-32 map, token width
    if model.type == 'QBHeat':
        model.neck.in_channels = model.decoder.in_channels = width
        model.decoder.update(embed_dims=32, depth=1, num_heads=2)
    elif model.type == 'MoCo':
        model.neck.update(in_channels=width, hid_channels=32)
    elif model.type == 'ImageClassifier' and 'head' in model:
        if model.neck:
            model.neck[1].input_features = width
        model.head.in_channels = width
        if model.head.type == 'MobileFormerClsHead':
            model.head.update(token_dims=tokens, hidden_channels=32)
        if model.head.type == 'TransformerProbeHead':
            model.head.update(embed_dims=32, num_heads=2)
            if 'token_dims' in model.head:
                model.head.token_dims = tokens
    if 'probe_protocol' in cfg:
        cfg.probe_protocol.linear.update(l2_grid=[1e-2, 1.0], folds=2)
        cfg.probe_protocol.tran1.update(head=dict(embed_dims=16, num_heads=2, norm_input=True),
                                        max_epochs=3, patience=2)

    def visit(node):
        if node.get('type') == 'LaptopObjectsDataset':  # the pool has a seed of its own
            node.update(data_root=str(tmp / f"laptop{node.get('seed', '')}"), img_size=64,
                        num_train=2, num_val=1)
        if node.get('type') == 'RandomResizedCrop':
            node['scale'] = 64
        if node.get('type') == 'DemoCocoDataset':
            node.update(data_root=str(tmp / 'coco'),
                        demo_settings=dict(num_train=8, num_val=4, image_size=(64, 80),
                                           object_size=(20, 48), seed=1))
        if node.get('type') == 'CocoMetric':
            node['ann_file'] = str(tmp / 'coco' / 'annotations' / 'instances_val.json')

    _walk(cfg._cfg_dict, visit)
    iter_based = cfg.get('train_cfg') and cfg.train_cfg.get('type') == 'IterBasedTrainLoop'
    if cfg.get('train_cfg'):
        if iter_based:
            cfg.train_cfg.max_iters = 2
        else:
            cfg.train_cfg.max_epochs = 1
        if 'val_interval' in cfg.train_cfg:
            cfg.train_cfg.val_interval = 2 if iter_based else 1
        cfg.default_hooks.checkpoint.interval = 2 if iter_based else 1
        cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
        if model.type not in ('RetinaNet', 'DETR', 'ConditionalDETR'):
            cfg.train_dataloader.batch_size = 8
    cfg.log_level = 'WARNING'
    out = tmp / 'configs' / Path(config).name
    out.parent.mkdir(parents=True, exist_ok=True)
    cfg.dump(out)
    return str(out)


def write_plan(tmp: Path, name: str, plan_file: str = 'laptop.py',
               broken_moco: bool = False, extra: str = '') -> Path:
    plan = Config.fromfile(PLANS / plan_file)
    for entry in plan.pretrainings + plan.evaluations:
        config = entry.get('config')
        if isinstance(config, dict):
            entry['config'] = {k: shrink(v, tmp) for k, v in config.items()}
        elif config:
            entry['config'] = shrink(config, tmp)
    if broken_moco:
        moco = next(p for p in plan.pretrainings if p['name'] == 'mocov2')
        moco['cfg_options'] = ['model.neck.in_channels=7']  # a shape error at iteration 1
    path = tmp / name
    path.write_text(
        f"title = {plan.get('title', name)!r}\npretrainings = {plan.pretrainings!r}\n"
        f'evaluations = {plan.evaluations!r}\nlauncher = dict(type="local")\nseeds = [0]\n'
        + extra)
    return path


def stage_times(work: Path) -> dict:
    return {str(p.relative_to(work)): p.stat().st_mtime_ns
            for p in work.glob('*/*/stage.json')}
