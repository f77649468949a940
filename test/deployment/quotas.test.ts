/**
 * The twin's checks of AWS quotas on rendered values, at their exact boundaries: Lambda's 4,096 bytes
 * of environment (multi-byte UTF-8 counted in bytes), name lengths and characters, a name shared by two
 * resources, event patterns within EventBridge's default 2,048 characters, and IAM's policy sizes.
 */
import { renderedQuotaViolations, EVENT_PATTERN_CHARS, LAMBDA_ENVIRONMENT_BYTES } from "./twin/quotas";
import { INLINE_POLICIES_PER_ROLE_CHARS, MANAGED_POLICY_CHARS, TwinRoles } from "./twin/roles";
import type { RenderedPlan, RenderedResource } from "./twin/terraform-plan";

function plan(resources: { type: string; name: string; values: Record<string, unknown> }[]): RenderedPlan {
  const rendered: RenderedResource[] = resources.map((r) => ({
    address: `${r.type}.${r.name}`,
    type: r.type,
    name: r.name,
    values: r.values,
    input: r.values,
  }));
  const all = (type: string) => rendered.filter((r) => r.type === type);
  return {
    resources: rendered,
    data: [],
    outputs: {},
    timings: { init: 0, data: 0, validate: 0, plan: 0, show: 0, total: 0 },
    all,
    resource: (type: string) => all(type)[0] as RenderedResource,
  } as unknown as RenderedPlan;
}

function fn(
  environment: Record<string, string>,
  name = "app-router",
): { type: string; name: string; values: Record<string, unknown> } {
  return {
    type: "aws_lambda_function",
    name,
    values: { function_name: name, environment: [{ variables: environment }] },
  };
}

test("Lambda environment: 4,096 bytes pass, 4,097 fail; bytes, not characters", () => {
  const key = "SLUICE_X";
  const fits = { [key]: "a".repeat(LAMBDA_ENVIRONMENT_BYTES - key.length) };
  expect(renderedQuotaViolations(plan([fn(fits)]))).toEqual([]);
  const over = { [key]: "a".repeat(LAMBDA_ENVIRONMENT_BYTES - key.length + 1) };
  expect(renderedQuotaViolations(plan([fn(over)]))).toEqual([
    "aws_lambda_function.app-router: environment variables of 4097 bytes, Lambda allows 4096",
  ]);
  // "é" is two bytes in UTF-8: half as many characters reach the limit.
  const wide = { [key]: "é".repeat((LAMBDA_ENVIRONMENT_BYTES - key.length) / 2 + 1) };
  expect(renderedQuotaViolations(plan([fn(wide)]))).toHaveLength(1);
});

test.each([
  ["aws_s3_bucket", "bucket", 63],
  ["aws_lambda_function", "function_name", 64],
  ["aws_sqs_queue", "name", 80],
  ["aws_cloudwatch_event_rule", "name", 64],
  ["aws_iam_role", "name", 64],
])("%s.%s: %d characters pass, one more fails", (type, attribute, max) => {
  const at = "a".repeat(max);
  const over = "a".repeat(max + 1);
  expect(renderedQuotaViolations(plan([{ type, name: "x", values: { [attribute]: at } }]))).toEqual([]);
  expect(renderedQuotaViolations(plan([{ type, name: "x", values: { [attribute]: over } }]))).toHaveLength(1);
});

test("a bucket name never ends in a hyphen, has no uppercase, and two resources never share a name", () => {
  expect(
    renderedQuotaViolations(plan([{ type: "aws_s3_bucket", name: "b", values: { bucket: "app-1-" } }])),
  ).toHaveLength(1);
  expect(
    renderedQuotaViolations(plan([{ type: "aws_s3_bucket", name: "b", values: { bucket: "Acme_Raw" } }])),
  ).toHaveLength(1);
  expect(
    renderedQuotaViolations(
      plan([
        { type: "aws_sqs_queue", name: "a", values: { name: "app-dlq" } },
        { type: "aws_sqs_queue", name: "b", values: { name: "app-dlq" } },
      ]),
    ),
  ).toEqual(["aws_sqs_queue.b and aws_sqs_queue.a have the same name"]);
});

test("an event pattern of 2,048 characters passes, 2,049 fails", () => {
  const pattern = (n: number): string => {
    const base = JSON.stringify({ source: [""] });
    return JSON.stringify({ source: ["x".repeat(n - base.length)] });
  };
  const rule = (n: number) => ({
    type: "aws_cloudwatch_event_rule",
    name: "r",
    values: { name: "r", event_pattern: pattern(n) },
  });
  expect(pattern(EVENT_PATTERN_CHARS)).toHaveLength(EVENT_PATTERN_CHARS);
  expect(renderedQuotaViolations(plan([rule(EVENT_PATTERN_CHARS)]))).toEqual([]);
  expect(renderedQuotaViolations(plan([rule(EVENT_PATTERN_CHARS + 1)]))).toHaveLength(1);
});

test("IAM: inline policies of a role up to 10,240 characters, a managed policy up to 6,144", () => {
  const doc = (chars: number): string => {
    const base = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "" }],
    });
    return JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "x".repeat(chars - base.length) }],
    });
  };
  const trust = JSON.stringify({ Version: "2012-10-17", Statement: [] });
  const roles = (inline: number, managed: number) =>
    new TwinRoles(
      plan([
        { type: "aws_iam_role", name: "r", values: { name: "app-role", assume_role_policy: trust } },
        { type: "aws_iam_role_policy", name: "p", values: { role: "app-role", policy: doc(inline) } },
        { type: "aws_iam_policy", name: "m", values: { name: "app-managed", policy: doc(managed) } },
      ]),
      "111122223333",
    ).violations;
  expect(roles(INLINE_POLICIES_PER_ROLE_CHARS, MANAGED_POLICY_CHARS)).toEqual([]);
  expect(roles(INLINE_POLICIES_PER_ROLE_CHARS + 1, MANAGED_POLICY_CHARS)).toEqual([
    "role app-role: inline policies of 10241 characters, IAM allows 10240",
  ]);
  expect(roles(INLINE_POLICIES_PER_ROLE_CHARS, MANAGED_POLICY_CHARS + 1)).toEqual([
    "managed policy app-managed: 6145 characters, IAM allows 6144",
  ]);
});
