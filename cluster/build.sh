#!/usr/bin/env bash
# Builds the simulated cluster's binaries from the upstream Go modules:
#   controlplane  one multi-call binary: kube-apiserver, kube-controller-manager, kube-scheduler,
#                 kubelet, kube-proxy
#   etcd          etcd's server
#   kwok, kwokctl the node and kubelet simulator and its cluster manager
#   containerd    the real node's container runtime (containerd, its runc shim, ctr)
#   cni           the real node's network plugins (bridge, host-local, loopback)
# Products go to $COURSE_CACHE/bin/<component>-<version>/ (outside the repository) and are
# built only when missing. Prints the bin directory of each component on stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${COURSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-pods-course}
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { echo "build: $*" >&2; }

command -v go >/dev/null || { log "Go is not installed: install Go 1.26 or newer (https://go.dev/dl/) and run again."; exit 1; }

# build_module NAME SOURCE_DIR REQUIRE... : copy our module's sources to a work dir, require the
# given modules, run the extra go.mod edits in $EDITS, build NAME with $LDFLAGS.
build_module() {
  local name=$1 src=$2 out=$3; shift 3
  (
    work=$(mktemp -d "$cache/work.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    cp "$src"/*.go "$src/go.mod" "$work/"
    cd "$work"
    for req in "$@"; do go mod edit -require "$req"; done
    [ -z "${EDITS:-}" ] || eval "$EDITS"
    log "$name: resolving modules"
    go mod tidy >&2
    log "$name: compiling (a cold build takes several minutes)"
    go build -trimpath -ldflags "-s -w ${LDFLAGS:-}" -o "$out.tmp" . >&2
  )
  mv "$out.tmp" "$out"
}

# k8s.io/kubernetes replaces each staging module (k8s.io/api, k8s.io/client-go, ...) with a path
# inside its own tree; we replace each with its published v0.<minor>.<patch> instead.
staging_replaces() {
  local dir; dir=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  go mod edit -json "$dir/go.mod" | python3 -c '
import json, sys
for r in json.load(sys.stdin).get("Replace") or []:
    if r["New"]["Path"].startswith("./staging/"):
        print(r["Old"]["Path"])' | while read -r module; do
    printf 'go mod edit -replace %s=%s@%s\n' "$module" "$module" "$staging_version"
  done
}

# A short digest of a source folder: a cached build of older sources (say, without the kubelet)
# is never taken for the current one.
sources_digest() { cat "$1"/*.go "$1/go.mod" | sha256sum | cut -c1-8; }

build_controlplane() {
  local dir="$cache/bin/controlplane-$KUBERNETES_VERSION-$(sources_digest "$here/controlplane")"
  if [ ! -x "$dir/controlplane" ]; then
    mkdir -p "$dir"
    local v=${KUBERNETES_VERSION#v} minor
    minor=$(echo "$v" | cut -d. -f2)
    local ld="" pkg
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
      ld+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
      ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    done
    EDITS=$(staging_replaces) LDFLAGS=$ld \
      build_module controlplane "$here/controlplane" "$dir/controlplane" "k8s.io/kubernetes@$KUBERNETES_VERSION"
  fi
  for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    ln -sf controlplane "$dir/$name"
  done
  echo "$dir"
}

build_etcd() {
  local dir="$cache/bin/etcd-$ETCD_VERSION"
  if [ ! -x "$dir/etcd" ]; then
    mkdir -p "$dir"
    LDFLAGS="" EDITS="" build_module etcd "$here/etcd" "$dir/etcd" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  fi
  echo "$dir"
}

build_kwok() {
  local dir="$cache/bin/kwok-$KWOK_VERSION"
  if [ ! -x "$dir/kwokctl" ] || [ ! -x "$dir/kwok" ]; then
    mkdir -p "$dir"
    log "kwok $KWOK_VERSION: building kwok and kwokctl"
    local ld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION"
    GOBIN="$dir" go install -trimpath -ldflags "$ld" \
      "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" >&2
  fi
  echo "$dir"
}

# Static binaries (no cgo), without the snapshotters a course node never uses.
build_containerd() {
  local dir="$cache/bin/containerd-$CONTAINERD_VERSION" module=github.com/containerd/containerd/v2
  if [ ! -x "$dir/containerd" ] || [ ! -x "$dir/containerd-shim-runc-v2" ] || [ ! -x "$dir/ctr" ]; then
    mkdir -p "$dir"
    log "containerd $CONTAINERD_VERSION: building containerd, its runc shim and ctr"
    CGO_ENABLED=0 GOBIN="$dir" go install -trimpath -tags "no_btrfs no_devmapper no_zfs" \
      -ldflags "-s -w -X $module/version.Version=$CONTAINERD_VERSION" \
      "$module/cmd/containerd@$CONTAINERD_VERSION" "$module/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
      "$module/cmd/ctr@$CONTAINERD_VERSION" >&2
  fi
  echo "$dir"
}

build_cni() {
  local dir="$cache/bin/cni-$CNI_PLUGINS_VERSION" module=github.com/containernetworking/plugins
  if [ ! -x "$dir/bridge" ] || [ ! -x "$dir/host-local" ] || [ ! -x "$dir/loopback" ]; then
    mkdir -p "$dir"
    log "CNI plugins $CNI_PLUGINS_VERSION: building bridge, host-local and loopback"
    CGO_ENABLED=0 GOBIN="$dir" go install -trimpath -ldflags "-s -w" \
      "$module/plugins/main/bridge@$CNI_PLUGINS_VERSION" "$module/plugins/ipam/host-local@$CNI_PLUGINS_VERSION" \
      "$module/plugins/main/loopback@$CNI_PLUGINS_VERSION" >&2
  fi
  echo "$dir"
}

mkdir -p "$cache/bin"
case "${1:-all}" in
  controlplane) build_controlplane ;;
  etcd) build_etcd ;;
  kwok) build_kwok ;;
  containerd) build_containerd ;;
  cni) build_cni ;;
  all) build_etcd; build_kwok; build_controlplane ;;
  node) build_etcd; build_kwok; build_controlplane; build_containerd; build_cni ;;
  *) log "usage: $0 [all|node|controlplane|etcd|kwok|containerd|cni]"; exit 2 ;;
esac
