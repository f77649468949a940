import { EXIT, flag, type Command } from "../args";
import { loadFlow } from "../load-flow";
import type * as SynthModule from "../synth-module";

export const synthCommand: Command = {
  name: "synth",
  summary: "the flow as a Terraform module (main.tf.json, README, code package)",
  usage: `synth <flow.ts> [--env E] [--out DIR] [--format json] [--cdktf]
  the flow as a Terraform module (main.tf.json, README, code package) in DIR
  (default sluice.out/<app>[-<env>]); --cdktf: a deployable stack into cdktf's outdir (cdktf.json)`,
  options: { env: "string", out: "string", format: "string", cdktf: "boolean" },
  run(args, io) {
    const format = flag(args, "--format") ?? "json";
    if (format !== "json") {
      io.err.write(
        `sluice synth: --format ${format} is not available: cdktf 0.21 renders HCL only through its CLI; use json\n`,
      );
      return EXIT.usage;
    }
    if (args.positional.length > 2) {
      io.err.write(`sluice synth: takes one <flow.ts>, got also "${args.positional.slice(2).join(" ")}"\n`);
      return EXIT.usage;
    }
    const app = loadFlow(args.positional[1] as string);
    const environment = flag(args, "--env");
    // Loaded here so other commands never pay for cdktf and the provider bindings.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const synthesis = require("../synth-module") as typeof SynthModule;
    if (args.flags.has("--cdktf")) {
      synthesis.synthCdktfApp(app, environment);
      return EXIT.ok;
    }
    const summary = synthesis.synthModule(app, {
      out: flag(args, "--out") ?? `sluice.out/${app.name}${environment ? `-${environment}` : ""}`,
      ...(environment ? { environment } : {}),
    });
    if (io.json) io.out.write(`${JSON.stringify(summary, null, 2)}\n`);
    else {
      io.out.write(
        `${app.name}${environment ? ` (${environment})` : ""}: ${summary.resources} resources → ${summary.out}\n`,
      );
      for (const [component, count] of Object.entries(summary.components)) {
        if (count > 0) io.out.write(`  ${component.padEnd(12)} ${count}\n`);
      }
      io.out.write(`  files: ${summary.files.join(", ")}\n`);
    }
    return EXIT.ok;
  },
};
