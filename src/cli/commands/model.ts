import { canonicalJson } from "../../flow/model/canonical-json";
import { EXIT, type Command } from "../args";
import { loadFlow } from "../load-flow";

export const modelCommand: Command = {
  name: "model",
  summary: "print the flow's FlowModel (canonical JSON)",
  usage: "model <flow.ts>\n  print the flow's FlowModel (canonical JSON)",
  run(args, io) {
    io.out.write(`${canonicalJson(loadFlow(args.positional[1] as string).toModel())}\n`);
    return EXIT.ok;
  },
};
