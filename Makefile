# make install  builds and installs kreg into ~/.cargo/bin, with the kubectl plugin link
#               kubectl-kreg -> kreg beside it (so `kubectl kreg ...` works too)
# make demo     with a kubeconfig: kreg up. Without one: starts the project's own test
#               cluster (root needed), runs kreg up, pushes an image and runs a Pod from it.
# make test     the whole test suite (same as ./tests/run.sh and CI)
# make check    the fast loop, no cluster and no root: cargo fmt --check, clippy -D warnings,
#               the unit, snapshot and CLI tests (tests/run.sh's tiers 1 and 2 without
#               cargo deny and shellcheck)
# make dist     release tarballs per target with SHA256SUMS, the krew manifest and the Homebrew
#               formula, in dist/ (packaging/dist.sh). Variables: TARGETS (target triples;
#               default this machine's), DIST_BASE_URL (where the tarballs will be published;
#               default file://$(DIST_DIR)), DIST_HOMEPAGE, DIST_DIR (default dist)
# make completions / make man / make docs / make schemas  rewrite completions/, man/ and
#               docs/reference.md (from the flags) and schemas/ (from the -o json report
#               types); tests fail when they are stale
.PHONY: install demo test check completions man docs schemas dist
install:
	cargo install --locked --path .
	ln -sf kreg "$${CARGO_HOME:-$$HOME/.cargo}/bin/kubectl-kreg"
demo: install
	./tests/demo.sh
test:
	./tests/run.sh
check:
	./tests/run.sh --check
completions:
	for s in bash zsh fish elvish powershell; do cargo run -q -- completions $$s > completions/kreg.$$s; done
man:
	rm -f man/*.1
	cargo run -q -- man --out-dir man
SCHEMAS = up dry-run render status down gc push images rm prune trust-local env version config
docs:
	cargo run -q -- man --markdown docs/reference.md
schemas:
	rm -f schemas/*.json
	for d in $(SCHEMAS); do cargo run -q -- schema $$d > schemas/$$d.json; done
DIST_DIR ?= dist
export TARGETS DIST_BASE_URL DIST_HOMEPAGE DIST_DIR
dist:
	./packaging/dist.sh
