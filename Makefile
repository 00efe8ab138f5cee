# The entry points the README documents. Every target runs the (idempotent) setup first.
PY := .venv/bin/python

.PHONY: setup demo lint test env ablation compare clean-demo

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) tools/train.py configs/qbheat_mobileformer_demo.py --work-dir work_dirs/qbheat_demo

# The lint (ruff, rules in pyproject.toml) runs before the tests: `make test` is the one
# test command, here and in CI (.ci/run).
lint: setup
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest tests

env: setup
	$(PY) tools/collect_env.py

# Does the learned heat operator help? {quarter, global decoder} x {A, B learned, frozen}
# x {block, recursive} on the demo, two seeds (see README, "Where the operator matters").
ablation: setup
	$(PY) tools/analysis/heat_ablation.py configs/qbheat_mobileformer_demo.py \
		--work-dir work_dirs/heat_ablation_demo --seeds 0 1

# The paper's comparison at laptop scale: five Mobile-Former-294M pre-trainings through
# linear, tran-1 and k-NN probes and frozen-backbone detectors, one table (README,
# "Laptop-scale comparison"). Finished stages are kept: rerunning continues.
compare: setup
	$(PY) tools/compare_pretrainings.py configs/pipelines/laptop.py \
		--work-dir work_dirs/compare_laptop

clean-demo:
	rm -rf data/demo data/demo_coco work_dirs/qbheat_demo
