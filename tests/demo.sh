#!/usr/bin/env bash
# `make demo`: show the real thing.
# - With a reachable cluster (KUBECONFIG or ~/.kube/config): plain `kreg up`.
# - Without one: start the project's own test cluster (root needed: network namespaces),
#   run `kreg up`, push an image over TLS with skopeo and run a Pod from it.
set -euo pipefail
cd "$(dirname "$0")/.."
KREG=${KREG:-$(command -v kreg || echo "$PWD/target/debug/kreg")}
[ -x "$KREG" ] || cargo build -q
[ -x "$KREG" ] || KREG=$PWD/target/debug/kreg

if [ -n "${KUBECONFIG:-}" ] || [ -f "$HOME/.kube/config" ]; then
  if timeout 15 "$KREG" status >/dev/null 2>&1 || [ $? -eq 1 ]; then
    exec "$KREG" up
  fi
  echo "demo: your kubeconfig's cluster is not reachable; using the project's test cluster" >&2
fi

if [ "$(id -u)" != 0 ]; then
  echo "demo: the local test cluster needs root; re-running with sudo" >&2
  exec sudo -E "$0" "$@"
fi
KC=$PWD/tests/cluster/kcluster
# Only what the demo's cluster needs: no S3 server, no Gateway API CRDs, no containerd 2.1.
"$KC" build --node-tier
"$KC" up node
eval "$("$KC" env)"
export KUBECONFIG=$KREG_TEST_KUBECONFIG
# As a user's `kreg up`: the nodes have never seen kreg's image; kreg serves its own executable
# to them through the bootstrap (not the image the test harness imports for its tests).
unset KREG_AGENT_IMAGE

"$KREG" up --yes
REG=$("$KREG" status -o json | jq -r .registry)
ADDR=$("$KREG" status -o json | jq -r .address)
CA=$(mktemp -d)
"$KREG" status -o json | jq -r .ca_pem >"$CA/ca.crt"
# No DNS on a machine without internet: give the nip.io name to the node and to skopeo here.
echo "$ADDR ${REG%:*}" >>"/etc/netns/$KREG_TEST_NETNS/hosts"
unshare -m sh -c "cp /etc/hosts $CA/hosts && echo '$ADDR ${REG%:*}' >>$CA/hosts && mount --bind $CA/hosts /etc/hosts &&
  skopeo copy --dest-cert-dir $CA oci-archive:$KREG_TEST_HELLO_IMAGE docker://$REG/hello:1"
"$KUBECTL" run hello --image "$REG/hello:1" --restart=Never
"$KUBECTL" wait --for=condition=Ready pod/hello --timeout=120s
"$KUBECTL" logs hello
cat >&2 <<EOM

demo: the Pod above was pulled by the node's containerd from $REG over TLS, trusting kreg's CA.
demo: try: KUBECONFIG=$KUBECONFIG $KREG status
demo: stop the test cluster with: sudo $KC down
EOM
