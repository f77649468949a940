import { resolve } from "node:path";
import { checkModuleReferences } from "../../flow/module-refs";
import { EXIT, type Command } from "../args";
import { loadFlow } from "../load-flow";
import { formatIssue } from "../errors";

export const validateCommand: Command = {
  name: "validate",
  summary: "every problem of the flow, one per line with its location; exit 1 if any",
  usage: `validate <flow.ts>
  every problem of the flow (unknown properties, filters, links, names, module references that do
  not resolve), one per line with its location; exit 1 if any`,
  run(args, io) {
    const file = args.positional[1] as string;
    if (args.positional.length > 2) {
      io.err.write(
        `sluice validate: takes one <flow.ts>, got also "${args.positional.slice(2).join(" ")}"\n`,
      );
      return EXIT.usage;
    }
    const app = loadFlow(file);
    const inspected = app.inspect(); // the model and its issues, from one build
    const issues = [...inspected.issues];
    if (issues.length === 0) {
      // Module references resolve against the files once the model is otherwise sound.
      issues.push(...checkModuleReferences(inspected.model, resolve(app.root)));
    }
    if (io.json) io.out.write(`${JSON.stringify({ valid: issues.length === 0, issues }, null, 2)}\n`);
    else if (issues.length === 0) io.out.write(`${file}: valid (${app.nodeList.length} nodes)\n`);
    else for (const i of issues) io.out.write(`${formatIssue(i)}\n`);
    return issues.length === 0 ? EXIT.ok : EXIT.invalid;
  },
};
