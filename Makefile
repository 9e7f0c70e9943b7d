# The two set-up commands. Both install what is missing first.
.PHONY: run test soak bench screenshots

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

# The long reliability suites; their figures go into RELIABILITY.md.
soak:
	@bash scripts/soak.sh

# Speed and memory, measured on this machine, into BENCHMARKS.md.
bench:
	@bash scripts/bench.sh

# Screenshots of every page from the real window, into docs/screenshots.
screenshots:
	@bash scripts/screenshots.sh
