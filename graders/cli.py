"""The `grade` command: a thin layer over graders.api.

Exit codes: 0 every check passed, 1 some failed or are still pending, 2 usage error,
3 could not grade (cluster unreachable, permission denied, grader error).
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT_GRADE = 0, 1, 2, 3

EXAMPLES = """\
examples:
  grade list                      the labs and what each asks for
  grade lab1                      grade lab1 in namespace lab1 of the current context
  grade lab3 --wait 60            wait up to 60 s for pods that are still starting
  grade lab4 --namespace mine     grade another namespace
  grade lab2 --json               a machine-readable report (schema in the README)
  grade reset lab5                delete and recreate namespace lab5 (asks first)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade a lab of the Kubernetes pods course on your cluster's live objects.",
        usage="grade LAB [--namespace NS] [--wait SECONDS] [--json] [--context NAME]\n"
              "       grade list\n       grade reset LAB [--yes]",
        epilog=EXAMPLES)
    parser.add_argument("lab", help="the lab to grade (lab1 ... lab8), or list / reset")
    parser.add_argument("target", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("-n", "--namespace", help="namespace to grade (default: the lab's id)")
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="watch pending checks for up to SECONDS until they settle")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("-y", "--yes", action="store_true", help="reset without asking")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.wait < 0:
        parser.error("--wait must be 0 or more seconds")
    if args.lab == "list":
        return list_labs()
    if args.lab == "reset":
        if not args.target:
            parser.error("reset needs a lab: grade reset lab5")
        return reset(args.target, args.namespace, args.context, args.yes)
    if args.target:
        parser.error(f"unexpected argument {args.target!r}")
    return grade_lab(args.lab, args.namespace, args.wait, args.context, args.json)


def _use_color(stream) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def list_labs() -> int:
    from graders import labs

    for lab in labs.all_labs():
        print(f"{lab.id:6} {lab.title}  ({len(lab.checks)} checks)")
        if lab.objects:
            print(f"       {lab.objects}")
    return EXIT_PASSED


def grade_lab(lab: str, namespace: str | None, wait: float, context: str | None, as_json: bool) -> int:
    from graders import api, labs
    from graders.cluster import ClusterError
    from graders.report import render_json, render_text

    try:
        report = api.grade(lab, namespace, wait=wait, context=context)
    except labs.UnknownLab as error:
        print(f"grade: {error}. See `grade list`.", file=sys.stderr)
        return EXIT_USAGE
    except ClusterError as error:
        print(f"grade: could not grade {lab}: {error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    print(render_json(report) if as_json else render_text(report, color=_use_color(sys.stdout)))
    if report.could_not_grade:
        return EXIT_CANNOT_GRADE
    return EXIT_PASSED if report.passed else EXIT_FAILED


def reset(lab: str, namespace: str | None, context: str | None, yes: bool) -> int:
    from graders import labs
    from graders.cluster import Cluster, ClusterError
    from graders.workspace import recreate_namespace

    try:
        definition = labs.get(lab)
    except labs.UnknownLab as error:
        print(f"grade: {error}.", file=sys.stderr)
        return EXIT_USAGE
    namespace = namespace or definition.id
    try:
        cluster = Cluster.connect(context)
        if not yes:
            if not sys.stdin.isatty():
                print(f"grade: reset deletes everything in namespace {namespace}; "
                      "add --yes to do it without a terminal.", file=sys.stderr)
                return EXIT_USAGE
            answer = input(f"Delete everything in namespace {namespace} (context "
                           f"{cluster.context}) and recreate it empty? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing was changed.")
                return EXIT_PASSED
        seconds = recreate_namespace(cluster, namespace)
    except ClusterError as error:
        print(f"grade: could not reset {namespace}: {error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    print(f"Namespace {namespace} is empty again ({seconds:.1f}s). Apply your manifests with "
          f"`kubectl apply -n {namespace} -f labs/{definition.id}/`.")
    return EXIT_PASSED


if __name__ == "__main__":
    sys.exit(main())
