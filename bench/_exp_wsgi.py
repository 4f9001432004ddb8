import gc, os
from newsroom.wsgi import application as _app
if os.environ.get("EXP_FREEZE"):
    gc.collect(); gc.freeze()
if os.environ.get("EXP_THRESH"):
    gc.set_threshold(int(os.environ["EXP_THRESH"]), 50, 100)
application = _app
