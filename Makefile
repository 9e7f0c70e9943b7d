# The two set-up commands. Both install what is missing first.
.PHONY: run test

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh
