// Command kindnet is the offline kind node image's pod network, in the place of kind's kindnetd
// (which cannot be built offline). It runs on every node, in the host's network (a DaemonSet):
// it writes the node's CNI configuration from its spec.podCIDR (ptp veths, host-local addresses,
// portmap for hostPort) and routes every other node's podCIDR through that node's InternalIP, so
// pods on different nodes reach each other across kind's Docker network. It masquerades nothing
// (pods reach each other, Services and the API server, never the outside) and enforces no
// NetworkPolicy. Standard library only.
package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

const serviceAccount = "/var/run/secrets/kubernetes.io/serviceaccount"

type node struct {
	Metadata struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		PodCIDR string `json:"podCIDR"`
	} `json:"spec"`
	Status struct {
		Addresses []struct {
			Type    string `json:"type"`
			Address string `json:"address"`
		} `json:"addresses"`
	} `json:"status"`
}

func (n node) internalIP() string {
	for _, a := range n.Status.Addresses {
		if a.Type == "InternalIP" {
			return a.Address
		}
	}
	return ""
}

// conflist is the node's CNI configuration, as kindnetd writes it (without masquerading).
func conflist(podCIDR string) []byte {
	config := map[string]any{
		"cniVersion": "0.4.0",
		"name":       "kindnet",
		"plugins": []any{
			map[string]any{
				"type": "ptp", "ipMasq": false, "mtu": 1500,
				"ipam": map[string]any{
					"type":    "host-local",
					"dataDir": "/run/cni-ipam-state",
					"routes":  []any{map[string]any{"dst": "0.0.0.0/0"}},
					"ranges":  []any{[]any{map[string]any{"subnet": podCIDR}}},
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]any{"portMappings": true}},
		},
	}
	out, _ := json.MarshalIndent(config, "", "  ")
	return append(out, '\n')
}

func client() (*http.Client, error) {
	ca, err := os.ReadFile(filepath.Join(serviceAccount, "ca.crt"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}, nil
}

func listNodes(c *http.Client, endpoint string) ([]node, error) {
	token, err := os.ReadFile(filepath.Join(serviceAccount, "token")) // rotated: read each time
	if err != nil {
		return nil, err
	}
	request, _ := http.NewRequest("GET", "https://"+endpoint+"/api/v1/nodes", nil)
	request.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(token)))
	response, err := c.Do(request)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/nodes: %s", response.Status)
	}
	var list struct {
		Items []node `json:"items"`
	}
	return list.Items, json.NewDecoder(response.Body).Decode(&list)
}

// writeIfChanged replaces path atomically when its content differs; reports whether it did.
func writeIfChanged(path string, content []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, content) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}

func main() {
	self, endpoint := os.Getenv("NODE_NAME"), os.Getenv("CONTROL_PLANE_ENDPOINT")
	confDir := os.Getenv("CNI_CONFIG_DIR")
	if confDir == "" {
		confDir = "/etc/cni/net.d"
	}
	if self == "" || endpoint == "" {
		log.Fatal("NODE_NAME and CONTROL_PLANE_ENDPOINT must be set")
	}
	c, err := client()
	if err != nil {
		log.Fatalf("the ServiceAccount's CA: %v", err)
	}
	routes := map[string]string{} // podCIDR -> the node address it was routed through
	for ; ; time.Sleep(5 * time.Second) {
		nodes, err := listNodes(c, endpoint)
		if err != nil {
			log.Printf("listing nodes: %v", err)
			continue
		}
		for _, n := range nodes {
			cidr, address := n.Spec.PodCIDR, n.internalIP()
			if cidr == "" || address == "" {
				continue
			}
			if n.Metadata.Name == self {
				changed, err := writeIfChanged(filepath.Join(confDir, "10-kindnet.conflist"), conflist(cidr))
				if err != nil {
					log.Printf("writing the CNI configuration: %v", err)
				} else if changed {
					log.Printf("this node's pods: %s (CNI configuration written)", cidr)
				}
				continue
			}
			if routes[cidr] == address {
				continue
			}
			out, err := exec.Command("ip", "route", "replace", cidr, "via", address).CombinedOutput()
			if err != nil {
				log.Printf("route %s via %s (%s): %v: %s", cidr, address, n.Metadata.Name, err, out)
				continue
			}
			routes[cidr] = address
			log.Printf("pods of %s: %s via %s", n.Metadata.Name, cidr, address)
		}
	}
}
