# The entry points README.md and docs/en/ document (tests/docs/ checks that every target they
# name exists). Every target runs the (idempotent) setup first, at the level it needs:
# `setup` for the main job (mmcv without compiled ops: seconds), `setup-det` for anything
# that runs MMDetection (mmcv's compiled ops, built once and cached: about 12 minutes on 2
# cores the first time).
PY := .venv/bin/python

.PHONY: setup setup-det demo lint test test-fast env control ablation ablation-256 compare \
	compare-long study decoder-ablation clean-demo

setup:
	@bash scripts/setup.sh

setup-det:
	@bash scripts/setup.sh --detection

demo: setup
	$(PY) tools/train.py configs/qbheat_mobileformer_demo.py --work-dir work_dirs/qbheat_demo

# The lint (ruff, rules in pyproject.toml) runs before the tests: `make test` is the one
# test command, here and in CI (.ci/run): every test, then the 25 slowest named.
lint: setup
	$(PY) -m ruff check .

test: setup-det lint
	$(PY) -m pytest tests --durations=25

# The developer's lane: the unit tests, without the tests marked slow (a training run),
# dist (torchrun) or e2e (a whole pipeline); markers in setup.cfg. Not a replacement for
# `make test` before a commit.
test-fast: setup-det lint
	$(PY) -m pytest tests -m "not slow and not dist and not e2e" --durations=10

env: setup
	$(PY) tools/collect_env.py

# The known-answer control: images whose masked quarters are a fixed linear function of the
# visible one, so the learned operator must beat the frozen one; A, B learned and frozen,
# block and recursive, two seeds, about 40 minutes (docs/en/experiments/control.md).
control: setup
	$(PY) tools/run_experiment.py configs/experiments/heat_control.py --work-dir work_dirs/heat_control

# Does the learned heat operator help? {quarter, global decoder} x {A, B learned, frozen}
# x {block, recursive} on the demo, two seeds (docs/en/experiments/heat_operator_ablation.md).
ablation: setup
	$(PY) tools/run_experiment.py configs/experiments/heat_operator_demo.py --work-dir work_dirs/heat_ablation_demo

# The same question at the recipe's 256 px, made decisive: the default decoder in block
# mode, A, B learned and frozen, three seeds, 2,400 iterations each (the PSNR curve shows
# it has stopped rising); about 2.5 hours (docs/en/experiments/heat_operator_256px.md).
ablation-256: setup
	$(PY) tools/run_experiment.py configs/experiments/heat_operator_256px.py --work-dir work_dirs/heat_ablation_256px

# The paper's comparison at laptop scale: five Mobile-Former-294M pre-trainings through
# linear, tran-1 and k-NN probes and frozen-backbone detectors, one table
# (docs/en/experiments/laptop_comparison.md). Finished stages are kept: rerunning continues.
compare: setup-det
	$(PY) tools/run_experiment.py configs/experiments/laptop.py \
		--work-dir work_dirs/compare_laptop

# The laptop study re-weighted to pre-training: QB-Heat, its frozen-operator control,
# MoCo-v2, supervised (15 minutes of training each, two seeds) and a random init through
# linear, tran-1, k-NN and frozen RetinaNet, with k-NN learning curves; about 3.5 hours
# (docs/en/experiments/laptop_study.md). Finished stages are kept: rerunning continues.
compare-long: setup-det
	$(PY) tools/run_experiment.py configs/experiments/laptop_long.py \
		--work-dir work_dirs/compare_laptop_long

# The laptop study with converged probes: equal images seen (24,576) for QB-Heat, its
# frozen-operator control, MoCo-v2, supervised and a random init on Mobile-Former-294M, and
# SparK (the reference masked-modelling method), QB-Heat, MoCo-v2 and a random init on
# ResNet-18, two seeds; linear, tran-1 and k-NN probes on cached features at two layers
# and three BatchNorm regimes, frozen RetinaNet on the Mobile-Former rows; about 6 hours
# (docs/en/experiments/laptop_study_converged.md). Finished stages are kept.
study: setup-det
	$(PY) tools/run_experiment.py configs/experiments/laptop_study_converged.py \
		--work-dir work_dirs/laptop_study_converged

# Does the lighter decoder (2 x 192, the fast option) cost quality? The demo's honest
# masked PSNR with either decoder, two seeds, then the laptop comparison's evaluations
# with three decoder sizes (docs/en/experiments/decoder_ablation.md).
decoder-ablation: setup-det
	$(PY) tools/run_experiment.py configs/experiments/decoder_demo.py \
		--work-dir work_dirs/decoder_ablation_demo
	$(PY) tools/run_experiment.py configs/experiments/laptop_decoder.py \
		--work-dir work_dirs/compare_laptop_decoder

clean-demo:
	rm -rf data/demo data/demo_coco work_dirs/qbheat_demo
