# Serves a JupyterLab application built by test/lab-app/build.mjs on Debian's jupyter_server and
# jupyterlab_server, as JupyterLab's `examples/federated/main.py` does (Copyright (c) Jupyter
# Development Team, BSD-3-Clause): a LabServerApp with the built app's static files, schemas and
# themes. Prebuilt (federated) extensions are found as JupyterLab finds them: in every
# `<Jupyter data path>/labextensions` folder (JUPYTER_PATH, JUPYTER_DATA_DIR, sys.prefix, ...), and
# listed in the page config (`federated_extensions`) that the front end loads them from.
#
#   python3 serve.py APP_DIR SETTINGS_DIR [jupyter_server options: --port=... --ServerApp.token=...]
#
# APP_DIR is the build output (static/, schemas/, themes/); SETTINGS_DIR (written) holds the user
# settings and workspaces of this run.
import json
import os
import sys

from jupyterlab_server import LabServerApp

HERE = os.path.abspath(os.path.dirname(__file__))

# Configuration files on disk must not change this app.
os.environ["JUPYTER_NO_CONFIG"] = "1"

if len(sys.argv) < 3:
    sys.exit("usage: serve.py APP_DIR SETTINGS_DIR [server options]")
APP_DIR = os.path.abspath(sys.argv[1])
SETTINGS_DIR = os.path.abspath(sys.argv[2])
del sys.argv[1:3]
if not os.path.exists(os.path.join(APP_DIR, "static", "bundle.js")):
    sys.exit(f"serve.py: {APP_DIR} has no static/bundle.js (run node test/lab-app/build.mjs first)")

with open(os.path.join(APP_DIR, "app.json"), encoding="utf-8") as f:
    APP_INFO = json.load(f)


class FlowlensTestLab(LabServerApp):
    name = "lab"
    load_other_extensions = False
    app_name = APP_INFO["name"]
    app_version = APP_INFO["version"]
    app_settings_dir = os.path.join(SETTINGS_DIR, "application_settings")
    schemas_dir = os.path.join(APP_DIR, "schemas")
    static_dir = os.path.join(APP_DIR, "static")
    templates_dir = os.path.join(HERE, "templates")
    themes_dir = os.path.join(APP_DIR, "themes")
    user_settings_dir = os.path.join(SETTINGS_DIR, "user_settings")
    workspaces_dir = os.path.join(SETTINGS_DIR, "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        settings = self.serverapp.web_app.settings
        settings["terminals_available"] = False
        # As `jupyter lab --expose-app-in-browser`: the app is window.jupyterapp for the test.
        settings.setdefault("page_config_data", {})["exposeAppInBrowser"] = True


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": FlowlensTestLab}]


if __name__ == "__main__":
    FlowlensTestLab.launch_instance()
