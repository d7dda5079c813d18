"""grade batch's progress bar: on a terminal it shows done/total, rate, time left and errors;
anywhere else it writes nothing."""
import io

from graders.batch import Progress
from graders.store import Row


class Terminal(io.StringIO):
    def isatty(self):
        return True


def rows(*statuses):
    return [Row("lab1", f"s{n}", status, None, 8, "", None) for n, status in enumerate(statuses)]


def test_on_a_terminal_the_bar_shows_count_rate_time_left_and_errors():
    terminal = Terminal()
    progress = Progress(4, stream=terminal)
    for row in rows("graded", "error", "graded"):
        progress.advance(row)
    progress.close()
    last = terminal.getvalue().split("\r")[-1]
    assert "grading" in last and "3/4" in last and "errors=1" in last
    assert "submissions/s" in last and "<" in last  # elapsed<left


def test_elsewhere_nothing_is_written():
    piped = io.StringIO()
    progress = Progress(2, stream=piped)
    for row in rows("graded", "error"):
        progress.advance(row)
    progress.close()
    assert piped.getvalue() == "" and progress.errors == 1
