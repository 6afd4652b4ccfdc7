// `node --import ./module-trace.mjs`: writes the URL of every module the process imports, one a
// line, to the file $PARLEY_MODULE_TRACE (see module-trace-hooks.mjs). For the test that the
// CLI runs from its bundle.
import { register } from "node:module";

register("./module-trace-hooks.mjs", import.meta.url);
