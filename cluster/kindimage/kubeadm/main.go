// Command kubeadm is kubeadm or kubectl, depending on the name it is called by (a multi-call
// binary, so the two share one build): what kind runs inside the offline node image.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/component-base/cli"
	kubectl "k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"
	"k8s.io/kubernetes/cmd/kubeadm/app"
)

func main() {
	switch name := filepath.Base(os.Args[0]); name {
	case "kubeadm":
		if err := app.Run(); err != nil {
			os.Exit(1)
		}
	case "kubectl":
		if err := cli.RunNoErrOutput(kubectl.NewDefaultKubectlCommand()); err != nil {
			util.CheckErr(err)
		}
	default:
		fmt.Fprintf(os.Stderr, "%s: call me as kubeadm or kubectl (a symlink of that name)\n", name)
		os.Exit(2)
	}
}
