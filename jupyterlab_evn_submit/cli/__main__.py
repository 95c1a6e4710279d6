"""``python -m jupyterlab_evn_submit.cli`` = ``jupyter evn-submit``."""

from . import main

main()
