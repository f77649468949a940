/**
 * Templated text artifacts of synth, rendered with handlebars (never by string concatenation).
 *
 * The templates live here as string constants rather than `.hbs` files so that `tsc` carries them to
 * `dist/` with the code (the build copies no other files). Every template is compiled once, in strict
 * mode (a missing field is an error, not an empty string) and without HTML escaping: values that
 * must be escaped for their target language go through a helper that does it for that language
 * (`json` for JSON string values).
 */
import Handlebars from "handlebars";

const hbs = Handlebars.create();

/** `{{json value}}`: the value as a JSON literal (strings quoted and escaped, objects serialized). */
hbs.registerHelper("json", (value: unknown) => JSON.stringify(value ?? null));

/** One widget of the dashboard, positioned on CloudWatch's 24-column grid. */
export interface DashboardWidgetView {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface DashboardMetricWidgetView extends DashboardWidgetView {
  readonly title: string;
  readonly stat: string;
  readonly period: number;
  /** CloudWatch metric arrays: [namespace, name, dim, value, …, { options }] or [{ expression, … }]. */
  readonly metrics: readonly unknown[];
}

export interface DashboardAlarmWidgetView extends DashboardWidgetView {
  readonly title: string;
  readonly alarms: readonly string[];
}

export interface DashboardView {
  readonly region: string;
  readonly heading: string;
  readonly headingHeight: number;
  readonly metricWidgets: readonly DashboardMetricWidgetView[];
  /** Alarm status widgets (CloudWatch shows at most 100 alarms in one); empty without alarms. */
  readonly alarmWidgets: readonly DashboardAlarmWidgetView[];
}

/**
 * CloudWatch dashboard body (JSON): a heading, metric widgets (routes, router, queues, table,
 * engines) and, when the flow has alarms, alarm status widgets.
 */
export const DASHBOARD_TEMPLATE = `{
  "start": "-PT12H",
  "periodOverride": "inherit",
  "widgets": [
    {
      "type": "text",
      "x": 0,
      "y": 0,
      "width": 24,
      "height": {{headingHeight}},
      "properties": { "markdown": {{json heading}} }
    }
    {{#each metricWidgets}},
    {
      "type": "metric",
      "x": {{x}},
      "y": {{y}},
      "width": {{width}},
      "height": {{height}},
      "properties": {
        "title": {{json title}},
        "region": {{json @root.region}},
        "view": "timeSeries",
        "stacked": false,
        "stat": {{json stat}},
        "period": {{period}},
        "metrics": [
          {{#each metrics}}{{#unless @first}},{{/unless}}
          {{json this}}
          {{/each}}
        ]
      }
    }
    {{/each}}
    {{#each alarmWidgets}},
    {
      "type": "alarm",
      "x": {{x}},
      "y": {{y}},
      "width": {{width}},
      "height": {{height}},
      "properties": {
        "title": {{json title}},
        "region": {{json @root.region}},
        "alarms": {{json alarms}}
      }
    }
    {{/each}}
  ]
}
`;

const compiled = new Map<string, Handlebars.TemplateDelegate>();

function template(source: string): Handlebars.TemplateDelegate {
  let t = compiled.get(source);
  if (t === undefined) {
    t = hbs.compile(source, { noEscape: true, strict: true });
    compiled.set(source, t);
  }
  return t;
}

/** Renders the dashboard body, checked to be JSON and returned compact (one line). */
export function renderDashboardBody(view: DashboardView): string {
  const text = template(DASHBOARD_TEMPLATE)(view);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `the dashboard template rendered invalid JSON (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
  return JSON.stringify(parsed);
}
