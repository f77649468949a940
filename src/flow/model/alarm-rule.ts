/**
 * Rendering of composite alarm rules into CloudWatch AlarmRule syntax.
 *
 * CloudWatch documents no precedence between AND and OR, so every AND/OR nested in a different
 * operator, and every AND/OR under NOT, is parenthesized; same-operator chains are flattened since
 * they are associative. The output therefore means the same under any reading.
 */
import type { AlarmRuleModel, AlarmState } from "./flow-model";

/** Maps a rule's alarm (node id) to the name or ARN CloudWatch should see. */
export type AlarmNameResolver = (alarm: string) => string;

export function renderAlarmRule(rule: AlarmRuleModel, nameOf: AlarmNameResolver): string {
  return render(rule, nameOf);
}

function render(rule: AlarmRuleModel, nameOf: AlarmNameResolver): string {
  switch (rule.op) {
    case "state":
      return `${rule.state}(${quote(nameOf(rule.alarm))})`;
    case "const":
      return rule.value ? "TRUE" : "FALSE";
    case "not":
      return `NOT ${operand(rule.term, nameOf)}`;
    case "and":
    case "or": {
      const word = rule.op === "and" ? " AND " : " OR ";
      return flatten(rule.op, rule.terms)
        .map((t) => (t.op === "and" || t.op === "or" ? `(${render(t, nameOf)})` : render(t, nameOf)))
        .join(word);
    }
  }
}

/** Operand of NOT: atoms stand alone, compound terms get parentheses. */
function operand(rule: AlarmRuleModel, nameOf: AlarmNameResolver): string {
  return rule.op === "and" || rule.op === "or" ? `(${render(rule, nameOf)})` : render(rule, nameOf);
}

function flatten(op: "and" | "or", terms: readonly AlarmRuleModel[]): AlarmRuleModel[] {
  return terms.flatMap((t) => (t.op === op ? flatten(op, t.terms) : [t]));
}

function quote(name: string): string {
  return `"${name.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** Truth value of a rule given each alarm's state; used by the router and to test rendering. */
export function evaluateAlarmRule(rule: AlarmRuleModel, stateOf: (alarm: string) => AlarmState): boolean {
  switch (rule.op) {
    case "state":
      return stateOf(rule.alarm) === rule.state;
    case "const":
      return rule.value;
    case "not":
      return !evaluateAlarmRule(rule.term, stateOf);
    case "and":
      return rule.terms.every((t) => evaluateAlarmRule(t, stateOf));
    case "or":
      return rule.terms.some((t) => evaluateAlarmRule(t, stateOf));
  }
}

/** Alarm ids a rule mentions, in first-mention order. */
export function alarmsOfRule(rule: AlarmRuleModel): string[] {
  const out: string[] = [];
  const walk = (r: AlarmRuleModel): void => {
    if (r.op === "state") {
      if (!out.includes(r.alarm)) out.push(r.alarm);
    } else if (r.op === "not") walk(r.term);
    else if (r.op === "and" || r.op === "or") r.terms.forEach(walk);
  };
  walk(rule);
  return out;
}
