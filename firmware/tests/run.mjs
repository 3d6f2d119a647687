// Runs the firmware's unit tests on MicroPython's WebAssembly port under Node.js.
// usage: node run.mjs <path to micropython.mjs> <firmware dir>
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [moduleFile, firmwareDir] = process.argv.slice(2);
const { loadMicroPython } = await import(pathToFileURL(moduleFile).href);
const mp = await loadMicroPython({
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
});
mp.FS.mkdirTree("/lib");
const testsDir = join(firmwareDir, "tests");
for (const dir of [firmwareDir, testsDir]) {
  for (const name of readdirSync(dir)) {
    if (name.endsWith(".py") && name !== "main.py") {
      mp.FS.writeFile("/lib/" + name, readFileSync(join(dir, name)));
    }
  }
}
mp.FS.writeFile("/lib/main.py", readFileSync(join(firmwareDir, "main.py")));
const modules = readdirSync(testsDir)
  .filter((name) => name.startsWith("test_") && name.endsWith(".py"))
  .map((name) => JSON.stringify(name.slice(0, -3)));
try {
  mp.runPython(
    "import sys, mp_runner\nif mp_runner.run([" + modules.join(",") + "]):\n    raise SystemExit(1)",
  );
} catch (error) {
  console.error(String(error.message || error));
  process.exit(1);
}
