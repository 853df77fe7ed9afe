# lit configuration for resnetc's compiler tests (FileCheck on what the tools print).
import os
import sys

import lit.formats

config.name = "resnetc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".mlir", ".rn", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.resnetc_test_exec_root

# Our tools first, then LLVM 22's FileCheck/not/count (never LLVM 14's).
config.environment["PATH"] = os.pathsep.join(
    [config.resnetc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", "")]
)
config.substitutions.append(("%examples", os.path.join(config.resnetc_source_dir, "examples", "models")))
config.substitutions.append(("%python", sys.executable))
config.substitutions.append(("%inputs", os.path.join(os.path.dirname(__file__), "Inputs")))

# Tests that build ONNX models with python3-onnx's helper API.
import subprocess

if subprocess.run([sys.executable, "-c", "import onnx"], capture_output=True).returncode == 0:
    config.available_features.add("python3-onnx")

# --target=arm-64-linux needs resnetc's runtime built for AArch64
# (cmake/ResnetcCrossTargets.cmake, when g++-aarch64-linux-gnu is installed).
if os.path.exists(os.path.join(config.resnetc_tools_dir, "..", "lib", "aarch64-linux-gnu",
                               "libResnetcModelRuntime.a")):
    config.available_features.add("arm-64-runtime")
