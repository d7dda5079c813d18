# The learner's JupyterLab (`make lab`, and the browser test through it). The Makefile puts this
# directory first on JUPYTER_CONFIG_PATH, so it adds to the user's own ~/.jupyter, never edits it:
#   labconfig/page_config.json                 turns off nbgrader's JupyterLab extension and
#                                              names the page (appName: LabApp.app_name is not
#                                              configurable)
#   labconfig/default_setting_overrides.json   no Jupyter news or update checks (and no pop-up
#                                              asking about them); the learner may still opt in
# `make instructor` runs JupyterLab without this directory, with nbgrader's tools.

# Open the first lesson.
c.LabApp.default_url = "/lab/tree/course/00-what-is-a-pod.ipynb"

# nbgrader's server side serves the instructor's formgrader and an exchange this course does not
# use: the labs are graded by `grade` and the notebooks' grading cells.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.assignment_list": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.validate_assignment": False,
}
