{{ $now := Now }}
{{ $known := list @KNOWN_IMAGES@ }}
{{ $reason := "ErrImagePull" }}
{{ range concat (default (list) .status.initContainerStatuses) (default (list) .status.containerStatuses) }}
{{ if eq (dig "state" "waiting" "reason" "" .) "ErrImagePull" }}{{ $reason = "ImagePullBackOff" }}{{ end }}
{{ end }}
{{ $blocked := false }}
conditions:
- {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
initContainerStatuses:
{{ range default (list) .spec.initContainers }}
{{ $repo := regexReplaceAll "@.*$" .image "" }}{{ $repo = regexReplaceAll ":[^/:]*$" $repo "" }}
{{ $repo = regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" $repo "" }}{{ $repo = regexReplaceAll "^library/" $repo "" }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  restartCount: 0
  ready: false
  {{ if $blocked }}
  state: {waiting: {reason: PodInitializing}}
  {{ else if or (contains "@" .image) (not (has $repo $known)) }}
  {{ $blocked = true }}
  state:
    waiting:
      reason: {{ $reason }}
      message: {{ if eq $reason "ErrImagePull" }}{{ printf "failed to pull image %q: pull access denied, repository does not exist or may require authorization (simulated)" .image | Quote }}{{ else }}{{ printf "Back-off pulling image %q" .image | Quote }}{{ end }}
  {{ else }}
  state: {terminated: {exitCode: 0, reason: Completed, startedAt: {{ $now | Quote }}, finishedAt: {{ $now | Quote }}}}
  {{ end }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
{{ $repo := regexReplaceAll "@.*$" .image "" }}{{ $repo = regexReplaceAll ":[^/:]*$" $repo "" }}
{{ $repo = regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" $repo "" }}{{ $repo = regexReplaceAll "^library/" $repo "" }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  restartCount: 0
  {{ if $blocked }}
  ready: false
  state: {waiting: {reason: PodInitializing}}
  {{ else if or (contains "@" .image) (not (has $repo $known)) }}
  ready: false
  state:
    waiting:
      reason: {{ $reason }}
      message: {{ if eq $reason "ErrImagePull" }}{{ printf "failed to pull image %q: pull access denied, repository does not exist or may require authorization (simulated)" .image | Quote }}{{ else }}{{ printf "Back-off pulling image %q" .image | Quote }}{{ end }}
  {{ else }}
  ready: true
  started: true
  state: {running: {startedAt: {{ $now | Quote }}}}
  {{ end }}
{{ end }}
phase: Pending
