"""Lesson 02 - kubectl for pods: find things out with get -o jsonpath, describe, logs, exec and
port-forward. The pods come from course/exercises/02-*.yaml; each answer is written on its pod
(graders/exercises/answers.py)."""
import re

from graders.checks import answers
from graders.exercises import Exercise
from graders.exercises.answers import compared, given, how_to_answer

GIVE_AN_ANSWER = "answered"

pod_ip = Exercise(
    "02-pod-ip", "Find a pod's IP address with -o jsonpath", setup=("02-mystery.yaml",),
    explanation="The address is in the pod's `status.podIP`. `-o jsonpath` prints just that field, and "
                "`$( ... )` puts the output of one command into another:",
    solution="""kubectl get pod mystery -n $NS -o jsonpath='{.status.podIP}'; echo
kubectl annotate pod mystery -n $NS --overwrite answer=$(kubectl get pod mystery -n $NS -o jsonpath='{.status.podIP}')""")


@pod_ip.check(GIVE_AN_ANSWER, "Pod mystery carries your answer", hint=how_to_answer("mystery", "02"))
def _(s):
    return given(s, "mystery")


@pod_ip.check("right-ip", "The answer is mystery's IP address", requires=(GIVE_AN_ANSWER,),
              hint="Print status.podIP: kubectl get pod mystery -n course-02 -o jsonpath='{.status.podIP}'. "
                   "(-o wide shows it too.)")
def _(s):
    return compared(s, "mystery", s.pod("mystery").get("status", {}).get("podIP"), what="mystery's IP address")


describe = Exercise(
    "02-describe", "Find out with describe why a pod does not start", setup=("02-stuck.yaml",),
    explanation="`kubectl describe pod` ends with the pod's events. The scheduler's `FailedScheduling` "
                "event says why no node fits: `Insufficient memory` (the pod asks for 4000Gi).",
    solution="""kubectl describe pod stuck -n $NS | grep -A 3 Events
kubectl annotate pod stuck -n $NS --overwrite answer=memory""")


@describe.check(GIVE_AN_ANSWER, "Pod stuck carries your answer", hint=how_to_answer("stuck", "02"))
def _(s):
    return given(s, "stuck")


@describe.check("right-resource", "The answer names the resource that no node has enough of",
                requires=(GIVE_AN_ANSWER,),
                hint="Read the Events at the end of kubectl describe pod stuck -n course-02: which resource is "
                     "Insufficient? Answer with its name (cpu, memory, ...).")
def _(s):
    return compared(s, "stuck", "memory", what="the resource no node has enough of",
                    same=lambda answer, truth: truth in answer.lower() and "cpu" not in answer.lower())


logs = Exercise(
    "02-logs", "Find a word in a container's log", setup=("02-chatty.yaml",), needs_containers=True,
    explanation="`kubectl logs` prints what the container wrote to its standard output; the word is on "
                "the line that announces it:",
    solution="""kubectl logs chatty -n $NS
kubectl annotate pod chatty -n $NS --overwrite \\
  answer=$(kubectl logs chatty -n $NS | sed -n 's/^The secret word is //p')""")


@logs.check(GIVE_AN_ANSWER, "Pod chatty carries your answer", hint=how_to_answer("chatty", "02"))
def _(s):
    return given(s, "chatty")


@logs.check("right-word", "The answer is the secret word chatty logged", requires=(GIVE_AN_ANSWER,),
            hint="kubectl logs chatty -n course-02 shows what its container printed.")
def _(s):
    said = re.search(r"^The secret word is ([a-z]+)$", s.log("chatty", "app") or "", re.MULTILINE)
    return compared(s, "chatty", said[1] if said else None, what="the secret word in chatty's log")


exec_ = Exercise(
    "02-exec", "Add a page to a running web server with exec", setup=("02-site.yaml",), needs_containers=True,
    explanation="`kubectl exec POD -- COMMAND` runs a command in the running container. A redirection "
                "(`>`) must happen inside the container, so the command is a shell with `-c`; without "
                "it, your own shell would write the file on your machine.",
    solution="""kubectl exec site -n $NS -- sh -c 'echo "hello from exec" > /usr/share/nginx/html/hello.html'
kubectl exec site -n $NS -- wget -qO- http://localhost/hello.html""")


@exec_.check("page-added", "GET /hello.html on site answers 200 with 'hello from exec'",
             hint="kubectl exec site -n course-02 -- sh -c '...' runs a shell in the container; nginx serves "
                  "the files of /usr/share/nginx/html.")
def _(s):
    def problem(answer):
        if answer.status != 200:
            return f"answered {answer.status}"
        return None if "hello from exec" in answer.text else "answered 200 without the text 'hello from exec'"
    return answers(s, "site", 80, "/hello.html", wanted="HTTP 200 with 'hello from exec'", problem=problem)


port_forward = Exercise(
    "02-port-forward", "Read a pod's home page through port-forward", setup=("02-site.yaml",),
    needs_containers=True,
    explanation="`kubectl port-forward` listens on a port of your machine and forwards each connection to "
                "the pod. It runs until stopped, so start it in the background (or in a second terminal), "
                "then ask localhost:",
    solution="""kubectl port-forward pod/site -n $NS 8080:80 >/dev/null &
sleep 2
word=$(wget -qO- http://localhost:8080/ || curl -s http://localhost:8080/)
kill $!
kubectl annotate pod site -n $NS --overwrite answer=$word""")


@port_forward.check(GIVE_AN_ANSWER, "Pod site carries your answer", hint=how_to_answer("site", "02"))
def _(s):
    return given(s, "site")


@port_forward.check("right-word", "The answer is the word site's home page shows", requires=(GIVE_AN_ANSWER,),
                    hint="kubectl port-forward pod/site -n course-02 8080:80, then open http://localhost:8080/ "
                         "(or curl it from a second terminal).")
def _(s):
    page = s.fetch("site", 80, "/")
    return compared(s, "site", page.text.strip() if page.status == 200 else None, what="the word on site's home page")


exercises = [pod_ip, describe, logs, exec_, port_forward]
