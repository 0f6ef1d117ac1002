# The two commands of the README. Both create .venv (Python 3.10, all extras) if it is missing.
#   make run   compile the bundled example for Loihi 2 and print its report
#   make test  run the whole test suite
VENV := .venv
SNNC := $(VENV)/bin/snnc
EXAMPLE := examples/digits

.PHONY: run test bench bench-sanafe venv

run: venv
	$(SNNC) inspect $(EXAMPLE)/digits.nir
	$(SNNC) compile $(EXAMPLE)/digits.nir -t loihi2 --dt 1e-3 --calibration $(EXAMPLE)/test_spikes.npz \
		-p "normalize,prune{sparsity=0.5},quantize{chip=loihi2},check{chip=loihi2}" -o out/digits
	$(SNNC) report out/digits -t loihi2 -i $(EXAMPLE)/test_spikes.npz
	$(VENV)/bin/python $(EXAMPLE)/evaluate.py
	$(VENV)/bin/python $(EXAMPLE)/evaluate.py out/digits

test: venv
	$(VENV)/bin/python -m pytest

bench: venv
	$(VENV)/bin/python benchmarks/reference_vs_norse.py
	$(VENV)/bin/python benchmarks/loihi_vs_lava.py --rounds 3
	$(VENV)/bin/python benchmarks/engine_throughput.py
	$(VENV)/bin/python benchmarks/rram_crossbar.py
	$(VENV)/bin/python benchmarks/spinnaker_mapping.py --peer-scale 0.1
	$(VENV)/bin/python benchmarks/scale.py --sizes 1e4,1e5

# SANA-FE (GPL) is an optional extra: pip install -e '.[benchmark]' first
bench-sanafe: venv
	$(VENV)/bin/python benchmarks/cost_vs_sanafe.py

venv:
	@./scripts/venv.sh
