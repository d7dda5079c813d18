"""The `grade` command: a thin layer over graders.api.

Exit codes: 0 every check passed, 1 some failed or are still pending, 2 usage error,
3 could not grade (cluster unreachable, permission denied, grader error).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_CANNOT_GRADE = 0, 1, 2, 3

EXAMPLES = """\
examples:
  grade list                      the labs and the lessons' exercises
  grade lab1                      grade lab1 in namespace lab1 of the current context
  grade 02-pod-ip                 check a lesson's exercise (in its namespace, course-02)
  grade answer 02-pod-ip          its worked answer, once you have checked it
  grade lab3 --wait 60            wait up to 60 s for pods that are still starting
  grade lab4 --namespace mine     grade another namespace
  grade lab2 --json               a machine-readable report (schema in the README)
  grade reset lab5                delete and recreate namespace lab5 (asks first)
  grade progress                  every lab: state, last score, what to do next
  grade hand-in lab9 labs/lab9/drill.yaml
                                  write the objects a drill left as the file you hand in
  grade batch lab3 submitted/ --csv grades.csv
                                  grade a class: each submission in a namespace of its own
  grade batch lab3 submitted/ --resume
                                  finish a batch that was interrupted
  grade report grade-batch-lab3.sqlite --html lab3.html --csv lab3-checks.csv
                                  a class report: scores, each check's failures, who could not be graded
  grade clean                     delete grading namespaces a killed batch left behind
  grade nbgrader-course course/   write an nbgrader course directory from the labs
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout at the terminal's width, found here: argparse would import shutil (and
    the compression modules shutil imports) to find it, which costs a cold `grade` more than
    parsing its arguments does."""

    def __init__(self, prog: str):
        super().__init__(prog, width=_columns() - 2)  # argparse keeps 2 columns free


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size finds it: $COLUMNS, else the terminal's, else 80."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80
    except (AttributeError, ValueError, OSError):
        return 80


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade", formatter_class=_Formatter,
        description="Grade a lab of the Kubernetes pods course on your cluster's live objects.",
        usage="grade LAB [--namespace NS] [--wait SECONDS] [--json] [--context NAME]\n"
              "       grade list\n       grade answer EXERCISE\n       grade reset LAB [--yes]\n"
              "       grade batch LAB DIR [--concurrency N] [--deadline S] [--csv F] [--json F] "
              "[--gradebook DB] [--store F] [--resume]\n"
              "       grade report [STORE ...] [--gradebook DB] [--lab LAB] [--html F] [--csv F]\n"
              "       grade progress [--live] [--reset]\n"
              "       grade hand-in LAB FILE [--namespace NS]\n"
              "       grade clean\n       grade nbgrader-course DIR",
        epilog=EXAMPLES)
    parser.add_argument("lab", help="the lab (lab1 ...) or lesson exercise (02-pod-ip ...) to grade, "
                                    "or list / answer / reset")
    parser.add_argument("target", nargs="?", help=argparse.SUPPRESS)
    parser.add_argument("-n", "--namespace", help="namespace to grade (default: the lab's id)")
    parser.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                        help="watch pending checks for up to SECONDS until they settle")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("-y", "--yes", action="store_true", help="reset without asking")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "batch":
        return batch(_batch_parser().parse_args(argv[1:]))
    if argv and argv[0] == "report":
        return class_report(_report_parser().parse_args(argv[1:]))
    if argv and argv[0] == "clean":
        return clean(_clean_parser().parse_args(argv[1:]))
    if argv and argv[0] == "nbgrader-course":
        return nbgrader_course(_course_parser().parse_args(argv[1:]))
    if argv and argv[0] == "hand-in":
        return hand_in(_hand_in_parser().parse_args(argv[1:]))
    if argv and argv[0] == "progress":
        return show_progress(_progress_parser().parse_args(argv[1:]))
    parser = _parser()
    args = parser.parse_args(argv)
    if args.wait < 0:
        parser.error("--wait must be 0 or more seconds")
    if args.lab == "list":
        return list_labs()
    if args.lab == "answer":
        if not args.target:
            parser.error("answer needs an exercise: grade answer 02-pod-ip (grade list shows them)")
        return show_answer(args.target)
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
    from graders import exercises, labs

    for lab in labs.all_labs():
        print(f"{lab.id:6} {lab.title}  ({len(lab.checks)} checks)")
        if lab.objects:
            print(f"       {lab.objects}")
    print("\nThe lessons' exercises (graded in the lesson's namespace; `grade answer ID` once tried):")
    for exercise in exercises.all_exercises():
        print(f"{exercise.id:20} {exercise.title}")
    return EXIT_PASSED


def show_answer(name: str) -> int:
    from graders import exercises

    try:
        print(exercises.answer(name))
    except exercises.UnknownExercise as error:
        print(f"grade: {error}. See `grade list`.", file=sys.stderr)
        return EXIT_USAGE
    except exercises.NotTried as closed:
        print(f"grade: {closed}", file=sys.stderr)
        return EXIT_FAILED
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
          f"`kubectl apply -n {namespace} -f {_lab_folder(definition.id)}`.")
    return EXIT_PASSED


def _lab_folder(lab: str) -> str:
    """The lab's folder as seen from where the command runs (a notebook runs in it)."""
    folder = Path(__file__).resolve().parent.parent / "labs" / lab
    if not folder.is_dir():
        return "YOUR-MANIFESTS.yaml"
    relative = os.path.relpath(folder)
    return relative if relative == "." else relative + "/"


def _hand_in_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade hand-in", formatter_class=_Formatter,
        description="Hand in a lab answered with commands (lab9): write the objects it left in the "
                    "namespace to FILE, as manifests that create them again (what batch grading and "
                    "nbgrader replay).",
        epilog="example: grade hand-in lab9 labs/lab9/drill.yaml")
    parser.add_argument("lab")
    parser.add_argument("file", type=Path, help="where to write them (for lab9: the lab's drill.yaml)")
    parser.add_argument("-n", "--namespace", help="namespace to read (default: the lab's id)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    return parser


def hand_in(args) -> int:
    from graders import hand_in, labs
    from graders.cluster import Cluster, ClusterError

    try:
        lab = labs.get(args.lab)
    except labs.UnknownLab as error:
        print(f"grade hand-in: {error}.", file=sys.stderr)
        return EXIT_USAGE
    if not lab.hand_in:
        print(f"grade hand-in: {lab.id} is handed in as the manifests you wrote; nothing to write.",
              file=sys.stderr)
        return EXIT_USAGE
    namespace = args.namespace or lab.namespace
    try:
        documents = hand_in.manifests(lab, namespace, Cluster.connect(args.context))
    except ClusterError as error:
        print(f"grade hand-in: could not read the cluster: {error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    if not documents:
        print(f"grade hand-in: namespace {namespace} holds none of {lab.id}'s objects: {args.file} is left "
              "as it is.", file=sys.stderr)
        return EXIT_FAILED
    args.file.write_text(hand_in.as_yaml(lab, documents, namespace))
    print(f"wrote {args.file}: " + ", ".join(f"{d['kind']} {d['metadata']['name']}" for d in documents))
    return EXIT_PASSED


def _progress_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade progress",
        description="Your progress on this machine: every lab with its state (not started, in progress, "
                    "passed), its last score, when it was last graded, and the next thing to do. Every "
                    "`grade labN` is recorded locally (never sent anywhere).")
    parser.add_argument("--live", action="store_true",
                        help="grade every lab whose namespace exists now, then show the progress")
    parser.add_argument("--reset", action="store_true", help="forget every recorded grade (asks first; --yes)")
    parser.add_argument("-y", "--yes", action="store_true", help="reset without asking")
    parser.add_argument("--context", help="kubeconfig context for --live (default: the current one)")
    return parser


def show_progress(args) -> int:
    import sqlite3

    from graders import progress_store
    from graders.cluster import ClusterError

    path = progress_store.store_path()
    if args.reset:
        if not args.yes:
            if not sys.stdin.isatty():
                print("grade progress: --reset forgets every recorded grade; add --yes to do it without "
                      "a terminal.", file=sys.stderr)
                return EXIT_USAGE
            if input(f"Forget every recorded grade ({path})? [y/N] ").strip().lower() not in ("y", "yes"):
                print("Nothing was changed.")
                return EXIT_PASSED
        print("Your progress was reset." if progress_store.reset(path) else "There was no progress to reset.")
        return EXIT_PASSED
    try:
        if args.live:
            graded = progress_store.grade_live(args.context)
            print(f"Graded now: {', '.join(graded) or 'nothing (no lab namespace exists yet)'}.\n")
        print(progress_store.read(path).to_text())
    except ClusterError as error:
        print(f"grade progress: could not grade: {error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    except (OSError, sqlite3.Error) as error:
        print(f"grade progress: cannot read {path}: {error}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PASSED


def _batch_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade batch", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Grade every student's submission of a lab, each replayed in a fresh namespace "
                    "of its own and removed afterwards. DIR holds one folder per student, in "
                    "nbgrader's layout (DIR/<student>/<lab>/...) or not (DIR/<student>/...). Results "
                    "are stored as each submission finishes; --resume finishes an interrupted batch.",
        epilog="examples:\n  grade batch lab3 course/submitted --csv lab3.csv\n"
               "  grade batch lab3 course/submitted --gradebook course/gradebook.db\n"
               "  grade batch lab3 course/submitted --resume --csv lab3.csv\n"
               "  grade batch lab3 course/submitted --context cluster-a --context cluster-b")
    parser.add_argument("lab")
    parser.add_argument("directory", type=Path)
    # Most of a submission's time is waiting for its pods (a running state must hold for
    # seconds where containers run: graders/settling.py), not work: 16 keep two cores busy.
    parser.add_argument("--concurrency", type=int, default=16,
                        help="submissions graded at once on each cluster (default 16)")
    parser.add_argument("--deadline", type=float, default=60, metavar="SECONDS",
                        help="how long a submission's pods may take to settle (default 60)")
    parser.add_argument("--store", type=Path, help="results database (default grade-batch-LAB.sqlite here)")
    parser.add_argument("--resume", action="store_true", help="finish the batch recorded in the store")
    parser.add_argument("--csv", type=Path, help="write student, lab, score, max_score, status, reason")
    parser.add_argument("--json", type=Path, help="write every result with its per-check report")
    parser.add_argument("--gradebook", type=Path, help="nbgrader gradebook.db to record the scores in")
    parser.add_argument("--context", action="append", metavar="NAME",
                        help="kubeconfig context (default: the current one); repeat it to spread the "
                             "batch over several clusters, each grading --concurrency at a time")
    return parser


def batch(args) -> int:
    from graders import batch as batching, labs
    from graders.cluster import Cluster, ClusterError
    from graders.store import Store

    try:
        labs.get(args.lab)
    except labs.UnknownLab as error:
        print(f"grade batch: {error}.", file=sys.stderr)
        return EXIT_USAGE
    if not args.directory.is_dir():
        print(f"grade batch: {args.directory} is not a folder of student submissions.", file=sys.stderr)
        return EXIT_USAGE
    if args.concurrency < 1 or args.deadline <= 0:
        print("grade batch: --concurrency must be 1 or more and --deadline above 0.", file=sys.stderr)
        return EXIT_USAGE
    path = args.store or Path(f"grade-batch-{args.lab}.sqlite")
    store = Store(path)
    recorded = store.rows(args.lab)
    if recorded and not args.resume:
        print(f"grade batch: {path} already holds {len(recorded)} results of {args.lab}. Add --resume "
              f"to finish that batch, or move the file away to start again.", file=sys.stderr)
        return EXIT_USAGE
    try:
        clusters = [Cluster.connect(context) for context in dict.fromkeys(args.context or [None])]
        rows = batching.run(clusters, args.lab, args.directory, store,
                            concurrency=args.concurrency, deadline=args.deadline)
    except KeyboardInterrupt:
        print(f"\ngrade batch: interrupted; the finished results are in {path}. Run the same command "
              "with --resume to finish.", file=sys.stderr)
        return 130
    except (batching.BatchStopped, ClusterError) as error:
        print(f"grade batch: stopped: {error}\nThe finished results are in {path}; fix the cause and "
              "run the same command with --resume.", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    finally:
        store.close()
    if args.csv:
        batching.write_csv(rows, args.csv)
    if args.json:
        batching.write_json(rows, args.json)
    if args.gradebook:
        from graders.nbgrader_course import write_gradebook
        try:
            write_gradebook(args.gradebook, args.lab, rows)
        except ValueError as error:
            print(f"grade batch: {error}", file=sys.stderr)
            return EXIT_USAGE
    counts = {status: sum(r.status == status for r in rows) for status in ("graded", "rejected", "error")}
    print(f"{args.lab}: {len(rows)} submissions: {counts['graded']} graded, {counts['rejected']} refused, "
          f"{counts['error']} could not be graded" + (" (run again with --resume to retry them)"
                                                       if counts["error"] else ""))
    for row in rows:
        score = "-" if row.score is None else f"{row.score:g}"
        print(f"  {row.student:20} {score:>4}/{row.max_score:g}  {row.status:8} {row.reason}")
    return EXIT_FAILED if counts["error"] else EXIT_PASSED


def _report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade report", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="A class report from the results of `grade batch` (its stores: every check of every "
                    "student) and from an nbgrader gradebook (one score per student and lab): the scores "
                    "of each lab, for each check the share of the class that failed it and the most common "
                    "actual values, the status of every check of every student, and who could not be "
                    "graded and why. Prints a summary; --html writes the report with its plots, --csv "
                    "one row per lab and check. Reads the files without changing them.",
        epilog="examples:\n  grade report grade-batch-lab3.sqlite --html lab3.html\n"
               "  grade report grade-batch-lab*.sqlite --gradebook ~/k8s-course/gradebook.db "
               "--html class.html --csv checks.csv\n"
               "  grade report --gradebook ~/k8s-course/gradebook.db --lab lab3 --html lab3.html")
    parser.add_argument("stores", nargs="*", type=Path, metavar="STORE",
                        help="a results store of `grade batch` (default: the grade-batch-*.sqlite here)")
    parser.add_argument("--gradebook", type=Path, metavar="DB",
                        help="an nbgrader gradebook.db: the scores of the labs and students the stores lack")
    parser.add_argument("--lab", action="append", help="only this lab (repeatable)")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write the report, with its plots, as one HTML file")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write one row per lab and check")
    return parser


def class_report(args) -> int:
    from graders import analytics, class_report as rendering
    from graders.store import lab_order

    for output in (args.html, args.csv):
        if output and not output.parent.is_dir():
            print(f"grade report: cannot write {output}: {output.parent} is not a folder.", file=sys.stderr)
            return EXIT_USAGE
    stores = args.stores
    if not stores and not args.gradebook:
        stores = sorted(Path.cwd().glob("grade-batch-*.sqlite"))
        if not stores:
            print("grade report: no store of `grade batch` here (grade-batch-LAB.sqlite): name one, "
                  "or an nbgrader gradebook with --gradebook.", file=sys.stderr)
            return EXIT_USAGE
    try:
        stored = [analytics.from_store(path) for path in stores]
        gradebook = analytics.from_gradebook(args.gradebook) if args.gradebook else []
    except analytics.Unreadable as error:
        print(f"grade report: {error}", file=sys.stderr)
        return EXIT_USAGE
    results, notes = analytics.merge(stored, gradebook)
    found = sorted({r.lab for r in results}, key=lab_order)
    if args.lab:
        unknown = [lab for lab in args.lab if lab not in found]
        if unknown:
            print(f"grade report: no results of {', '.join(unknown)} in {_named(stores, args.gradebook)} "
                  f"(it has {', '.join(found) or 'none'}).", file=sys.stderr)
            return EXIT_USAGE
        results = [r for r in results if r.lab in args.lab]
    if not results:
        print(f"grade report: {_named(stores, args.gradebook)} holds no results.", file=sys.stderr)
        return EXIT_USAGE
    summaries = analytics.summarize(results)
    for note in notes:
        print(f"grade report: {note}", file=sys.stderr)
    print(rendering.render_text(summaries))
    sources = [str(path) for path in stores] + ([str(args.gradebook)] if args.gradebook else [])
    try:
        if args.csv:
            analytics.write_csv(summaries, args.csv)
            print(f"wrote {args.csv}")
        if args.html:
            args.html.write_text(rendering.render_html(summaries, sources, notes), encoding="utf-8")
            print(f"wrote {args.html}")
    except rendering.NeedsMatplotlib as error:
        print(f"grade report: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        print(f"grade report: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_PASSED


def _named(stores: list[Path], gradebook: Path | None) -> str:
    return ", ".join(str(p) for p in [*stores, *([gradebook] if gradebook else [])])


def _clean_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="grade clean",
                                     description="Delete every grading namespace batch grading left behind.")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    return parser


def clean(args) -> int:
    from graders.batch import clean as clean_namespaces
    from graders.cluster import Cluster, ClusterError

    try:
        count = clean_namespaces(Cluster.connect(args.context))
    except ClusterError as error:
        print(f"grade clean: {error}", file=sys.stderr)
        return EXIT_CANNOT_GRADE
    print(f"{count} grading namespace(s) deleted.")
    return EXIT_PASSED


def _course_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="grade nbgrader-course", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write an nbgrader course directory: nbgrader_config.py and source/<lab>/ with "
                    "each lab's notebook (a locked, autograded grading cell) and starter manifests.",
        epilog="example:\n  grade nbgrader-course ~/k8s-course && cd ~/k8s-course && "
               "nbgrader generate_assignment lab3")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--lab", action="append", help="only this lab (repeatable)")
    return parser


def nbgrader_course(args) -> int:
    from graders import labs
    from graders.nbgrader_course import make_course

    try:
        for lab in args.lab or []:
            labs.get(lab)
    except labs.UnknownLab as error:
        print(f"grade nbgrader-course: {error}.", file=sys.stderr)
        return EXIT_USAGE
    for notebook in make_course(args.directory, args.lab):
        print(f"wrote {notebook}")
    print(f"Next: cd {args.directory} && nbgrader generate_assignment <lab>")
    return EXIT_PASSED


if __name__ == "__main__":
    sys.exit(main())
