// Command cm-controller: the test harness's cert-manager controller (tests/cluster/addons/cert-manager.sh).
//
// The Go module proxy serves github.com/cert-manager/cert-manager (the library: controllers,
// issuers, clients) but not the separate module holding upstream's controller binary, so the
// harness wires the library's registered control loops itself. It runs only what a CA or
// self-signed issuer needs: the Issuer/ClusterIssuer readiness loops, the Certificate loops
// (trigger, key manager, request manager, issuing, readiness, revision manager), the
// CertificateRequest approver and the CA and self-signed signers. No webhook, no ACME, no
// ingress/gateway shims, no leader election (one instance, started and stopped by kcluster).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

var loops = []string{
	"issuers",
	"clusterissuers",
	"certificates-trigger",
	"certificates-key-manager",
	"certificates-request-manager",
	"certificates-issuing",
	"certificates-readiness",
	"certificates-revision-manager",
	"certificaterequests-approver",
	"certificaterequests-issuer-ca",
	"certificaterequests-issuer-selfsigned",
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster (required)")
	clusterNS := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace holding the Secrets a ClusterIssuer refers to")
	flag.Parse()
	if *kubeconfig == "" {
		fmt.Fprintln(os.Stderr, "cm-controller: --kubeconfig is required")
		os.Exit(2)
	}
	logf.InitLogs()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log, "cm-controller")

	opts := controllerpkg.ContextOptions{
		Kubeconfig:         *kubeconfig,
		KubernetesAPIQPS:   50,
		KubernetesAPIBurst: 100,
		IssuerOptions:      controllerpkg.IssuerOptions{ClusterResourceNamespace: *clusterNS},
		CertificateOptions: controllerpkg.CertificateOptions{
			// A failed request is retried after seconds, not upstream's hour: tests fix and retry.
			CertificateRequestMinimumBackoffDuration: 5 * time.Second,
			CertificateRequestMaximumBackoffDuration: 30 * time.Second,
		},
	}
	factory, err := controllerpkg.NewContextFactory(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cm-controller:", err)
		os.Exit(1)
	}
	known := controllerpkg.Known()
	var wg sync.WaitGroup
	for _, name := range loops {
		ctor, ok := known[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "cm-controller: no control loop %q in this cert-manager\n", name)
			os.Exit(1)
		}
		loop, err := ctor(factory)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cm-controller: %s: %v\n", name, err)
			os.Exit(1)
		}
		wg.Add(1)
		go func(name string, loop controllerpkg.Interface) {
			defer wg.Done()
			if err := loop.Run(2, ctx); err != nil {
				fmt.Fprintf(os.Stderr, "cm-controller: %s: %v\n", name, err)
				os.Exit(1)
			}
		}(name, loop)
	}
	// The loops registered their informers above; start them once, for all.
	shared, err := factory.Build()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cm-controller:", err)
		os.Exit(1)
	}
	shared.KubeSharedInformerFactory.Start(ctx.Done())
	shared.SharedInformerFactory.Start(ctx.Done())
	shared.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	fmt.Fprintf(os.Stderr, "cm-controller: running %d control loops\n", len(loops))
	wg.Wait()
}
