# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kreg_global_optspecs
    string join \n kubeconfig= context= n/namespace= o/output= timeout= y/yes f/filename= h/help V/version
end

function __fish_kreg_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kreg_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kreg_using_subcommand
    set -l cmd (__fish_kreg_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kreg -n "__fish_kreg_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_needs_command" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_needs_command" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_needs_command" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_needs_command" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_needs_command" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_needs_command" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_needs_command" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_needs_command" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "up" -d 'Install or update the registry, its TLS certificate and node trust (idempotent)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "render" -d 'Print the objects `up` applies, for Argo CD or Flux (Secrets referenced, never included)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "status" -d 'Show the registry\'s health, address, certificate and node trust (read-only)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "down" -d 'Remove what `up` created; images and the CA stay unless --purge'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "gc" -d 'Reclaim the space of deleted images: the registry\'s garbage collector, run while the registry is read-only (pulls keep working, pushes wait)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "trust-local" -d 'Make this workstation\'s docker/podman/skopeo trust the registry\'s CA'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "port-forward" -d 'Forward localhost:<port> here to the registry, for pushes with --expose localhost'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "push" -d 'Push an image from a file (docker save or OCI) to the registry, without docker'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "images" -d 'List the registry\'s images: repositories, tags, digests, sizes, creation times'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "rm" -d 'Delete an image (REPO:TAG or REPO@DIGEST); `kreg gc` then reclaims its space'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "prune" -d 'Delete images by policy (--keep N newest, --older-than AGE), then reclaim their space'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "env" -d 'Print the registry for dev tools (ko, Skaffold, Tilt, docker buildx) as shell exports'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "version" -d 'Print kreg\'s version, the git commit it was built from and the build date'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "schema" -d 'Print the JSON Schema of a command\'s `-o json` document'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "man" -d 'Write a man page per command into a directory, or the Markdown flag reference (packaging: `make man`, `make docs`, `make dist`)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "agent-image" -d 'Write kreg\'s own image (this executable) as an OCI archive; print its digest (packaging: `make dist`)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "node-agent" -d 'The node agent that runs in kreg\'s node-trust DaemonSet (not for people)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "registry-gate" -d 'The TLS front of the registry pod with --auth: pull-only users only pull (not for people)'
complete -c kreg -n "__fish_kreg_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l flavor -d 'Cluster flavour: kind, k3s, minikube, eks, aks, gke, generic (default: detected)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l expose -d 'How the registry is exposed (default: the last `up`\'s, else chosen from the flavour)' -r -f -a "loadbalancer\t'A LoadBalancer Service (clouds, k3s ServiceLB, MetalLB)'
ingress\t'An Ingress of an existing IngressClass (needs --host)'
nodeport\t'A NodePort on a node address (kind, minikube, bare clusters)'
localhost\t'Zero-TLS: a NodePort every node pulls from as localhost:<port> over plain HTTP; push through `kreg port-forward`'
localhost-tls\t'localhost:<port> over TLS: the same name from this machine (`kreg port-forward`), the nodes and pods, with a certificate for it'
gateway\t'A route on an existing Gateway API Gateway (needs --host): a TLSRoute through a TLS Passthrough listener, else an HTTPRoute and a BackendTLSPolicy through an HTTPS listener'"
complete -c kreg -n "__fish_kreg_using_subcommand up" -l lb-source-ranges -d 'Only these source CIDRs may reach the LoadBalancer (loadBalancerSourceRanges)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l host -d 'Your own DNS name for the registry instead of registry.<ip>.<dns-suffix>' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l dns-suffix -d 'Wildcard DNS service that maps <ip>.<suffix> to <ip>; `none`: the registry is named by its IP address (no DNS needed anywhere). Default nip.io, or what the last `up` chose' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l image -d 'Registry image (point it at your mirror on air-gapped clusters)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l storage -d 'Where images are stored (default: the last `up`\'s, else pvc)' -r -f -a "pvc\t'A PersistentVolumeClaim (default)'
s3\t'An S3 bucket (credentials from --s3-secret)'
emptydir\t'An emptyDir: images are LOST when the pod moves or restarts'"
complete -c kreg -n "__fish_kreg_using_subcommand up" -l size -d 'Size of the PersistentVolumeClaim (default: 10Gi)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l storage-class -d 'StorageClass of the PersistentVolumeClaim (default: the cluster\'s default class)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l s3-bucket -d 'S3 bucket (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l s3-region -d 'S3 region (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l s3-endpoint -d 'S3-compatible endpoint URL, e.g. https://minio.example:9000 (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l s3-secret -d 'Secret in the namespace holding accesskey and secretkey (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l replicas -d 'Registry replicas (more than 1 needs --storage s3; default: the last `up`\'s, else 1)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l ingress-class -d 'IngressClass to use with --expose ingress (default: the cluster\'s default class)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l gateway -d 'Gateway to use with --expose gateway (default: the cluster\'s only Gateway)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l mirror -d 'Pull-through cache for an upstream registry; nodes pull through it first and fall back to the upstream (repeatable: docker.io, ghcr.io, quay.io, registry.k8s.io, host:port). URL defaults to https://UPSTREAM (https://registry-1.docker.io for docker.io)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-mirror -d 'Remove the pull-through cache of this upstream (repeatable); other caches stay' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l mirror-credentials -d 'Credentials for a --mirror upstream: a Secret in the namespace with keys username and password (repeatable)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l ca-secret -d 'Sign with your own CA instead of kreg\'s: a kubernetes.io/tls Secret in the namespace holding the CA certificate (tls.crt) and its key (tls.key); nodes and trust-local get that certificate. Kept by later `up`s; kreg never changes or deletes the Secret. On an installed registry, with --rotate-ca (nodes trust both CAs before the switch)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l issuer -d 'Let a cert-manager issuer sign the registry\'s certificate instead of kreg\'s CA: ClusterIssuer/NAME, Issuer/NAME (in the namespace) or NAME (an Issuer, or the kind of --issuer-kind). kreg writes a Certificate for the registry\'s names, waits until it is Ready, and gives nodes and trust-local the issuer\'s CA (ca.crt). Kept by later `up`s; switched only after `kreg down`' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l issuer-kind -d 'The kind of a bare --issuer NAME: Issuer (default) or ClusterIssuer' -r -f -a "Issuer\t''
ClusterIssuer\t''"
complete -c kreg -n "__fish_kreg_using_subcommand up" -l agent-image -d 'kreg\'s image, pinned by digest: the node agent (privileged, on every node) and, with --auth, the registry gate' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l agent-image-archive -d 'kreg\'s image from an OCI archive (a release\'s kreg-agent-image.tar), served to the nodes by the bootstrap like the default (this executable) is; for air-gapped clusters and kreg binaries that are not Linux binaries of the nodes\' architecture' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand up" -l pull-secret-namespaces -d 'With --auth: give these namespaces a pull Secret and add it to their default ServiceAccount, so Pods there pull without imagePullSecrets in their spec (replaces the last `up`\'s list)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l gc-schedule -d 'Run `kreg gc` on this cron schedule (e.g. "0 3 * * 0") from a CronJob; a later `up` keeps it' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l gc-image -d 'With --gc-schedule: an image with /bin/sh and kubectl for the CronJob (e.g. your mirror of bitnami/kubectl)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l prune-keep -d 'With --gc-schedule: each scheduled run first deletes all but the N newest images of each repository (`kreg prune --keep N`, run from --agent-image), then collects' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l prune-older-than -d 'With --gc-schedule: each scheduled run first deletes images older than AGE (e.g. 30d; with --prune-keep: only those beyond the N newest)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand up" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand up" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand up" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand up" -l public -d 'A public LoadBalancer (on EKS, AKS and GKE the default is internal to the cloud network); needs --auth or --allow-anonymous-push'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-public -d 'Back to the provider\'s internal LoadBalancer after --public'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l allow-anonymous-push -d 'With --public and without --auth: accept that anyone who reaches the registry can push, overwrite and delete images'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-ca-secret -d 'Go back from --ca-secret to kreg\'s own CA (after `kreg down`: the CA of an installed registry is not switched)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-issuer -d 'Go back from --issuer to kreg\'s own CA (after `kreg down`)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l allow-runtime-restart -d 'Let node trust set containerd\'s config_path and restart containerd where it is unset'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l restart-control-plane -d 'With --allow-runtime-restart: restart control-plane nodes\' runtimes too'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-node-trust -d 'Skip node trust (no DaemonSet; you configure the nodes\' runtimes yourself)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l dns-entry -d 'Back to the default after --no-dns-entry: an entry for the registry\'s name in the cluster\'s CoreDNS (ConfigMap kube-system/coredns), so Pods (in-cluster builders) resolve it without public DNS'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-dns-entry -d 'No entry for the registry\'s name in the cluster\'s CoreDNS (and remove kreg\'s own); a later `up` keeps it off'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l auth -d 'Require a user and password (htpasswd); generated once, kept in Secret kreg-auth. A later `up` keeps it on'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-auth -d 'Turn authentication off again (a security downgrade: asks on a terminal, needs --yes otherwise)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-pull-secret-namespaces -d 'Take the pull Secrets out of every namespace the last `up` gave one'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-gc-schedule -d 'Remove the garbage-collection CronJob of an earlier --gc-schedule'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l rotate-ca -d 'Replace the CA (every client must trust the new one afterwards)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l no-wait -d 'Return once everything is applied, without waiting for the rollout, probe and node trust'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l trust-local -d 'Also run `kreg trust-local` at the end'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l dry-run -d 'Print the plan and the objects that would be applied; change nothing'
complete -c kreg -n "__fish_kreg_using_subcommand up" -l secrets-only -d 'Make only what the rendered objects reference (namespace, Service, CA, serving certificate, users, state record) and stop: the first step of a GitOps install with `kreg render`'
complete -c kreg -n "__fish_kreg_using_subcommand up" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand up" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kreg -n "__fish_kreg_using_subcommand up" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l flavor -d 'Cluster flavour: kind, k3s, minikube, eks, aks, gke, generic (default: detected)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l expose -d 'How the registry is exposed (default: the last `up`\'s, else chosen from the flavour)' -r -f -a "loadbalancer\t'A LoadBalancer Service (clouds, k3s ServiceLB, MetalLB)'
ingress\t'An Ingress of an existing IngressClass (needs --host)'
nodeport\t'A NodePort on a node address (kind, minikube, bare clusters)'
localhost\t'Zero-TLS: a NodePort every node pulls from as localhost:<port> over plain HTTP; push through `kreg port-forward`'
localhost-tls\t'localhost:<port> over TLS: the same name from this machine (`kreg port-forward`), the nodes and pods, with a certificate for it'
gateway\t'A route on an existing Gateway API Gateway (needs --host): a TLSRoute through a TLS Passthrough listener, else an HTTPRoute and a BackendTLSPolicy through an HTTPS listener'"
complete -c kreg -n "__fish_kreg_using_subcommand render" -l lb-source-ranges -d 'Only these source CIDRs may reach the LoadBalancer (loadBalancerSourceRanges)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l host -d 'Your own DNS name for the registry instead of registry.<ip>.<dns-suffix>' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l dns-suffix -d 'Wildcard DNS service that maps <ip>.<suffix> to <ip>; `none`: the registry is named by its IP address (no DNS needed anywhere). Default nip.io, or what the last `up` chose' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l image -d 'Registry image (point it at your mirror on air-gapped clusters)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l storage -d 'Where images are stored (default: the last `up`\'s, else pvc)' -r -f -a "pvc\t'A PersistentVolumeClaim (default)'
s3\t'An S3 bucket (credentials from --s3-secret)'
emptydir\t'An emptyDir: images are LOST when the pod moves or restarts'"
complete -c kreg -n "__fish_kreg_using_subcommand render" -l size -d 'Size of the PersistentVolumeClaim (default: 10Gi)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l storage-class -d 'StorageClass of the PersistentVolumeClaim (default: the cluster\'s default class)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l s3-bucket -d 'S3 bucket (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l s3-region -d 'S3 region (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l s3-endpoint -d 'S3-compatible endpoint URL, e.g. https://minio.example:9000 (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l s3-secret -d 'Secret in the namespace holding accesskey and secretkey (with --storage s3)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l replicas -d 'Registry replicas (more than 1 needs --storage s3; default: the last `up`\'s, else 1)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l ingress-class -d 'IngressClass to use with --expose ingress (default: the cluster\'s default class)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l gateway -d 'Gateway to use with --expose gateway (default: the cluster\'s only Gateway)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l mirror -d 'Pull-through cache for an upstream registry; nodes pull through it first and fall back to the upstream (repeatable: docker.io, ghcr.io, quay.io, registry.k8s.io, host:port). URL defaults to https://UPSTREAM (https://registry-1.docker.io for docker.io)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-mirror -d 'Remove the pull-through cache of this upstream (repeatable); other caches stay' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l mirror-credentials -d 'Credentials for a --mirror upstream: a Secret in the namespace with keys username and password (repeatable)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l ca-secret -d 'Sign with your own CA instead of kreg\'s: a kubernetes.io/tls Secret in the namespace holding the CA certificate (tls.crt) and its key (tls.key); nodes and trust-local get that certificate. Kept by later `up`s; kreg never changes or deletes the Secret. On an installed registry, with --rotate-ca (nodes trust both CAs before the switch)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l issuer -d 'Let a cert-manager issuer sign the registry\'s certificate instead of kreg\'s CA: ClusterIssuer/NAME, Issuer/NAME (in the namespace) or NAME (an Issuer, or the kind of --issuer-kind). kreg writes a Certificate for the registry\'s names, waits until it is Ready, and gives nodes and trust-local the issuer\'s CA (ca.crt). Kept by later `up`s; switched only after `kreg down`' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l issuer-kind -d 'The kind of a bare --issuer NAME: Issuer (default) or ClusterIssuer' -r -f -a "Issuer\t''
ClusterIssuer\t''"
complete -c kreg -n "__fish_kreg_using_subcommand render" -l agent-image -d 'kreg\'s image, pinned by digest: the node agent (privileged, on every node) and, with --auth, the registry gate' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l agent-image-archive -d 'kreg\'s image from an OCI archive (a release\'s kreg-agent-image.tar), served to the nodes by the bootstrap like the default (this executable) is; for air-gapped clusters and kreg binaries that are not Linux binaries of the nodes\' architecture' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand render" -l pull-secret-namespaces -d 'With --auth: give these namespaces a pull Secret and add it to their default ServiceAccount, so Pods there pull without imagePullSecrets in their spec (replaces the last `up`\'s list)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l gc-schedule -d 'Run `kreg gc` on this cron schedule (e.g. "0 3 * * 0") from a CronJob; a later `up` keeps it' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l gc-image -d 'With --gc-schedule: an image with /bin/sh and kubectl for the CronJob (e.g. your mirror of bitnami/kubectl)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l prune-keep -d 'With --gc-schedule: each scheduled run first deletes all but the N newest images of each repository (`kreg prune --keep N`, run from --agent-image), then collects' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l prune-older-than -d 'With --gc-schedule: each scheduled run first deletes images older than AGE (e.g. 30d; with --prune-keep: only those beyond the N newest)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand render" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand render" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand render" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand render" -l public -d 'A public LoadBalancer (on EKS, AKS and GKE the default is internal to the cloud network); needs --auth or --allow-anonymous-push'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-public -d 'Back to the provider\'s internal LoadBalancer after --public'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l allow-anonymous-push -d 'With --public and without --auth: accept that anyone who reaches the registry can push, overwrite and delete images'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-ca-secret -d 'Go back from --ca-secret to kreg\'s own CA (after `kreg down`: the CA of an installed registry is not switched)'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-issuer -d 'Go back from --issuer to kreg\'s own CA (after `kreg down`)'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l allow-runtime-restart -d 'Let node trust set containerd\'s config_path and restart containerd where it is unset'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l restart-control-plane -d 'With --allow-runtime-restart: restart control-plane nodes\' runtimes too'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-node-trust -d 'Skip node trust (no DaemonSet; you configure the nodes\' runtimes yourself)'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l dns-entry -d 'Back to the default after --no-dns-entry: an entry for the registry\'s name in the cluster\'s CoreDNS (ConfigMap kube-system/coredns), so Pods (in-cluster builders) resolve it without public DNS'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-dns-entry -d 'No entry for the registry\'s name in the cluster\'s CoreDNS (and remove kreg\'s own); a later `up` keeps it off'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l auth -d 'Require a user and password (htpasswd); generated once, kept in Secret kreg-auth. A later `up` keeps it on'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-auth -d 'Turn authentication off again (a security downgrade: asks on a terminal, needs --yes otherwise)'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-pull-secret-namespaces -d 'Take the pull Secrets out of every namespace the last `up` gave one'
complete -c kreg -n "__fish_kreg_using_subcommand render" -l no-gc-schedule -d 'Remove the garbage-collection CronJob of an earlier --gc-schedule'
complete -c kreg -n "__fish_kreg_using_subcommand render" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand render" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kreg -n "__fish_kreg_using_subcommand render" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand status" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand status" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand status" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand status" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand status" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand status" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand status" -l show-password -d 'With --auth: also print the registry password (never printed otherwise)'
complete -c kreg -n "__fish_kreg_using_subcommand status" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand status" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand status" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand down" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand down" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand down" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand down" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand down" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand down" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand down" -l purge -d 'Also delete the stored images (the PVC) and the CA; clients must re-trust a new CA'
complete -c kreg -n "__fish_kreg_using_subcommand down" -l dry-run -d 'Print what would be deleted; change nothing'
complete -c kreg -n "__fish_kreg_using_subcommand down" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand down" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand down" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand gc" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand gc" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand gc" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand gc" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand gc" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand gc" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand gc" -l dry-run -d 'Report what the garbage collector would delete; delete nothing'
complete -c kreg -n "__fish_kreg_using_subcommand gc" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand gc" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand gc" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l ca-sha256 -d 'The CA\'s expected SHA-256 fingerprint (hex, colons allowed; comma-separated during a CA rotation): refuses to install anything else' -r
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l system -d 'Also add the CA to the operating system\'s trust store (asks on a terminal; else needs --ca-sha256)'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l remove -d 'Remove what trust-local wrote before'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l dry-run -d 'Print the files that would be written or removed; change nothing'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l user -d 'Only the per-user locations (no root needed): ~/.config/containers/certs.d'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -l hosts -d 'Also map the registry\'s name to its address in /etc/hosts (for a workstation whose resolver cannot answer nip.io names: air-gapped, or with rebinding protection)'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand trust-local" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand port-forward" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand push" -l name -d 'Repository and tag in the registry (default: the name stored in SOURCE)' -r
complete -c kreg -n "__fish_kreg_using_subcommand push" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand push" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand push" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand push" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand push" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand push" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand push" -l port-forward -d 'Push through a port-forward to the registry pod even if its address is reachable'
complete -c kreg -n "__fish_kreg_using_subcommand push" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand push" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand push" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand images" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand images" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand images" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand images" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand images" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand images" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand images" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand images" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand images" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand rm" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand rm" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand rm" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand rm" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand rm" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand rm" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand rm" -l all-tags -d 'Delete the image even when other tags point at the same digest (they go too)'
complete -c kreg -n "__fish_kreg_using_subcommand rm" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand rm" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand rm" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l keep -d 'Keep the N newest images of each repository' -r
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l older-than -d 'Delete only images created longer ago than this (e.g. 30d, 12h, 2w, 1d12h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand prune" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand prune" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand prune" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l dry-run -d 'Print what would be deleted; delete nothing'
complete -c kreg -n "__fish_kreg_using_subcommand prune" -l no-gc -d 'Delete the manifests only; reclaim the space later with `kreg gc`'
complete -c kreg -n "__fish_kreg_using_subcommand prune" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand prune" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand prune" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand env" -l shell -d 'The shell whose syntax the exports use' -r -f -a "bash\t''
zsh\t''
fish\t''
powershell\t''"
complete -c kreg -n "__fish_kreg_using_subcommand env" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand env" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand env" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand env" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand env" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand env" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand env" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand env" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand env" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand completions" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand completions" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand completions" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand completions" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand completions" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand completions" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand completions" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand completions" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand version" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand version" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand version" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand version" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand version" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand version" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand version" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand version" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand schema" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand schema" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand schema" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand schema" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand schema" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand schema" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand schema" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kreg -n "__fish_kreg_using_subcommand schema" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand man" -l out-dir -d 'The directory to write kreg.1, kreg-up.1, ... into (created if missing)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand man" -l markdown -d 'Also (or only) write the flag reference as one Markdown file (docs/reference.md)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand man" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand man" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand man" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand man" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand man" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand man" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand man" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand man" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand man" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -l out -d 'The OCI archive to write (`--agent-image-archive` reads it)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand agent-image" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -l once -d 'One pass, then exit (0 when the node trusts the registry, or kreg\'s files are removed)'
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -l ready -d 'Exit 0 if the last pass\'s verdict was good (the DaemonSet\'s readiness probe)'
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -l push-probe -d 'Push the probe image to $KREG_REGISTRY and exit (`kreg render`\'s Job)'
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand node-agent" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -l context -d 'The kubeconfig context to use (default: the current context)' -r
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -s n -l namespace -d 'Namespace for the registry and its objects (default: kreg-system)' -r
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -s o -l output -d 'Output format: text for people, json or yaml for scripts' -r -f -a "text\t''
json\t''
yaml\t''"
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -l timeout -d 'How long to wait for the cluster (e.g. 90s, 5m, 1h)' -r
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -s f -l filename -d 'Settings from a file (kreg.yaml: global flags at the top, `kreg up`\'s under `up:`); flags on the command line win (env: KREG_CONFIG)' -r -F
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -s y -l yes -d 'Answer yes to every question (never asks without a terminal anyway)'
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -s h -l help -d 'Print help'
complete -c kreg -n "__fish_kreg_using_subcommand registry-gate" -s V -l version -d 'Print version'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "up" -d 'Install or update the registry, its TLS certificate and node trust (idempotent)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "render" -d 'Print the objects `up` applies, for Argo CD or Flux (Secrets referenced, never included)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "status" -d 'Show the registry\'s health, address, certificate and node trust (read-only)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "down" -d 'Remove what `up` created; images and the CA stay unless --purge'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "gc" -d 'Reclaim the space of deleted images: the registry\'s garbage collector, run while the registry is read-only (pulls keep working, pushes wait)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "trust-local" -d 'Make this workstation\'s docker/podman/skopeo trust the registry\'s CA'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "port-forward" -d 'Forward localhost:<port> here to the registry, for pushes with --expose localhost'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "push" -d 'Push an image from a file (docker save or OCI) to the registry, without docker'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "images" -d 'List the registry\'s images: repositories, tags, digests, sizes, creation times'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "rm" -d 'Delete an image (REPO:TAG or REPO@DIGEST); `kreg gc` then reclaims its space'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "prune" -d 'Delete images by policy (--keep N newest, --older-than AGE), then reclaim their space'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "env" -d 'Print the registry for dev tools (ko, Skaffold, Tilt, docker buildx) as shell exports'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "completions" -d 'Print a shell completion script'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "version" -d 'Print kreg\'s version, the git commit it was built from and the build date'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "schema" -d 'Print the JSON Schema of a command\'s `-o json` document'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "man" -d 'Write a man page per command into a directory, or the Markdown flag reference (packaging: `make man`, `make docs`, `make dist`)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "agent-image" -d 'Write kreg\'s own image (this executable) as an OCI archive; print its digest (packaging: `make dist`)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "node-agent" -d 'The node agent that runs in kreg\'s node-trust DaemonSet (not for people)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "registry-gate" -d 'The TLS front of the registry pod with --auth: pull-only users only pull (not for people)'
complete -c kreg -n "__fish_kreg_using_subcommand help; and not __fish_seen_subcommand_from up render status down gc trust-local port-forward push images rm prune env completions version schema man agent-image node-agent registry-gate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
