# What the simulated kubelet knows about a pod, as jq definitions shared by the selectors of
# stages.yaml (cluster.py puts them in front of every selector that says @POD_JQ@).

# An image's repository as Docker Hub spells it short: "docker.io/library/nginx:1.27" -> "nginx".
def repo: sub("@.*$"; "") | sub(":[^/:]*$"; "")
  | sub("^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/"; "") | sub("^library/"; "");

# The images the simulated cluster can "pull" (cluster/images/catalog.txt, the same catalog the real
# node's registry serves). Any other image fails the way a
# typo does on a real cluster: ErrImagePull, then ImagePullBackOff.
# An image by digest never pulls: no digest a manifest can name is one of the catalog's own.
def known: (contains("@") | not) and (repo | IN(@KNOWN_IMAGES_JQ@));

def all_containers: (.spec.initContainers // [])[], .spec.containers[];
def unknown_image: any(all_containers; .image | known | not);

# mariadb and mysql refuse to start without one of these settings (db-root-settings.txt, which
# says when one counts; graders/db_root_settings.py judges alike).
def is_db: .image | repo | IN("mariadb", "mysql");
def root_settings: @DB_ROOT_SETTINGS_JQ@;
# A container's env entries as the kubelet leaves them: a later entry of a name replaces one before.
def effective_env: reduce (.env // [])[] as $e ({}; .[$e.name] = $e) | .[];
# Whether a path lies in a volume mounted into the container (a relative one starts from its
# working directory): the only place a _FILE variable's file can come from.
def mounted($path): (if ($path | startswith("/")) then $path else ((.workingDir // "") | rtrimstr("/")) + "/" + $path end) as $p
  | any((.volumeMounts // [])[]; (.mountPath | rtrimstr("/")) as $m | $p == $m or ($p | startswith($m + "/")));
# A setting counts when it is not empty (the entrypoint tests -n) or comes from a Secret, ConfigMap
# or field (not read here); a _FILE one when its path lies in a mounted volume.
def sets_root: . as $c | any(effective_env; (.name | IN(root_settings)) and
  (if .valueFrom then true elif (.name | endswith("_FILE")) then ((.value // "") as $p | $p != "" and ($c | mounted($p)))
   else (.value // "") != "" end));
# envFrom counts as configured: the stage cannot read the Secret or ConfigMap it names.
def db_configured: sets_root or ((.envFrom // []) | length > 0);

# A quantity in bytes ("128Mi", "1G", "268435456", "0.5Gi").
def bytes: tostring | capture("^(?<n>[0-9.]+)(?<u>[A-Za-z]*)$")
  | (.n | tonumber) * ({"": 1, "k": 1000, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 1024, "Mi": 1048576,
                         "Gi": 1073741824, "Ti": 1099511627776}[.u] // 1);
# mariadb and mysql need about 256Mi; under a lower limit the kernel kills them.
def db_starved: (.resources.limits.memory // null) as $m | $m != null and ($m | bytes) < 268435456;
def db_crashes: any(.spec.containers[]; is_db and ((db_configured | not) or db_starved));

# A probe that targets a port the container does not declare (by number or by name) fails:
# the simulated container listens only on its declared ports.
def declared: [(.ports // [])[] | (.containerPort | tostring), (.name // empty)];
def probe_port($kind): .[$kind] // {} | (.httpGet.port // .tcpSocket.port // .grpc.port // null);
def misses($kind): declared as $d | probe_port($kind) as $p
  | $p != null and (($p | tostring) as $s | $d | index([$s]) | not);
def unready: any(.spec.containers[]; misses("readinessProbe"));
def unlive: any(.spec.containers[]; misses("livenessProbe"));

# Init containers (not native sidecars) that must run to completion first.
def regular_inits: [(.spec.initContainers // [])[] | select(.restartPolicy != "Always")];
def init_started: any((.status.initContainerStatuses // [])[]; .state.running or .state.terminated);
def inits_done: (.status.initContainerStatuses // []) as $statuses
  | all(regular_inits[].name; . as $n | any($statuses[]; .name == $n and .state.terminated.exitCode == 0));
def initializing: (regular_inits | length > 0) and (inits_done | not);

# The program a container starts: its command, or without one its args (busybox has no
# entrypoint, so there the args name the program).
def program: ((.command // []) | if length > 0 then . else null end) // (.args // []) | .[0] // null;
# The busybox image has only the programs of busybox-programs.txt: a container of it whose program
# is named bare (looked up on PATH) and is none of them cannot start (RunContainerError, last
# state StartError, exit code 128). A path (/scripts/run.sh) may come from a volume: not judged.
def not_found: (.image | repo | IN("busybox", "registry.k8s.io/busybox"))
  and (program as $p | $p != null and ($p | contains("/") | not) and ($p | IN(@BUSYBOX_PROGRAMS_JQ@) | not));
def start_fails: any(.spec.containers[]; not_found);

# A special case owns the pod: the plain start (KWOK's own pod-ready stage) must not apply.
def special: unknown_image or db_crashes or unready or start_fails;
