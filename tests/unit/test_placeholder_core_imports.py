import importlib
import pkgutil

import shop_core


def test_every_core_module_imports() -> None:
    for module in pkgutil.walk_packages(shop_core.__path__, "shop_core."):
        importlib.import_module(module.name)
