/** Handlebars template of the README written beside a synthesized module. */
export const MODULE_README = `# {{application}} — Sluice module ({{environment}})

Synthesized by \`sluice synth\` from the flow's FlowModel. Do not edit by hand: change the flow and
synthesize again; the diff of \`main.tf.json\` is what a plan review should read.

The module configures no provider and no backend: instantiate it from a root configuration that
passes its \`aws\` provider (one alias per account), as \`terraform/\` does. Account and region come
from that provider; resource names include them, so one module serves every account.

## Usage

The call for the {{environment}} environment, with its dataset bindings as the flow declares them
(another environment passes its own \`environment\` and \`datasets\`; the module is the same):

\`\`\`hcl
{{usage}}
\`\`\`

## Variables

| name | description |
|---|---|
{{#each variables}}
| \`{{name}}\` | {{description}} |
{{/each}}

## Outputs

{{#each outputs}}
- \`{{this}}\`
{{/each}}

## Resources ({{summary.resources}})

| component | resources |
|---|---|
{{#each components}}
| {{name}} | {{count}} |
{{/each}}
`;
