# make install  builds and installs kreg into ~/.cargo/bin, with the kubectl plugin link
#               kubectl-kreg -> kreg beside it (so `kubectl kreg ...` works too)
# make demo     with a kubeconfig: kreg up. Without one: starts the project's own test
#               cluster (root needed), runs kreg up, pushes an image and runs a Pod from it.
# make test     the whole test suite (same as ./tests/run.sh and CI)
# make completions / make man  rewrite completions/ and man/ from the flags (tests fail when
#               they are stale)
.PHONY: install demo test completions man
install:
	cargo install --locked --path .
	ln -sf kreg "$${CARGO_HOME:-$$HOME/.cargo}/bin/kubectl-kreg"
demo: install
	./tests/demo.sh
test:
	./tests/run.sh
completions:
	for s in bash zsh fish elvish powershell; do cargo run -q -- completions $$s > completions/kreg.$$s; done
man:
	rm -f man/*.1
	cargo run -q -- man --out-dir man
