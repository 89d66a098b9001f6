# KV-1 entry points. `make sim` and `make test` set up everything they need first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup test regs
setup:
	@./sim/setup.sh

test: setup
	$(PY) -m pytest -q tests

regs: setup
	$(PY) -m hdl.regs.reggen
