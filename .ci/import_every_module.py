"""Import every module of the installed ``xlstm_ts`` and print their names, one a line.

Run from outside the repository with the interpreter of the environment to check, so that
the installed package is the one imported (it fails if ``xlstm_ts`` is found elsewhere).
"""

import importlib
import pkgutil

import xlstm_ts

if "site-packages" not in xlstm_ts.__file__:
    raise SystemExit(f"xlstm_ts was imported from {xlstm_ts.__file__}, not an installed wheel")
names = [module.name for module in pkgutil.walk_packages(xlstm_ts.__path__, "xlstm_ts.")]
for name in names:
    if not name.endswith(".__main__"):  # importing a __main__ runs its program
        importlib.import_module(name)
print("\n".join(["xlstm_ts", *names]))
