#!/bin/sh
# Lab 9 - kubectl drill, done with commands. Run from the repository's root after the starter:
#   kubectl create -n lab9 -f labs/lab9/drill.yaml
# NS chooses another namespace. It leaves the objects of drill.yaml beside it.
set -e
NS=${NS:-lab9}

# web: one kubectl run. --labels is one comma-separated list, without spaces.
kubectl run web --image=nginx:1.27-alpine --labels=app=web,tier=frontend --port=80 -n "$NS"

# greeter: everything after -- is the command. Single quotes keep $GREETING for the container's
# shell; sleep keeps the container running after it has printed.
kubectl run greeter --image=busybox:1.36 --env=GREETING=bonjour -n "$NS" \
  -- sh -c 'echo "$GREETING"; exec sleep 3600'

# drill-settings: kubectl edit configmap drill-settings -n "$NS" opens it in an editor; without
# one, the same change as a patch:
kubectl patch configmap drill-settings -n "$NS" --type=merge -p '{"data":{"mode":"batch"}}'

# worker: start the manifest with --dry-run=client -o yaml and set the resources on it (--local:
# on the file, not on the cluster, since a pod that exists refuses them), then create it.
kubectl run worker --image=busybox:1.36 --dry-run=client -o yaml -- sleep 3600 \
  | kubectl set resources -f - --local -o yaml --requests=cpu=50m,memory=32Mi --limits=cpu=100m,memory=64Mi \
  | kubectl apply -n "$NS" -f -
# Its environment cannot change either: print the pod with MODE from the ConfigMap's key, and
# replace the pod with it (--force deletes it and creates it again).
kubectl set env pod/worker --from=configmap/drill-settings --keys=mode -n "$NS" --dry-run=client -o yaml \
  | kubectl replace --force --grace-period=1 -f -

# legacy: the image, labels and annotations of a running pod can change in place.
kubectl set image pod/legacy legacy=nginx:1.27-alpine -n "$NS"
kubectl label pod legacy tier=backend stage- -n "$NS"
kubectl annotate pod legacy owner=platform-team -n "$NS"

# To hand in, write the objects as manifests in place of the starter (not run here: it would
# replace the repository's starter): grade hand-in lab9 labs/lab9/drill.yaml
