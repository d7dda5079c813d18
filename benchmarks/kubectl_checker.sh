#!/usr/bin/env bash
# The kind of checker hosted platforms run: one `kubectl get ... -o jsonpath` per check, and a
# request from inside the pod through `kubectl exec` for what the pod serves (curl there; the
# course's nginx image has busybox wget). Same checks as `grade lab1` (shared LABS.md, lab1).
# Usage: kubectl_checker.sh NAMESPACE
ns=${1:-lab1}
get() { kubectl get pod webserver -n "$ns" -o jsonpath="$1" 2>/dev/null; }
score=0
pass() { echo "PASS $1"; score=$((score + 1)); }
fail() { echo "FAIL $1"; }

kubectl get pod webserver -n "$ns" -o name >/dev/null 2>&1 && pass pod-exists || fail pod-exists
[ "$(get '{.metadata.labels.app}')" = webserver ] && pass label || fail label
[ "$(get '{.spec.containers[*].name}' | wc -w)" = 1 ] && pass one-container || fail one-container
[ "$(get '{.spec.containers[0].name}')" = webserver ] && pass container-name || fail container-name
[[ "$(get '{.spec.containers[?(@.name=="webserver")].image}')" =~ ^((docker.io|index.docker.io)/)?(library/)?nginx([:@].*)?$ ]] \
  && pass image || fail image
get '{.spec.containers[?(@.name=="webserver")].ports[*].containerPort}' | grep -qw 80 && pass port || fail port
[ "$(get '{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}')" = Running/True ] \
  && pass running || fail running
kubectl exec webserver -n "$ns" -- wget -qO- http://localhost/ 2>/dev/null | grep -qi '<html' \
  && pass serves-page || fail serves-page
echo "score $score/8"
[ "$score" = 8 ]
