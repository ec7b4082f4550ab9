#compdef kreg

autoload -U is-at-least

_kreg() {
    typeset -A opt_args
    typeset -a _arguments_options
    local ret=1

    if is-at-least 5.2; then
        _arguments_options=(-s -S -C)
    else
        _arguments_options=(-s -C)
    fi

    local context curcontext="$curcontext" state line
    _arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
":: :_kreg_commands" \
"*::: :->kreg" \
&& ret=0
    case $state in
    (kreg)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:kreg-command-$line[1]:"
        case $line[1] in
            (up)
_arguments "${_arguments_options[@]}" : \
'--flavor=[Cluster flavour\: kind, k3s, minikube, eks, aks, gke, generic (default\: detected)]:FLAVOR:_default' \
'--expose=[How the registry is exposed (default\: the last \`up\`'\''s, else chosen from the flavour)]:EXPOSE:((loadbalancer\:"A LoadBalancer Service (clouds, k3s ServiceLB, MetalLB)"
ingress\:"An Ingress of an existing IngressClass (needs --host)"
nodeport\:"A NodePort on a node address (kind, minikube, bare clusters)"
localhost\:"Zero-TLS\: a NodePort every node pulls from as localhost\:<port> over plain HTTP; push through \`kreg port-forward\`"
localhost-tls\:"localhost\:<port> over TLS\: the same name from this machine (\`kreg port-forward\`), the nodes and pods, with a certificate for it"
gateway\:"A route on an existing Gateway API Gateway (needs --host)\: a TLSRoute through a TLS Passthrough listener, else an HTTPRoute and a BackendTLSPolicy through an HTTPS listener"))' \
'*--lb-source-ranges=[Only these source CIDRs may reach the LoadBalancer (loadBalancerSourceRanges)]:CIDR,...:_default' \
'--host=[Your own DNS name for the registry instead of registry.<ip>.<dns-suffix>]:NAME:_default' \
'--dns-suffix=[Wildcard DNS service that maps <ip>.<suffix> to <ip>; \`none\`\: the registry is named by its IP address (no DNS needed anywhere). Default nip.io, or what the last \`up\` chose]:SUFFIX:_default' \
'--image=[Registry image (point it at your mirror on air-gapped clusters)]:IMAGE:_default' \
'--storage=[Where images are stored (default\: the last \`up\`'\''s, else pvc)]:STORAGE:((pvc\:"A PersistentVolumeClaim (default)"
s3\:"An S3 bucket (credentials from --s3-secret)"
emptydir\:"An emptyDir\: images are LOST when the pod moves or restarts"))' \
'--size=[Size of the PersistentVolumeClaim (default\: 10Gi)]:QUANTITY:_default' \
'--storage-class=[StorageClass of the PersistentVolumeClaim (default\: the cluster'\''s default class)]:NAME:_default' \
'--s3-bucket=[S3 bucket (with --storage s3)]:BUCKET:_default' \
'--s3-region=[S3 region (with --storage s3)]:REGION:_default' \
'--s3-endpoint=[S3-compatible endpoint URL, e.g. https\://minio.example\:9000 (with --storage s3)]:URL:_default' \
'--s3-secret=[Secret in the namespace holding accesskey and secretkey (with --storage s3)]:NAME:_default' \
'--replicas=[Registry replicas (more than 1 needs --storage s3; default\: the last \`up\`'\''s, else 1)]:N:_default' \
'--ingress-class=[IngressClass to use with --expose ingress (default\: the cluster'\''s default class)]:NAME:_default' \
'--gateway=[Gateway to use with --expose gateway (default\: the cluster'\''s only Gateway)]:NAMESPACE/NAME:_default' \
'*--mirror=[Pull-through cache for an upstream registry; nodes pull through it first and fall back to the upstream (repeatable\: docker.io, ghcr.io, quay.io, registry.k8s.io, host\:port). URL defaults to https\://UPSTREAM (https\://registry-1.docker.io for docker.io)]:UPSTREAM[=URL]:_default' \
'*--no-mirror=[Remove the pull-through cache of this upstream (repeatable); other caches stay]:UPSTREAM:_default' \
'*--mirror-credentials=[Credentials for a --mirror upstream\: a Secret in the namespace with keys username and password (repeatable)]:UPSTREAM=SECRET:_default' \
'(--no-ca-secret)--ca-secret=[Sign with your own CA instead of kreg'\''s\: a kubernetes.io/tls Secret in the namespace holding the CA certificate (tls.crt) and its key (tls.key); nodes and trust-local get that certificate. Kept by later \`up\`s; kreg never changes or deletes the Secret. On an installed registry, with --rotate-ca (nodes trust both CAs before the switch)]:NAME:_default' \
'(--no-issuer --ca-secret)--issuer=[Let a cert-manager issuer sign the registry'\''s certificate instead of kreg'\''s CA\: ClusterIssuer/NAME, Issuer/NAME (in the namespace) or NAME (an Issuer, or the kind of --issuer-kind). kreg writes a Certificate for the registry'\''s names, waits until it is Ready, and gives nodes and trust-local the issuer'\''s CA (ca.crt). Kept by later \`up\`s; switched only after \`kreg down\`]:[KIND/]NAME:_default' \
'--issuer-kind=[The kind of a bare --issuer NAME\: Issuer (default) or ClusterIssuer]:KIND:(Issuer ClusterIssuer)' \
'--agent-image=[kreg'\''s image, pinned by digest\: the node agent (privileged, on every node) and, with --auth, the registry gate]:IMAGE@sha256:DIGEST:_default' \
'(--agent-image)--agent-image-archive=[kreg'\''s image from an OCI archive (a release'\''s kreg-agent-image.tar), served to the nodes by the bootstrap like the default (this executable) is; for air-gapped clusters and kreg binaries that are not Linux binaries of the nodes'\'' architecture]:FILE:_files' \
'(--no-pull-secret-namespaces)*--pull-secret-namespaces=[With --auth\: give these namespaces a pull Secret and add it to their default ServiceAccount, so Pods there pull without imagePullSecrets in their spec (replaces the last \`up\`'\''s list)]:NS,...:_default' \
'(--no-gc-schedule)--gc-schedule=[Run \`kreg gc\` on this cron schedule (e.g. "0 3 * * 0") from a CronJob; a later \`up\` keeps it]:CRON:_default' \
'--gc-image=[With --gc-schedule\: an image with /bin/sh and kubectl for the CronJob (e.g. your mirror of bitnami/kubectl)]:IMAGE:_default' \
'--prune-keep=[With --gc-schedule\: each scheduled run first deletes all but the N newest images of each repository (\`kreg prune --keep N\`, run from --agent-image), then collects]:N:_default' \
'--prune-older-than=[With --gc-schedule\: each scheduled run first deletes images older than AGE (e.g. 30d; with --prune-keep\: only those beyond the N newest)]:AGE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'(--no-public)--public[A public LoadBalancer (on EKS, AKS and GKE the default is internal to the cloud network); needs --auth or --allow-anonymous-push]' \
'--no-public[Back to the provider'\''s internal LoadBalancer after --public]' \
'--allow-anonymous-push[With --public and without --auth\: accept that anyone who reaches the registry can push, overwrite and delete images]' \
'--no-ca-secret[Go back from --ca-secret to kreg'\''s own CA (after \`kreg down\`\: the CA of an installed registry is not switched)]' \
'--no-issuer[Go back from --issuer to kreg'\''s own CA (after \`kreg down\`)]' \
'--allow-runtime-restart[Let node trust set containerd'\''s config_path and restart containerd where it is unset]' \
'--restart-control-plane[With --allow-runtime-restart\: restart control-plane nodes'\'' runtimes too]' \
'--no-node-trust[Skip node trust (no DaemonSet; you configure the nodes'\'' runtimes yourself)]' \
'(--no-dns-entry)--dns-entry[Back to the default after --no-dns-entry\: an entry for the registry'\''s name in the cluster'\''s CoreDNS (ConfigMap kube-system/coredns), so Pods (in-cluster builders) resolve it without public DNS]' \
'--no-dns-entry[No entry for the registry'\''s name in the cluster'\''s CoreDNS (and remove kreg'\''s own); a later \`up\` keeps it off]' \
'(--no-auth)--auth[Require a user and password (htpasswd); generated once, kept in Secret kreg-auth. A later \`up\` keeps it on]' \
'--no-auth[Turn authentication off again (a security downgrade\: asks on a terminal, needs --yes otherwise)]' \
'--no-pull-secret-namespaces[Take the pull Secrets out of every namespace the last \`up\` gave one]' \
'--no-gc-schedule[Remove the garbage-collection CronJob of an earlier --gc-schedule]' \
'--rotate-ca[Replace the CA (every client must trust the new one afterwards)]' \
'--no-wait[Return once everything is applied, without waiting for the rollout, probe and node trust]' \
'--trust-local[Also run \`kreg trust-local\` at the end]' \
'--dry-run[Print the plan and the objects that would be applied; change nothing]' \
'(--dry-run --trust-local)--secrets-only[Make only what the rendered objects reference (namespace, Service, CA, serving certificate, users, state record) and stop\: the first step of a GitOps install with \`kreg render\`]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
'--flavor=[Cluster flavour\: kind, k3s, minikube, eks, aks, gke, generic (default\: detected)]:FLAVOR:_default' \
'--expose=[How the registry is exposed (default\: the last \`up\`'\''s, else chosen from the flavour)]:EXPOSE:((loadbalancer\:"A LoadBalancer Service (clouds, k3s ServiceLB, MetalLB)"
ingress\:"An Ingress of an existing IngressClass (needs --host)"
nodeport\:"A NodePort on a node address (kind, minikube, bare clusters)"
localhost\:"Zero-TLS\: a NodePort every node pulls from as localhost\:<port> over plain HTTP; push through \`kreg port-forward\`"
localhost-tls\:"localhost\:<port> over TLS\: the same name from this machine (\`kreg port-forward\`), the nodes and pods, with a certificate for it"
gateway\:"A route on an existing Gateway API Gateway (needs --host)\: a TLSRoute through a TLS Passthrough listener, else an HTTPRoute and a BackendTLSPolicy through an HTTPS listener"))' \
'*--lb-source-ranges=[Only these source CIDRs may reach the LoadBalancer (loadBalancerSourceRanges)]:CIDR,...:_default' \
'--host=[Your own DNS name for the registry instead of registry.<ip>.<dns-suffix>]:NAME:_default' \
'--dns-suffix=[Wildcard DNS service that maps <ip>.<suffix> to <ip>; \`none\`\: the registry is named by its IP address (no DNS needed anywhere). Default nip.io, or what the last \`up\` chose]:SUFFIX:_default' \
'--image=[Registry image (point it at your mirror on air-gapped clusters)]:IMAGE:_default' \
'--storage=[Where images are stored (default\: the last \`up\`'\''s, else pvc)]:STORAGE:((pvc\:"A PersistentVolumeClaim (default)"
s3\:"An S3 bucket (credentials from --s3-secret)"
emptydir\:"An emptyDir\: images are LOST when the pod moves or restarts"))' \
'--size=[Size of the PersistentVolumeClaim (default\: 10Gi)]:QUANTITY:_default' \
'--storage-class=[StorageClass of the PersistentVolumeClaim (default\: the cluster'\''s default class)]:NAME:_default' \
'--s3-bucket=[S3 bucket (with --storage s3)]:BUCKET:_default' \
'--s3-region=[S3 region (with --storage s3)]:REGION:_default' \
'--s3-endpoint=[S3-compatible endpoint URL, e.g. https\://minio.example\:9000 (with --storage s3)]:URL:_default' \
'--s3-secret=[Secret in the namespace holding accesskey and secretkey (with --storage s3)]:NAME:_default' \
'--replicas=[Registry replicas (more than 1 needs --storage s3; default\: the last \`up\`'\''s, else 1)]:N:_default' \
'--ingress-class=[IngressClass to use with --expose ingress (default\: the cluster'\''s default class)]:NAME:_default' \
'--gateway=[Gateway to use with --expose gateway (default\: the cluster'\''s only Gateway)]:NAMESPACE/NAME:_default' \
'*--mirror=[Pull-through cache for an upstream registry; nodes pull through it first and fall back to the upstream (repeatable\: docker.io, ghcr.io, quay.io, registry.k8s.io, host\:port). URL defaults to https\://UPSTREAM (https\://registry-1.docker.io for docker.io)]:UPSTREAM[=URL]:_default' \
'*--no-mirror=[Remove the pull-through cache of this upstream (repeatable); other caches stay]:UPSTREAM:_default' \
'*--mirror-credentials=[Credentials for a --mirror upstream\: a Secret in the namespace with keys username and password (repeatable)]:UPSTREAM=SECRET:_default' \
'(--no-ca-secret)--ca-secret=[Sign with your own CA instead of kreg'\''s\: a kubernetes.io/tls Secret in the namespace holding the CA certificate (tls.crt) and its key (tls.key); nodes and trust-local get that certificate. Kept by later \`up\`s; kreg never changes or deletes the Secret. On an installed registry, with --rotate-ca (nodes trust both CAs before the switch)]:NAME:_default' \
'(--no-issuer --ca-secret)--issuer=[Let a cert-manager issuer sign the registry'\''s certificate instead of kreg'\''s CA\: ClusterIssuer/NAME, Issuer/NAME (in the namespace) or NAME (an Issuer, or the kind of --issuer-kind). kreg writes a Certificate for the registry'\''s names, waits until it is Ready, and gives nodes and trust-local the issuer'\''s CA (ca.crt). Kept by later \`up\`s; switched only after \`kreg down\`]:[KIND/]NAME:_default' \
'--issuer-kind=[The kind of a bare --issuer NAME\: Issuer (default) or ClusterIssuer]:KIND:(Issuer ClusterIssuer)' \
'--agent-image=[kreg'\''s image, pinned by digest\: the node agent (privileged, on every node) and, with --auth, the registry gate]:IMAGE@sha256:DIGEST:_default' \
'(--agent-image)--agent-image-archive=[kreg'\''s image from an OCI archive (a release'\''s kreg-agent-image.tar), served to the nodes by the bootstrap like the default (this executable) is; for air-gapped clusters and kreg binaries that are not Linux binaries of the nodes'\'' architecture]:FILE:_files' \
'(--no-pull-secret-namespaces)*--pull-secret-namespaces=[With --auth\: give these namespaces a pull Secret and add it to their default ServiceAccount, so Pods there pull without imagePullSecrets in their spec (replaces the last \`up\`'\''s list)]:NS,...:_default' \
'(--no-gc-schedule)--gc-schedule=[Run \`kreg gc\` on this cron schedule (e.g. "0 3 * * 0") from a CronJob; a later \`up\` keeps it]:CRON:_default' \
'--gc-image=[With --gc-schedule\: an image with /bin/sh and kubectl for the CronJob (e.g. your mirror of bitnami/kubectl)]:IMAGE:_default' \
'--prune-keep=[With --gc-schedule\: each scheduled run first deletes all but the N newest images of each repository (\`kreg prune --keep N\`, run from --agent-image), then collects]:N:_default' \
'--prune-older-than=[With --gc-schedule\: each scheduled run first deletes images older than AGE (e.g. 30d; with --prune-keep\: only those beyond the N newest)]:AGE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'(--no-public)--public[A public LoadBalancer (on EKS, AKS and GKE the default is internal to the cloud network); needs --auth or --allow-anonymous-push]' \
'--no-public[Back to the provider'\''s internal LoadBalancer after --public]' \
'--allow-anonymous-push[With --public and without --auth\: accept that anyone who reaches the registry can push, overwrite and delete images]' \
'--no-ca-secret[Go back from --ca-secret to kreg'\''s own CA (after \`kreg down\`\: the CA of an installed registry is not switched)]' \
'--no-issuer[Go back from --issuer to kreg'\''s own CA (after \`kreg down\`)]' \
'--allow-runtime-restart[Let node trust set containerd'\''s config_path and restart containerd where it is unset]' \
'--restart-control-plane[With --allow-runtime-restart\: restart control-plane nodes'\'' runtimes too]' \
'--no-node-trust[Skip node trust (no DaemonSet; you configure the nodes'\'' runtimes yourself)]' \
'(--no-dns-entry)--dns-entry[Back to the default after --no-dns-entry\: an entry for the registry'\''s name in the cluster'\''s CoreDNS (ConfigMap kube-system/coredns), so Pods (in-cluster builders) resolve it without public DNS]' \
'--no-dns-entry[No entry for the registry'\''s name in the cluster'\''s CoreDNS (and remove kreg'\''s own); a later \`up\` keeps it off]' \
'(--no-auth)--auth[Require a user and password (htpasswd); generated once, kept in Secret kreg-auth. A later \`up\` keeps it on]' \
'--no-auth[Turn authentication off again (a security downgrade\: asks on a terminal, needs --yes otherwise)]' \
'--no-pull-secret-namespaces[Take the pull Secrets out of every namespace the last \`up\` gave one]' \
'--no-gc-schedule[Remove the garbage-collection CronJob of an earlier --gc-schedule]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--show-password[With --auth\: also print the registry password (never printed otherwise)]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(down)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--purge[Also delete the stored images (the PVC) and the CA; clients must re-trust a new CA]' \
'--dry-run[Print what would be deleted; change nothing]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--dry-run[Report what the garbage collector would delete; delete nothing]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(trust-local)
_arguments "${_arguments_options[@]}" : \
'--ca-sha256=[The CA'\''s expected SHA-256 fingerprint (hex, colons allowed; comma-separated during a CA rotation)\: refuses to install anything else]:HEX:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--system[Also add the CA to the operating system'\''s trust store (asks on a terminal; else needs --ca-sha256)]' \
'--remove[Remove what trust-local wrote before]' \
'--dry-run[Print the files that would be written or removed; change nothing]' \
'--user[Only the per-user locations (no root needed)\: ~/.config/containers/certs.d]' \
'--hosts[Also map the registry'\''s name to its address in /etc/hosts (for a workstation whose resolver cannot answer nip.io names\: air-gapped, or with rebinding protection)]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(port-forward)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(push)
_arguments "${_arguments_options[@]}" : \
'--name=[Repository and tag in the registry (default\: the name stored in SOURCE)]:REPO[:TAG]:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--port-forward[Push through a port-forward to the registry pod even if its address is reachable]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':source -- The image file or OCI layout directory:_files' \
&& ret=0
;;
(images)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::repositories -- Only these repositories (default\: all):_default' \
&& ret=0
;;
(rm)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--all-tags[Delete the image even when other tags point at the same digest (they go too)]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':reference -- The image\: REPOSITORY\:TAG or REPOSITORY@sha256\:DIGEST (without the registry'\''s host):_default' \
&& ret=0
;;
(prune)
_arguments "${_arguments_options[@]}" : \
'--keep=[Keep the N newest images of each repository]:N:_default' \
'--older-than=[Delete only images created longer ago than this (e.g. 30d, 12h, 2w, 1d12h)]:AGE:_default' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--dry-run[Print what would be deleted; delete nothing]' \
'--no-gc[Delete the manifests only; reclaim the space later with \`kreg gc\`]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
'*::repositories -- Only these repositories (default\: all):_default' \
&& ret=0
;;
(env)
_arguments "${_arguments_options[@]}" : \
'--shell=[The shell whose syntax the exports use]:SHELL:(bash zsh fish powershell)' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
':shell -- The shell to generate completions for:(bash elvish fish powershell zsh)' \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(schema)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help (see more with '\''--help'\'')]' \
'--help[Print help (see more with '\''--help'\'')]' \
'-V[Print version]' \
'--version[Print version]' \
':document -- The document\: the `-o json` output of this command:((up\:"\`kreg up\`"
dry-run\:"\`kreg up --dry-run\`\: the objects \`up\` would apply"
render\:"\`kreg render\`\: the objects for a GitOps tool, Secrets referenced"
status\:"\`kreg status\`"
down\:"\`kreg down\`"
gc\:"\`kreg gc\`"
push\:"\`kreg push\`"
images\:"\`kreg images\`"
rm\:"\`kreg rm\`"
prune\:"\`kreg prune\`"
trust-local\:"\`kreg trust-local\`"
env\:"\`kreg env\`"
version\:"\`kreg version\`"
config\:"\`kreg.yaml\`, the file of \`-f\` and KREG_CONFIG"))' \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
'--out-dir=[The directory to write kreg.1, kreg-up.1, ... into (created if missing)]:DIR:_files' \
'--markdown=[Also (or only) write the flag reference as one Markdown file (docs/reference.md)]:FILE:_files' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(agent-image)
_arguments "${_arguments_options[@]}" : \
'--out=[The OCI archive to write (\`--agent-image-archive\` reads it)]:FILE:_files' \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(node-agent)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--once[One pass, then exit (0 when the node trusts the registry, or kreg'\''s files are removed)]' \
'(--once)--ready[Exit 0 if the last pass'\''s verdict was good (the DaemonSet'\''s readiness probe)]' \
'(--once --ready)--push-probe[Push the probe image to \$KREG_REGISTRY and exit (\`kreg render\`'\''s Job)]' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(registry-gate)
_arguments "${_arguments_options[@]}" : \
'--kubeconfig=[Path to the kubeconfig file (default\: \$KUBECONFIG, then ~/.kube/config)]:PATH:_files' \
'--context=[The kubeconfig context to use (default\: the current context)]:NAME:_default' \
'-n+[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'--namespace=[Namespace for the registry and its objects (default\: kreg-system)]:NAME:_default' \
'-o+[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--output=[Output format\: text for people, json or yaml for scripts]:OUTPUT:(text json yaml)' \
'--timeout=[How long to wait for the cluster (e.g. 90s, 5m, 1h)]:DURATION:_default' \
'-f+[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'--filename=[Settings from a file (kreg.yaml\: global flags at the top, \`kreg up\`'\''s under \`up\:\`); flags on the command line win (env\: KREG_CONFIG)]:FILE:_files' \
'-y[Answer yes to every question (never asks without a terminal anyway)]' \
'--yes[Answer yes to every question (never asks without a terminal anyway)]' \
'-h[Print help]' \
'--help[Print help]' \
'-V[Print version]' \
'--version[Print version]' \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
":: :_kreg__subcmd__help_commands" \
"*::: :->help" \
&& ret=0

    case $state in
    (help)
        words=($line[1] "${words[@]}")
        (( CURRENT += 1 ))
        curcontext="${curcontext%:*:*}:kreg-help-command-$line[1]:"
        case $line[1] in
            (up)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(render)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(status)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(down)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(gc)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(trust-local)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(port-forward)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(push)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(images)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(rm)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(prune)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(env)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(completions)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(version)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(schema)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(man)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(agent-image)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(node-agent)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(registry-gate)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
(help)
_arguments "${_arguments_options[@]}" : \
&& ret=0
;;
        esac
    ;;
esac
;;
        esac
    ;;
esac
}

(( $+functions[_kreg_commands] )) ||
_kreg_commands() {
    local commands; commands=(
'up:Install or update the registry, its TLS certificate and node trust (idempotent)' \
'render:Print the objects \`up\` applies, for Argo CD or Flux (Secrets referenced, never included)' \
'status:Show the registry'\''s health, address, certificate and node trust (read-only)' \
'down:Remove what \`up\` created; images and the CA stay unless --purge' \
'gc:Reclaim the space of deleted images\: the registry'\''s garbage collector, run while the registry is read-only (pulls keep working, pushes wait)' \
'trust-local:Make this workstation'\''s docker/podman/skopeo trust the registry'\''s CA' \
'port-forward:Forward localhost\:<port> here to the registry, for pushes with --expose localhost' \
'push:Push an image from a file (docker save or OCI) to the registry, without docker' \
'images:List the registry'\''s images\: repositories, tags, digests, sizes, creation times' \
'rm:Delete an image (REPO\:TAG or REPO@DIGEST); \`kreg gc\` then reclaims its space' \
'prune:Delete images by policy (--keep N newest, --older-than AGE), then reclaim their space' \
'env:Print the registry for dev tools (ko, Skaffold, Tilt, docker buildx) as shell exports' \
'completions:Print a shell completion script' \
'version:Print kreg'\''s version, the git commit it was built from and the build date' \
'schema:Print the JSON Schema of a command'\''s \`-o json\` document' \
'man:Write a man page per command into a directory, or the Markdown flag reference (packaging\: \`make man\`, \`make docs\`, \`make dist\`)' \
'agent-image:Write kreg'\''s own image (this executable) as an OCI archive; print its digest (packaging\: \`make dist\`)' \
'node-agent:The node agent that runs in kreg'\''s node-trust DaemonSet (not for people)' \
'registry-gate:The TLS front of the registry pod with --auth\: pull-only users only pull (not for people)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'kreg commands' commands "$@"
}
(( $+functions[_kreg__subcmd__agent-image_commands] )) ||
_kreg__subcmd__agent-image_commands() {
    local commands; commands=()
    _describe -t commands 'kreg agent-image commands' commands "$@"
}
(( $+functions[_kreg__subcmd__completions_commands] )) ||
_kreg__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'kreg completions commands' commands "$@"
}
(( $+functions[_kreg__subcmd__down_commands] )) ||
_kreg__subcmd__down_commands() {
    local commands; commands=()
    _describe -t commands 'kreg down commands' commands "$@"
}
(( $+functions[_kreg__subcmd__env_commands] )) ||
_kreg__subcmd__env_commands() {
    local commands; commands=()
    _describe -t commands 'kreg env commands' commands "$@"
}
(( $+functions[_kreg__subcmd__gc_commands] )) ||
_kreg__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'kreg gc commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help_commands] )) ||
_kreg__subcmd__help_commands() {
    local commands; commands=(
'up:Install or update the registry, its TLS certificate and node trust (idempotent)' \
'render:Print the objects \`up\` applies, for Argo CD or Flux (Secrets referenced, never included)' \
'status:Show the registry'\''s health, address, certificate and node trust (read-only)' \
'down:Remove what \`up\` created; images and the CA stay unless --purge' \
'gc:Reclaim the space of deleted images\: the registry'\''s garbage collector, run while the registry is read-only (pulls keep working, pushes wait)' \
'trust-local:Make this workstation'\''s docker/podman/skopeo trust the registry'\''s CA' \
'port-forward:Forward localhost\:<port> here to the registry, for pushes with --expose localhost' \
'push:Push an image from a file (docker save or OCI) to the registry, without docker' \
'images:List the registry'\''s images\: repositories, tags, digests, sizes, creation times' \
'rm:Delete an image (REPO\:TAG or REPO@DIGEST); \`kreg gc\` then reclaims its space' \
'prune:Delete images by policy (--keep N newest, --older-than AGE), then reclaim their space' \
'env:Print the registry for dev tools (ko, Skaffold, Tilt, docker buildx) as shell exports' \
'completions:Print a shell completion script' \
'version:Print kreg'\''s version, the git commit it was built from and the build date' \
'schema:Print the JSON Schema of a command'\''s \`-o json\` document' \
'man:Write a man page per command into a directory, or the Markdown flag reference (packaging\: \`make man\`, \`make docs\`, \`make dist\`)' \
'agent-image:Write kreg'\''s own image (this executable) as an OCI archive; print its digest (packaging\: \`make dist\`)' \
'node-agent:The node agent that runs in kreg'\''s node-trust DaemonSet (not for people)' \
'registry-gate:The TLS front of the registry pod with --auth\: pull-only users only pull (not for people)' \
'help:Print this message or the help of the given subcommand(s)' \
    )
    _describe -t commands 'kreg help commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__agent-image_commands] )) ||
_kreg__subcmd__help__subcmd__agent-image_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help agent-image commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__completions_commands] )) ||
_kreg__subcmd__help__subcmd__completions_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help completions commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__down_commands] )) ||
_kreg__subcmd__help__subcmd__down_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help down commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__env_commands] )) ||
_kreg__subcmd__help__subcmd__env_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help env commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__gc_commands] )) ||
_kreg__subcmd__help__subcmd__gc_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help gc commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__help_commands] )) ||
_kreg__subcmd__help__subcmd__help_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help help commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__images_commands] )) ||
_kreg__subcmd__help__subcmd__images_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help images commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__man_commands] )) ||
_kreg__subcmd__help__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help man commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__node-agent_commands] )) ||
_kreg__subcmd__help__subcmd__node-agent_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help node-agent commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__port-forward_commands] )) ||
_kreg__subcmd__help__subcmd__port-forward_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help port-forward commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__prune_commands] )) ||
_kreg__subcmd__help__subcmd__prune_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help prune commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__push_commands] )) ||
_kreg__subcmd__help__subcmd__push_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help push commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__registry-gate_commands] )) ||
_kreg__subcmd__help__subcmd__registry-gate_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help registry-gate commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__render_commands] )) ||
_kreg__subcmd__help__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help render commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__rm_commands] )) ||
_kreg__subcmd__help__subcmd__rm_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help rm commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__schema_commands] )) ||
_kreg__subcmd__help__subcmd__schema_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help schema commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__status_commands] )) ||
_kreg__subcmd__help__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help status commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__trust-local_commands] )) ||
_kreg__subcmd__help__subcmd__trust-local_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help trust-local commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__up_commands] )) ||
_kreg__subcmd__help__subcmd__up_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help up commands' commands "$@"
}
(( $+functions[_kreg__subcmd__help__subcmd__version_commands] )) ||
_kreg__subcmd__help__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'kreg help version commands' commands "$@"
}
(( $+functions[_kreg__subcmd__images_commands] )) ||
_kreg__subcmd__images_commands() {
    local commands; commands=()
    _describe -t commands 'kreg images commands' commands "$@"
}
(( $+functions[_kreg__subcmd__man_commands] )) ||
_kreg__subcmd__man_commands() {
    local commands; commands=()
    _describe -t commands 'kreg man commands' commands "$@"
}
(( $+functions[_kreg__subcmd__node-agent_commands] )) ||
_kreg__subcmd__node-agent_commands() {
    local commands; commands=()
    _describe -t commands 'kreg node-agent commands' commands "$@"
}
(( $+functions[_kreg__subcmd__port-forward_commands] )) ||
_kreg__subcmd__port-forward_commands() {
    local commands; commands=()
    _describe -t commands 'kreg port-forward commands' commands "$@"
}
(( $+functions[_kreg__subcmd__prune_commands] )) ||
_kreg__subcmd__prune_commands() {
    local commands; commands=()
    _describe -t commands 'kreg prune commands' commands "$@"
}
(( $+functions[_kreg__subcmd__push_commands] )) ||
_kreg__subcmd__push_commands() {
    local commands; commands=()
    _describe -t commands 'kreg push commands' commands "$@"
}
(( $+functions[_kreg__subcmd__registry-gate_commands] )) ||
_kreg__subcmd__registry-gate_commands() {
    local commands; commands=()
    _describe -t commands 'kreg registry-gate commands' commands "$@"
}
(( $+functions[_kreg__subcmd__render_commands] )) ||
_kreg__subcmd__render_commands() {
    local commands; commands=()
    _describe -t commands 'kreg render commands' commands "$@"
}
(( $+functions[_kreg__subcmd__rm_commands] )) ||
_kreg__subcmd__rm_commands() {
    local commands; commands=()
    _describe -t commands 'kreg rm commands' commands "$@"
}
(( $+functions[_kreg__subcmd__schema_commands] )) ||
_kreg__subcmd__schema_commands() {
    local commands; commands=()
    _describe -t commands 'kreg schema commands' commands "$@"
}
(( $+functions[_kreg__subcmd__status_commands] )) ||
_kreg__subcmd__status_commands() {
    local commands; commands=()
    _describe -t commands 'kreg status commands' commands "$@"
}
(( $+functions[_kreg__subcmd__trust-local_commands] )) ||
_kreg__subcmd__trust-local_commands() {
    local commands; commands=()
    _describe -t commands 'kreg trust-local commands' commands "$@"
}
(( $+functions[_kreg__subcmd__up_commands] )) ||
_kreg__subcmd__up_commands() {
    local commands; commands=()
    _describe -t commands 'kreg up commands' commands "$@"
}
(( $+functions[_kreg__subcmd__version_commands] )) ||
_kreg__subcmd__version_commands() {
    local commands; commands=()
    _describe -t commands 'kreg version commands' commands "$@"
}

if [ "$funcstack[1]" = "_kreg" ]; then
    _kreg "$@"
else
    compdef _kreg kreg
fi
