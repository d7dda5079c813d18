#!/bin/bash
# Runs once at boot, before containerd and the kubelet.
set -euo pipefail

# The kernel tunables the kubelet sets (pkg/kubelet/cm, setupKernelTunables) are not namespaced:
# in a privileged node it would rewrite the host's. It reads each first and writes only a
# different value, so read-only files holding its values, bound over them here, satisfy it and
# leave the host's own as they are.
mkdir -p /run/course-sysctl
for setting in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 \
               kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
  name=${setting%%=*} value=${setting#*=}
  [ -e "/proc/sys/$name" ] || continue
  shield=/run/course-sysctl/${name//\//.}
  echo "$value" >"$shield"
  mount --bind "$shield" "/proc/sys/$name"
  mount -o remount,bind,ro "/proc/sys/$name"
done

# Where root lacks CAP_SYS_RESOURCE (bit 24 of the bounding set), no process here may lower its
# oom_score_adj, and runc would fail every pod sandbox for the kubelet's -998: containerd must
# then keep each container's at least its own.
bounding=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (( (16#$bounding >> 24 & 1) == 0 )); then
  sed -i 's/^\(\s*restrict_oom_score_adj\s*=\s*\)false/\1true/' /etc/containerd/config.toml
fi
