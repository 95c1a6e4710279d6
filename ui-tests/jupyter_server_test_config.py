"""JupyterLab server for the Galata tests.

It takes the real stack from the environment (``eval "$(python3 -m devstack env)"``):
EVN_ISSUER_URL, EVN_CLIENT_ID and EVN_SERVICE_URL configure the server extension.
The refresh token goes to a fresh temporary store, never the developer's own.
"""

import os
from tempfile import mkdtemp

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

c.ServerApp.ip = "127.0.0.1"  # noqa: F821
c.ServerApp.port = int(os.environ.get("EVN_UI_TESTS_PORT", "8888"))  # noqa: F821
c.ServerApp.allow_root = True  # noqa: F821

os.environ["EVN_TOKEN_STORE"] = os.path.join(
    mkdtemp(prefix="evn-ui-tests-tokens-"), "refresh-token"
)
# Uncomment to set server log level to debug level
# c.ServerApp.log_level = "DEBUG"
