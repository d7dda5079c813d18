{{ $now := Now }}
{{ $programs := list @BUSYBOX_PROGRAMS@ }}
{{ $old := dict }}
{{ range default (list) .status.containerStatuses }}{{ $_ := set $old .name . }}{{ end }}
{{ $pod := printf "%s_%s(%s)" .metadata.name .metadata.namespace .metadata.uid }}
{{ $restartable := false }}
conditions:
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "False", reason: ContainersNotReady, lastTransitionTime: {{ $now | Quote }}}
{{ $running := false }}
containerStatuses:
{{ range .spec.containers }}
{{ $repo := regexReplaceAll "@.*$" .image "" }}{{ $repo = regexReplaceAll ":[^/:]*$" $repo "" }}
{{ $repo = regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" $repo "" }}{{ $repo = regexReplaceAll "^library/" $repo "" }}
{{ $program := "" }}{{ if .command }}{{ $program = index .command 0 }}{{ else if .args }}{{ $program = index .args 0 }}{{ end }}
{{ $before := get $old .name }}
{{ $restarts := 0 }}{{ if $before }}{{ $restarts = $before.restartCount }}{{ end }}
{{/* the container's own restartPolicy, else the pod's */}}
{{ $never := eq (default (default "Always" $.spec.restartPolicy) .restartPolicy) "Never" }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  {{ if and (has $repo (list "busybox" "registry.k8s.io/busybox")) (ne $program "") (not (contains "/" $program)) (not (has $program $programs)) }}
  {{ $message := printf "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: %q: executable file not found in $PATH (simulated: not a program of the busybox image)" $program }}
  {{ $failed := dict "exitCode" 128 "reason" "StartError" "message" $message "startedAt" "1970-01-01T00:00:00Z" "finishedAt" $now }}
  {{ $waiting := "" }}{{ if $before }}{{ $waiting = dig "state" "waiting" "reason" "" $before }}{{ end }}
  ready: false
  started: false
  {{ if eq $waiting "RunContainerError" }}
  {{ $restartable = true }}
  restartCount: {{ $restarts }}
  state:
    waiting:
      reason: CrashLoopBackOff
      message: {{ printf "back-off 10s restarting failed container=%s pod=%s" .name $pod | Quote }}
  lastState:
    terminated: {{ dig "lastState" "terminated" $failed $before | toJson }}
  {{ else if $never }}
  restartCount: 0
  state:
    terminated: {{ $failed | toJson }}
  {{ else }}
  {{ $restartable = true }}
  {{/* a new attempt after a back-off counts as a restart */}}
  restartCount: {{ if eq $waiting "CrashLoopBackOff" }}{{ add $restarts 1 }}{{ else }}{{ $restarts }}{{ end }}
  state:
    waiting:
      reason: RunContainerError
      message: {{ $message | Quote }}
  lastState:
    terminated: {{ $failed | toJson }}
  {{ end }}
  {{ else }}
  {{ $running = true }}
  restartCount: {{ $restarts }}
  ready: true
  started: true
  state: {running: {startedAt: {{ if $before }}{{ dig "state" "running" "startedAt" $now $before | Quote }}{{ else }}{{ $now | Quote }}{{ end }}}}
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
{{/* restartPolicy Never: no second attempt, and with no container left running or to restart the pod has Failed */}}
phase: {{ if and (not $restartable) (not $running) }}Failed{{ else }}Running{{ end }}
startTime: {{ if .status.startTime }}{{ .status.startTime | Quote }}{{ else }}{{ $now | Quote }}{{ end }}
