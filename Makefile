# The two set-up commands. Both install what is missing first.
.PHONY: run test screenshots

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

# Screenshots of every page from the real window, into docs/screenshots.
screenshots:
	@bash scripts/screenshots.sh
