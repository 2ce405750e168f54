"""The flowlens kernel against jupyter_kernel_test, the conformance suite kernel authors use
(Debian python3-jupyter-kernel-test). Every feature the suite knows is exercised; none is skipped.

Run by test/kernel-conformance.test.ts, which installs the kernelspec into a temporary JUPYTER_PATH
and starts this file from the repository root (so cells can import arquero from node_modules).
By hand: `python3 kernel/testing/test_conformance.py -v` with the kernel installed
(`npx flowlens kernel install`); FLOWLENS_KERNEL_NAME picks another kernelspec name.
"""
import os
import unittest

import jupyter_kernel_test as jkt

# The first cell type-checks with a cold TypeScript program: give replies more than 15 s on a busy machine.
jkt.TIMEOUT = float(os.environ.get("FLOWLENS_KERNEL_TEST_TIMEOUT", "90"))


class FlowlensKernelTests(jkt.KernelTests):
    kernel_name = os.environ.get("FLOWLENS_KERNEL_NAME", "flowlens")

    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world");'
    code_stderr = 'console.error("something on stderr");'

    completion_samples = [
        {"text": "Math.sq", "matches": {"sqrt", "SQRT1_2", "SQRT2"}},
        {"text": "const abcdef = 1;\nabcd", "matches": {"abcdef"}},
    ]

    complete_code_samples = ["1 + 1;", "const x = 1;", "function f(): number {\n  return 1;\n}", "for (let i = 0; i < 2; i++) {}"]
    incomplete_code_samples = ["function f() {", "const xs = [1,", "if (true) {\n  console.log(1);", "const s = `abc"]
    invalid_code_samples = ["const = 1;", "1 +* 2;", "let 3x = 1;"]

    code_page_something = "Math.max?"

    code_generate_error = 'throw new Error("boom");'

    code_execute_result = [
        {"code": "6 * 7", "result": "42"},
        {"code": '"a" + "b"', "result": "'ab'"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
        # The display protocol: an arquero table as the last expression is an HTML table.
        {"code": "import * as aq from 'arquero';\naq.table({ x: [1, 2], y: ['a', 'b'] })", "mime": "text/html"},
        # A TokenAttribution (plain data) shows as a saliency view.
        {"code": "({ method: 'demo', tokens: ['good', 'film'], scores: [0.5, -0.25], qoi: 'p(pos)' })", "mime": "text/html"},
    ]

    code_display_data = [
        {"code": "flowlensComm.display({ 'text/html': '<b>bold</b>', 'text/plain': 'bold' });", "mime": "text/html"},
        {"code": "import * as tslab from 'tslab';\ntslab.display.html('<i>tslab</i>');", "mime": "text/html"},
    ]

    # Matches exactly one of code_execute_result ("6 * 7").
    code_history_pattern = "6 ?*"
    supported_history_operations = ("tail", "range", "search")

    code_inspect_sample = "Math.max"

    code_clear_output = "flowlensComm.clearOutput();"


if __name__ == "__main__":
    unittest.main()
