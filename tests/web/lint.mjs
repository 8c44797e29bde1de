// Lints the committed OpenAPI document as a frontend team would before generating a client:
// Redocly's recommended ruleset and Spectral's `spectral:oas`. Prints one JSON report (the
// counts and the first findings of each) as its last line; tests/api/openapi.rs asserts on it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);
const documentPath = "../../openapi/openapi.json";

// Both tools exit non-zero when they find errors; their JSON output is the verdict either way.
async function output(command, args) {
  try {
    return (await run(command, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (failure) {
    if (!failure.stdout) throw failure;
    return failure.stdout;
  }
}

const redocly = JSON.parse(
  await output("node_modules/.bin/redocly", [
    "lint", documentPath, "--extends", "recommended", "--format", "json",
  ]),
);
const redoclyErrors = redocly.problems.filter((p) => p.severity === "error");
const invalidExamples = redocly.problems.filter((p) => /^no-invalid-.*examples?$/.test(p.ruleId));

const spectral = JSON.parse(
  await output("node_modules/.bin/spectral", [
    "lint", documentPath, "--ruleset", "spectral.yaml", "--format", "json", "--quiet",
  ]) || "[]",
);
// Spectral's severities: 0 error, 1 warning, 2 information, 3 hint.
const spectralErrors = spectral.filter((p) => p.severity === 0);

const brief = (list, text) => list.slice(0, 20).map(text);
console.log(JSON.stringify({
  redocly: {
    errors: redoclyErrors.length,
    warnings: redocly.problems.length - redoclyErrors.length,
    invalid_examples: invalidExamples.length,
    first: brief(redoclyErrors.concat(invalidExamples), (p) => `${p.ruleId}: ${p.message} @ ${p.location?.[0]?.pointer}`),
  },
  spectral: {
    errors: spectralErrors.length,
    warnings: spectral.length - spectralErrors.length,
    first: brief(spectralErrors, (p) => `${p.code}: ${p.message} @ ${p.path.join("/")}`),
  },
}));
