# The entry points the README documents. Every target runs the (idempotent) setup first.
PY := .venv/bin/python

.PHONY: setup demo test env clean-demo

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) tools/train.py configs/qbheat_mobileformer_demo.py --work-dir work_dirs/qbheat_demo

test: setup
	$(PY) -m pytest tests

env: setup
	$(PY) tools/collect_env.py

clean-demo:
	rm -rf data/demo data/demo_coco work_dirs/qbheat_demo
