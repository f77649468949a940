import { EXIT, type Command } from "../args";
import { loadFlow } from "../load-flow";

export const validateCommand: Command = {
  name: "validate",
  usage:
    "validate <flow.ts>              every problem of the flow, one per line with its location; exit 1 if any",
  run(args, io) {
    const file = args.positional[1] as string;
    const app = loadFlow(file);
    const issues = app.validate();
    if (io.json) io.out.write(`${JSON.stringify({ valid: issues.length === 0, issues }, null, 2)}\n`);
    else if (issues.length === 0) io.out.write(`${file}: valid (${app.nodeList.length} nodes)\n`);
    else for (const i of issues) io.out.write(`${i.path}: ${i.message}\n`);
    return issues.length === 0 ? EXIT.ok : EXIT.invalid;
  },
};
