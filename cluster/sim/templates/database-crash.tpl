{{ $now := Now }}
{{ $settings := list @DB_ROOT_SETTINGS@ }}
{{ $old := dict }}
{{ range default (list) .status.containerStatuses }}{{ $_ := set $old .name . }}{{ end }}
{{ $pod := printf "%s_%s(%s)" .metadata.name .metadata.namespace .metadata.uid }}
conditions:
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
{{ $running := false }}{{ $restartable := false }}
containerStatuses:
{{ range .spec.containers }}
{{ $repo := regexReplaceAll "@.*$" .image "" }}{{ $repo = regexReplaceAll ":[^/:]*$" $repo "" }}
{{ $repo = regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" $repo "" }}{{ $repo = regexReplaceAll "^library/" $repo "" }}
{{ $before := get $old .name }}
{{ $restarts := 0 }}{{ if $before }}{{ $restarts = $before.restartCount }}{{ end }}
{{/* the container's own restartPolicy, else the pod's */}}
{{ $never := eq (default (default "Always" $.spec.restartPolicy) .restartPolicy) "Never" }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  {{ if has $repo (list "mariadb" "mysql") }}
  {{/* pods.jq's db_configured: a setting of db-root-settings.txt not empty (the last entry of a
       name wins), a _FILE one whose path lies in a mounted volume; or any envFrom */}}
  {{ $c := . }}{{ $taken := dict }}
  {{ range default (list) .env }}
  {{ $counts := and (has .name $settings) (or .value .valueFrom) }}
  {{ if and $counts .value (hasSuffix "_FILE" .name) }}
  {{ $path := .value }}{{ if not (hasPrefix "/" $path) }}{{ $path = printf "%s/%s" (trimSuffix "/" (default "" $c.workingDir)) $path }}{{ end }}
  {{ $counts = false }}
  {{ range default (list) $c.volumeMounts }}{{ $m := trimSuffix "/" .mountPath }}{{ if or (eq $path $m) (hasPrefix (printf "%s/" $m) $path) }}{{ $counts = true }}{{ end }}{{ end }}
  {{ end }}
  {{ if $counts }}{{ $_ := set $taken .name true }}{{ else }}{{ $_ := unset $taken .name }}{{ end }}
  {{ end }}
  {{ $configured := or (gt (len (default (list) .envFrom)) 0) (gt (len $taken) 0) }}
  ready: false
  {{ $ended := "" }}{{ if $before }}{{ $ended = dig "state" "terminated" "" $before }}{{ end }}
  {{ if $ended }}
  {{ $restartable = true }}
  restartCount: {{ add $restarts 1 }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 10s restarting failed container=%s pod=%s" .name $pod | Quote }}
  lastState:
    terminated: {exitCode: {{ $ended.exitCode }}, reason: {{ $ended.reason }}, startedAt: {{ $ended.startedAt | Quote }}, finishedAt: {{ $ended.finishedAt | Quote }}}
  {{ else }}
  {{ if not $never }}{{ $restartable = true }}{{ end }}
  restartCount: {{ $restarts }}
  state:
    terminated:
      {{ if $configured }}exitCode: 137
      reason: OOMKilled{{ else }}exitCode: 1
      reason: Error{{ end }}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  {{ if $before }}{{ with $before.lastState }}{{ with .terminated }}
  lastState:
    terminated: {exitCode: {{ .exitCode }}, reason: {{ .reason }}, startedAt: {{ .startedAt | Quote }}, finishedAt: {{ .finishedAt | Quote }}}
  {{ end }}{{ end }}{{ end }}
  {{ end }}
  {{ else }}
  {{ $running = true }}
  restartCount: {{ $restarts }}
  ready: true
  started: true
  state: {running: {startedAt: {{ $now | Quote }}}}
  {{ end }}
{{ end }}
{{ $hostIPs := NodeIPsWith .spec.nodeName }}
{{ with $hostIPs }}
hostIP: {{ index . 0 | Quote }}
{{ end }}
{{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
{{ with $podIPs }}
podIP: {{ index . 0 | Quote }}
{{ end }}
{{/* restartPolicy Never: no restart, and with no container left running or to restart the pod has Failed */}}
phase: {{ if and (not $restartable) (not $running) }}Failed{{ else }}Running{{ end }}
startTime: {{ $now | Quote }}
